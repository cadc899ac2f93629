"""completion: pupils' changes on evaluations, Board concession on requests

Revision ID: 0005_completion
Revises: 0004_delivery
Create Date: 2026-11-23 11:32:54.409378

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0005_completion'
down_revision = "0004_delivery"
branch_labels = None
depends_on = None


def upgrade():
    # server defaults fill existing rows, then are dropped to match the models
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('changes_for_pupils', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.alter_column('changes_for_pupils', server_default=None)

    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('concession_day_pence', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.alter_column('concession_day_pence', server_default=None)

    # ### end Alembic commands ###


def downgrade():
    # server defaults fill existing rows, then are dropped to match the models
    with op.batch_alter_table('support_request', schema=None) as batch_op:
        batch_op.drop_column('concession_day_pence')

    with op.batch_alter_table('evaluation', schema=None) as batch_op:
        batch_op.drop_column('changes_for_pupils')

    # ### end Alembic commands ###
