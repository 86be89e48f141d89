"""What a notification can be about: its texts in every language, and whether it may be muted.

Every domain adds its kinds here, so the app, the preferences and the catalogs share one list.
Texts are gettext templates with `%(name)s` parameters, rendered in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import LazyString, force_locale

from binjai_api.i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, lazy_gettext


class Topic(StrEnum):
    """City announcement topics a resident may follow (broadcasts to a topic)."""

    KESEHATAN = "kesehatan"  # health campaigns: immunisation, posyandu, dengue fogging
    PENDIDIKAN = "pendidikan"
    LINGKUNGAN = "lingkungan"  # waste collection, drainage, cleanliness
    LALU_LINTAS = "lalu_lintas"  # road works, closures
    KEBENCANAAN = "kebencanaan"  # floods, weather warnings


TOPIC_LABELS: Mapping[str, LazyString] = {
    Topic.KESEHATAN: lazy_gettext("Health"),
    Topic.PENDIDIKAN: lazy_gettext("Education"),
    Topic.LINGKUNGAN: lazy_gettext("Environment"),
    Topic.LALU_LINTAS: lazy_gettext("Traffic and roads"),
    Topic.KEBENCANAAN: lazy_gettext("Disasters and weather"),
}


@dataclass(frozen=True)
class NotificationKind:
    code: str
    label: LazyString
    title: LazyString
    body: LazyString
    # A resident may mute optional kinds (city announcements), never updates about their own
    # cases or account.
    optional: bool
    # Android notification channel the app creates for this group of kinds.
    android_channel: str
    high_priority: bool


ANNOUNCEMENT = "announcement"
PASSWORD_CHANGED = "password_changed"

_ACCOUNT_KINDS: tuple[NotificationKind, ...] = (
    NotificationKind(
        code=ANNOUNCEMENT,
        label=lazy_gettext("City announcements"),
        # The operator writes the texts of a broadcast in each language.
        title=lazy_gettext("%(title)s"),
        body=lazy_gettext("%(body)s"),
        optional=True,
        android_channel="pengumuman",
        high_priority=False,
    ),
    NotificationKind(
        code=PASSWORD_CHANGED,
        label=lazy_gettext("Account security"),
        title=lazy_gettext("Your password was changed"),
        body=lazy_gettext(
            "The password of your Binjai account was just changed and every device was "
            "signed out. If this was not you, contact the Binjai Command Center at once."
        ),
        optional=False,
        android_channel="akun",
        high_priority=True,
    ),
)

# --- complaints (pengaduan / aspirasi) ---
COMPLAINT_KINDS: tuple[NotificationKind, ...] = ()
# --- end complaints ---

# --- licensing (perizinan) ---
PERMIT_KINDS: tuple[NotificationKind, ...] = ()
# --- end licensing ---

# --- health (antrean online) ---
QUEUE_KINDS: tuple[NotificationKind, ...] = ()
# --- end health ---

KINDS: Mapping[str, NotificationKind] = {
    kind.code: kind for kind in (*_ACCOUNT_KINDS, *COMPLAINT_KINDS, *PERMIT_KINDS, *QUEUE_KINDS)
}

OPTIONAL_KINDS = tuple(code for code, kind in KINDS.items() if kind.optional)


def language_or_default(language: str | None) -> str:
    return language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def render(kind_code: str, params: Mapping[str, str], language: str | None) -> tuple[str, str]:
    """The title and body of a notification in `language` (Indonesian when unknown)."""
    kind = KINDS[kind_code]
    with force_locale(language_or_default(language)):
        return str(kind.title) % params, str(kind.body) % params
