"""index on enterprises (town_id, name) for the town-scoped enterprise list

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 20:10:00.000000
"""

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.create_index('ix_enterprises_town_id_name', ['town_id', 'name'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('enterprises', schema=None) as batch_op:
        batch_op.drop_index('ix_enterprises_town_id_name')
