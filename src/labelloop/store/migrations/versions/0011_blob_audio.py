"""blob_audio: what an audio file's probe found (duration, sample rate, channels, codec)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-28 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'blob_audio',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('duration', sa.Float(), nullable=False),
        sa.Column('sample_rate', sa.Integer(), nullable=False),
        sa.Column('channels', sa.Integer(), nullable=False),
        sa.Column('codec', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('sha256'),
    )


def downgrade() -> None:
    op.drop_table('blob_audio')
