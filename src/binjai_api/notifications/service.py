"""Notifications: devices, the inbox, `notify()` for every domain, broadcasts and preferences.

`notify()` writes the inbox rows and the delivery outbox rows in the caller's transaction, so a
rolled-back change notifies no one and a committed one always does. Pushes leave through the
outbox dispatcher (dispatcher.py), never from inside a request.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.dml import ReturningInsert

from binjai_api import direct_sql
from binjai_api.auth import service as auth_service
from binjai_api.db import UTCDateTime, utcnow
from binjai_api.errors import conflict, field_errors, not_found
from binjai_api.extensions import db
from binjai_api.fastdump import Dumped, rfc3339_utc
from binjai_api.i18n import gettext, negotiated_language
from binjai_api.notifications import kinds
from binjai_api.notifications.models import (
    Broadcast,
    Delivery,
    Device,
    MutedKind,
    Notification,
    TopicSubscription,
    broadcast_texts,
)
from binjai_api.pagination import apply_sort
from binjai_api.regions import service as regions_service

DEEP_LINK_SCHEME = kinds.DEEP_LINK_SCHEME


@dataclass(frozen=True)
class Link:
    """What the app opens when the notification is tapped, e.g. Link("complaints", "<uuid>")."""

    resource_type: str
    resource_id: str


def deep_link(notification: Notification) -> str:
    return _deep_link(notification.resource_type, notification.resource_id, notification.id)


def _deep_link(resource_type: str | None, resource_id: str | None, entry_id: uuid.UUID) -> str:
    if resource_type and resource_id:
        return f"{DEEP_LINK_SCHEME}://{resource_type}/{resource_id}"
    return f"{DEEP_LINK_SCHEME}://notifications/{entry_id}"


def render_texts(notification: Notification, language: str | None) -> tuple[str, str]:
    """Title and body of an inbox entry or push, in `language`."""
    params: Mapping[str, Any] = notification.params or {}
    if notification.broadcast is not None:
        params = notification.broadcast.texts(kinds.language_or_default(language))
    return kinds.render(notification.kind, params, language)


# --- devices -----------------------------------------------------------------------------------


def register_device(
    *,
    user_id: uuid.UUID,
    token: str,
    platform: str,
    app_version: str | None = None,
    language: str | None = None,
    session_id: uuid.UUID | None = None,
) -> tuple[Device, bool]:
    """Register the app's FCM token for this user, under the login session it came with (ending
    that session unbinds it). A token registered again moves to the current user and session (the
    phone changed hands, or logged in again) and its timestamp is refreshed. Returns (device,
    created)."""
    device = db.session.scalar(sa.select(Device).where(Device.token == token).with_for_update())
    created = device is None
    if device is None:
        try:
            with db.session.begin_nested():
                device = Device(token=token, user_id=user_id, platform=platform)
                db.session.add(device)
        except sa.exc.IntegrityError:
            # The app retried on another connection and that request inserted it first.
            device = db.session.scalars(
                sa.select(Device).where(Device.token == token).with_for_update()
            ).one()
            created = False
    device.user_id = user_id
    device.session_id = session_id
    device.platform = platform
    device.app_version = app_version
    device.language = language
    device.refreshed_at = utcnow()
    db.session.commit()
    return device, created


def devices_query(*, user_id: uuid.UUID) -> sa.Select[Device]:
    return sa.select(Device).where(Device.user_id == user_id).order_by(Device.created_at, Device.id)


def unregister_device(*, user_id: uuid.UUID, token: str) -> None:
    """Forget the token (logout). Another user's token is answered as not found."""
    deleted = db.session.execute(
        sa.delete(Device).where(Device.token == token, Device.user_id == user_id)
    )
    if not deleted.rowcount:  # type: ignore[attr-defined]
        db.session.rollback()
        raise not_found(gettext("This device is not registered to your account."))
    db.session.commit()


