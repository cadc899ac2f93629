"""ordered indexes for the lists: alliance by date, a leader's two sides by date, a school's
requests read from the index alone (issue 20)

Revision ID: 0023_perf
Revises: 0026_calendar_feeds
Create Date: 2026-12-02 13:30:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0023_perf'
down_revision = '0026_calendar_feeds'
branch_labels = None
depends_on = None

# plain create_index (no batch rebuild: other tables reference these)
INDEXES = (
    ("ix_deployment_alliance_proposed", "deployment",
     ["alliance_id", "proposed_at", "id"]),
    ("ix_deployment_leader_proposed", "deployment",
     ["leader_id", "proposed_at", "id"]),
    ("ix_deployment_commissioning_proposed", "deployment",
     ["commissioning_leader_id", "proposed_at", "id"]),
    ("ix_support_request_alliance_created", "support_request",
     ["alliance_id", "created_at", "id"]),
    ("ix_request_school_school_request", "request_school", ["school_id", "request_id"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
