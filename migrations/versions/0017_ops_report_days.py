"""Command center: reports opened per local day by status, channel and area, backfilled

Revision ID: 0017_ops_report_days
Revises: 0016_ops_step_days
Create Date: 2026-12-04 22:00:00.000000

"""
import uuid
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_ops_report_days'
down_revision = '0016_ops_step_days'
branch_labels = None
depends_on = None

# The rules of ops/figures.py as they stood here.
LOCAL_TIMEZONE = ZoneInfo('Asia/Jakarta')
EVERY_SCOPE = uuid.UUID(int=0)


def _backfill():
    """Every report counted into the day it was opened, by status, channel and area, in the
    whole city's scope and its agency's."""
    connection = op.get_bind()
    complaints = sa.table(
        'complaints',
        sa.column('created_at', sa.DateTime(timezone=True)), sa.column('status', sa.String()),
        sa.column('channel', sa.String()), sa.column('kecamatan_code', sa.String()),
        sa.column('kelurahan_code', sa.String()), sa.column('agency_id', sa.Uuid()),
    )
    counts = {}
    rows = connection.execute(sa.select(complaints).execution_options(yield_per=10_000))
    for row in rows:
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        day = created.astimezone(LOCAL_TIMEZONE).date()
        area = f"{row.kecamatan_code or ''}:{row.kelurahan_code or ''}"
        scopes = (EVERY_SCOPE,) if row.agency_id is None else (EVERY_SCOPE, row.agency_id)
        for scope in scopes:
            for dimension, key in (('status', row.status), ('channel', row.channel), ('area', area)):
                entry = (scope, day, dimension, key)
                counts[entry] = counts.get(entry, 0) + 1
    table = sa.table(
        'ops_report_days',
        sa.column('scope_id', sa.Uuid()), sa.column('day', sa.Date()),
        sa.column('dimension', sa.String()), sa.column('key', sa.String()),
        sa.column('count', sa.Integer()),
    )
    values = [
        {'scope_id': scope, 'day': day, 'dimension': dimension, 'key': key, 'count': count}
        for (scope, day, dimension, key), count in counts.items()
    ]
    for first in range(0, len(values), 5_000):
        connection.execute(table.insert(), values[first:first + 5_000])


def upgrade():
    op.create_table(
        'ops_report_days',
        sa.Column('scope_id', sa.Uuid(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('dimension', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'scope_id', 'day', 'dimension', 'key', name=op.f('pk_ops_report_days'),
            postgresql_include=['count'],
        ),
    )
    _backfill()


def downgrade():
    op.drop_table('ops_report_days')
