"""sign-in limits: OpenID Connect starts and callbacks counted per client address, in fixed windows

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 01:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import labelloop.store.models

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Requests, not failures (sign_in_failures, 0006): a start is no guess, but each one stores a
    # sign-in and a callback calls the provider, so both are limited per address.
    op.create_table(
        'request_limits',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('hits', sa.Integer(), nullable=False),
        sa.Column('window_start', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_request_limits_window', 'request_limits', ['window_start'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_request_limits_window', table_name='request_limits')
    op.drop_table('request_limits')
