"""BCC operator's toolkit: reply templates, report channels, category questions

Revision ID: 0009_bcc_toolkit
Revises: 0008_session_grace
Create Date: 2026-12-04 18:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_bcc_toolkit'
down_revision = '0008_session_grace'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('complaint_reply_templates',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('action', sa.String(length=24), nullable=True),
    sa.Column('category_id', sa.Uuid(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('auto_apply', sa.Boolean(), nullable=False),
    sa.Column('auto_key', sa.String(length=64), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action IS NULL OR action IN ('dispatch', 'reject', 'mark_duplicate', 'transfer', 'start', 'resolve', 'close', 'comment')", name=op.f('ck_complaint_reply_templates_action_known')),
    sa.CheckConstraint('auto_key IS NULL OR auto_apply', name=op.f('ck_complaint_reply_templates_auto_key_only_when_auto')),
    sa.ForeignKeyConstraint(['category_id'], ['complaint_categories.id'], name=op.f('fk_complaint_reply_templates_category_id_complaint_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_complaint_reply_templates_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_reply_templates')),
    sa.UniqueConstraint('auto_key', name=op.f('uq_complaint_reply_templates_auto_key'))
    )
    with op.batch_alter_table('complaint_reply_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_reply_templates_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_reply_templates_updated_at'), ['updated_at'], unique=False)

    # A category's intake form: its questions, the notice before submitting, the stop message.
    with op.batch_alter_table('complaint_categories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('questions', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('notice', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('notice_en', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('stop_message', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('stop_message_en', sa.String(length=500), nullable=True))

    # Existing reports came through the app or an Open311 integrator: their channel is their
    # source.
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(length=12), nullable=False, server_default='app'))
        batch_op.add_column(sa.Column('answers', sa.JSON(), nullable=True))
    op.execute("UPDATE complaints SET channel = source")
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_check_constraint('channel_known', "channel IN ('app', 'open311', 'walk_in', 'phone', 'whatsapp', 'sms', 'email')")


def downgrade():
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_constraint('channel_known', type_='check')
        batch_op.drop_column('answers')
        batch_op.drop_column('channel')

    with op.batch_alter_table('complaint_categories', schema=None) as batch_op:
        batch_op.drop_column('stop_message_en')
        batch_op.drop_column('stop_message')
        batch_op.drop_column('notice_en')
        batch_op.drop_column('notice')
        batch_op.drop_column('questions')

    with op.batch_alter_table('complaint_reply_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_reply_templates_updated_at'))
        batch_op.drop_index(batch_op.f('ix_complaint_reply_templates_category_id'))

    op.drop_table('complaint_reply_templates')
