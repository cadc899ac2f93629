"""a school's requests in one status walked and counted from one index: each request_school row
keeps a copy of its request's status, and the writer's requests by status are walked by date
(issue 20: a headteacher's "matched" requests were counted by reading every request naming the
school, 58 ms at ten times national scale)

Revision ID: 0043_school_request_status
Revises: 0042_school_deployment_status
Create Date: 2026-12-04 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0043_school_request_status'
down_revision = '0042_school_deployment_status'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('request_school', sa.Column('status', sa.String(length=20), nullable=True))
    op.execute('UPDATE request_school SET status = (SELECT support_request.status '
               'FROM support_request WHERE support_request.id = request_school.request_id)')
    op.create_index('ix_request_school_school_status', 'request_school',
                    ['school_id', 'status', 'requested_at', 'request_id'], unique=False)
    op.drop_index('ix_support_request_requested_by_status', table_name='support_request')
    op.create_index('ix_support_request_requested_by_status', 'support_request',
                    ['requested_by_id', 'status', 'created_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_support_request_requested_by_status', table_name='support_request')
    op.create_index('ix_support_request_requested_by_status', 'support_request',
                    ['requested_by_id', 'status'], unique=False)
    op.drop_index('ix_request_school_school_status', table_name='request_school')
    with op.batch_alter_table('request_school') as batch:
        batch.drop_column('status')
