"""staged items: rows of an unfinished import are marked, so no queue, list or export sees them

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 16:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('items', sa.Column('staged', sa.Boolean(), server_default=sa.false(),
                                     nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_column('staged')
