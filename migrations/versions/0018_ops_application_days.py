"""Command center: permit applications submitted per local day by status, backfilled

Revision ID: 0018_ops_application_days
Revises: 0017_ops_report_days
Create Date: 2026-12-04 22:05:00.000000

"""
import uuid
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_ops_application_days'
down_revision = '0017_ops_report_days'
branch_labels = None
depends_on = None

# The rules of ops/figures.py as they stood here.
LOCAL_TIMEZONE = ZoneInfo('Asia/Jakarta')
EVERY_SCOPE = uuid.UUID(int=0)
DIMENSION = 'app_status'


def _backfill():
    """Every submitted application counted into the day it was submitted, by current status,
    in the whole city's scope and its permit type's."""
    connection = op.get_bind()
    applications = sa.table(
        'permit_applications',
        sa.column('submitted_at', sa.DateTime(timezone=True)), sa.column('status', sa.String()),
        sa.column('permit_type_id', sa.Uuid()),
    )
    counts = {}
    query = sa.select(applications).where(applications.c.submitted_at.is_not(None))
    for row in connection.execute(query.execution_options(yield_per=10_000)):
        submitted = row.submitted_at
        submitted = submitted if submitted.tzinfo else submitted.replace(tzinfo=UTC)
        day = submitted.astimezone(LOCAL_TIMEZONE).date()
        scopes = (EVERY_SCOPE,) if row.permit_type_id is None else (EVERY_SCOPE, row.permit_type_id)
        for scope in scopes:
            entry = (scope, day, DIMENSION, row.status)
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
    _backfill()


def downgrade():
    op.execute(f"DELETE FROM ops_report_days WHERE dimension = '{DIMENSION}'")
