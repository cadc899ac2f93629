"""a school's deployments listed newest first from one index: each deployment's receiving
schools with its proposed_at, in deployment_school (issue 20, item 4)

Revision ID: 0036_deployment_school
Revises: 0031_person_ratings
Create Date: 2026-12-03 10:40:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0036_deployment_school'
down_revision = '0031_person_ratings'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'deployment_school',
        sa.Column('deployment_id', sa.Integer(), nullable=False),
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('proposed_at', portal.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id'], ondelete='CASCADE',
                                name=op.f('fk_deployment_school_deployment_id_deployment')),
        sa.ForeignKeyConstraint(['school_id'], ['school.id'],
                                name=op.f('fk_deployment_school_school_id_school')),
        sa.PrimaryKeyConstraint('deployment_id', 'school_id', name=op.f('pk_deployment_school')),
    )
    op.create_index('ix_deployment_school_school_proposed', 'deployment_school',
                    ['school_id', 'proposed_at', 'deployment_id'], unique=False)
    # every deployment's receiving schools are its request's
    op.execute('INSERT INTO deployment_school (deployment_id, school_id, proposed_at) '
               'SELECT deployment.id, request_school.school_id, deployment.proposed_at '
               'FROM deployment JOIN request_school '
               'ON request_school.request_id = deployment.request_id')


def downgrade():
    op.drop_index('ix_deployment_school_school_proposed', table_name='deployment_school')
    op.drop_table('deployment_school')
