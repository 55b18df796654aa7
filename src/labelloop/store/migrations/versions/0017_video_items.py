"""blob_video: what a video file's probe found (size, rotation, frames, rate, duration, codec)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 01:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'blob_video',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('rotation', sa.Integer(), nullable=False),
        sa.Column('frame_count', sa.Integer(), nullable=False),
        sa.Column('fps', sa.Float(), nullable=False),
        sa.Column('vfr', sa.Boolean(), nullable=False),
        sa.Column('duration', sa.Float(), nullable=False),
        sa.Column('codec', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('sha256'),
    )


def downgrade() -> None:
    op.drop_table('blob_video')
