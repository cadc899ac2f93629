"""a Board's requests and deployments listed newest first from one index each: the targeted
requests by (board_id, created_at, id, status), which replaces the index on board_id alone, and
each deployment's copy of its request's Board, by date (issue 20: a Board's home and lists read
and sorted every request and deployment it ever funded, 120-260 ms at ten times national scale)

Revision ID: 0041_board_lists_by_date
Revises: 0040_request_created_at
Create Date: 2026-12-04 01:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0041_board_lists_by_date'
down_revision = '0040_request_created_at'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_support_request_board_created', 'support_request',
                    ['board_id', 'created_at', 'id', 'status'], unique=False)
    op.drop_index('ix_support_request_board_id', table_name='support_request')
    op.add_column('deployment', sa.Column('request_board_id', sa.Integer(), nullable=True))
    op.execute('UPDATE deployment SET request_board_id = (SELECT support_request.board_id '
               'FROM support_request WHERE support_request.id = deployment.request_id)')
    op.create_index('ix_deployment_request_board_proposed', 'deployment',
                    ['request_board_id', 'proposed_at', 'id'], unique=False)
    op.create_index('ix_deployment_request_board_status', 'deployment',
                    ['request_board_id', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_deployment_request_board_status', table_name='deployment')
    op.drop_index('ix_deployment_request_board_proposed', table_name='deployment')
    with op.batch_alter_table('deployment') as batch:
        batch.drop_column('request_board_id')
    op.create_index('ix_support_request_board_id', 'support_request', ['board_id'],
                    unique=False)
    op.drop_index('ix_support_request_board_created', table_name='support_request')
