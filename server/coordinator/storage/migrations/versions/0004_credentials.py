"""credentials: api keys, user sessions, login challenges

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('revoked_at', TIME, nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    op.create_index('ix_api_keys_participant_id', 'api_keys', ['participant_id'], unique=False)
    op.create_table('user_sessions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('expires_at', TIME, nullable=False),
    sa.Column('revoked_at', TIME, nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('ix_user_sessions_participant_id', 'user_sessions', ['participant_id'], unique=False)
    op.create_table('login_challenges',
    sa.Column('payload', sa.String(length=64), nullable=False),
    sa.Column('created_at', TIME, nullable=False),
    sa.Column('expires_at', TIME, nullable=False),
    sa.Column('used_at', TIME, nullable=True),
    sa.PrimaryKeyConstraint('payload')
    )
    op.create_index('ix_login_challenges_expires_at', 'login_challenges', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_login_challenges_expires_at', table_name='login_challenges')
    op.drop_table('login_challenges')
    op.drop_index('ix_user_sessions_participant_id', table_name='user_sessions')
    op.drop_table('user_sessions')
    op.drop_index('ix_api_keys_participant_id', table_name='api_keys')
    op.drop_table('api_keys')
