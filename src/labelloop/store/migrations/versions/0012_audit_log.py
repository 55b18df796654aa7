"""audit log: an append-only, hash-chained record of who did what

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 22:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = '0' * 64


def upgrade() -> None:
    op.create_table(
        'audit_log',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False,
                  nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.BigInteger(), nullable=True),
        sa.Column('actor_name', sa.String(length=150), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('project_id', sa.BigInteger(), nullable=True),
        sa.Column('object_type', sa.String(length=30), nullable=True),
        sa.Column('object_id', sa.String(length=100), nullable=True),
        sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('seq'),
    )
    op.create_index('ix_audit_log_project', 'audit_log', ['project_id', 'seq'], unique=False)
    head = op.create_table(
        'audit_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(head, [{'id': 1, 'seq': 0, 'hash': GENESIS}])


def downgrade() -> None:
    op.drop_table('audit_head')
    op.drop_index('ix_audit_log_project', table_name='audit_log')
    op.drop_table('audit_log')
