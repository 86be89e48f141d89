"""health facilities and online queue

Revision ID: 0006_health
Revises: 0005_licensing
Create Date: 2026-11-27 21:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_health'
down_revision = '0005_licensing'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
