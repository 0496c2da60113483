"""marketplace: miners, jobs, receipts, ledger

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=80), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('job_type', sa.String(length=64), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('required_model', sa.String(length=128), nullable=False),
    sa.Column('min_vram_gb', sa.Float(), nullable=False),
    sa.Column('required_gpu_model', sa.String(length=64), nullable=False),
    sa.Column('unit_price_nanoton', sa.BigInteger(), nullable=False),
    sa.Column('max_price_nanoton', sa.BigInteger(), nullable=False),
    sa.Column('max_price_coefficient_micros', sa.BigInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('available_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lease_token', sa.String(length=64), nullable=True),
    sa.Column('lease_worker_id', sa.Integer(), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_price_coefficient_micros', sa.BigInteger(), nullable=True),
    sa.Column('error_message', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lease_worker_id'], ['workers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'idempotency_key', name='uq_jobs_client_idempotency_key')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_client', ['client_id', 'created_at'], unique=False)
        batch_op.create_index('ix_jobs_lease_expiry', ['status', 'lease_expires_at'], unique=False)
    # Written by hand: Alembic does not autogenerate expression indexes. Pending jobs in offer order.
    op.create_index('ix_jobs_queue', 'jobs', [sa.text('priority DESC'), 'created_at'], unique=False,
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))

    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account', sa.String(length=96), nullable=False),
    sa.Column('asset', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('receipt_id', sa.String(length=36), nullable=True),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_account', ['account', 'asset'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_worker_id'), ['worker_id'], unique=False)

    op.create_table('miners',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('endpoint', sa.String(length=300), nullable=False),
    sa.Column('capabilities', sa.JSON(), nullable=False),
    sa.Column('gpu_model', sa.String(length=64), nullable=False),
    sa.Column('gpu_count', sa.Integer(), nullable=False),
    sa.Column('vram_gb', sa.Float(), nullable=False),
    sa.Column('max_concurrent_jobs', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_heartbeat', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash'),
    sa.UniqueConstraint('worker_id')
    )
    op.create_table('receipts',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=False),
    sa.Column('miner_id', sa.String(length=36), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('owner_wallet', sa.String(length=80), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('result_hash', sa.String(length=64), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('charge_nanoton', sa.BigInteger(), nullable=False),
    sa.Column('earning_nanoton', sa.BigInteger(), nullable=False),
    sa.Column('fee_nanoton', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=False),
    sa.Column('miner_signature', sa.String(length=100), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ),
    sa.ForeignKeyConstraint(['miner_id'], ['miners.id'], ),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], ),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id')
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_worker_id'), ['worker_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_worker_id'))

    op.drop_table('receipts')
    op.drop_table('miners')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_worker_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_participant_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_job_id'))
        batch_op.drop_index('ix_ledger_account')

    op.drop_table('ledger_entries')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_lease_expiry')
        batch_op.drop_index('ix_jobs_client')

    op.drop_index('ix_jobs_queue', table_name='jobs')
    op.drop_table('jobs')
