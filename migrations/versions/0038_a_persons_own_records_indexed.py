"""a person's own records found from an index: their emails, signatures, answers to proposals
and evaluations, which "Your data" (subject access) reads for one person and which had no index
on the person (each read the whole table; issue 20)

Revision ID: 0038_own_records_indexed
Revises: 0037_requests_by_writer_status
Create Date: 2026-12-03 18:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0038_own_records_indexed'
down_revision = '0037_requests_by_writer_status'
branch_labels = None
depends_on = None

# (person, id): the person's records found, and walked in the export's order, from one index
INDEXES = (
    ('ix_outbox_email_to_id', 'outbox_email', ['to', 'id']),
    ('ix_signature_user_id_id', 'signature', ['user_id', 'id']),
    ('ix_deployment_response_user_id_id', 'deployment_response', ['user_id', 'id']),
    ('ix_evaluation_author_id_id', 'evaluation', ['author_id', 'id']),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
