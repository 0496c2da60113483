"""Alerts: participants' rules and notification channels, incidents (one open per rule and
subject), notifications (the outbox and delivery log)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('alert_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('channels', sa.String(length=64), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('participant_id', 'kind', name='uq_alert_rules_participant_kind')
    )
    op.create_table('notification_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('webhook_url', sa.String(length=500), nullable=False),
    sa.Column('webhook_secret', sa.String(length=64), nullable=False),
    sa.Column('disabled_reason', sa.String(length=300), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('updated_at', TIME, nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('participant_id', 'kind', name='uq_notification_channels_participant_kind')
    )
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=32), nullable=False),
    sa.Column('worker_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('opened_at', TIME, nullable=False),
    sa.Column('resolved_at', TIME, nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id']),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_incidents_open', 'incidents', ['participant_id', 'rule', 'subject'], unique=True,
                    postgresql_where=sa.text('resolved_at IS NULL'), sqlite_where=sa.text('resolved_at IS NULL'))
    op.create_index('ix_incidents_participant_time', 'incidents', ['participant_id', 'opened_at', 'id'])
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.String(length=36), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=48), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', TIME, nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('delivered_at', TIME, nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id']),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id']),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id')
    )
    op.create_index('ix_notifications_due', 'notifications', ['next_attempt_at'],
                    postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.create_index('ix_notifications_participant_time', 'notifications', ['participant_id', 'created_at', 'id'])


def downgrade() -> None:
    op.drop_table('notifications')
    op.drop_table('incidents')
    op.drop_table('notification_channels')
    op.drop_table('alert_rules')
