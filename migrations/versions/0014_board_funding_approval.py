"""board: a Board-funded deployment waits for the Board's approval of its funding

Revision ID: 0014_board
Revises: 0010_dupes
Create Date: 2026-12-02 02:30:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0014_board'
down_revision = '0010_dupes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('board_approved_at', portal.models.base.UTCDateTime(),
                                      nullable=True))
        batch_op.add_column(sa.Column('board_approved_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_deployment_board_approved_by_id_user_account'),
                                    'user_account', ['board_approved_by_id'], ['id'])
    # Board-funded deployments already past the proposal were agreed before approval existed:
    # their agreement stands for the approval.
    op.execute("update deployment set board_approved_at = confirmed_at "
               "where targeted and confirmed_at is not null")


def downgrade():
    with op.batch_alter_table('deployment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_deployment_board_approved_by_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_column('board_approved_by_id')
        batch_op.drop_column('board_approved_at')
