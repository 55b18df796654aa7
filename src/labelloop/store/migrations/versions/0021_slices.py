"""slices: a project's saved, named filters of its items

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 08:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    # The data browser's filter object (services/curation/slices.py), checked before it is stored.
    op.create_table(
        'slices',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('project_id', BIG_ID, nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('filter', JSON, nullable=False),
        sa.Column('created_by', BIG_ID, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'name', name='uq_slices_project_name'),
    )


def downgrade() -> None:
    op.drop_table('slices')
