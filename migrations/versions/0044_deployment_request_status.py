"""a leader's and a home school's requests in one status walked and counted from one index:
each deployment keeps a copy of its request's status, indexed beside the leader, the
commissioning leader and the home school (issue 20: a leader's submitted requests were counted by
reading every request they were ever deployed on, 39-43 ms at ten times national scale)

Revision ID: 0044_request_status
Revises: 0043_school_request_status
Create Date: 2026-12-04 02:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0044_request_status'
down_revision = '0043_school_request_status'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_deployment_leader_request_status',
     ['leader_id', 'request_status', 'request_created_at', 'request_id']),
    ('ix_deployment_commissioning_request_status',
     ['commissioning_leader_id', 'request_status', 'request_created_at', 'request_id']),
    ('ix_deployment_home_school_request_status',
     ['home_school_id', 'request_status', 'request_created_at', 'request_id']),
)


def upgrade():
    op.add_column('deployment', sa.Column('request_status', sa.String(length=20),
                                          nullable=True))
    op.execute('UPDATE deployment SET request_status = (SELECT support_request.status '
               'FROM support_request WHERE support_request.id = deployment.request_id)')
    for name, columns in INDEXES:
        op.create_index(name, 'deployment', columns, unique=False)


def downgrade():
    for name, _columns in INDEXES:
        op.drop_index(name, table_name='deployment')
    with op.batch_alter_table('deployment') as batch:
        batch.drop_column('request_status')
