"""Access rules: every route declares one (`public`, `authenticated`, `roles(...)`, `require(...)`).

The rule both guards the view and documents it (bearer security, 401/403 responses), and a test
walks the URL map to fail on any route without one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from copy import deepcopy
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, request
from flask.sessions import SessionInterface
from flask_jwt_extended import current_user, verify_jwt_in_request

from binjai_api.auth.enums import Role
from binjai_api.auth.service import Principal
from binjai_api.errors import Problem, forbidden
from binjai_api.i18n import lazy_gettext
from binjai_api.openapi import BEARER_SECURITY

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_RULE_ATTRIBUTE = "access_rule"


@dataclass(frozen=True)
class AccessRule:
    public: bool = False
    any_user: bool = False
    roles: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()

    def allows(self, principal: Principal) -> bool:
        if principal.is_user:
            return self.any_user or principal.role in self.roles
        return bool(self.scopes) and set(self.scopes) <= principal.scopes

    def describe(self) -> dict[str, Any]:
        if self.public:
            return {"public": True}
        return {
            "any_user": self.any_user,
            "roles": list(self.roles),
            "client_scopes": list(self.scopes),
        }


def _document(wrapper: Any, rule: AccessRule) -> None:
    apidoc = deepcopy(getattr(wrapper, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    manual["x-access"] = rule.describe()
    if rule.public:
        manual["security"] = []
    else:
        manual["security"] = BEARER_SECURITY
        responses = apidoc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        if not rule.any_user or rule.scopes:
            responses.setdefault(403, []).append("FORBIDDEN")
    wrapper._apidoc = apidoc


def public(func: F) -> F:
    """Anyone, without a token."""
    rule = AccessRule(public=True)
    setattr(func, ACCESS_RULE_ATTRIBUTE, rule)
    _document(func, rule)
    return func


def require(
    *, roles: Iterable[str] = (), scopes: Iterable[str] = (), any_user: bool = False
) -> Callable[[F], F]:
    """A valid access token of a user with one of `roles` (or any user), or of an API client
    holding all of `scopes`."""
    rule = AccessRule(any_user=any_user, roles=tuple(roles), scopes=tuple(scopes))

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if g.get(_ADMITTED) is not rule:  # admitted before the body was read, as a rule
                _admit(rule)
            return func(*args, **kwargs)

        setattr(wrapper, ACCESS_RULE_ATTRIBUTE, rule)
        _document(wrapper, rule)
        return wrapper  # type: ignore[return-value]

    return decorator


authenticated = require(any_user=True)

# Key of `g`: the rule the caller was admitted under by `admit_before_reading_the_request`.
_ADMITTED = "binjai_admitted_rule"


def _admit(rule: AccessRule) -> None:
    """401 without a valid token, 403 when the rule does not allow its holder."""
    verify_jwt_in_request()
    principal: Principal = current_user
    g.principal_id = str(principal.id)
    g.principal = principal  # who acted, for the audit trail
    if not rule.allows(principal):
        raise forbidden(lazy_gettext("Your account is not allowed to do this."))
    g.setdefault(_ADMITTED, rule)


@cache
def _rule_of(endpoint: str, method: str) -> AccessRule | None:
    view = current_app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return getattr(view, ACCESS_RULE_ATTRIBUTE, None)
    handler = getattr(view_class, method.lower(), None)
    if handler is None and method == "HEAD":
        handler = getattr(view_class, "get", None)
    return getattr(handler, ACCESS_RULE_ATTRIBUTE, None)


def admit_before_reading_the_request() -> None:
    """Check the caller before anything reads or judges what they sent: a request without
    valid credentials gets 401 (and one whose role may not call the operation 403), never a
    415, 422 or 400 about a body nobody entitled sent. The view's decorator then finds the
    caller admitted under its rule."""
    if request.endpoint is None or request.method == "OPTIONS":
        return
    rule = _rule_of(request.endpoint, request.method)
    if rule is None or rule.public:
        return
    _admit(rule)


class BearerOnlySessions(SessionInterface):
    """Callers prove who they are with bearer tokens, never cookies: no cookie session is read
    or written (Flask's would build a signing serializer on every request; writing to
    `flask.session` raises)."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        return None


def init_app(app: Flask) -> None:
    """Register the check; before the hooks that read the body (media types, text input)."""
    app.session_interface = BearerOnlySessions()
    app.before_request(admit_before_reading_the_request)


def roles(*role_names: Role | str) -> Callable[[F], F]:
    """A user with one of these roles."""
    return require(roles=tuple(str(r) for r in role_names))


def current_principal() -> Principal:
    """The caller of a guarded view."""
    principal = current_user
    if principal is None:  # only reachable from a public view, which is a programming error
        raise Problem(401, "missing_token")
    return principal


def mark_public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a framework view (docs, static files) public."""

    @wraps(view)
    def public_view(*args: Any, **kwargs: Any) -> Any:
        return view(*args, **kwargs)

    setattr(public_view, ACCESS_RULE_ATTRIBUTE, AccessRule(public=True))
    return public_view
