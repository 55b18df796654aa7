"""durable jobs: who started a job, which process runs it, its heartbeat and attempts

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 04:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(astext_type=sa.Text(), none_as_null=True),
                                              'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('actor', JSON, nullable=True))
        batch.add_column(sa.Column('worker', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
    op.create_index('ix_jobs_status', 'jobs', ['status', 'id'])


def downgrade() -> None:
    op.drop_index('ix_jobs_status', table_name='jobs')
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('attempts')
        batch.drop_column('heartbeat_at')
        batch.drop_column('worker')
        batch.drop_column('actor')
