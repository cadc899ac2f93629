"""visits planned ahead, then delivered

Every visit before this was logged after the day, so it is delivered, delivered when logged.

Revision ID: 0017_planned_visits
Revises: 0011_finance_admin
Create Date: 2026-12-02 02:29:34.975553

"""
from alembic import op
import sqlalchemy as sa

import portal.models.base  # noqa: F401  (column types)


# revision identifiers, used by Alembic.
revision = '0017_planned_visits'
down_revision = '0011_finance_admin'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs, never a batch copy: on SQLite (foreign keys on) rebuilding the visit
    # table would delete what cascades from it (the actions worked on in each visit).
    bind = op.get_bind()
    have = {c['name'] for c in sa.inspect(bind).get_columns('visit')}
    if 'status' not in have:  # (a SQLite downgrade leaves the columns in place)
        op.add_column('visit', sa.Column('status', sa.String(length=10),
                                         server_default='delivered', nullable=False))
    if 'delivered_at' not in have:
        op.add_column('visit', sa.Column('delivered_at', portal.models.base.UTCDateTime(),
                                         nullable=True))
    if bind.dialect.name != 'sqlite':  # SQLite cannot add a CHECK to a table in place
        op.create_check_constraint(op.f('ck_visit_visit_status'), 'visit',
                                   "status in ('planned', 'delivered')")
    op.execute("UPDATE visit SET delivered_at = logged_at "
               "WHERE status = 'delivered' AND delivered_at IS NULL")


def downgrade():
    op.execute("DELETE FROM visit WHERE status = 'planned'")
    if op.get_bind().dialect.name == 'sqlite':
        return  # the columns stay (harmless to older code); a batch copy would lose rows
    op.drop_constraint(op.f('ck_visit_visit_status'), 'visit', type_='check')
    op.drop_column('visit', 'delivered_at')
    op.drop_column('visit', 'status')
