"""The dashboard's facts and stored churn backtests.

answer_days, driver_days, invitation_facts, outcome_facts, case_facts and group_months are
pre-aggregates kept by the refresh_reporting job (feedback/reporting/facts.py);
churn_backtests keeps the weekly backtest the dashboard shows (feedback/risk/backtests.py).

Revision ID: 21d89211c21c
Revises: f321e6e3d2b2
Create Date: 2026-12-02 17:21:56.461531

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '21d89211c21c'
down_revision = 'f321e6e3d2b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('answer_days',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('template_key', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('abc_class', sa.String(length=1), nullable=True),
    sa.Column('programme', sa.String(length=6), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.Column('promoters', sa.Integer(), nullable=False),
    sa.Column('passives', sa.Integer(), nullable=False),
    sa.Column('detractors', sa.Integer(), nullable=False),
    sa.Column('csi_n', sa.Integer(), nullable=False),
    sa.Column('csi_sum', sa.Float(), nullable=False),
    sa.Column('csi_sumsq', sa.Float(), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer_days'))
    )
    with op.batch_alter_table('answer_days', schema=None) as batch_op:
        batch_op.create_index('ix_answer_days_day', ['day'], unique=False)
        batch_op.create_index('ix_answer_days_wave', ['wave_id', 'day'], unique=False)

    op.create_table('case_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_day', sa.Date(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=True),
    sa.Column('wave_id', sa.Integer(), nullable=True),
    sa.Column('template_key', sa.String(length=40), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('abc_class', sa.String(length=1), nullable=True),
    sa.Column('programme', sa.String(length=6), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hours_to_first', sa.Float(), nullable=True),
    sa.Column('hours_to_close', sa.Float(), nullable=True),
    sa.Column('followup_asked', sa.Boolean(), nullable=False),
    sa.Column('followup_solved', sa.Boolean(), nullable=True),
    sa.Column('root_cause', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_facts'))
    )
    with op.batch_alter_table('case_facts', schema=None) as batch_op:
        batch_op.create_index('ix_case_facts_created', ['created_day'], unique=False)
        batch_op.create_index('ix_case_facts_wave', ['wave_id', 'created_day'], unique=False)

    op.create_table('churn_backtests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('horizon_days', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.CheckConstraint('horizon_days BETWEEN 30 AND 365', name=op.f('ck_churn_backtests_horizon_days')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_churn_backtests'))
    )
    with op.batch_alter_table('churn_backtests', schema=None) as batch_op:
        batch_op.create_index('ix_churn_backtests_computed_at', ['computed_at'], unique=False)

    op.create_table('driver_days',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('template_key', sa.String(length=40), nullable=False),
    sa.Column('question_key', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('abc_class', sa.String(length=1), nullable=True),
    sa.Column('programme', sa.String(length=6), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('sx', sa.Float(), nullable=False),
    sa.Column('sxx', sa.Float(), nullable=False),
    sa.Column('m', sa.Integer(), nullable=False),
    sa.Column('px', sa.Float(), nullable=False),
    sa.Column('pxx', sa.Float(), nullable=False),
    sa.Column('sy', sa.Float(), nullable=False),
    sa.Column('syy', sa.Float(), nullable=False),
    sa.Column('sxy', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_driver_days'))
    )
    with op.batch_alter_table('driver_days', schema=None) as batch_op:
        batch_op.create_index('ix_driver_days_day', ['day'], unique=False)

    op.create_table('group_months',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('grp', sa.String(length=14), nullable=False),
    sa.Column('abc_class', sa.String(length=1), nullable=True),
    sa.Column('programme', sa.String(length=6), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('s_rev', sa.Float(), nullable=False),
    sa.Column('ss_rev', sa.Float(), nullable=False),
    sa.Column('s_prior', sa.Float(), nullable=False),
    sa.Column('ss_prior', sa.Float(), nullable=False),
    sa.Column('s_change', sa.Float(), nullable=False),
    sa.Column('ss_change', sa.Float(), nullable=False),
    sa.Column('s_change_prior', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_months'))
    )
    with op.batch_alter_table('group_months', schema=None) as batch_op:
        batch_op.create_index('ix_group_months_month', ['month'], unique=False)

    op.create_table('invitation_facts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('template_key', sa.String(length=40), nullable=False),
    sa.Column('sent_day', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('abc_class', sa.String(length=1), nullable=True),
    sa.Column('programme', sa.String(length=6), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.Column('delivered', sa.Integer(), nullable=False),
    sa.Column('opened', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation_facts'))
    )
    with op.batch_alter_table('invitation_facts', schema=None) as batch_op:
        batch_op.create_index('ix_invitation_facts_sent', ['sent_day', 'wave_id'], unique=False)

    op.create_table('outcome_facts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('template_key', sa.String(length=40), nullable=False),
    sa.Column('closed_day', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=True),
    sa.Column('abc_class', sa.String(length=1), nullable=True),
    sa.Column('programme', sa.String(length=6), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('silent', sa.Integer(), nullable=False),
    sa.Column('counted', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcome_facts'))
    )
    with op.batch_alter_table('outcome_facts', schema=None) as batch_op:
        batch_op.create_index('ix_outcome_facts_closed', ['closed_day'], unique=False)

    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index('ix_responses_commented', ['answered_at'], unique=False,
                              postgresql_where=sa.text("comment <> ''"),
                              sqlite_where=sa.text("comment <> ''"))


def downgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_index('ix_responses_commented', postgresql_where=sa.text("comment <> ''"),
                            sqlite_where=sa.text("comment <> ''"))

    with op.batch_alter_table('outcome_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_outcome_facts_closed')

    op.drop_table('outcome_facts')
    with op.batch_alter_table('invitation_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_invitation_facts_sent')

    op.drop_table('invitation_facts')
    with op.batch_alter_table('group_months', schema=None) as batch_op:
        batch_op.drop_index('ix_group_months_month')

    op.drop_table('group_months')
    with op.batch_alter_table('driver_days', schema=None) as batch_op:
        batch_op.drop_index('ix_driver_days_day')

    op.drop_table('driver_days')
    with op.batch_alter_table('churn_backtests', schema=None) as batch_op:
        batch_op.drop_index('ix_churn_backtests_computed_at')

    op.drop_table('churn_backtests')
    with op.batch_alter_table('case_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_case_facts_wave')
        batch_op.drop_index('ix_case_facts_created')

    op.drop_table('case_facts')
    with op.batch_alter_table('answer_days', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_days_wave')
        batch_op.drop_index('ix_answer_days_day')

    op.drop_table('answer_days')
