"""licensing (perizinan)

Revision ID: 0005_licensing
Revises: 0004_complaints
Create Date: 2026-11-27 21:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_licensing'
down_revision = '0004_complaints'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
