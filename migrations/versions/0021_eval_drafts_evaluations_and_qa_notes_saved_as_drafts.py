"""evaluations and QA notes saved as drafts, private to their author

Revision ID: 0021_eval_drafts
Revises: 0021_officers
Create Date: 2026-12-02 13:45:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0021_eval_drafts'
down_revision = '0021_officers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'evaluation_draft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('deployment_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint("kind in ('leader', 'school', 'group', 'qa_mid', 'qa_final')",
                           name=op.f('ck_evaluation_draft_kind')),
        sa.ForeignKeyConstraint(['author_id'], ['user_account.id'],
                                name=op.f('fk_evaluation_draft_author_id_user_account')),
        sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], ondelete='CASCADE',
                                name=op.f('fk_evaluation_draft_deployment_id_deployment')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_draft')),
        sa.UniqueConstraint('deployment_id', 'kind', 'author_id',
                            name='uq_evaluation_draft_once'),
    )
    op.create_index(op.f('ix_evaluation_draft_author_id'), 'evaluation_draft', ['author_id'])
    op.create_index(op.f('ix_evaluation_draft_deployment_id'), 'evaluation_draft',
                    ['deployment_id'])


def downgrade():
    op.drop_index(op.f('ix_evaluation_draft_deployment_id'), table_name='evaluation_draft')
    op.drop_index(op.f('ix_evaluation_draft_author_id'), table_name='evaluation_draft')
    op.drop_table('evaluation_draft')
