"""blobs: stored files by SHA-256, their preview and thumbnail, and the projects that hold them

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-14 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import labelloop.store.models

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'blobs',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('created_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    op.create_table(
        'blob_variants',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('variant', sa.String(length=10), nullable=False),
        sa.Column('variant_sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['variant_sha256'], ['blobs.sha256']),
        sa.PrimaryKeyConstraint('sha256', 'variant'),
    )
    op.create_table(
        'project_blobs',
        sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256']),
        sa.PrimaryKeyConstraint('project_id', 'sha256'),
    )
    # Which projects hold a blob, for the check that an importer may reference it.
    op.create_index('ix_project_blobs_sha256', 'project_blobs', ['sha256'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_project_blobs_sha256', table_name='project_blobs')
    op.drop_table('project_blobs')
    op.drop_table('blob_variants')
    op.drop_table('blobs')
