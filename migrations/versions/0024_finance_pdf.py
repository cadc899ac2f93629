"""PDFs and finance exports: VAT per rate card and invoice, purchase-order numbers, the
alliance's finance settings (bank details, Xero and Sage codes), and an email's PDF attachment

Revision ID: 0024_finance_pdf
Revises: 0025_school_sign_in
Create Date: 2026-12-02 13:30:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0024_finance_pdf'
down_revision = '0025_school_sign_in'
branch_labels = None
depends_on = None


def _columns(table):
    return {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade():
    # Plain ADD COLUMNs, never a batch copy: on SQLite (foreign keys on) rebuilding invoice or
    # rate_card would delete what cascades from them. The range checks live in the model (new
    # databases) and in the forms and domain (every database).
    if 'vat_rate_bp' not in _columns('rate_card'):
        op.add_column('rate_card', sa.Column('vat_rate_bp', sa.Integer(), nullable=True))
    have = _columns('invoice')
    if 'po_number' not in have:
        op.add_column('invoice', sa.Column('po_number', sa.String(length=30), nullable=False,
                                           server_default=''))
    if 'vat_rate_bp' not in have:
        op.add_column('invoice', sa.Column('vat_rate_bp', sa.Integer(), nullable=True))
    if 'vat_pence' not in have:
        op.add_column('invoice', sa.Column('vat_pence', sa.Integer(), nullable=False,
                                           server_default='0'))
    if 'vat_pence' not in _columns('invoice_line'):
        op.add_column('invoice_line', sa.Column('vat_pence', sa.Integer(), nullable=False,
                                                server_default='0'))
    if 'attachment' not in _columns('outbox_email'):
        op.add_column('outbox_email', sa.Column('attachment', sa.String(length=40),
                                                nullable=False, server_default=''))
    op.create_table(
        'alliance_finance',
        sa.Column('alliance_id', sa.Integer(), nullable=False),
        sa.Column('bank_name', sa.String(length=60), nullable=False),
        sa.Column('account_name', sa.String(length=60), nullable=False),
        sa.Column('sort_code', sa.String(length=8), nullable=False),
        sa.Column('account_number', sa.String(length=8), nullable=False),
        sa.Column('vat_number', sa.String(length=14), nullable=False),
        sa.Column('xero_account_code', sa.String(length=10), nullable=False),
        sa.Column('xero_tax_outside', sa.String(length=40), nullable=False),
        sa.Column('xero_tax_vat', sa.String(length=40), nullable=False),
        sa.Column('sage_nominal_code', sa.String(length=8), nullable=False),
        sa.Column('sage_tax_outside', sa.String(length=3), nullable=False),
        sa.Column('sage_tax_vat', sa.String(length=3), nullable=False),
        sa.Column('sage_department', sa.String(length=3), nullable=False),
        sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['alliance_id'], ['alliance.id'],
                                name=op.f('fk_alliance_finance_alliance_id_alliance'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('alliance_id', name=op.f('pk_alliance_finance')),
    )


def downgrade():
    op.drop_table('alliance_finance')
    op.drop_column('outbox_email', 'attachment')
    op.drop_column('invoice_line', 'vat_pence')
    op.drop_column('invoice', 'vat_pence')
    op.drop_column('invoice', 'vat_rate_bp')
    op.drop_column('invoice', 'po_number')
    op.drop_column('rate_card', 'vat_rate_bp')
