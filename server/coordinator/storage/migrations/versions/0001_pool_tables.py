"""pool tables: participants, workers, samples, payouts

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wallet_raw', sa.String(length=80), nullable=False),
    sa.Column('wallet_address', sa.String(length=64), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('wallet_raw')
    )
    op.create_table('payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('transaction_hash', sa.String(length=64), nullable=False),
    sa.Column('amount_nanoton', sa.BigInteger(), nullable=False),
    sa.Column('amount_usd_micros', sa.BigInteger(), nullable=False),
    sa.Column('from_address', sa.String(length=64), nullable=False),
    sa.Column('to_address', sa.String(length=64), nullable=False),
    sa.Column('transaction_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transaction_hash')
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index('ix_payouts_participant_time', ['participant_id', 'transaction_time', 'id'], unique=False)
        batch_op.create_index('ix_payouts_time', ['transaction_time', 'id'], unique=False)

    op.create_table('workers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('worker_name', sa.String(length=64), nullable=False),
    sa.Column('instance_number', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=253), nullable=False),
    sa.Column('stats_port', sa.Integer(), nullable=False),
    sa.Column('price_coefficient_micros', sa.BigInteger(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('latest_status', sa.String(length=16), nullable=False),
    sa.Column('latest_gpu_utilization', sa.Float(), nullable=True),
    sa.Column('latest_gpu_memory_used_gb', sa.Float(), nullable=True),
    sa.Column('latest_gpu_temperature_celsius', sa.Float(), nullable=True),
    sa.Column('latest_revenue_nanoton', sa.BigInteger(), nullable=False),
    sa.Column('latest_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stats_polled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('participant_id', 'worker_name', 'instance_number', name='uq_workers_participant_name_instance')
    )
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_workers_is_active'), ['is_active'], unique=False)
        batch_op.create_index(batch_op.f('ix_workers_participant_id'), ['participant_id'], unique=False)

    op.create_table('worker_samples',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=False),
    sa.Column('sampled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('gpu_utilization', sa.Float(), nullable=True),
    sa.Column('gpu_memory_used_gb', sa.Float(), nullable=True),
    sa.Column('gpu_temperature_celsius', sa.Float(), nullable=True),
    sa.Column('requests_total', sa.BigInteger(), nullable=True),
    sa.Column('errors_total', sa.BigInteger(), nullable=True),
    sa.Column('revenue_nanoton', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('worker_samples', schema=None) as batch_op:
        batch_op.create_index('ix_worker_samples_worker_time', ['worker_id', 'sampled_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('worker_samples', schema=None) as batch_op:
        batch_op.drop_index('ix_worker_samples_worker_time')

    op.drop_table('worker_samples')
    with op.batch_alter_table('workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_workers_participant_id'))
        batch_op.drop_index(batch_op.f('ix_workers_is_active'))

    op.drop_table('workers')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index('ix_payouts_time')
        batch_op.drop_index('ix_payouts_participant_time')

    op.drop_table('payouts')
    op.drop_table('participants')
