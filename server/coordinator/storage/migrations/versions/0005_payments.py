"""the Bitcoin exchange: payments, and ledger entries that name their payment

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('payments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount_sat', sa.BigInteger(), nullable=False),
    sa.Column('credit_units', sa.BigInteger(), nullable=False),
    sa.Column('rate', sa.BigInteger(), nullable=False),
    sa.Column('address', sa.String(length=100), nullable=False),
    sa.Column('derivation_index', sa.Integer(), nullable=True),
    sa.Column('needs_admin', sa.Boolean(), nullable=False),
    sa.Column('txid', sa.String(length=64), nullable=True),
    sa.Column('confirmations', sa.Integer(), nullable=False),
    sa.Column('received_sat', sa.BigInteger(), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('expires_at', TIME, nullable=False),
    sa.Column('confirmed_at', TIME, nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('derivation_index')
    )
    op.create_index('ix_payments_participant_id', 'payments', ['participant_id'], unique=False)
    op.create_index('ix_payments_status_expiry', 'payments', ['status', 'expires_at'], unique=False)
    counters = op.create_table('counters',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.bulk_insert(counters, [{'name': 'bip84_receive_index', 'value': 0}])
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.add_column(sa.Column('payment_id', sa.String(length=36), nullable=True))
        batch_op.create_index('ix_ledger_entries_payment_id', ['payment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries') as batch_op:
        batch_op.drop_index('ix_ledger_entries_payment_id')
        batch_op.drop_column('payment_id')
    op.drop_table('counters')
    op.drop_index('ix_payments_status_expiry', table_name='payments')
    op.drop_index('ix_payments_participant_id', table_name='payments')
    op.drop_table('payments')
