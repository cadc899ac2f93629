"""commissions: the people an NLE/LLE deploys under a commission point at it

Revision ID: 0020_commissions
Revises: 0012_worker
Create Date: 2026-12-02 13:25:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0020_commissions'
down_revision = '0012_worker'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, never a batch copy: on SQLite (foreign keys on) rebuilding the
    # deployment table would delete every row that cascades from it.
    bind = op.get_bind()
    have = {c['name'] for c in sa.inspect(bind).get_columns('deployment')}
    if 'commission_id' not in have:
        if bind.dialect.name == 'sqlite':
            op.execute("ALTER TABLE deployment ADD COLUMN commission_id INTEGER "
                       "CONSTRAINT fk_deployment_commission_id_deployment "
                       "REFERENCES deployment (id)")
        else:
            op.add_column('deployment', sa.Column('commission_id', sa.Integer(), nullable=True))
            op.create_foreign_key('fk_deployment_commission_id_deployment', 'deployment',
                                  'deployment', ['commission_id'], ['id'])
    have_ix = {i['name'] for i in sa.inspect(bind).get_indexes('deployment')}
    if 'ix_deployment_commission_id' not in have_ix:
        op.create_index('ix_deployment_commission_id', 'deployment', ['commission_id'])


def downgrade():
    op.drop_index('ix_deployment_commission_id', table_name='deployment')
    if op.get_bind().dialect.name == 'sqlite':
        return  # SQLite keeps the referencing column rather than rebuild the table
    op.drop_constraint('fk_deployment_commission_id_deployment', 'deployment',
                       type_='foreignkey')
    op.drop_column('deployment', 'commission_id')
