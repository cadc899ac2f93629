"""a school's requests listed newest first from one index: the request's date is kept on
request_school (issue 20, item 4)

Revision ID: 0034_school_list
Revises: 0023_perf
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0034_school_list'
down_revision = '0023_perf'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("request_school",
                  sa.Column("requested_at", portal.models.base.UTCDateTime(), nullable=True))
    op.execute("UPDATE request_school SET requested_at = (SELECT created_at FROM support_request"
               " WHERE support_request.id = request_school.request_id)")
    # nothing references request_school, so SQLite may rebuild it to make the column NOT NULL
    with op.batch_alter_table("request_school") as batch:
        batch.alter_column("requested_at", existing_type=portal.models.base.UTCDateTime(),
                           nullable=False)
    op.create_index("ix_request_school_school_requested", "request_school",
                    ["school_id", "requested_at", "request_id"], unique=False)
    op.create_index("ix_support_request_requested_by_created", "support_request",
                    ["requested_by_id", "created_at", "id"], unique=False)


def downgrade():
    op.drop_index("ix_support_request_requested_by_created", table_name="support_request")
    op.drop_index("ix_request_school_school_requested", table_name="request_school")
    with op.batch_alter_table("request_school") as batch:
        batch.drop_column("requested_at")
