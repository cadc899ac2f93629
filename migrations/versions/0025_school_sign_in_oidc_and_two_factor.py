"""signing in with the school's account (OpenID Connect) and two-factor sign-in

Revision ID: 0025_school_sign_in
Revises: 0021_eval_drafts
Create Date: 2026-12-02 13:50:00

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


revision = '0025_school_sign_in'
down_revision = '0021_eval_drafts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'alliance_sign_in',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alliance_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=10), server_default='', nullable=False),
        sa.Column('client_id', sa.String(length=200), server_default='', nullable=False),
        sa.Column('tenants', sa.String(length=1000), server_default='', nullable=False),
        sa.Column('domains', sa.String(length=1000), server_default='', nullable=False),
        sa.Column('require_two_factor', sa.Boolean(), server_default=sa.false(),
                  nullable=False),
        sa.Column('updated_at', portal.models.base.UTCDateTime(), nullable=False),
        sa.CheckConstraint("provider in ('', 'microsoft', 'google')",
                           name=op.f('ck_alliance_sign_in_provider')),
        sa.ForeignKeyConstraint(['alliance_id'], ['alliance.id'], ondelete='CASCADE',
                                name=op.f('fk_alliance_sign_in_alliance_id_alliance')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alliance_sign_in')),
        sa.UniqueConstraint('alliance_id', name=op.f('uq_alliance_sign_in_alliance_id')),
    )
    op.create_table(
        'user_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('linked_at', portal.models.base.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', portal.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE',
                                name=op.f('fk_user_identity_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_identity')),
        sa.UniqueConstraint('issuer', 'subject', name='uq_user_identity_issuer_subject'),
    )
    op.create_index(op.f('ix_user_identity_user_id'), 'user_identity', ['user_id'])
    op.create_table(
        'two_factor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('enabled_at', portal.models.base.UTCDateTime(), nullable=False),
        sa.Column('last_step', sa.Integer(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE',
                                name=op.f('fk_two_factor_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_two_factor')),
        sa.UniqueConstraint('user_id', name=op.f('uq_two_factor_user_id')),
    )
    op.create_table(
        'recovery_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', portal.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE',
                                name=op.f('fk_recovery_code_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_code_code_hash')),
    )
    op.create_index(op.f('ix_recovery_code_user_id'), 'recovery_code', ['user_id'])


def downgrade():
    op.drop_index(op.f('ix_recovery_code_user_id'), table_name='recovery_code')
    op.drop_table('recovery_code')
    op.drop_table('two_factor')
    op.drop_index(op.f('ix_user_identity_user_id'), table_name='user_identity')
    op.drop_table('user_identity')
    op.drop_table('alliance_sign_in')
