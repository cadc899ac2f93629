"""a school's deployments in one status walked and counted from one index: each receiving-school
row keeps a copy of its deployment's status (issue 20: a headteacher's "active" deployments were
counted by reading every deployment the school ever had, 75-89 ms at ten times national scale)

Revision ID: 0042_school_deployment_status
Revises: 0041_board_lists_by_date
Create Date: 2026-12-04 01:55:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0042_school_deployment_status'
down_revision = '0041_board_lists_by_date'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('deployment_school', sa.Column('status', sa.String(length=20), nullable=True))
    op.execute('UPDATE deployment_school SET status = (SELECT deployment.status '
               'FROM deployment WHERE deployment.id = deployment_school.deployment_id)')
    op.create_index('ix_deployment_school_school_status', 'deployment_school',
                    ['school_id', 'status', 'proposed_at', 'deployment_id'], unique=False)


def downgrade():
    op.drop_index('ix_deployment_school_school_status', table_name='deployment_school')
    with op.batch_alter_table('deployment_school') as batch:
        batch.drop_column('status')
