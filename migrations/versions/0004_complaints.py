"""complaints and aspirations

Revision ID: 0004_complaints
Revises: 0003_calendar
Create Date: 2026-11-27 21:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_complaints'
down_revision = '0003_calendar'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
