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
    op.create_table('permit_types',
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('issuing_agency_id', sa.Uuid(), nullable=False),
    sa.Column('technical_agency_id', sa.Uuid(), nullable=True),
    sa.Column('form_fields', sa.JSON(), nullable=False),
    sa.Column('document_requirements', sa.JSON(), nullable=False),
    sa.Column('step_deadlines', sa.JSON(), nullable=False),
    sa.Column('levy_idr', sa.BigInteger(), nullable=True),
    sa.Column('validity_months', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('levy_idr IS NULL OR levy_idr > 0', name=op.f('ck_permit_types_levy_positive')),
    sa.CheckConstraint('validity_months > 0', name=op.f('ck_permit_types_validity_positive')),
    sa.ForeignKeyConstraint(['issuing_agency_id'], ['agencies.id'], name=op.f('fk_permit_types_issuing_agency_id_agencies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['technical_agency_id'], ['agencies.id'], name=op.f('fk_permit_types_technical_agency_id_agencies'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_types')),
    sa.UniqueConstraint('code', name=op.f('uq_permit_types_code'))
    )
    with op.batch_alter_table('permit_types', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_types_issuing_agency_id'), ['issuing_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_types_technical_agency_id'), ['technical_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_types_updated_at'), ['updated_at'], unique=False)

    op.create_table('permit_applications',
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('permit_type_id', sa.Uuid(), nullable=False),
    sa.Column('applicant_id', sa.Uuid(), nullable=False),
    sa.Column('replaces_permit_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.String(length=40), nullable=False),
    sa.Column('form_data', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('step_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('action_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('technical_review_result', sa.String(length=30), nullable=True),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['users.id'], name=op.f('fk_permit_applications_applicant_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['permit_type_id'], ['permit_types.id'], name=op.f('fk_permit_applications_permit_type_id_permit_types'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_applications')),
    sa.UniqueConstraint('number', name=op.f('uq_permit_applications_number'))
    )
    with op.batch_alter_table('permit_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_applications_action_due_at'), ['action_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_applications_applicant_id'), ['applicant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_applications_permit_type_id'), ['permit_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_applications_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_permit_applications_updated_at'), ['updated_at'], unique=False)

    op.create_table('permit_application_events',
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('from_status', sa.String(length=40), nullable=True),
    sa.Column('to_status', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_kind', sa.String(length=30), nullable=False),
    sa.Column('actor_agency_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['actor_agency_id'], ['agencies.id'], name=op.f('fk_permit_application_events_actor_agency_id_agencies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_permit_application_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['application_id'], ['permit_applications.id'], name=op.f('fk_permit_application_events_application_id_permit_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_application_events'))
    )
    with op.batch_alter_table('permit_application_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_application_events_application_id'), ['application_id'], unique=False)

    op.create_table('permit_bills',
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('payment_code', sa.String(length=30), nullable=False),
    sa.Column('amount_idr', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payment_reference', sa.String(length=100), nullable=True),
    sa.Column('payment_channel', sa.String(length=40), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['permit_applications.id'], name=op.f('fk_permit_bills_application_id_permit_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_bills')),
    sa.UniqueConstraint('application_id', name=op.f('uq_permit_bills_application_id')),
    sa.UniqueConstraint('payment_code', name=op.f('uq_permit_bills_payment_code')),
    sa.UniqueConstraint('payment_reference', name=op.f('uq_permit_bills_payment_reference'))
    )
    with op.batch_alter_table('permit_bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_bills_updated_at'), ['updated_at'], unique=False)

    op.create_table('permit_documents',
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('requirement_code', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=60), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('original_filename', sa.String(length=200), nullable=True),
    sa.Column('review_status', sa.String(length=20), nullable=False),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['permit_applications.id'], name=op.f('fk_permit_documents_application_id_permit_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permit_documents')),
    sa.UniqueConstraint('application_id', 'requirement_code', 'version', name=op.f('uq_permit_documents_application_id_requirement_code_version'))
    )
    with op.batch_alter_table('permit_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permit_documents_application_id'), ['application_id'], unique=False)

    op.create_table('permits',
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('permit_type_id', sa.Uuid(), nullable=False),
    sa.Column('holder_id', sa.Uuid(), nullable=False),
    sa.Column('permit_number', sa.String(length=60), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.Column('replaced_by_id', sa.Uuid(), nullable=True),
    sa.Column('verification_code', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['permit_applications.id'], name=op.f('fk_permits_application_id_permit_applications'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['holder_id'], ['users.id'], name=op.f('fk_permits_holder_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['permit_type_id'], ['permit_types.id'], name=op.f('fk_permits_permit_type_id_permit_types'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['replaced_by_id'], ['permits.id'], name=op.f('fk_permits_replaced_by_id_permits'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_permits')),
    sa.UniqueConstraint('application_id', name=op.f('uq_permits_application_id')),
    sa.UniqueConstraint('permit_number', name=op.f('uq_permits_permit_number')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_permits_verification_code'))
    )
    with op.batch_alter_table('permits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_permits_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permits_permit_type_id'), ['permit_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_permits_updated_at'), ['updated_at'], unique=False)



def downgrade():
    with op.batch_alter_table('permits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permits_updated_at'))
        batch_op.drop_index(batch_op.f('ix_permits_permit_type_id'))
        batch_op.drop_index(batch_op.f('ix_permits_holder_id'))

    op.drop_table('permits')
    with op.batch_alter_table('permit_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_documents_application_id'))

    op.drop_table('permit_documents')
    with op.batch_alter_table('permit_bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_bills_updated_at'))

    op.drop_table('permit_bills')
    with op.batch_alter_table('permit_application_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_application_events_application_id'))

    op.drop_table('permit_application_events')
    with op.batch_alter_table('permit_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_applications_updated_at'))
        batch_op.drop_index(batch_op.f('ix_permit_applications_status'))
        batch_op.drop_index(batch_op.f('ix_permit_applications_permit_type_id'))
        batch_op.drop_index(batch_op.f('ix_permit_applications_applicant_id'))
        batch_op.drop_index(batch_op.f('ix_permit_applications_action_due_at'))

    op.drop_table('permit_applications')
    with op.batch_alter_table('permit_types', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_permit_types_updated_at'))
        batch_op.drop_index(batch_op.f('ix_permit_types_technical_agency_id'))
        batch_op.drop_index(batch_op.f('ix_permit_types_issuing_agency_id'))

    op.drop_table('permit_types')