def unbind_devices(*, user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> int:
    """Forget the user's devices registered under `session_id` (all of them when None), in the
    caller's transaction, when that session ends: their queued pushes are dropped by the outbox
    (`device_removed`). Returns how many."""
    query = sa.delete(Device).where(Device.user_id == user_id)
    if session_id is not None:
        query = query.where(Device.session_id == session_id)
    return int(db.session.execute(query).rowcount)  # type: ignore[attr-defined]


def prune_stale_devices(*, days: int) -> int:
    """Delete tokens the app has not refreshed for `days` days (FCM treats them as stale)."""
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(sa.delete(Device).where(Device.refreshed_at < cutoff))
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def prune_finished_deliveries(*, days: int) -> int:
    """Delete outbox rows that were sent or dropped more than `days` days ago (the inbox keeps
    the notification itself); failed ones stay for operators until retried or pruned by hand."""
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(
        sa.delete(Delivery).where(
            Delivery.status.in_(("sent", "dropped")), Delivery.updated_at < cutoff
        )
    )
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- notify: the one entry point for every domain ----------------------------------------------


def notify(
    *,
    recipients: Iterable[uuid.UUID],
    kind: str,
    params: Mapping[str, str] | None = None,
    link: Link | None = None,
) -> list[uuid.UUID]:
    """Put a notification in each recipient's inbox and queue a push to each of their devices,
    in the caller's transaction (the caller commits). Returns the inbox entries' ids."""
    if kind not in kinds.KINDS:
        raise ValueError(f"unknown notification kind {kind!r}; add it to notifications/kinds.py")
    kinds.check_link(kind, link.resource_type if link else None)
    params = dict(params or {})
    kinds.check_params(kind, params)  # a missing template parameter fails here, not in a worker
    user_ids = list(dict.fromkeys(recipients))
    written = _write_inbox_and_outbox(
        user_ids,
        kind=kind,
        params=params,
        resource_type=link.resource_type if link else None,
        resource_id=link.resource_id if link else None,
    )
    return written.notification_ids


@dataclass(frozen=True)
class _Written:
    notification_ids: list[uuid.UUID]
    deliveries: int


# Built once: its cache key is worked out once, not at every notification.
_INSERT_NOTIFICATIONS = sa.insert(cast(sa.Table, Notification.__table__))


def _write_inbox_and_outbox(
    user_ids: list[uuid.UUID],
    *,
    kind: str,
    params: Mapping[str, str],
    resource_type: str | None = None,
    resource_id: str | None = None,
    broadcast_id: uuid.UUID | None = None,
) -> _Written:
    """One inbox row per user and one pending push per device, in the current transaction: the
    one write path of `notify()` and of broadcasts."""
    if not user_ids:
        return _Written([], 0)
    db.session.flush()  # the caller's pending rows (a new account, say) exist before ours refer
    now = utcnow()
    by_user = {user_id: uuid.uuid4() for user_id in user_ids}
    connection = db.session.connection()  # Core statements: no ORM execution around them
    if connection.dialect.name == "postgresql":
        # The inbox rows and their pushes in one statement: one round trip, not two.
        queued = direct_sql.execute(
            connection,
            _inbox_and_pushes(kinds.KINDS[kind].optional),
            {
                "ids": list(by_user.values()),
                "user_ids": list(by_user),
                "kind": kind,
                "params": dict(params),
                "resource_type": resource_type,
                "resource_id": resource_id,
                "broadcast_id": broadcast_id,
                "now": now,
            },
        )
        return _Written(list(by_user.values()), len(queued.rows))
    notification_rows = [
        {
            "id": notification_id,
            "user_id": user_id,
            "kind": kind,
            "params": dict(params),
            "resource_type": resource_type,
            "resource_id": resource_id,
            "broadcast_id": broadcast_id,
            "created_at": now,
            "updated_at": now,
        }
        for user_id, notification_id in by_user.items()
    ]
    direct_sql.execute(connection, _INSERT_NOTIFICATIONS, notification_rows)
    # Counted from RETURNING: psycopg reports no row count for a compiled INSERT ... SELECT.
    deliveries = direct_sql.execute(
        connection,
        _queue_pushes(connection.dialect.name, kinds.KINDS[kind].optional),
        {"notification_ids": list(by_user.values()), "kind": kind, "now": now},
    )
    return _Written(list(by_user.values()), len(deliveries.rows))


_NEW_UUID = {
    "postgresql": "gen_random_uuid()",
    "sqlite": "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) "
    "|| substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) "
    "|| hex(randomblob(6)))",
}


def database_uuid(dialect: str) -> sa.ColumnElement[uuid.UUID]:
    """A random (version 4) UUID made by the database, one per row of an INSERT ... SELECT into
    an outbox, as the dialect stores `sa.Uuid`: native on PostgreSQL, 32 hex digits on SQLite."""
    return sa.literal_column(_NEW_UUID[dialect], sa.Uuid())


@cache
def _queue_pushes(dialect: str, optional: bool) -> ReturningInsert[tuple[uuid.UUID]]:
    """One pending push per device of each notification's user (`notification_ids`), in one
    INSERT ... SELECT (no round trip to read the devices first): a muted `optional` kind still
    lands in the inbox but is not pushed. Built once per case; values bound at execution."""
    notifications = cast(sa.Table, Notification.__table__)
    query = _push_rows(dialect, notifications, optional).where(
        notifications.c.id.in_(sa.bindparam("notification_ids", expanding=True))
    )
    return _insert_pushes(query)


_INBOX_COLUMNS = ("id", "user_id", "kind", "params", "resource_type", "resource_id", "broadcast_id")


@cache
def _inbox_and_pushes(optional: bool) -> ReturningInsert[tuple[uuid.UUID]]:
    """PostgreSQL: the inbox rows (one per user: `ids` and `user_ids`, arrays unnested in step,
    the rest alike for all) inserted by a data-modifying CTE, and their pushes queued from its
    rows as _queue_pushes queues them: one statement for any number of users (the pushes'
    foreign keys are checked at its end, when the inbox rows are there)."""
    notifications = cast(sa.Table, Notification.__table__)
    at = sa.bindparam("now", type_=UTCDateTime())
    users = (
        sa.func.unnest(
            sa.bindparam("ids", type_=postgresql.ARRAY(sa.Uuid())),
            sa.bindparam("user_ids", type_=postgresql.ARRAY(sa.Uuid())),
        )
        .table_valued("id", "user_id")
        .render_derived()
    )
    column = notifications.c
    inbox = (
        sa.insert(notifications)
        .from_select(
            [*_INBOX_COLUMNS, "created_at", "updated_at"],
            sa.select(
                users.c.id,
                users.c.user_id,
                sa.bindparam("kind", type_=column.kind.type),
                sa.bindparam("params", type_=column.params.type),
                sa.bindparam("resource_type", type_=column.resource_type.type),
                sa.bindparam("resource_id", type_=column.resource_id.type),
                sa.bindparam("broadcast_id", type_=column.broadcast_id.type),
                at,
                at,
            ),
        )
        .returning(column.id, column.user_id)
        .cte("inbox")
    )
    return _insert_pushes(_push_rows("postgresql", inbox, optional)).add_cte(inbox)


def _push_rows(dialect: str, notifications: Any, optional: bool) -> sa.Select[Any]:
    """A pending push's values for each device of the users of `notifications` (the table, or
    the rows just inserted), but those who muted an `optional` kind."""
    devices = cast(sa.Table, Device.__table__)
    at = sa.bindparam("now", type_=UTCDateTime())
    query = (
        sa.select(
            database_uuid(dialect),
            notifications.c.id,
            devices.c.id,
            sa.literal_column("'pending'"),
            sa.literal_column("0"),
            at,
            at,
            at,
        )
        .select_from(notifications)
        .join(devices, devices.c.user_id == notifications.c.user_id)
    )
    if optional:
        muted = sa.exists().where(
            MutedKind.user_id == notifications.c.user_id,
            MutedKind.kind == sa.bindparam("kind", type_=sa.String()),
        )
        query = query.where(~muted)
    return query


def _insert_pushes(query: sa.Select[Any]) -> ReturningInsert[tuple[uuid.UUID]]:
    deliveries = cast(sa.Table, Delivery.__table__)
    columns = ("id", "notification_id", "device_id", "status", "attempts", "next_attempt_at")
    return (
        sa.insert(deliveries)
        .from_select([*columns, "created_at", "updated_at"], query)
        .returning(deliveries.c.id)
    )


# --- the inbox ---------------------------------------------------------------------------------

_NOTIFICATIONS = cast(sa.Table, Notification.__table__)
_BROADCASTS = cast(sa.Table, Broadcast.__table__)


@dataclass(frozen=True)
class InboxListing:
    """What one listing of a user's inbox keeps of it: its filters and its order."""

    user_id: uuid.UUID
    unread: bool | None = None
    updated_after: datetime | None = None
    sort: str = "-created_at"


@dataclass(frozen=True)
class InboxPage:
    """A page of a listing: its entries as plain rows (`inbox_entries` writes them), how many
    entries the listing holds (`total`) and how many of the whole inbox are unread (the app's
    badge)."""

    rows: list[sa.Row[Any]]
    total: int
    unread_count: int


def inbox_page(listing: InboxListing, *, offset: int, limit: int) -> InboxPage:
    """A page of the listing's entries, newest first by default, with their broadcast's texts,
    the listing's total and the whole inbox's unread count, all exact and read in one statement
    (the counts are subqueries the database evaluates once); a page with no entry, which has no
    row to carry them, counts in a second."""
    parameters: dict[str, Any] = {"user_id": listing.user_id}
    if listing.updated_after is not None:
        parameters["updated_after"] = listing.updated_after
    since = listing.updated_after is not None
    page = _inbox_page(listing.unread, since, listing.sort)
    rows = db.session.execute(
        page, {**parameters, "page_offset": offset, "page_limit": limit}
    ).all()
    if rows:
        return InboxPage(list(rows), int(rows[0].listed), int(rows[0].unread_count))
    total, unread_count = db.session.execute(_inbox_counts(listing.unread, since), parameters).one()
    return InboxPage([], int(total), int(unread_count))


def _inbox_filters(
    notifications: sa.FromClause, unread: bool | None, since: bool
) -> list[sa.ColumnElement[bool]]:
    """What a listing keeps of the user's entries in `notifications`, beyond being theirs;
    `since`: only those changed after `updated_after`. Values bound at execution."""
    columns = notifications.c
    filters: list[sa.ColumnElement[bool]] = []
    if unread is not None:
        filters.append(columns.read_at.is_(None) if unread else columns.read_at.is_not(None))
    if since:
        filters.append(columns.updated_at > sa.bindparam("updated_after"))
    return filters


# The statements of a listing are built once per filter combination and sort (a few dozen at
# most), so SQLAlchemy neither rebuilds nor re-keys them per request.
@cache
def _inbox_counts(unread: bool | None, since: bool) -> sa.Select[int, int]:
    """The listing's total and the whole inbox's unread count, over the user's rows."""
    columns = _NOTIFICATIONS.c
    listed = _inbox_filters(_NOTIFICATIONS, unread, since)
    total = sa.func.count().filter(sa.and_(*listed)) if listed else sa.func.count()
    unread_count = sa.func.count().filter(columns.read_at.is_(None))
    return sa.select(total, unread_count).where(columns.user_id == sa.bindparam("user_id"))


@cache
def _inbox_page(unread: bool | None, since: bool, sort: str) -> sa.Select[Any]:
    columns, broadcasts = _NOTIFICATIONS.c, _BROADCASTS.c
    # Counted over their own aliases of the table, so that they stay uncorrelated subqueries,
    # which the database evaluates once for the statement.
    listed, unread_rows = _NOTIFICATIONS.alias("listed"), _NOTIFICATIONS.alias("unread_rows")
    total = (
        sa.select(sa.func.count())
        .where(listed.c.user_id == sa.bindparam("user_id"), *_inbox_filters(listed, unread, since))
        .scalar_subquery()
    )
    unread_count = (
        sa.select(sa.func.count())
        .where(unread_rows.c.user_id == sa.bindparam("user_id"), unread_rows.c.read_at.is_(None))
        .scalar_subquery()
    )
    query = (
        sa.select(
            columns.id,
            columns.kind,
            columns.params,
            columns.resource_type,
            columns.resource_id,
            columns.read_at,
            columns.created_at,
            columns.updated_at,
            broadcasts.title_id,
            broadcasts.body_id,
            broadcasts.title_en,
            broadcasts.body_en,
            total.label("listed"),
            unread_count.label("unread_count"),
        )
        .select_from(_NOTIFICATIONS.outerjoin(_BROADCASTS, broadcasts.id == columns.broadcast_id))
        .where(
            columns.user_id == sa.bindparam("user_id"),
            *_inbox_filters(_NOTIFICATIONS, unread, since),
        )
    )
    sortable = {"created_at": columns.created_at, "updated_at": columns.updated_at}
    return (
        apply_sort(query, sort, sortable, tiebreaker=columns.id)
        .offset(sa.bindparam("page_offset", type_=sa.Integer))
        .limit(sa.bindparam("page_limit", type_=sa.Integer))
    )


def inbox_entries(rows: Sequence[sa.Row[Any]]) -> list[Dumped]:
    """Inbox rows (`inbox_page`) in the JSON form NotificationSchema documents, their texts
    rendered in the language of the request as `render_texts` renders them."""
    language = negotiated_language()
    entries = []
    for row in rows:
        params: Mapping[str, Any] = row.params or {}
        if row.title_id is not None:  # a broadcast's entry: its texts are the broadcast's
            params = broadcast_texts(row.title_id, row.body_id, row.title_en, row.body_en, language)
        title, body = kinds.render(row.kind, params, language)
        read_at = row.read_at
        entries.append(
            Dumped(
                id=str(row.id),
                kind=row.kind,
                title=title,
                body=body,
                link={
                    "resource_type": row.resource_type,
                    "resource_id": row.resource_id,
                    "url": _deep_link(row.resource_type, row.resource_id, row.id),
                },
                read=read_at is not None,
                read_at=None if read_at is None else rfc3339_utc(read_at),
                created_at=rfc3339_utc(row.created_at),
                updated_at=rfc3339_utc(row.updated_at),
            )
        )
    return entries


# Built once (the user bound at each call), so SQLAlchemy neither rebuilds nor re-keys it.
_UNREAD_COUNT = sa.select(sa.func.count()).where(
    Notification.user_id == sa.bindparam("user_id"), Notification.read_at.is_(None)
)


def unread_count(*, user_id: uuid.UUID) -> int:
    return int(db.session.scalar(_UNREAD_COUNT, {"user_id": user_id}) or 0)


def get_notification(*, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    """One entry of the caller's inbox; another user's entry is answered as not found."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise not_found(gettext("Notification not found."))
    return notification


def mark_read(*, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
    """Mark one entry read; reading it again changes nothing."""
    notification = get_notification(user_id=user_id, notification_id=notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def mark_all_read(*, user_id: uuid.UUID) -> int:
    """Mark every unread entry read; returns how many changed."""
    now = utcnow()
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- preferences -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    muted_kinds: list[str]
    topics: list[str]


def get_preferences(*, user_id: uuid.UUID) -> Preferences:
    muted = db.session.scalars(
        sa.select(MutedKind.kind).where(MutedKind.user_id == user_id).order_by(MutedKind.kind)
    )
    topics = db.session.scalars(
        sa.select(TopicSubscription.topic)
        .where(TopicSubscription.user_id == user_id)
        .order_by(TopicSubscription.topic)
    )
    return Preferences(muted_kinds=list(muted), topics=list(topics))


def set_preferences(
    *, user_id: uuid.UUID, muted_kinds: list[str], topics: list[str]
) -> Preferences:
    """Replace what the user mutes and follows. Only optional kinds may be muted."""
    not_mutable = sorted({k for k in muted_kinds if not kinds.KINDS[k].optional})
    if not_mutable:
        raise field_errors(
            {
                "muted_kinds": [
                    gettext(
                        "Updates about your own cases and account cannot be muted: %(kinds)s.",
                        kinds=", ".join(not_mutable),
                    )
                ]
            }
        )
    db.session.execute(sa.delete(MutedKind).where(MutedKind.user_id == user_id))
    db.session.execute(sa.delete(TopicSubscription).where(TopicSubscription.user_id == user_id))
    db.session.add_all(MutedKind(user_id=user_id, kind=k) for k in sorted(set(muted_kinds)))
    db.session.add_all(TopicSubscription(user_id=user_id, topic=t) for t in sorted(set(topics)))
    db.session.commit()
    return get_preferences(user_id=user_id)


# --- broadcasts --------------------------------------------------------------------------------

BROADCAST_SORTABLE = {"created_at": Broadcast.created_at}


def create_broadcast(
    *,
    created_by_id: uuid.UUID,
    title_id: str,
    body_id: str,
    audience: str,
    title_en: str | None = None,
    body_en: str | None = None,
    kecamatan_code: str | None = None,
    topic: str | None = None,
) -> Broadcast:
    """Queue a city announcement; the outbox worker records it in each inbox in batches."""
    errors: dict[str, list[str]] = {}
    if audience == "kecamatan" and kecamatan_code is None:
        errors["kecamatan_code"] = [gettext("Choose the kecamatan to announce to.")]
    if audience == "topic" and topic is None:
        errors["topic"] = [gettext("Choose the topic to announce to.")]
    if audience != "kecamatan" and kecamatan_code is not None:
        errors["kecamatan_code"] = [gettext("Only for the audience 'kecamatan'.")]
    if audience != "topic" and topic is not None:
        errors["topic"] = [gettext("Only for the audience 'topic'.")]
    if (title_en is None) != (body_en is None):
        errors["title_en" if title_en is None else "body_en"] = [
            gettext("Give both the English title and body, or neither.")
        ]
    if kecamatan_code is not None and regions_service.find_kecamatan(kecamatan_code) is None:
        errors["kecamatan_code"] = [gettext("There is no such kecamatan in Binjai.")]
    if errors:
        raise field_errors(errors)
    broadcast = Broadcast(
        title_id=title_id.strip(),
        body_id=body_id.strip(),
        title_en=title_en.strip() if title_en else None,
        body_en=body_en.strip() if body_en else None,
        audience=audience,
        kecamatan_code=kecamatan_code,
        topic=topic,
        created_by_id=created_by_id,
    )
    db.session.add(broadcast)
    db.session.commit()
    return broadcast


def broadcasts_query(*, sort: str = "-created_at") -> sa.Select[Broadcast]:
    return apply_sort(sa.select(Broadcast), sort, BROADCAST_SORTABLE, tiebreaker=Broadcast.id)


def get_broadcast(broadcast_id: uuid.UUID) -> Broadcast:
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise not_found(gettext("Broadcast not found."))
    return broadcast


def delivery_counts(broadcast_id: uuid.UUID) -> dict[str, int]:
    """How many of the broadcast's pushes are pending, sent, failed and dropped."""
    rows = db.session.execute(
        sa.select(Delivery.status, sa.func.count())
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.broadcast_id == broadcast_id)
        .group_by(Delivery.status)
    )
    counts = {"pending": 0, "sent": 0, "failed": 0, "dropped": 0}
    counts.update({status: int(count) for status, count in rows})
    return counts


def record_broadcast_batch(*, batch_size: int) -> int:
    """Record the next batch of one queued broadcast in its recipients' inboxes and queue their
    pushes, in one transaction. Returns how many inbox entries were written (0: nothing to do).

    Workers lock the broadcast row (SKIP LOCKED), so two workers never write the same batch; the
    cursor and the unique (broadcast, user) pair make a retried batch idempotent.
    """
    broadcast = db.session.scalar(
        sa.select(Broadcast)
        .where(Broadcast.status == "queued")
        .order_by(Broadcast.created_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if broadcast is None:
        db.session.rollback()
        return 0
    user_ids: list[uuid.UUID] = list(db.session.scalars(_next_recipients(broadcast, batch_size)))
    now = utcnow()
    if user_ids:
        written = _write_inbox_and_outbox(
            user_ids, kind=kinds.ANNOUNCEMENT, params={}, broadcast_id=broadcast.id
        )
        broadcast.fan_out_cursor = user_ids[-1]
        broadcast.recipients_count += len(user_ids)
        broadcast.deliveries_count += written.deliveries
    if len(user_ids) < batch_size:
        broadcast.status = "recorded"
        broadcast.recorded_at = now
    db.session.commit()
    return len(user_ids)


def _next_recipients(broadcast: Broadcast, batch_size: int) -> sa.Select[Any]:
    query = auth_service.active_account_ids_query(kecamatan_code=broadcast.kecamatan_code)
    user_id = query.selected_columns[0]
    if broadcast.audience == "topic":
        followers = sa.select(TopicSubscription.user_id).where(
            TopicSubscription.topic == broadcast.topic
        )
        query = query.where(user_id.in_(followers))
    if broadcast.fan_out_cursor is not None:
        query = query.where(user_id > broadcast.fan_out_cursor)
    return query.order_by(user_id).limit(batch_size)


# --- deliveries, as operators see them ---------------------------------------------------------

DELIVERY_SORTABLE = {"created_at": Delivery.created_at, "updated_at": Delivery.updated_at}


def deliveries_query(
    *, status: str | None = None, kind: str | None = None, sort: str = "-updated_at"
) -> sa.Select[Delivery]:
    query = sa.select(Delivery)
    if status is not None:
        query = query.where(Delivery.status == status)
    if kind is not None:
        query = query.join(Delivery.notification).where(Notification.kind == kind)
    return apply_sort(query, sort, DELIVERY_SORTABLE, tiebreaker=Delivery.id)


def retry_delivery(delivery_id: uuid.UUID) -> Delivery:
    """Queue a failed push again, e.g. after the Firebase credentials were fixed."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        raise not_found(gettext("Delivery not found."))
    if delivery.status != "failed":
        raise conflict(
            "delivery_not_failed", gettext("Only a failed delivery can be queued again.")
        )
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    db.session.commit()
    return delivery
