"""customer months for the dashboard

customer_months: one row per customer per calendar month (revenue, trailing 12-month
revenue, last order, last NPS answer, waves answered), the pre-aggregate the dashboard's
behaviour views read; reporting_builds: when it was last built and what that build had
seen, for the refresh's decision (feedback/reporting/build.py). The build fills them.

Revision ID: f321e6e3d2b2
Revises: b56963ae735c
Create Date: 2026-12-02 16:16:39.430118

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f321e6e3d2b2'
down_revision = 'b56963ae735c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('reporting_builds',
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('through', sa.Date(), nullable=False),
    sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('transaction_mark', sa.BigInteger(), nullable=False),
    sa.Column('response_mark', sa.Integer(), nullable=False),
    sa.Column('base_currency', sa.String(length=3), nullable=False),
    sa.Column('rates_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('table_name', name=op.f('pk_reporting_builds'))
    )
    op.create_table('customer_months',
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('revenue_12m', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('revenue_prev_12m', sa.Numeric(precision=18, scale=2), nullable=False),
    sa.Column('last_order_on', sa.Date(), nullable=True),
    sa.Column('nps_score', sa.SmallInteger(), nullable=True),
    sa.Column('nps_answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('waves_12m', sa.SmallInteger(), nullable=False),
    sa.Column('answered_12m', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint('answered_12m <= waves_12m', name=op.f('ck_customer_months_answered_12m')),
    sa.CheckConstraint('nps_score BETWEEN 0 AND 10', name=op.f('ck_customer_months_nps_score')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_months_customer_id_customers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('month', 'customer_id', name=op.f('pk_customer_months'))
    )
    with op.batch_alter_table('customer_months', schema=None) as batch_op:
        batch_op.create_index('ix_customer_months_customer', ['customer_id', 'month'], unique=False)


def downgrade():
    with op.batch_alter_table('customer_months', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_months_customer')

    op.drop_table('customer_months')
    op.drop_table('reporting_builds')
