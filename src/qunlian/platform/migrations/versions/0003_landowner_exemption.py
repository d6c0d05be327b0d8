"""landowner and exemption on enterprise-years

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 18:25:46.127313
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('enterprise_years', schema=None) as batch_op:
        batch_op.add_column(sa.Column('landowner_uscc', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('exemption', sa.String(length=40), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('enterprise_years', schema=None) as batch_op:
        batch_op.drop_column('exemption')
        batch_op.drop_column('landowner_uscc')

