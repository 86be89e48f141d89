"""Lists: `@blp.paginate(SelectPage)` over a SQLAlchemy select, whitelisted sorting, RFC 8288
paging links and the weak ETag of the lists the app polls."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app, request
from flask_smorest import Page
from flask_smorest.pagination import PaginationParameters
from flask_smorest.utils import get_appcontext, unpack_tuple_response
from webargs.flaskparser import FlaskParser
from werkzeug.http import quote_etag

from binjai_api.db import utcnow
from binjai_api.i18n import negotiated_language
from binjai_api.links import public_url

# Distinct filter combinations whose totals one process keeps (a map panned around adds some).
_SHARED_COUNTS_MAX = 1024
_shared_counts: OrderedDict[str, tuple[float, int]] = OrderedDict()
_shared_counts_lock = threading.Lock()


def count_rows(
    statement: sa.Select[Any], *, shared_for_seconds: int = 0, key: str | None = None
) -> int:
    """How many rows a select returns.

    With `shared_for_seconds`, for public lists that read alike for everyone: the total is kept
    that long in this process, keyed by the exact query. Counting a feed over a few hundred
    thousand reports is a scan of the table on every page otherwise; a total that lags a few
    seconds behind new reports is the price, the items themselves are always fresh. `key`, when
    the caller knows what determines the query (its parsed arguments), spares compiling it."""
    from binjai_api.extensions import db

    def counted() -> sa.Select[int]:
        return sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())

    if shared_for_seconds <= 0:
        return int(db.session.scalar(counted()) or 0)
    if key is None:
        compiled = counted().compile(db.engine)
        key = f"{compiled}|{sorted(compiled.params.items())!r}"
    key = f"{db.engine.url}|{key}"
    now = time.monotonic()
    with _shared_counts_lock:
        cached = _shared_counts.get(key)
        if cached is not None and cached[0] > now:
            _shared_counts.move_to_end(key)
            _shown_until(cached[0] - now)
            return cached[1]
    # The count query is built only when it is sent.
    total = int(db.session.scalar(counted()) or 0)
    with _shared_counts_lock:
        _shared_counts[key] = (now + shared_for_seconds, total)
        _shared_counts.move_to_end(key)
        while len(_shared_counts) > _SHARED_COUNTS_MAX:
            _shared_counts.popitem(last=False)
    _shown_until(shared_for_seconds)
    return total


def _shown_until(seconds: float) -> None:
    """A public answer kept while the data is unchanged (public_cache) that shows a shared total
    is kept no longer than the total is shared: otherwise a total that lagged when the page was
    built would stay on it until the next commit."""
    from binjai_api import public_cache

    public_cache.valid_until(utcnow() + timedelta(seconds=seconds))


def public_count_seconds() -> int:
    """How long a public list's total may be shared (PUBLIC_COUNT_CACHE_SECONDS)."""
    return int(current_app.config["PUBLIC_COUNT_CACHE_SECONDS"])


class SelectPage(Page):
    """Pages through a `select()` with LIMIT/OFFSET and one COUNT query."""

    collection: sa.Select[Any]
    # For a polled list whose rows say whether a deadline passed (`is_overdue`): the column that
    # holds the deadline, so that the list's ETag changes when the clock passes it.
    deadline_attribute: str | None = None

    @property
    def items(self) -> list[Any]:
        from binjai_api.extensions import db

        statement = self.collection.offset(self.page_params.first_item).limit(
            self.page_params.page_size
        )
        polled = get_appcontext().get(POLLED_LIST)
        if polled is not None and request.if_none_match:
            # A poll: first the page's versions alone (ids, updated_at), and 304 if they are
            # what the client has, before any row, relation or view is loaded.
            versions_only = statement.with_only_columns(*self._version_columns())
            versions = [self.row_version(row) for row in db.session.execute(versions_only)]
            polled["blueprint"].not_modified_if_unchanged(self.page_params, versions)
        rows = list(db.session.scalars(statement))
        if polled is not None:
            polled["rows"] = [self.row_version(row) for row in rows]
        return rows

    def poll_rows(self, rows: list[Any]) -> None:
        """For a polled page that reads its rows itself (one statement with what each row
        shows): answer 304 if the client has these rows' versions, else keep them for the ETag."""
        polled = get_appcontext().get(POLLED_LIST)
        if polled is None:
            return
        versions = [self.row_version(row) for row in rows]
        if request.if_none_match:
            polled["blueprint"].not_modified_if_unchanged(self.page_params, versions)
        polled["rows"] = versions

    def send_headers(self, headers: Mapping[str, str]) -> None:
        """Headers a page learns from its own statement (the inbox's unread badge, read with its
        rows): sent with the page, and covered by a polled list's ETag and sent with its 304, as
        the view's are. Before `poll_rows`."""
        context = get_appcontext()
        context.setdefault(PAGE_HEADERS, {}).update(headers)
        polled = context.get(POLLED_LIST)
        if polled is not None:
            polled["view_headers"].update(headers)

    def _version_columns(self) -> list[Any]:
        entity = self.collection.column_descriptions[0]["entity"]
        names = ["id", "updated_at"] + (
            [self.deadline_attribute] if self.deadline_attribute else []
        )
        return [getattr(entity, name) for name in names]

    def row_version(self, row: Any) -> list[Any]:
        """What a polled list's ETag takes from a row: its id and `updated_at` (which every change
        of the row or of what its view shows moves, as `updated_after` sync relies on), and
        whether its deadline has passed."""
        version: list[Any] = [str(row.id), row.updated_at.isoformat()]
        if self.deadline_attribute is not None:
            deadline = getattr(row, self.deadline_attribute)
            version.append(deadline is not None and deadline < utcnow())
        return version

    @property
    def item_count(self) -> int:
        return count_rows(self.collection)


