"""sign-in failures: failed sign-ins counted per account and per address, in fixed windows

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import labelloop.store.models

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'sign_in_failures',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('window_start', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    # Pruning deletes the windows that ended: an index keeps that from scanning the table.
    op.create_index('ix_sign_in_failures_window', 'sign_in_failures', ['window_start'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_failures_window', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
