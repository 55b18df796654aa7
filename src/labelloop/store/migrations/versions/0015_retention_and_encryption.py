"""retention per project, erasure tombstones, encryption at rest

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 22:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Erasure tombstones are audit-log entries (0012): no table of their own.
    op.add_column('projects', sa.Column('retention_days', sa.Integer(), nullable=True))
    op.add_column('items', sa.Column('content_deleted_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'encryption_state',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('key_id', sa.String(length=16), nullable=False),
        sa.Column('key_check', sa.String(length=64), nullable=False),
        sa.Column('pending', sa.String(length=10), nullable=True),
        sa.Column('next_key_id', sa.String(length=16), nullable=True),
        sa.Column('next_key_check', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('encryption_state')
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_column('content_deleted_at')
    with op.batch_alter_table('projects') as batch_op:
        batch_op.drop_column('retention_days')
