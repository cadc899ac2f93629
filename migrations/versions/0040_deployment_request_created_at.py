"""a leader's and a home school's requests listed newest first from one index: each deployment
keeps a copy of its request's created_at, indexed beside the leader, the commissioning leader and
the home school (issue 20: a leader's request list read every request they were ever deployed
on, 120-200 ms at ten times national scale)

Revision ID: 0040_request_created_at
Revises: 0039_home_school_by_date
Create Date: 2026-12-04 01:40:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0040_request_created_at'
down_revision = '0039_home_school_by_date'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_deployment_leader_request_created',
     ['leader_id', 'request_created_at', 'request_id']),
    ('ix_deployment_commissioning_request_created',
     ['commissioning_leader_id', 'request_created_at', 'request_id']),
    ('ix_deployment_home_school_request_created',
     ['home_school_id', 'request_created_at', 'request_id']),
)


def upgrade():
    op.add_column('deployment', sa.Column('request_created_at',
                                          portal.models.base.UTCDateTime(), nullable=True))
    op.execute('UPDATE deployment SET request_created_at = (SELECT support_request.created_at '
               'FROM support_request WHERE support_request.id = deployment.request_id)')
    for name, columns in INDEXES:
        op.create_index(name, 'deployment', columns, unique=False)


def downgrade():
    for name, _columns in INDEXES:
        op.drop_index(name, table_name='deployment')
    with op.batch_alter_table('deployment') as batch:
        batch.drop_column('request_created_at')
