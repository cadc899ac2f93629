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
    elif bind.dialect.name == 'sqlite':  # left by a downgrade: refer to trust again
        _school_trust_reference(bind, on=True)
    elif 'trust_id' not in have:
        op.add_column('school', sa.Column('trust_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_school_trust_id_trust'), 'school', 'trust',
                              ['trust_id'], ['id'])
    if 'closed' not in have:
        op.add_column('school', sa.Column('closed', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))
    op.create_index(op.f('ix_school_trust_id'), 'school', ['trust_id'], unique=False)


def _school_trust_reference(bind, on: bool) -> None:
    """SQLite: put the REFERENCES trust (id) clause on school.trust_id back, or take it off,
    by rewriting school's CREATE statement in sqlite_master: SQLite's documented way to change
    a table's schema without a rebuild (a rebuild of school would cascade-delete what references
    it; https://www.sqlite.org/lang_altertable.html, "making other kinds of table schema
    changes"). Without this a downgrade would leave school referring to a table that is gone."""
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                               "name = 'school'")).scalar_one()
    plain, referenced = 'trust_id INTEGER', 'trust_id INTEGER REFERENCES trust (id)'
    if (referenced in sql) == on:
        return
    new = sql.replace(plain, referenced) if on else sql.replace(referenced, plain)
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND "
                         "name = 'school'"), {"sql": new})
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def downgrade():
    op.drop_index(op.f('ix_school_trust_id'), table_name='school')
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        # SQLite: the two columns stay (dropping them needs a batch copy of school, which
        # would cascade), emptied and no longer referring to trust, so that table can go
        op.execute('UPDATE school SET trust_id = NULL')
        _school_trust_reference(bind, on=False)
        op.drop_table('trust')
        return
    op.drop_column('school', 'closed')
    op.drop_constraint(op.f('fk_school_trust_id_trust'), 'school', type_='foreignkey')
    op.drop_column('school', 'trust_id')
    op.drop_table('trust')
