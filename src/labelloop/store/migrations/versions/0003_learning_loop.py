"""learning loop: model versions, predictions, loop settings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 11:20:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import labelloop.store.models

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.add_column('projects', sa.Column('loop_settings', JSON, nullable=False, server_default='{}'))
    op.create_table('model_versions',
    sa.Column('id', ID, nullable=False),
    sa.Column('project_id', ID, nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=True),
    sa.Column('question', sa.String(length=64), nullable=False),
    sa.Column('encoder', sa.String(length=64), nullable=False),
    sa.Column('classes', JSON, nullable=False),
    sa.Column('metrics', JSON, nullable=False),
    sa.Column('created_at', labelloop.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_model_versions_project', 'model_versions', ['project_id', 'id'], unique=False)
    op.create_table('predictions',
    sa.Column('model_version_id', ID, nullable=False),
    sa.Column('item_id', ID, nullable=False),
    sa.Column('value', JSON, nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('model_version_id', 'item_id')
    )
    op.create_index('ix_predictions_item', 'predictions', ['item_id', 'model_version_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_predictions_item', table_name='predictions')
    op.drop_table('predictions')
    op.drop_index('ix_model_versions_project', table_name='model_versions')
    op.drop_table('model_versions')
    with op.batch_alter_table('projects') as batch_op:
        batch_op.drop_column('loop_settings')
