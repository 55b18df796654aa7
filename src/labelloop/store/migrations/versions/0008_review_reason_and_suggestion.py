"""review reasons on items, and each answer's relation to the model suggestion shown

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 17:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.add_column('items', sa.Column('review_reason', sa.String(length=200), nullable=True))
    op.add_column('answers', sa.Column('suggestion', JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('answers') as batch_op:
        batch_op.drop_column('suggestion')
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_column('review_reason')
