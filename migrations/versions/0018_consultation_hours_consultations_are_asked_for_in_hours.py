"""consultations are asked for in hours

Revision ID: 0018_consultation_hours
Revises: 0017_planned_visits
Create Date: 2026-12-02 02:40:30.821273

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0018_consultation_hours'
down_revision = '0017_planned_visits'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, never a batch copy: on SQLite (foreign keys on) rebuilding
    # support_request would delete what cascades from it.
    have = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('support_request')}
    if 'hours_wanted' not in have:
        op.add_column('support_request', sa.Column('hours_wanted', sa.Integer(), nullable=True))


def downgrade():
    op.drop_column('support_request', 'hours_wanted')  # SQLite 3.35+ drops it in place
