"""the alliance's deployments waiting for first contact, by when confirmed, in a partial index
of the confirmed ones not yet contacted (issue 20: the director's home read every open
deployment of the alliance to find the few waiting, 3.8 ms at ten times national scale)

Revision ID: 0045_waiting_contact
Revises: 0044_request_status
Create Date: 2026-12-04 22:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0045_waiting_contact'
down_revision = '0044_request_status'
branch_labels = None
depends_on = None

WHERE = 'first_contact_at IS NULL AND confirmed_at IS NOT NULL'


def upgrade():
    op.create_index('ix_deployment_alliance_waiting_contact', 'deployment',
                    ['alliance_id', 'confirmed_at', 'id'], unique=False,
                    sqlite_where=sa.text(WHERE), postgresql_where=sa.text(WHERE))


def downgrade():
    op.drop_index('ix_deployment_alliance_waiting_contact', table_name='deployment')
