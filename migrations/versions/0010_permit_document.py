"""Permit document and texts: the signing official of agencies, permit types' conditions, polis'
English names

Revision ID: 0010_permit_document
Revises: 0009_bcc_toolkit
Create Date: 2026-12-04 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_permit_document'
down_revision = '0009_bcc_toolkit'
branch_labels = None
depends_on = None


def upgrade():
    # Printed on the permits the agency issues; kept by admins (PATCH /agencies/{id}).
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('official_name', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('official_nip', sa.String(length=18), nullable=True))
        batch_op.add_column(sa.Column('official_position', sa.String(length=200), nullable=True))

    with op.batch_alter_table('permit_types', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conditions', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))

    with op.batch_alter_table('health_services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_en', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('health_services', schema=None) as batch_op:
        batch_op.drop_column('name_en')

    with op.batch_alter_table('permit_types', schema=None) as batch_op:
        batch_op.drop_column('conditions')

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('official_position')
        batch_op.drop_column('official_nip')
        batch_op.drop_column('official_name')
