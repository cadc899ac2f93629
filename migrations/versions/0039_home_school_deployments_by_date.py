"""a home school's deployments walked by date: its "Needs your action" list and its lists,
newest or oldest first, read only the rows they show instead of every deployment the school
ever released a leader for, sorted (issue 20: 36 ms of a home school's home at ten times
national scale)

Revision ID: 0039_home_school_by_date
Revises: 0038_own_records_indexed
Create Date: 2026-12-04 01:35:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0039_home_school_by_date'
down_revision = '0038_own_records_indexed'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_deployment_home_school_proposed', 'deployment',
                    ['home_school_id', 'proposed_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_deployment_home_school_proposed', table_name='deployment')
