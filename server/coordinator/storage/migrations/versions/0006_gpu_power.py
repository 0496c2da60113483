"""GPU power draw on workers and their samples (the miner agent reads it through NVML)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('workers', sa.Column('latest_gpu_power_watts', sa.Float(), nullable=True))
    op.add_column('worker_samples', sa.Column('gpu_power_watts', sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('worker_samples') as table:  # SQLite drops a column by copying the table
        table.drop_column('gpu_power_watts')
    with op.batch_alter_table('workers') as table:
        table.drop_column('latest_gpu_power_watts')
