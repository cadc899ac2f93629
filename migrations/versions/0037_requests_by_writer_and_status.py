"""the requests one person wrote in one status, from one index: the writer's "add the
information asked for" item among thousands of their requests (issue 20); it replaces the
index on requested_by_id alone, which it leads with

Revision ID: 0037_requests_by_writer_status
Revises: 0036_deployment_school
Create Date: 2026-12-03 15:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0037_requests_by_writer_status'
down_revision = '0036_deployment_school'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_support_request_requested_by_status', 'support_request',
                    ['requested_by_id', 'status'], unique=False)
    op.drop_index('ix_support_request_requested_by_id', table_name='support_request')


def downgrade():
    op.create_index('ix_support_request_requested_by_id', 'support_request',
                    ['requested_by_id'], unique=False)
    op.drop_index('ix_support_request_requested_by_status', table_name='support_request')
