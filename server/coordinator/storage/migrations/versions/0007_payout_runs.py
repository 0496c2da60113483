"""Payout runs: payouts the pool creates from what it owes (status, run, reservation in the
ledger), payout runs (one per scheduled slot), per-participant payout thresholds

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('payout_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('slot', sa.String(length=40), nullable=True),
    sa.Column('pool_minimum_nanoton', sa.BigInteger(), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slot', name='uq_payout_runs_slot')
    )
    counters = sa.table('counters', sa.column('name', sa.String), sa.column('value', sa.BigInteger))
    op.bulk_insert(counters, [{'name': 'payout_runs', 'value': 0}])
    # Payouts recorded by hand (CreatePayout) are transfers that happened: confirmed.
    with op.batch_alter_table('payouts') as batch_op:
        batch_op.alter_column('transaction_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='confirmed'))
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('failure_reason', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sent_at', TIME, nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', TIME, nullable=True))
        batch_op.create_foreign_key('fk_payouts_run_id', 'payout_runs', ['run_id'], ['id'])
        batch_op.create_unique_constraint('uq_payouts_run_participant', ['run_id', 'participant_id'])
        batch_op.create_index('ix_payouts_status', ['status'], unique=False)
    with op.batch_alter_table('participants') as batch_op:
        batch_op.add_column(sa.Column('payout_threshold_nanoton', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.add_column(sa.Column('payout_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_ledger_entries_payout_id', 'payouts', ['payout_id'], ['id'])
        batch_op.create_index('ix_ledger_entries_payout_id', ['payout_id'], unique=False)
        batch_op.create_index('ix_ledger_account_id', ['account', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.drop_index('ix_ledger_account_id')
        batch_op.drop_index('ix_ledger_entries_payout_id')
        batch_op.drop_constraint('fk_ledger_entries_payout_id', type_='foreignkey')
        batch_op.drop_column('payout_id')
    with op.batch_alter_table('participants') as batch_op:
        batch_op.drop_column('payout_threshold_nanoton')
    op.execute(sa.text("DELETE FROM payouts WHERE transaction_hash IS NULL"))
    with op.batch_alter_table('payouts') as batch_op:
        batch_op.drop_index('ix_payouts_status')
        batch_op.drop_constraint('uq_payouts_run_participant', type_='unique')
        batch_op.drop_constraint('fk_payouts_run_id', type_='foreignkey')
        for column in ('confirmed_at', 'sent_at', 'failure_reason', 'run_id', 'status'):
            batch_op.drop_column(column)
        batch_op.alter_column('transaction_hash', existing_type=sa.String(length=64), nullable=False)
    op.execute(sa.text("DELETE FROM counters WHERE name = 'payout_runs'"))
    op.drop_table('payout_runs')
