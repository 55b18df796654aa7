"""personal data: findings at import, per-project redaction policy, reveals

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 22:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.add_column('projects', sa.Column('privacy_settings', JSON, nullable=False, server_default='{}'))
    op.create_table(
        'item_pii',
        sa.Column('id', BIG_ID, nullable=False),
        sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('field', sa.String(length=200), nullable=False),
        sa.Column('start', sa.Integer(), nullable=False),
        sa.Column('end', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('value_hash', sa.String(length=64), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_item_pii_item', 'item_pii', ['item_id'], unique=False)
    op.create_index('ix_item_pii_project_kind', 'item_pii', ['project_id', 'kind'], unique=False)
    op.create_index('ix_item_pii_value_hash', 'item_pii', ['value_hash'], unique=False)
    op.create_table(
        'item_pii_scans',
        sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('project_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('scan_key', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['items.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('item_id'),
    )
    op.create_index('ix_item_pii_scans_project', 'item_pii_scans', ['project_id', 'scan_key'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_item_pii_scans_project', table_name='item_pii_scans')
    op.drop_table('item_pii_scans')
    op.drop_index('ix_item_pii_value_hash', table_name='item_pii')
    op.drop_index('ix_item_pii_project_kind', table_name='item_pii')
    op.drop_index('ix_item_pii_item', table_name='item_pii')
    op.drop_table('item_pii')
    with op.batch_alter_table('projects') as batch_op:
        batch_op.drop_column('privacy_settings')
