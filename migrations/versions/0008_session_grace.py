"""sessions: the last rotation kept for a grace period; devices bound to their session

Revision ID: 0008_session_grace
Revises: 0007_command_center
Create Date: 2026-12-04 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_session_grace'
down_revision = '0007_command_center'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_refresh_jti', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('successor_sealed', sa.Text(), nullable=True))

    # A plain column added in place: a foreign key would need SQLite's batch copy, whose DROP of
    # the old table (foreign keys on) would clear every delivery's device_id (ON DELETE SET NULL).
    op.add_column('devices', sa.Column('session_id', sa.Uuid(), nullable=True))
    op.create_index(op.f('ix_devices_session_id'), 'devices', ['session_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_devices_session_id'), table_name='devices')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('session_id')

    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_column('successor_sealed')
        batch_op.drop_column('rotated_at')
        batch_op.drop_column('previous_refresh_jti')
