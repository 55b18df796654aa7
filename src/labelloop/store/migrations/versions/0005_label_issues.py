"""label issues: the latest loop round's suspected label errors, with why, on each item

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.add_column('items', sa.Column('label_issue', sa.String(length=40), nullable=True))
    op.add_column('items', sa.Column('label_issue_version', sa.BigInteger(), nullable=True))
    op.add_column('items', sa.Column('label_issue_answer', JSON, nullable=True))
    # Suspects are few: a partial index lists a project's in id order without a scan.
    op.create_index('ix_items_label_issue', 'items', ['project_id', 'id'], unique=False,
                    sqlite_where=sa.text('label_issue IS NOT NULL'),
                    postgresql_where=sa.text('label_issue IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_items_label_issue', table_name='items')
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_column('label_issue_answer')
        batch_op.drop_column('label_issue_version')
        batch_op.drop_column('label_issue')
