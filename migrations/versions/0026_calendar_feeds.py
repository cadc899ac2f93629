"""calendar feeds (hash of each user's link) and visit invitations on emails

Revision ID: 0026_calendar_feeds
Revises: 0026_gias_trusts
Create Date: 2026-12-02 13:55:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0026_calendar_feeds'
down_revision = '0026_gias_trusts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'calendar_feed',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', portal.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_calendar_feed_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_calendar_feed')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_token_hash')),
    )
    # a visit email names its invitation in outbox_email.attachment ("visit:<id>"), the column
    # 0024_finance_pdf added for PDFs: no column of its own


def downgrade():
    op.drop_table('calendar_feed')
