"""quality control: settings, review state, annotator quality, final consensus

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:27:54.697800
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import labelloop.store.models

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('annotator_quality',
    sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('gold_answered', sa.Integer(), nullable=False),
    sa.Column('gold_correct', sa.Integer(), nullable=False),
    sa.Column('skill', sa.Float(), nullable=True),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('paused_reason', sa.String(length=500), nullable=True),
    sa.Column('updated_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'user_id')
    )
    # Existing rows get neutral values: no settings (defaults apply), no per-question confidences.
    op.add_column('consensus', sa.Column('confidences', JSON, nullable=False, server_default='{}'))
    op.add_column('consensus', sa.Column('final', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('items', sa.Column('review_state', sa.String(length=10), nullable=True))
    op.add_column('projects', sa.Column('quality_settings', JSON, nullable=False, server_default='{}'))
    op.create_index('ix_items_gold', 'items', ['project_id', 'id'], unique=False,
                    sqlite_where=sa.text('gold IS NOT NULL'), postgresql_where=sa.text('gold IS NOT NULL'))
    op.create_index('ix_items_review', 'items', ['project_id', 'review_state', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_items_review', table_name='items')
    op.drop_index('ix_items_gold', table_name='items')
    with op.batch_alter_table('projects') as batch_op:
        batch_op.drop_column('quality_settings')
    with op.batch_alter_table('items') as batch_op:
        batch_op.drop_column('review_state')
    with op.batch_alter_table('consensus') as batch_op:
        batch_op.drop_column('final')
        batch_op.drop_column('confidences')
    op.drop_table('annotator_quality')
