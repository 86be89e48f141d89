"""How a model opts into the audit trail: `__audit__ = AuditPolicy(...)` on the class.

Kept free of imports from the rest of the app, so that every domain's models can use it without
an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

# Written instead of the value of a personal column: the trail says the field changed, not to what.
PERSONAL_MARK = "[personal data]"
# Written instead of the value of a secret column: a password change is an event worth keeping,
# its hash is not.
SECRET_MARK = "[secret]"
# Noise that every table with Timestamps has; a change to it alone is not an event.
ALWAYS_IGNORED = frozenset({"updated_at"})
# A safety net for secrets a model forgot to declare.
_SECRET_NAME_PARTS = ("password", "secret", "token")


@dataclass(frozen=True)
class AuditPolicy:
    """Which columns of an audited model are personal data, secrets or noise.

    - `personal`: recorded as changed, with the value replaced by PERSONAL_MARK (UU PDP No. 27
      of 2022: an immutable trail kept for years must not become a second copy of residents'
      personal data that can never be erased);
    - `secret`: recorded as changed, with the value replaced by SECRET_MARK (hashes and codes
      that grant access are never copied anywhere);
    - `ignore`: counters and bookkeeping; an update that touches only these records nothing;
    - `identities` and `anonymous_when`: account ids that are recorded as keyed pseudonyms
      (binjai_api.audit.pseudonyms) while the row's column `anonymous_when[0]` holds the value
      `anonymous_when[1]`: an anonymous report's reporter never appears in the trail.
    """

    personal: tuple[str, ...] = ()
    secret: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    identities: tuple[str, ...] = ()
    anonymous_when: tuple[str, str] | None = None

    def is_ignored(self, column: str) -> bool:
        return column in self.ignore or column in ALWAYS_IGNORED

    def is_secret(self, column: str) -> bool:
        return column in self.secret or any(part in column for part in _SECRET_NAME_PARTS)

    def is_personal(self, column: str) -> bool:
        return column in self.personal

    def is_anonymous(self, values: dict[str, object]) -> bool:
        """Whether the row with these values hides its people behind pseudonyms."""
        if self.anonymous_when is None:
            return False
        column, value = self.anonymous_when
        return values.get(column) == value
