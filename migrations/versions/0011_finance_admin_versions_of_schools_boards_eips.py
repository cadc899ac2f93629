"""versions of schools, Boards and EIPs (an admin's edit from an older page is refused)

Revision ID: 0011_finance_admin
Revises: 0010_dupes
Create Date: 2026-12-02 02:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_finance_admin'
down_revision = '0010_dupes'
branch_labels = None
depends_on = None

TABLES = ('school', 'board', 'eip')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1',
                                          nullable=False))


def downgrade():
    # SQLite (3.35 and later) drops the column in place: batch mode's copy of the table would
    # trip the foreign keys other tables hold to it.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in reversed(TABLES):
        if sqlite:
            op.execute(f"ALTER TABLE {table} DROP COLUMN version")
        else:
            op.drop_column(table, 'version')
