"""audit trail: an index of the records waiting to be sealed, in the order the sealer takes them

Revision ID: 0011_audit_unsealed
Revises: 0010_permit_document
Create Date: 2026-12-04 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_audit_unsealed'
down_revision = '0010_permit_document'
branch_labels = None
depends_on = None

# Records are committed unsealed and sealed a moment later by the outbox worker, oldest first:
# a partial index keeps that lookup small however long the sealed chain grows.
_UNSEALED = sa.text('seq IS NULL')


def upgrade():
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_index(
            'ix_audit_records_unsealed',
            ['occurred_at', 'id'],
            unique=False,
            postgresql_where=_UNSEALED,
            sqlite_where=_UNSEALED,
        )


def downgrade():
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_records_unsealed')
