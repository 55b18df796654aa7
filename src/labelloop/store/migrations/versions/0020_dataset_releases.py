"""dataset releases: the immutable release rows and each project's key for pseudonymous annotators

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 05:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'dataset_releases',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('project_id', BIG_ID, nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', BIG_ID, nullable=True),
        sa.Column('item_count', sa.BigInteger(), nullable=False),
        sa.Column('card', JSON, nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'name', name='uq_dataset_releases_project_name'),
    )
    op.create_table(
        'release_keys',
        sa.Column('project_id', BIG_ID, nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('project_id'),
    )


def downgrade() -> None:
    op.drop_table('release_keys')
    op.drop_table('dataset_releases')
