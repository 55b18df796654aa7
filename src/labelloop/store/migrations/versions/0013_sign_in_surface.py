"""sign-in surface: OpenID Connect identities, API token scopes

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 22:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import labelloop.store.models

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_SCOPES = 'read annotate manage admin'


def upgrade() -> None:
    # Tokens made before scopes existed keep doing everything their user may do.
    with op.batch_alter_table('api_tokens') as batch:
        batch.add_column(sa.Column('scopes', sa.String(length=100), nullable=False,
                                   server_default=ALL_SCOPES))
    op.create_table(
        'user_identities',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('provider', sa.String(length=100), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=True),
        sa.Column('created_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_sign_in_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider', 'subject', name='uq_user_identities_subject'),
    )
    op.create_index('ix_user_identities_user_id', 'user_identities', ['user_id'], unique=False)
    op.create_table(
        'oidc_logins',
        sa.Column('state_hash', sa.String(length=64), nullable=False),
        sa.Column('provider', sa.String(length=100), nullable=False),
        sa.Column('nonce', sa.String(length=100), nullable=False),
        sa.Column('code_verifier', sa.String(length=200), nullable=False),
        sa.Column('created_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('state_hash'),
    )
    # Expired sign-ins are pruned at each start: an index keeps that from scanning the table.
    op.create_index('ix_oidc_logins_expires', 'oidc_logins', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_oidc_logins_expires', table_name='oidc_logins')
    op.drop_table('oidc_logins')
    op.drop_index('ix_user_identities_user_id', table_name='user_identities')
    op.drop_table('user_identities')
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('scopes')