class PublicSelectPage(SelectPage):
    """A public list that reads alike for everyone: its total is shared for a few seconds
    (`count_rows`)."""

    @property
    def item_count(self) -> int:
        return count_rows(
            self.collection, shared_for_seconds=public_count_seconds(), key=_list_arguments_key()
        )


_PAGING_ARGUMENTS = frozenset({"page", "page_size"})


def _list_arguments_key() -> str:
    """What a public list's query is made of: its endpoint and its query arguments but the page
    (the view's parsed arguments are a function of these)."""
    arguments = sorted(
        (name, value)
        for name, value in request.args.items(multi=True)
        if name not in _PAGING_ARGUMENTS
    )
    return f"{request.endpoint}|{arguments!r}"


# --- paging links (RFC 8288) and polled lists ---------------------------------------------------

# Where a polled list's page keeps its rows' versions during a request (flask-smorest's app
# context section); set by `Blueprint.paginate(..., polled=True)`.
POLLED_LIST = "binjai_polled_list"
# Where a page keeps the headers it learnt from its own statement (`SelectPage.send_headers`).
PAGE_HEADERS = "binjai_page_headers"


def page_links(page: int, page_size: int, total: int) -> str:
    """The `Link` header of a page: `first` and `last` always (an empty list has one, empty,
    page), `prev` from page 2 on, `next` before the last page. Absolute URLs from
    PUBLIC_BASE_URL, with the request's other query parameters kept."""
    last = max(1, -(-total // page_size))
    targets = [("first", 1)]
    if page > 1:
        targets.append(("prev", min(page - 1, last)))
    if page < last:
        targets.append(("next", page + 1))
    targets.append(("last", last))
    base = public_url(request.path)
    args = request.args.to_dict(flat=False)
    links = []
    for rel, number in targets:
        args["page"] = [str(number)]
        links.append(f'<{base}?{urlencode(args, doseq=True)}>; rel="{rel}"')
    return ", ".join(links)


def polled_list_etag(row_versions: list[Any], headers: Mapping[str, str]) -> str:
    """The weak ETag value of a polled list's page: its rows' versions, the headers that describe
    it (`X-Pagination` with the total, the inbox's unread count ...) and the language of its
    texts. Computed from the rows, never from the serialised body."""
    fingerprint = json.dumps(
        [row_versions, sorted(headers.items()), negotiated_language()],
        separators=(",", ":"),
    )
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:32]


LINK_HEADER_DOC = {
    "description": "RFC 8288 paging links, absolute URLs: `first` and `last` always, `prev` "
    "from page 2 on, `next` before the last page, e.g. "
    '`<https://api.binjaikota.go.id/api/v1/complaints/mine?page=2>; rel="next"`.',
    "schema": {"type": "string"},
}
POLLED_CACHE_CONTROL = "private, no-cache"


class _PageNotModified(Exception):
    """The polled page is what the client has: answered 304 with these headers."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("not modified")
        self.headers = headers


class _PageArgumentsParser(FlaskParser):
    """flask-smorest passes each list's `page`/`page_size` schema as a class, which webargs
    instantiated (deep-copying its fields) on every request of every list: one instance per
    class is kept instead (loading keeps no state on it)."""

    def __init__(self) -> None:
        super().__init__()
        self._schemas: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: Any) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)


class PagingLinksMixin:
    """Blueprint side of lists: a `Link` header beside flask-smorest's `X-Pagination`, and
    `paginate(..., polled=True)` for the lists the app polls (a weak ETag, 304 on
    `If-None-Match`)."""

    PAGINATION_ARGUMENTS_PARSER = _PageArgumentsParser()

    @staticmethod
    def _make_pagination_metadata(page: int, page_size: int, item_count: int) -> dict[str, int]:
        """flask-smorest's `X-Pagination` metadata, the same keys in the same order, built as
        plain integers (flask-smorest built its documentation schema to dump them on every
        request of every list)."""
        metadata = {"total": item_count}
        if item_count == 0:
            metadata["total_pages"] = 0
            return metadata
        last_page = (item_count - 1) // page_size + 1
        metadata.update(total_pages=last_page, first_page=1, last_page=last_page)
        if page <= last_page:
            metadata["page"] = page
            if page > 1:
                metadata["previous_page"] = page - 1
            if page < last_page:
                metadata["next_page"] = page + 1
        return metadata

    def paginate(
        self, pager: type[Page] | None = None, *, polled: bool = False, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        paginated = super().paginate(pager, **kwargs)  # type: ignore[misc]
        if not polled:
            return paginated
        if pager is None or not issubclass(pager, SelectPage):
            raise TypeError("a polled list pages with a SelectPage, which records its rows")

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(func)
            def recording_headers(*args: Any, **view_kwargs: Any) -> Any:
                result, status, headers = unpack_tuple_response(func(*args, **view_kwargs))
                get_appcontext()[POLLED_LIST]["view_headers"] = dict(headers or {})
                return result, status, headers

            view = paginated(recording_headers)

            @wraps(view)
            def wrapper(*args: Any, **view_kwargs: Any) -> Any:
                get_appcontext()[POLLED_LIST] = {"blueprint": self}
                try:
                    return view(*args, **view_kwargs)
                except _PageNotModified as unchanged:
                    return current_app.response_class(status=304, headers=unchanged.headers)

            # Documented as flask-smorest documents `@blp.etag` on a GET: If-None-Match, the
            # ETag header and 304.
            wrapper._apidoc = deepcopy(getattr(view, "_apidoc", {}))  # type: ignore[attr-defined]
            wrapper._apidoc["etag"] = True  # type: ignore[attr-defined]
            return wrapper

        return decorator

    def pagination_headers(self, page: int, page_size: int, total: int) -> dict[str, str]:
        """`X-Pagination` and `Link` for a list that pages itself (a GeoJSON or Open311 body)."""
        metadata = self._make_pagination_metadata(page, page_size, total)
        return {
            self.PAGINATION_HEADER_NAME: json.dumps(metadata),  # type: ignore[attr-defined]
            "Link": page_links(page, page_size, total),
        }

    def not_modified_if_unchanged(
        self, page_params: PaginationParameters, versions: list[Any]
    ) -> None:
        """Raise _PageNotModified when a polled page's ETag, from its rows' `versions`, the
        view's headers and the page's X-Pagination, is in If-None-Match."""
        headers = dict(get_appcontext()[POLLED_LIST]["view_headers"])
        metadata = self._make_pagination_metadata(
            page_params.page, page_params.page_size, page_params.item_count
        )
        headers[self.PAGINATION_HEADER_NAME] = json.dumps(metadata)  # type: ignore[attr-defined]
        tag = polled_list_etag(versions, headers)
        if request.if_none_match.contains_weak(tag):
            raise _PageNotModified(_with_polled_headers(headers, page_params, tag))

    def _set_pagination_metadata(
        self, page_params: PaginationParameters, result: Any, headers: Any
    ) -> tuple[Any, Any]:
        page_headers = get_appcontext().pop(PAGE_HEADERS, None)
        if page_headers:
            headers = {**(headers or {}), **page_headers}
        result, headers = super()._set_pagination_metadata(  # type: ignore[misc]
            page_params, result, headers
        )
        polled = get_appcontext().get(POLLED_LIST)
        if polled is None:
            headers["Link"] = page_links(
                page_params.page, page_params.page_size, page_params.item_count or 0
            )
            return result, headers
        tag = polled_list_etag(polled["rows"], dict(headers))
        return result, _with_polled_headers(dict(headers), page_params, tag)

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        super()._document_pagination_metadata(spec, resp_doc)  # type: ignore[misc]
        if "LINK" not in spec.components.headers:
            spec.components.header("LINK", LINK_HEADER_DOC)
        resp_doc["headers"]["Link"] = "LINK"


def _with_polled_headers(
    headers: dict[str, str], page_params: PaginationParameters, tag: str
) -> dict[str, str]:
    """A polled page's headers: its Link, its weak ETag, and revalidation on every poll (kept
    only by the app: the rows are the caller's own)."""
    return {
        **headers,
        "Link": page_links(page_params.page, page_params.page_size, page_params.item_count or 0),
        "ETag": quote_etag(tag, weak=True),
        "Cache-Control": POLLED_CACHE_CONTROL,
    }


def sort_field(*allowed: str, default: str) -> ma.fields.String:
    """`sort=field` or `sort=-field` (descending), limited to `allowed` (CONVENTIONS: lists)."""
    choices = [name for field in allowed for name in (field, f"-{field}")]
    return ma.fields.String(
        load_default=default,
        validate=ma.validate.OneOf(choices),
        metadata={"description": "Sort by a field; a leading `-` sorts descending."},
    )


def apply_sort(
    query: sa.Select[Any],
    sort: str,
    columns: Mapping[str, Any],
    tiebreaker: Any,
) -> sa.Select[Any]:
    """Order `query` by the whitelisted column named in `sort`, then by `tiebreaker` so that pages
    never overlap."""
    column = columns[sort.lstrip("-")]
    ordered = column.desc() if sort.startswith("-") else column.asc()
    return query.order_by(None).order_by(ordered, tiebreaker)
