"""Complaints: an index of the open reports by agency and area, for the command center

Revision ID: 0019_complaints_open_index
Revises: 0018_ops_application_days
Create Date: 2026-12-04 22:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_complaints_open_index'
down_revision = '0018_ops_application_days'
branch_labels = None
depends_on = None

OPEN = "status IN ('submitted', 'dispatched', 'in_progress', 'reopened')"


def upgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(
            'ix_complaints_open_agency_area',
            ['agency_id', 'kecamatan_code', 'kelurahan_code'],
            unique=False,
            postgresql_include=['due_at', 'status'],
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )


def downgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_complaints_open_agency_area',
            postgresql_where=sa.text(OPEN),
            sqlite_where=sa.text(OPEN),
        )
