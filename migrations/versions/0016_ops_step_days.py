"""Command center: the step rows summed per local day and duration bucket, backfilled

Revision ID: 0016_ops_step_days
Revises: 0015_ops_step_facts
Create Date: 2026-12-04 21:40:00.000000

"""
import bisect
import uuid
from datetime import UTC
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_ops_step_days'
down_revision = '0015_ops_step_facts'
branch_labels = None
depends_on = None

# The rules of ops/figures.py as they stood here.
LOCAL_TIMEZONE = ZoneInfo('Asia/Jakarta')
EVERY_SCOPE = uuid.UUID(int=0)


def _bucket_bounds():
    bounds = [1.0]
    while bounds[-1] < 20 * 365 * 86400:
        bounds.append(float(max(bounds[-1] + 1, round(bounds[-1] * 1.1))))
    return tuple(bounds)


BUCKET_BOUNDS = _bucket_bounds()


def _backfill():
    """Every step row counted into its day, bucket and scopes (the whole city's, and its
    report's agency or application's permit type)."""
    connection = op.get_bind()
    facts = sa.table(
        'ops_step_facts',
        sa.column('domain', sa.String()), sa.column('step', sa.String()),
        sa.column('agency_id', sa.Uuid()), sa.column('permit_type_id', sa.Uuid()),
        sa.column('ended_at', sa.DateTime(timezone=True)), sa.column('seconds', sa.Float()),
        sa.column('has_deadline', sa.Boolean()), sa.column('on_time', sa.Boolean()),
    )
    days = {}
    rows = connection.execute(sa.select(facts).execution_options(yield_per=10_000))
    for row in rows:
        own = row.agency_id if row.domain == 'complaint' else row.permit_type_id
        ended = row.ended_at if row.ended_at.tzinfo else row.ended_at.replace(tzinfo=UTC)
        day = ended.astimezone(LOCAL_TIMEZONE).date()
        bucket = 0 if row.seconds is None else bisect.bisect_right(BUCKET_BOUNDS, row.seconds)
        for scope in (EVERY_SCOPE,) if own is None else (EVERY_SCOPE, own):
            total = days.setdefault((row.domain, row.step, scope, day, bucket), [0, 0, 0])
            total[0] += 1
            total[1] += 1 if row.has_deadline else 0
            total[2] += 1 if row.on_time else 0
    table = sa.table(
        'ops_step_days',
        sa.column('domain', sa.String()), sa.column('step', sa.String()),
        sa.column('scope_id', sa.Uuid()), sa.column('day', sa.Date()),
        sa.column('bucket', sa.SmallInteger()), sa.column('count', sa.Integer()),
        sa.column('with_deadline', sa.Integer()), sa.column('on_time', sa.Integer()),
    )
    values = [
        {'domain': domain, 'step': step, 'scope_id': scope, 'day': day, 'bucket': bucket,
         'count': count, 'with_deadline': with_deadline, 'on_time': on_time}
        for (domain, step, scope, day, bucket), (count, with_deadline, on_time) in days.items()
    ]
    for first in range(0, len(values), 5_000):
        connection.execute(table.insert(), values[first:first + 5_000])


def upgrade():
    op.create_table('ops_step_days',
    sa.Column('domain', sa.String(length=20), nullable=False),
    sa.Column('step', sa.String(length=20), nullable=False),
    sa.Column('scope_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('bucket', sa.SmallInteger(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('with_deadline', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope_id', 'day', 'domain', 'step', 'bucket', name=op.f('pk_ops_step_days'), postgresql_include=['count', 'with_deadline', 'on_time'])
    )
    with op.batch_alter_table('ops_step_facts', schema=None) as batch_op:
        batch_op.create_index('ix_ops_step_facts_domain_step_seconds', ['domain', 'step', 'seconds'], unique=False, postgresql_include=['ended_at', 'agency_id', 'permit_type_id'])
        batch_op.create_index('ix_ops_step_facts_reclosings', ['domain', 'step', 'ended_at'], unique=False, postgresql_include=['previous_closing_at', 'agency_id', 'permit_type_id'], postgresql_where=sa.text('previous_closing_at IS NOT NULL'), sqlite_where=sa.text('previous_closing_at IS NOT NULL'))
    _backfill()


def downgrade():
    with op.batch_alter_table('ops_step_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_ops_step_facts_reclosings', sqlite_where=sa.text('previous_closing_at IS NOT NULL'), postgresql_where=sa.text('previous_closing_at IS NOT NULL'))
        batch_op.drop_index('ix_ops_step_facts_domain_step_seconds')
    op.drop_table('ops_step_days')
