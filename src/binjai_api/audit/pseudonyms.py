"""Keyed pseudonyms: how an anonymous reporter's own actions appear in the audit trail.

A pseudonym is HMAC-SHA256(AUDIT_PSEUDONYM_KEY, account id), in hex. The key lives in the
server's environment, never in the database, the API or the trail: staff reading the trail (or
a copy of the database) cannot turn a pseudonym back into an account, nor compute an account's
pseudonym to look for it. An authorised investigation holding the key links them outside the API
with `flask audit-pseudonym` (README: Anonymous reporters in the audit trail).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable

from flask import current_app, g, has_request_context

ACTOR_TYPE = "pseudonym"
_FLAG = "audit_pseudonymous"


def pseudonym(account_id: uuid.UUID | str) -> str:
    """The account's pseudonym under the configured key (64 hex characters)."""
    key = str(current_app.config["AUDIT_PSEUDONYM_KEY"]).encode("utf-8")
    return hmac.new(key, str(account_id).encode("ascii"), hashlib.sha256).hexdigest()


def act_pseudonymously(account_id: uuid.UUID) -> None:
    """From now until the request ends, this account's audited actions are recorded under its
    pseudonym (an anonymous reporter acting on their own report). Staff filing a report for a
    resident are not the account, and stay themselves."""
    if has_request_context():
        setattr(g, _FLAG, str(account_id))


def acting_pseudonymously(account_id: uuid.UUID) -> bool:
    """Whether the caller, this account, acts under its pseudonym in this request."""
    return has_request_context() and g.get(_FLAG) == str(account_id)


def find_account(pseudonym_hex: str, account_ids: Iterable[uuid.UUID]) -> uuid.UUID | None:
    """The account among `account_ids` whose pseudonym this is (an investigation with the key)."""
    wanted = pseudonym_hex.strip().lower()
    for account_id in account_ids:
        if hmac.compare_digest(pseudonym(account_id), wanted):
            return account_id
    return None
