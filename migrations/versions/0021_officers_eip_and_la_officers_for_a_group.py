"""EIP and LA officers for a group of schools; a group's evaluation

Revision ID: 0021_officers
Revises: 0020_commissions
Create Date: 2026-12-02 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_officers'
down_revision = '0020_commissions'
branch_labels = None
depends_on = None

OLD_ROLES = ('headteacher', 'sle', 'home_school', 'director', 'admin', 'board')
NEW_ROLES = (*OLD_ROLES, 'officer')
OLD_KINDS = ('leader', 'school', 'qa_mid', 'qa_final')
NEW_KINDS = ('leader', 'school', 'group', 'qa_mid', 'qa_final')


def _in(column, values):
    return f"{column} in (" + ", ".join(f"'{v}'" for v in values) + ")"


def _widen_check(table, name, column, old, new):
    """Allow more values in a CHECK (every row already passes the wider one).

    PostgreSQL: drop and re-create the constraint. SQLite cannot alter a constraint, and
    rebuilding user_account or evaluation (foreign keys on) would cascade-delete what
    references them; SQLite's documented way to loosen a CHECK without touching the stored
    rows is to rewrite the table's CREATE statement in sqlite_schema
    (https://www.sqlite.org/lang_altertable.html, "making other kinds of table schema changes").
    """
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_constraint(op.f(f'ck_{table}_{name}'), table, type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_{name}'), table, _in(column, new))
        return
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND "
                               "name = :t"), {"t": table}).scalar_one()
    before, after = _in(column, old), _in(column, new)
    if after in sql:
        return
    if before not in sql:
        raise RuntimeError(f"{table}: the CHECK on {column} is not the one expected")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND "
                         "name = :t"), {"sql": sql.replace(before, after), "t": table})
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade():
    bind = op.get_bind()
    _widen_check('user_account', 'role', 'role', OLD_ROLES, NEW_ROLES)
    _widen_check('evaluation', 'kind', 'kind', OLD_KINDS, NEW_KINDS)
    have = {c['name'] for c in sa.inspect(bind).get_columns('user_account')}
    # plain ADD COLUMNs, never a batch copy of user_account (referenced by most tables)
    for column, table in (('eip_id', 'eip'), ('local_authority_id', 'local_authority')):
        if column in have:
            continue
        fk = f'fk_user_account_{column}_{table}'
        if bind.dialect.name == 'sqlite':
            op.execute(f"ALTER TABLE user_account ADD COLUMN {column} INTEGER "
                       f"CONSTRAINT {fk} REFERENCES {table} (id)")
        else:
            op.add_column('user_account', sa.Column(column, sa.Integer(), nullable=True))
            op.create_foreign_key(fk, 'user_account', table, [column], ['id'])


def downgrade():
    bind = op.get_bind()
    op.execute("DELETE FROM outcome_rating WHERE evaluation_id IN "
               "(SELECT id FROM evaluation WHERE kind = 'group')")
    op.execute("DELETE FROM evaluation WHERE kind = 'group'")
    if bind.dialect.name == 'sqlite':
        # the columns reference other tables: dropping them would rebuild user_account, so
        # they stay (unused); officers are kept but can no longer sign in as anything
        return
    op.execute("UPDATE user_account SET active = false WHERE role = 'officer'")
    op.execute("UPDATE user_account SET role = 'headteacher' WHERE role = 'officer'")
    op.drop_constraint('fk_user_account_local_authority_id_local_authority', 'user_account',
                       type_='foreignkey')
    op.drop_constraint('fk_user_account_eip_id_eip', 'user_account', type_='foreignkey')
    op.drop_column('user_account', 'local_authority_id')
    op.drop_column('user_account', 'eip_id')
    _narrow(bind)


def _narrow(bind):
    op.drop_constraint(op.f('ck_evaluation_kind'), 'evaluation', type_='check')
    op.create_check_constraint(op.f('ck_evaluation_kind'), 'evaluation', _in('kind', OLD_KINDS))
    op.drop_constraint(op.f('ck_user_account_role'), 'user_account', type_='check')
    op.create_check_constraint(op.f('ck_user_account_role'), 'user_account', _in('role', OLD_ROLES))
