"""the supported school rates each person deployed under a commission

Revision ID: 0031_person_ratings
Revises: 0032_school_networks
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031_person_ratings'
down_revision = '0032_school_networks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'person_rating',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('deployment_id', sa.Integer(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.CheckConstraint('rating between 1 and 4', name=op.f('ck_person_rating_rating_range')),
        sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], ondelete='CASCADE',
                                name=op.f('fk_person_rating_deployment_id_deployment')),
        sa.ForeignKeyConstraint(['evaluation_id'], ['evaluation.id'], ondelete='CASCADE',
                                name=op.f('fk_person_rating_evaluation_id_evaluation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_person_rating')),
        sa.UniqueConstraint('evaluation_id', 'deployment_id', name='uq_person_rating_once'),
    )
    op.create_index(op.f('ix_person_rating_deployment_id'), 'person_rating', ['deployment_id'])


def downgrade():
    op.drop_index(op.f('ix_person_rating_deployment_id'), table_name='person_rating')
    op.drop_table('person_rating')
