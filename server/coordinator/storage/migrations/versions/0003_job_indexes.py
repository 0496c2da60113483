"""indexes for the reaper's ttl sweep and for counting a worker's running jobs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

LIVE = "status IN ('pending', 'running')"
RUNNING = "status = 'running'"


def upgrade() -> None:
    op.create_index('ix_jobs_live_expiry', 'jobs', ['expires_at'], unique=False,
                    postgresql_where=sa.text(LIVE), sqlite_where=sa.text(LIVE))
    op.create_index('ix_jobs_running_by_worker', 'jobs', ['lease_worker_id'], unique=False,
                    postgresql_where=sa.text(RUNNING), sqlite_where=sa.text(RUNNING))


def downgrade() -> None:
    op.drop_index('ix_jobs_running_by_worker', table_name='jobs')
    op.drop_index('ix_jobs_live_expiry', table_name='jobs')
