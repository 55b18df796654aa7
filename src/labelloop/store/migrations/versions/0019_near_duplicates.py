"""near_duplicates: items' duplicate groups per method, and the items a manager set aside

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 05:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import labelloop.store.models

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    # Replaced per method by each run of the duplicates job (services/curation/duplicates.py).
    op.create_table(
        'item_groups',
        sa.Column('item_id', BIG_ID, nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('project_id', BIG_ID, nullable=False),
        sa.Column('group_id', sa.BigInteger(), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('item_id', 'method'),
    )
    op.create_index('ix_item_groups_project_method_group', 'item_groups',
                    ['project_id', 'method', 'group_id'], unique=False)
    # What "keep one" took out of the queue, and what each item needed before (to give it back).
    op.create_table(
        'duplicate_set_asides',
        sa.Column('item_id', BIG_ID, nullable=False),
        sa.Column('project_id', BIG_ID, nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('group_id', sa.BigInteger(), nullable=False),
        sa.Column('kept_item_id', sa.BigInteger(), nullable=False),
        sa.Column('needed', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('item_id'),
    )
    op.create_index('ix_duplicate_set_asides_group', 'duplicate_set_asides',
                    ['project_id', 'method', 'group_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_duplicate_set_asides_group', table_name='duplicate_set_asides')
    op.drop_table('duplicate_set_asides')
    op.drop_index('ix_item_groups_project_method_group', table_name='item_groups')
    op.drop_table('item_groups')
