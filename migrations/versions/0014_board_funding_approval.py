"""board: a Board-funded deployment waits for the Board's approval of its funding

Revision ID: 0014_board
Revises: 0018_consultation_hours
Create Date: 2026-12-02 02:30:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0014_board'
down_revision = '0018_consultation_hours'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs, never a batch copy: on SQLite (foreign keys on) rebuilding the
    # deployment table would delete every row that cascades from it (responses, visits ...).
    bind = op.get_bind()
    have = {c['name'] for c in sa.inspect(bind).get_columns('deployment')}
    if 'board_approved_at' not in have:  # (a SQLite downgrade leaves both columns in place)
        op.add_column('deployment', sa.Column('board_approved_at',
                                              portal.models.base.UTCDateTime(), nullable=True))
    if 'board_approved_by_id' in have:
        pass
    elif bind.dialect.name == 'sqlite':
        op.execute("ALTER TABLE deployment ADD COLUMN board_approved_by_id INTEGER "
                   "CONSTRAINT fk_deployment_board_approved_by_id_user_account "
                   "REFERENCES user_account (id)")
    else:
        op.add_column('deployment', sa.Column('board_approved_by_id', sa.Integer(),
                                              nullable=True))
        op.create_foreign_key('fk_deployment_board_approved_by_id_user_account', 'deployment',
                              'user_account', ['board_approved_by_id'], ['id'])
    # A headteacher's "Board-targeted" request named no Board, yet its Board was invoiced (the
    # alliance's Board for the phase, else its first): name that Board, so that it sees the
    # request, its deployment and its spend.
    op.execute("update support_request set board_id = coalesce("
               "(select min(b.id) from board b where b.alliance_id = support_request.alliance_id "
               "and b.phase = support_request.phase), "
               "(select min(b.id) from board b where b.alliance_id = support_request.alliance_id))"
               " where route = 'board' and board_id is null")
    # Board-funded deployments already past the proposal were agreed before approval existed:
    # their agreement stands for the approval.
    op.execute("update deployment set board_approved_at = confirmed_at "
               "where targeted and confirmed_at is not null")


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite cannot drop a column that references another table without rebuilding the
        # table (which would cascade-delete its dependants): leave the two columns in place.
        return
    op.drop_constraint('fk_deployment_board_approved_by_id_user_account', 'deployment',
                       type_='foreignkey')
    op.drop_column('deployment', 'board_approved_by_id')
    op.drop_column('deployment', 'board_approved_at')
