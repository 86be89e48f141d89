"""Area alerts: residents' area subscriptions, report events waiting for fan-out, and the
items each follower was told (daily cap and digest)

Revision ID: 0014_area_alerts
Revises: 0013_webhooks
Create Date: 2026-12-04 19:19:50.333500

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_area_alerts'
down_revision = '0013_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('area_subscriptions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('area_type', sa.String(length=10), nullable=False),
    sa.Column('area_code', sa.String(length=13), nullable=False),
    sa.Column('category_codes', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("area_type IN ('kelurahan', 'kecamatan')", name=op.f('ck_area_subscriptions_area_type_known')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_area_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_subscriptions')),
    sa.UniqueConstraint('user_id', 'area_type', 'area_code', name=op.f('uq_area_subscriptions_user_id_area_type_area_code'))
    )
    with op.batch_alter_table('area_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_area_subscriptions_area', ['area_type', 'area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_area_subscriptions_user_id'), ['user_id'], unique=False)

    # Written in a report's transaction, fanned out by the outbox worker.
    op.create_table('area_alert_events',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fanned_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("event IN ('filed', 'resolved')", name=op.f('ck_area_alert_events_event_known')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_area_alert_events_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_alert_events'))
    )
    with op.batch_alter_table('area_alert_events', schema=None) as batch_op:
        batch_op.create_index('ix_area_alert_events_pending', ['created_at'], unique=False, sqlite_where=sa.text('fanned_out_at IS NULL'), postgresql_where=sa.text('fanned_out_at IS NULL'))

    # One per follower, report and event: a fan-out repeated after a crash tells nobody twice.
    op.create_table('area_alert_items',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('immediate', sa.Boolean(), nullable=False),
    sa.Column('digested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_area_alert_items_complaint_id_complaints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_area_alert_items_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area_alert_items')),
    sa.UniqueConstraint('user_id', 'complaint_id', 'event', name=op.f('uq_area_alert_items_user_id_complaint_id_event'))
    )
    with op.batch_alter_table('area_alert_items', schema=None) as batch_op:
        batch_op.create_index('ix_area_alert_items_undigested', ['day'], unique=False, sqlite_where=sa.text('NOT immediate AND digested_at IS NULL'), postgresql_where=sa.text('NOT immediate AND digested_at IS NULL'))
        batch_op.create_index('ix_area_alert_items_user_day', ['user_id', 'day'], unique=False)



def downgrade():
    with op.batch_alter_table('area_alert_items', schema=None) as batch_op:
        batch_op.drop_index('ix_area_alert_items_user_day')
        batch_op.drop_index('ix_area_alert_items_undigested', sqlite_where=sa.text('NOT immediate AND digested_at IS NULL'), postgresql_where=sa.text('NOT immediate AND digested_at IS NULL'))

    op.drop_table('area_alert_items')
    with op.batch_alter_table('area_alert_events', schema=None) as batch_op:
        batch_op.drop_index('ix_area_alert_events_pending', sqlite_where=sa.text('fanned_out_at IS NULL'), postgresql_where=sa.text('fanned_out_at IS NULL'))

    op.drop_table('area_alert_events')
    with op.batch_alter_table('area_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_area_subscriptions_user_id'))
        batch_op.drop_index('ix_area_subscriptions_area')

    op.drop_table('area_subscriptions')
