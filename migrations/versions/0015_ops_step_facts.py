"""Command center: step rows for the overview's closings and durations, backfilled

Revision ID: 0015_ops_step_facts
Revises: 0014_area_alerts
Create Date: 2026-12-04 19:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_ops_step_facts'
down_revision = '0014_area_alerts'
branch_labels = None
depends_on = None

# The rules of complaints/statistics.py and licensing/statistics.py as they stood here.
COMPLAINT_OPEN = "('submitted', 'dispatched', 'in_progress', 'reopened')"
COMPLAINT_CLOSED = "('resolved', 'closed', 'rejected', 'duplicate')"
COMPLAINT_VERIFICATION = "('dispatch', 'reject', 'mark_duplicate')"
APPLICATION_CLOSED = "('issued', 'rejected', 'withdrawn')"
APPLICATION_DECIDED = "('issued', 'rejected')"
APPLICATION_VERIFICATION = "('verify', 'request_correction', 'reject')"
COLUMNS = (
    "event_id, step, domain, item_id, agency_id, permit_type_id, ended_at, seconds, "
    "has_deadline, on_time, previous_closing_at"
)


def _seconds(started, ended):
    if op.get_bind().dialect.name == 'postgresql':
        return f"CAST(EXTRACT(EPOCH FROM {ended} - {started}) AS DOUBLE PRECISION)"
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds, then the microseconds, exactly.
    return (
        f"((CAST(strftime('%s', {ended}) AS INTEGER) - CAST(strftime('%s', {started}) AS INTEGER))"
        f" + (CAST(substr({ended}, 21, 6) AS INTEGER) - CAST(substr({started}, 21, 6) AS INTEGER))"
        " / 1000000.0)"
    )


def _backfill():
    true, false = ('TRUE', 'FALSE') if op.get_bind().dialect.name == 'postgresql' else ('1', '0')
    complaint = (
        f"INSERT INTO ops_step_facts ({COLUMNS}) SELECT e.id, '{{step}}', 'complaint', "
        "e.complaint_id, c.agency_id, NULL, e.created_at, {seconds}, {deadline}, {on_time}, "
        "{previous} FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id "
        "WHERE {where}"
    )
    op.execute(complaint.format(
        step='closing',
        seconds='NULL',
        deadline=f"CASE WHEN e.due_at IS NOT NULL THEN {true} ELSE {false} END",
        on_time=f"CASE WHEN e.due_at IS NOT NULL AND e.created_at <= e.due_at THEN {true} ELSE {false} END",
        previous="LAG(e.created_at) OVER (PARTITION BY e.complaint_id ORDER BY e.created_at, e.id)",
        where=f"e.from_status IN {COMPLAINT_OPEN} AND e.to_status IN {COMPLAINT_CLOSED}",
    ))
    op.execute(complaint.format(
        step='verification',
        seconds=_seconds('c.created_at', 'e.created_at'),
        deadline=false, on_time=false, previous='NULL',
        where=f"e.action IN {COMPLAINT_VERIFICATION} AND e.from_status = 'submitted'",
    ))
    op.execute(complaint.format(
        step='resolution',
        seconds=_seconds('c.created_at', 'e.created_at'),
        deadline=false, on_time=false, previous='NULL',
        where="e.action = 'resolve' AND NOT EXISTS (SELECT 1 FROM complaint_events r "
        "WHERE r.complaint_id = e.complaint_id AND r.action = 'reopen' "
        "AND r.created_at < e.created_at)",
    ))
    application = (
        f"INSERT INTO ops_step_facts ({COLUMNS}) SELECT e.id, '{{step}}', 'permit_application', "
        "e.application_id, NULL, a.permit_type_id, e.created_at, {seconds}, {deadline}, "
        "{on_time}, {previous} FROM permit_application_events e "
        "JOIN permit_applications a ON a.id = e.application_id WHERE {where}"
    )
    decided = f"e.to_status IN {APPLICATION_DECIDED} AND a.sla_due_at IS NOT NULL"
    op.execute(application.format(
        step='closing',
        seconds='NULL',
        deadline=f"CASE WHEN {decided} THEN {true} ELSE {false} END",
        on_time=f"CASE WHEN {decided} AND e.created_at <= a.sla_due_at THEN {true} ELSE {false} END",
        previous="LAG(e.created_at) OVER (PARTITION BY e.application_id ORDER BY e.created_at, e.id)",
        where=f"e.to_status IN {APPLICATION_CLOSED}",
    ))
    op.execute(application.format(
        step='verification',
        seconds=_seconds('a.submitted_at', 'e.created_at'),
        deadline=false, on_time=false, previous='NULL',
        where=f"e.action IN {APPLICATION_VERIFICATION} AND e.from_status = 'submitted' "
        "AND a.submitted_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM permit_application_events r "
        "WHERE r.application_id = e.application_id AND r.action = 'resubmit' "
        "AND r.created_at < e.created_at)",
    ))
    op.execute(application.format(
        step='issuance',
        seconds=_seconds('a.submitted_at', 'e.created_at'),
        deadline=false, on_time=false, previous='NULL',
        where="e.action = 'issue' AND a.submitted_at IS NOT NULL",
    ))


def upgrade():
    op.create_table('ops_step_facts',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('domain', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('agency_id', sa.Uuid(), nullable=True),
    sa.Column('permit_type_id', sa.Uuid(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=True),
    sa.Column('has_deadline', sa.Boolean(), nullable=False),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('previous_closing_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('event_id', 'step', name=op.f('pk_ops_step_facts'))
    )
    with op.batch_alter_table('ops_step_facts', schema=None) as batch_op:
        batch_op.create_index('ix_ops_step_facts_domain_step_ended_at', ['domain', 'step', 'ended_at'], unique=False, postgresql_include=['agency_id', 'permit_type_id', 'seconds', 'has_deadline', 'on_time', 'previous_closing_at'])
        batch_op.create_index('ix_ops_step_facts_item_id', ['item_id'], unique=False)
    _backfill()


def downgrade():
    with op.batch_alter_table('ops_step_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_ops_step_facts_item_id')
        batch_op.drop_index('ix_ops_step_facts_domain_step_ended_at')
    op.drop_table('ops_step_facts')
