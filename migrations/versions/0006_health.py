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
    op.create_table('health_facilities',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('kelurahan_code', sa.String(length=13), nullable=True),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('emergency_24h', sa.Boolean(), nullable=False),
    sa.Column('accepts_bpjs', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('beds_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("type IN ('puskesmas', 'hospital', 'clinic')", name=op.f('ck_health_facilities_type_known')),
    sa.ForeignKeyConstraint(['kelurahan_code'], ['kelurahan.code'], name=op.f('fk_health_facilities_kelurahan_code_kelurahan'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_facilities'))
    )
    with op.batch_alter_table('health_facilities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_facilities_kelurahan_code'), ['kelurahan_code'], unique=False)
        batch_op.create_index('ix_health_facilities_lat_lon', ['lat', 'lon'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_facilities_type'), ['type'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_facilities_updated_at'), ['updated_at'], unique=False)

    op.create_table('health_beds',
    sa.Column('facility_id', sa.Uuid(), nullable=False),
    sa.Column('bed_class', sa.String(length=20), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('available', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint('available >= 0 AND available <= total', name=op.f('ck_health_beds_available_in_range')),
    sa.ForeignKeyConstraint(['facility_id'], ['health_facilities.id'], name=op.f('fk_health_beds_facility_id_health_facilities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_health_beds_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('facility_id', 'bed_class', name=op.f('pk_health_beds'))
    )
    op.create_table('health_facility_staff',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('facility_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['health_facilities.id'], name=op.f('fk_health_facility_staff_facility_id_health_facilities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_health_facility_staff_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_health_facility_staff'))
    )
    with op.batch_alter_table('health_facility_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_facility_staff_facility_id'), ['facility_id'], unique=False)

    op.create_table('health_opening_hours',
    sa.Column('facility_id', sa.Uuid(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('opens_at', sa.Time(), nullable=False),
    sa.Column('closes_at', sa.Time(), nullable=False),
    sa.CheckConstraint('opens_at < closes_at', name=op.f('ck_health_opening_hours_opens_before_closing')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_health_opening_hours_weekday_valid')),
    sa.ForeignKeyConstraint(['facility_id'], ['health_facilities.id'], name=op.f('fk_health_opening_hours_facility_id_health_facilities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('facility_id', 'weekday', name=op.f('pk_health_opening_hours'))
    )
    op.create_table('health_services',
    sa.Column('facility_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['health_facilities.id'], name=op.f('fk_health_services_facility_id_health_facilities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_services')),
    sa.UniqueConstraint('facility_id', 'code', name=op.f('uq_health_services_facility_id_code'))
    )
    with op.batch_alter_table('health_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_services_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_services_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_services_updated_at'), ['updated_at'], unique=False)

    op.create_table('health_queue_sessions',
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('starts_at', sa.Time(), nullable=False),
    sa.Column('ends_at', sa.Time(), nullable=False),
    sa.Column('online_quota', sa.Integer(), nullable=False),
    sa.Column('walk_in_quota', sa.Integer(), nullable=False),
    sa.Column('minutes_per_patient', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('minutes_per_patient > 0', name=op.f('ck_health_queue_sessions_minutes_positive')),
    sa.CheckConstraint('online_quota >= 0 AND walk_in_quota >= 0', name=op.f('ck_health_queue_sessions_quotas_positive')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_health_queue_sessions_starts_before_end')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_health_queue_sessions_weekday_valid')),
    sa.ForeignKeyConstraint(['service_id'], ['health_services.id'], name=op.f('fk_health_queue_sessions_service_id_health_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_queue_sessions')),
    sa.UniqueConstraint('service_id', 'weekday', name=op.f('uq_health_queue_sessions_service_id_weekday'))
    )
    with op.batch_alter_table('health_queue_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_queue_sessions_service_id'), ['service_id'], unique=False)

    op.create_table('health_queue_days',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('facility_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.Column('online_booked', sa.Integer(), nullable=False),
    sa.Column('walk_ins', sa.Integer(), nullable=False),
    sa.Column('now_calling', sa.Integer(), nullable=True),
    sa.Column('served_count', sa.Integer(), nullable=False),
    sa.Column('service_seconds', sa.Integer(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=300), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'cancelled')", name=op.f('ck_health_queue_days_status_known')),
    sa.ForeignKeyConstraint(['facility_id'], ['health_facilities.id'], name=op.f('fk_health_queue_days_facility_id_health_facilities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['health_services.id'], name=op.f('fk_health_queue_days_service_id_health_services'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['health_queue_sessions.id'], name=op.f('fk_health_queue_days_session_id_health_queue_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_queue_days')),
    sa.UniqueConstraint('session_id', 'day', name=op.f('uq_health_queue_days_session_id_day'))
    )
    with op.batch_alter_table('health_queue_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_queue_days_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_queue_days_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_queue_days_updated_at'), ['updated_at'], unique=False)

    op.create_table('health_queue_bookings',
    sa.Column('queue_day_id', sa.Uuid(), nullable=False),
    sa.Column('facility_id', sa.Uuid(), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('queue_number', sa.Integer(), nullable=False),
    sa.Column('booking_code', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('patient_name', sa.String(length=120), nullable=False),
    sa.Column('patient_nik', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('called_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('three_ahead_notified', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['users.id'], name=op.f('fk_health_queue_bookings_account_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['facility_id'], ['health_facilities.id'], name=op.f('fk_health_queue_bookings_facility_id_health_facilities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['queue_day_id'], ['health_queue_days.id'], name=op.f('fk_health_queue_bookings_queue_day_id_health_queue_days'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['health_services.id'], name=op.f('fk_health_queue_bookings_service_id_health_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_queue_bookings')),
    sa.UniqueConstraint('booking_code', name=op.f('uq_health_queue_bookings_booking_code')),
    sa.UniqueConstraint('queue_day_id', 'queue_number', name=op.f('uq_health_queue_bookings_queue_day_id_queue_number'))
    )
    with op.batch_alter_table('health_queue_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_queue_bookings_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_queue_bookings_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_queue_bookings_facility_id'), ['facility_id'], unique=False)
        batch_op.create_index('ix_health_queue_bookings_queue', ['queue_day_id', 'status', 'queue_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_queue_bookings_updated_at'), ['updated_at'], unique=False)
        batch_op.create_index('uq_health_queue_bookings_active_person', ['queue_day_id', 'patient_nik'], unique=True, sqlite_where=sa.text("status IN ('booked', 'checked_in', 'called')"), postgresql_where=sa.text("status IN ('booked', 'checked_in', 'called')"))



def downgrade():
    with op.batch_alter_table('health_queue_bookings', schema=None) as batch_op:
        batch_op.drop_index('uq_health_queue_bookings_active_person', sqlite_where=sa.text("status IN ('booked', 'checked_in', 'called')"), postgresql_where=sa.text("status IN ('booked', 'checked_in', 'called')"))
        batch_op.drop_index(batch_op.f('ix_health_queue_bookings_updated_at'))
        batch_op.drop_index('ix_health_queue_bookings_queue')
        batch_op.drop_index(batch_op.f('ix_health_queue_bookings_facility_id'))
        batch_op.drop_index(batch_op.f('ix_health_queue_bookings_day'))
        batch_op.drop_index(batch_op.f('ix_health_queue_bookings_account_id'))

    op.drop_table('health_queue_bookings')
    with op.batch_alter_table('health_queue_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_queue_days_updated_at'))
        batch_op.drop_index(batch_op.f('ix_health_queue_days_service_id'))
        batch_op.drop_index(batch_op.f('ix_health_queue_days_facility_id'))

    op.drop_table('health_queue_days')
    with op.batch_alter_table('health_queue_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_queue_sessions_service_id'))

    op.drop_table('health_queue_sessions')
    with op.batch_alter_table('health_services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_services_updated_at'))
        batch_op.drop_index(batch_op.f('ix_health_services_facility_id'))
        batch_op.drop_index(batch_op.f('ix_health_services_code'))

    op.drop_table('health_services')
    op.drop_table('health_opening_hours')
    with op.batch_alter_table('health_facility_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_facility_staff_facility_id'))

    op.drop_table('health_facility_staff')
    op.drop_table('health_beds')
    with op.batch_alter_table('health_facilities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_health_facilities_updated_at'))
        batch_op.drop_index(batch_op.f('ix_health_facilities_type'))
        batch_op.drop_index('ix_health_facilities_lat_lon')
        batch_op.drop_index(batch_op.f('ix_health_facilities_kelurahan_code'))

    op.drop_table('health_facilities')

