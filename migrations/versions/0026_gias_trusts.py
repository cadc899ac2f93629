"""GIAS: trusts, and schools GIAS lists as closed

Revision ID: 0026_gias_trusts
Revises: 0024_finance_pdf
Create Date: 2026-12-02 13:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026_gias_trusts'
down_revision = '0024_finance_pdf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'trust',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=20), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_trust')),
        sa.UniqueConstraint('code', name=op.f('uq_trust_code')),
    )
    # Plain ADD COLUMNs, never a batch copy (on SQLite a rebuild of school would cascade).
    bind = op.get_bind()
    have = {c['name'] for c in sa.inspect(bind).get_columns('school')}
    if 'trust_id' not in have and bind.dialect.name == 'sqlite':
        # SQLite adds a column with a REFERENCES clause in place (Alembic would want a batch)
        op.execute('ALTER TABLE school ADD COLUMN trust_id INTEGER REFERENCES trust (id)')
    elif 'trust_id' not in have:
        op.add_column('school', sa.Column('trust_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_school_trust_id_trust'), 'school', 'trust',
                              ['trust_id'], ['id'])
    if 'closed' not in have:
        op.add_column('school', sa.Column('closed', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
    op.create_index(op.f('ix_school_trust_id'), 'school', ['trust_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_school_trust_id'), table_name='school')
    if op.get_bind().dialect.name != 'sqlite':  # SQLite: the columns stay (a batch copy cascades)
        op.drop_column('school', 'closed')
        op.drop_constraint(op.f('fk_school_trust_id_trust'), 'school', type_='foreignkey')
        op.drop_column('school', 'trust_id')
        op.drop_table('trust')
