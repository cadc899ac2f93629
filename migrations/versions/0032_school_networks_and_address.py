"""a school in more than one network (school_network, one row per school backfilled from its
home network), and the school's street address (issue 21)

Revision ID: 0032_school_networks
Revises: 0034_school_list
Create Date: 2026-12-03 09:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0032_school_networks'
down_revision = '0034_school_list'
branch_labels = None
depends_on = None

ADDRESS = ('address_line1', 'address_line2', 'address_line3', 'town')


def upgrade():
    op.create_table(
        'school_network',
        sa.Column('school_id', sa.Integer(), nullable=False),
        sa.Column('alliance_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['alliance_id'], ['alliance.id'],
                                name=op.f('fk_school_network_alliance_id_alliance')),
        sa.ForeignKeyConstraint(['school_id'], ['school.id'],
                                name=op.f('fk_school_network_school_id_school')),
        sa.PrimaryKeyConstraint('school_id', 'alliance_id', name=op.f('pk_school_network')),
    )
    op.create_index('ix_school_network_alliance_school', 'school_network',
                    ['alliance_id', 'school_id'], unique=False)
    # every school is a member of its home network
    op.execute('INSERT INTO school_network (school_id, alliance_id) '
               'SELECT id, alliance_id FROM school WHERE alliance_id IS NOT NULL')
    # Plain ADD COLUMNs, never a batch copy (on SQLite a rebuild of school would cascade).
    have = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('school')}
    for name in ADDRESS:
        if name not in have:  # SQLite keeps them through a downgrade (see below)
            op.add_column('school', sa.Column(name, sa.String(length=100), server_default='',
                                              nullable=False))


def downgrade():
    op.drop_index('ix_school_network_alliance_school', table_name='school_network')
    op.drop_table('school_network')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite: the columns stay (dropping them needs a batch copy of school, which would
        # cascade), emptied
        op.execute("UPDATE school SET address_line1 = '', address_line2 = '', "
                   "address_line3 = '', town = ''")
        return
    for name in ADDRESS:
        op.drop_column('school', name)
