"""Service quality: SKM survey invitations and answers (kept apart), "is it fixed?" checks

Revision ID: 0012_service_quality
Revises: 0011_audit_unsealed
Create Date: 2026-12-04 19:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_service_quality'
down_revision = '0011_audit_unsealed'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('quality_survey_invitations',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('service_kind', sa.String(length=20), nullable=False),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('service_key', sa.String(length=60), nullable=False),
    sa.Column('service_name', sa.String(length=200), nullable=False),
    sa.Column('service_name_en', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("service_kind IN ('permit', 'complaint', 'queue')", name=op.f('ck_quality_survey_invitations_kind_known')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_quality_survey_invitations_agency_id_agencies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quality_survey_invitations_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_survey_invitations')),
    sa.UniqueConstraint('service_kind', 'service_id', name=op.f('uq_quality_survey_invitations_service_kind_service_id'))
    )
    with op.batch_alter_table('quality_survey_invitations', schema=None) as batch_op:
        batch_op.create_index('ix_quality_survey_invitations_user', ['user_id', 'created_at'], unique=False)

    # No account, no invitation and no time: an answer cannot be traced back to its resident.
    op.create_table('quality_survey_answers',
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('service_kind', sa.String(length=20), nullable=False),
    sa.Column('service_key', sa.String(length=60), nullable=False),
    sa.Column('service_name', sa.String(length=200), nullable=False),
    sa.Column('service_name_en', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('u1', sa.SmallInteger(), nullable=False),
    sa.Column('u2', sa.SmallInteger(), nullable=False),
    sa.Column('u3', sa.SmallInteger(), nullable=False),
    sa.Column('u4', sa.SmallInteger(), nullable=False),
    sa.Column('u5', sa.SmallInteger(), nullable=False),
    sa.Column('u6', sa.SmallInteger(), nullable=False),
    sa.Column('u7', sa.SmallInteger(), nullable=False),
    sa.Column('u8', sa.SmallInteger(), nullable=False),
    sa.Column('u9', sa.SmallInteger(), nullable=False),
    sa.Column('suggestion', sa.String(length=1000), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('u1 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u1')),
    sa.CheckConstraint('u2 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u2')),
    sa.CheckConstraint('u3 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u3')),
    sa.CheckConstraint('u4 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u4')),
    sa.CheckConstraint('u5 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u5')),
    sa.CheckConstraint('u6 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u6')),
    sa.CheckConstraint('u7 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u7')),
    sa.CheckConstraint('u8 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u8')),
    sa.CheckConstraint('u9 BETWEEN 1 AND 4', name=op.f('ck_quality_survey_answers_u9')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_quality_survey_answers_agency_id_agencies'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_survey_answers'))
    )
    with op.batch_alter_table('quality_survey_answers', schema=None) as batch_op:
        batch_op.create_index('ix_quality_survey_answers_period', ['period', 'agency_id', 'service_kind'], unique=False)

    op.create_table('quality_fix_checks',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answer', sa.String(length=10), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("answer IN ('fixed', 'not_fixed')", name=op.f('ck_quality_fix_checks_answer_known')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_quality_fix_checks_agency_id_agencies'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], name=op.f('fk_quality_fix_checks_complaint_id_complaints'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_fix_checks')),
    sa.UniqueConstraint('complaint_id', 'resolved_at', name=op.f('uq_quality_fix_checks_complaint_id_resolved_at'))
    )
    with op.batch_alter_table('quality_fix_checks', schema=None) as batch_op:
        batch_op.create_index('ix_quality_fix_checks_asked', ['asked_at', 'agency_id'], unique=False)


def downgrade():
    with op.batch_alter_table('quality_fix_checks', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_fix_checks_asked')
    op.drop_table('quality_fix_checks')
    with op.batch_alter_table('quality_survey_answers', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_survey_answers_period')
    op.drop_table('quality_survey_answers')
    with op.batch_alter_table('quality_survey_invitations', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_survey_invitations_user')
    op.drop_table('quality_survey_invitations')
