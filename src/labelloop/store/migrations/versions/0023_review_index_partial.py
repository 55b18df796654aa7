"""review index partial: only items in the review queue (pending or done) have an entry

Every item used to have one, its review state NULL, written by every import for nothing: the
queries on this index all ask for a review state. Measured on SQLite, 100,000 records without ids:
about 1.2 µs of CPU per imported item.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 15:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_items_review', table_name='items')
    op.create_index(
        'ix_items_review', 'items', ['project_id', 'review_state', 'id'], unique=False,
        sqlite_where=sa.text('review_state IS NOT NULL'), postgresql_where=sa.text('review_state IS NOT NULL'),
    )


def downgrade() -> None:
    op.drop_index('ix_items_review', table_name='items')
    op.create_index('ix_items_review', 'items', ['project_id', 'review_state', 'id'], unique=False)
