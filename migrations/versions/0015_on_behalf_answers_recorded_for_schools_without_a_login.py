"""answers and signatures recorded on behalf of a school with no login

Revision ID: 0015_on_behalf
Revises: 0016_alliance_log
Create Date: 2026-12-02 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_on_behalf'
down_revision = '0016_alliance_log'
branch_labels = None
depends_on = None

VIA = "agreed_via is null or agreed_via in ('email', 'phone', 'letter')"


def upgrade():
    with op.batch_alter_table('deployment_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed_by_name', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('agreed_by_role', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('agreed_via', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('agreed_on', sa.Date(), nullable=True))
        batch_op.create_check_constraint('agreed_via', VIA)
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreed_by_role', sa.String(length=120), server_default='', nullable=False))
        batch_op.add_column(sa.Column('agreed_via', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('agreed_on', sa.Date(), nullable=True))
        batch_op.create_check_constraint('agreed_via', VIA)


def downgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_constraint('agreed_via', type_='check')
        batch_op.drop_column('agreed_on')
        batch_op.drop_column('agreed_via')
        batch_op.drop_column('agreed_by_role')
    with op.batch_alter_table('deployment_response', schema=None) as batch_op:
        batch_op.drop_constraint('agreed_via', type_='check')
        batch_op.drop_column('agreed_on')
        batch_op.drop_column('agreed_via')
        batch_op.drop_column('agreed_by_role')
        batch_op.drop_column('agreed_by_name')
