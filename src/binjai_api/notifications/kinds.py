"""What a notification can be about: its texts in every language, whether it may be muted, and
its push contract with the app: the Android channel and iOS category it is shown under and the
screen its deep link opens.

Every domain adds its kinds here, so the app, the preferences, the catalogs and the push contract
(docs/push-notifications.md, generated from these tables by notifications/push_contract.py) share
one list. Texts are gettext templates with `%(name)s` parameters, rendered in the reader's
language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from flask import has_app_context
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
class PushChannel:
    """A group of kinds the app shows together: the Android notification channel it creates at
    start-up (with this id, name and importance) and the iOS notification category it registers."""

    android_channel_id: str
    ios_category: str
    name: LazyString
    # Android IMPORTANCE_HIGH (shown as a heads-up) rather than IMPORTANCE_DEFAULT.
    high_importance: bool


CHANNELS: Mapping[str, PushChannel] = {
    channel.android_channel_id: channel
    for channel in (
        PushChannel("akun", "ACCOUNT", lazy_gettext("Account security"), True),
        PushChannel("pengumuman", "ANNOUNCEMENT", lazy_gettext("City announcements"), False),
        PushChannel("pengaduan", "COMPLAINT", lazy_gettext("My reports"), False),
        PushChannel("perizinan", "PERMIT", lazy_gettext("Permit applications"), False),
        PushChannel("antrean", "QUEUE", lazy_gettext("Queue bookings"), True),
        PushChannel("eskalasi", "ESCALATION", lazy_gettext("Missed deadlines"), True),
        PushChannel("survei", "SURVEY", lazy_gettext("Service surveys"), False),
        PushChannel("sekitar", "AREA", lazy_gettext("Reports in my area"), False),
    )
}

DEEP_LINK_SCHEME = "binjai"
# `link_to` of a kind whose entry links to whatever item it is about (the screen named by the
# notification's `resource_type`).
ANY_RESOURCE = "*"


@dataclass(frozen=True)
class NotificationKind:
    code: str
    label: LazyString
    title: LazyString
    body: LazyString
    # A resident may mute optional kinds (city announcements), never updates about their own
    # cases or account.
    optional: bool
    # Android notification channel the app creates for this group of kinds (CHANNELS).
    android_channel: str
    high_priority: bool
    # The screen the deep link opens: a resource type (`binjai://complaints/<id>`), None for the
    # inbox entry itself (`binjai://notifications/<notification id>`), or ANY_RESOURCE.
    link_to: str | None

    @property
    def ios_category(self) -> str:
        return CHANNELS[self.android_channel].ios_category

    @property
    def deep_link_template(self) -> str:
        if self.link_to is None:
            return f"{DEEP_LINK_SCHEME}://notifications/{{notification_id}}"
        if self.link_to == ANY_RESOURCE:
            return f"{DEEP_LINK_SCHEME}://{{resource_type}}/{{resource_id}}"
        return f"{DEEP_LINK_SCHEME}://{self.link_to}/{{resource_id}}"


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
        link_to=None,  # the announcement is its inbox entry
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
        link_to=None,
    ),
)

# --- complaints (pengaduan / aspirasi) ---
COMPLAINT_RECEIVED = "complaint_received"
COMPLAINT_DISPATCHED = "complaint_dispatched"
COMPLAINT_REJECTED = "complaint_rejected"
COMPLAINT_DUPLICATE = "complaint_duplicate"
COMPLAINT_TRANSFERRED = "complaint_transferred"
COMPLAINT_IN_PROGRESS = "complaint_in_progress"
COMPLAINT_RESOLVED = "complaint_resolved"
COMPLAINT_CLOSED = "complaint_closed"
COMPLAINT_REOPENED = "complaint_reopened"
COMPLAINT_RESPONSE = "complaint_response"
COMPLAINT_REPLY = "complaint_reply"


def _complaint_kind(code: str, title: LazyString, body: LazyString) -> NotificationKind:
    return NotificationKind(
        code=code,
        label=lazy_gettext("My reports"),
        title=title,
        body=body,
        optional=False,
        android_channel="pengaduan",
        high_priority=False,
        link_to="complaints",
    )


COMPLAINT_KINDS: tuple[NotificationKind, ...] = (
    _complaint_kind(
        COMPLAINT_RECEIVED,
        lazy_gettext("Report %(tracking_number)s received"),
        lazy_gettext(
            "Your report “%(title)s” was received. The Command Center verifies it within "
            "3 working days."
        ),
    ),
    _complaint_kind(
        COMPLAINT_DISPATCHED,
        lazy_gettext("Report %(tracking_number)s verified"),
        lazy_gettext("“%(title)s” was verified and sent to %(agency)s."),
    ),
    _complaint_kind(
        COMPLAINT_REJECTED,
        lazy_gettext("Report %(tracking_number)s rejected"),
        lazy_gettext("“%(title)s” was rejected: %(note)s"),
    ),
    _complaint_kind(
        COMPLAINT_DUPLICATE,
        lazy_gettext("Report %(tracking_number)s joined another report"),
        lazy_gettext(
            "“%(title)s” was already reported as %(original)s; you now follow that report."
        ),
    ),
    _complaint_kind(
        COMPLAINT_TRANSFERRED,
        lazy_gettext("Report %(tracking_number)s transferred"),
        lazy_gettext("“%(title)s” was handed on to %(agency)s: %(note)s"),
    ),
    _complaint_kind(
        COMPLAINT_IN_PROGRESS,
        lazy_gettext("Report %(tracking_number)s in progress"),
        lazy_gettext("%(agency)s has started work on “%(title)s”."),
    ),
    _complaint_kind(
        COMPLAINT_RESOLVED,
        lazy_gettext("Report %(tracking_number)s resolved"),
        lazy_gettext(
            "“%(title)s” was resolved: %(note)s. Rate the result or reopen it within 7 days."
        ),
    ),
    _complaint_kind(
        COMPLAINT_CLOSED,
        lazy_gettext("Report %(tracking_number)s closed"),
        lazy_gettext("“%(title)s” is closed. Thank you."),
    ),
    _complaint_kind(
        COMPLAINT_REOPENED,
        lazy_gettext("Report %(tracking_number)s reopened"),
        lazy_gettext("“%(title)s” was reopened: %(note)s"),
    ),
    _complaint_kind(
        COMPLAINT_RESPONSE,
        lazy_gettext("New response on report %(tracking_number)s"),
        lazy_gettext("%(agency)s responded on “%(title)s”."),
    ),
    # Staff answered with a reply template (complaints/reply_templates.py): the push carries the
    # rendered text in the reader's language (`reply@id`, `reply@en`).
    _complaint_kind(
        COMPLAINT_REPLY,
        lazy_gettext("Update on report %(tracking_number)s"),
        lazy_gettext("%(reply)s"),
    ),
)
# --- end complaints ---

# --- licensing (perizinan) ---
PERMIT_SUBMITTED = "permit_submitted"
PERMIT_RESUBMITTED = "permit_resubmitted"
PERMIT_VERIFIED = "permit_verified"
PERMIT_CORRECTION_REQUESTED = "permit_correction_requested"
PERMIT_REVIEWED = "permit_reviewed"
PERMIT_BILL_ISSUED = "permit_bill_issued"
PERMIT_APPROVED = "permit_approved"
PERMIT_PAYMENT_RECEIVED = "permit_payment_received"
PERMIT_ISSUED = "permit_issued"
PERMIT_REJECTED = "permit_rejected"
PERMIT_WITHDRAWN = "permit_withdrawn"
PERMIT_REVOKED = "permit_revoked"


def _permit_kind(
    code: str, title: LazyString, body: LazyString, link_to: str = "permit-applications"
) -> NotificationKind:
    """An update on the applicant's own permit case: never muted. It opens the application, or
    the permit itself once there is one (`link_to="permits"`)."""
    return NotificationKind(
        code=code,
        label=lazy_gettext("Permit applications"),
        title=title,
        body=body,
        optional=False,
        android_channel="perizinan",
        high_priority=False,
        link_to=link_to,
    )


PERMIT_KINDS: tuple[NotificationKind, ...] = (
    _permit_kind(
        PERMIT_SUBMITTED,
        lazy_gettext("Application %(number)s received"),
        lazy_gettext("Your %(permit_type)s application was submitted and is being checked."),
    ),
    _permit_kind(
        PERMIT_RESUBMITTED,
        lazy_gettext("Corrections to %(number)s received"),
        lazy_gettext("Your corrected %(permit_type)s application is being checked again."),
    ),
    _permit_kind(
        PERMIT_VERIFIED,
        lazy_gettext("Application %(number)s verified"),
        lazy_gettext("Your documents are complete; your application moves on to the next step."),
    ),
    _permit_kind(
        PERMIT_CORRECTION_REQUESTED,
        lazy_gettext("Application %(number)s needs corrections"),
        lazy_gettext("Please correct your application by %(due_date)s: %(reason)s"),
    ),
    _permit_kind(
        PERMIT_REVIEWED,
        lazy_gettext("Technical review of %(number)s done"),
        lazy_gettext("The technical review of your application is complete; a decision follows."),
    ),
    _permit_kind(
        PERMIT_BILL_ISSUED,
        lazy_gettext("Application %(number)s approved: please pay the levy"),
        lazy_gettext(
            "Pay Rp %(amount)s with payment code %(payment_code)s by %(due_date)s; "
            "your permit is issued after payment."
        ),
    ),
    _permit_kind(
        PERMIT_APPROVED,
        lazy_gettext("Application %(number)s approved"),
        lazy_gettext("Your %(permit_type)s is being prepared for signing."),
    ),
    _permit_kind(
        PERMIT_PAYMENT_RECEIVED,
        lazy_gettext("Payment for %(number)s received"),
        lazy_gettext("Thank you. Your %(permit_type)s is being prepared for signing."),
    ),
    _permit_kind(
        PERMIT_ISSUED,
        lazy_gettext("Your permit %(permit_number)s is issued"),
        lazy_gettext("Your %(permit_type)s is ready to download in the app."),
        link_to="permits",
    ),
    _permit_kind(
        PERMIT_REJECTED,
        lazy_gettext("Application %(number)s rejected"),
        lazy_gettext("Reason: %(reason)s"),
    ),
    _permit_kind(
        PERMIT_WITHDRAWN,
        lazy_gettext("Application %(number)s withdrawn"),
        lazy_gettext("Your %(permit_type)s application was withdrawn."),
    ),
    _permit_kind(
        PERMIT_REVOKED,
        lazy_gettext("Permit %(permit_number)s revoked"),
        lazy_gettext("Reason: %(reason)s"),
        link_to="permits",
    ),
)
# --- end licensing ---

# --- health (antrean online) ---
QUEUE_BOOKED = "queue_booked"
QUEUE_THREE_AHEAD = "queue_three_ahead"
QUEUE_CALLED = "queue_called"
QUEUE_CANCELLED_BY_FACILITY = "queue_cancelled_by_facility"

QUEUE_KINDS: tuple[NotificationKind, ...] = (
    NotificationKind(
        code=QUEUE_BOOKED,
        label=lazy_gettext("Queue bookings"),
        title=lazy_gettext("Queue number %(number)s booked"),
        body=lazy_gettext(
            "%(service)s, %(facility)s on %(date)s: your number is %(number)s, booking code "
            "%(code)s. Show the code at the desk to check in."
        ),
        optional=False,
        android_channel="antrean",
        high_priority=False,
        link_to="queue-bookings",
    ),
    NotificationKind(
        code=QUEUE_THREE_AHEAD,
        label=lazy_gettext("Your turn is near"),
        title=lazy_gettext("Three more before you"),
        body=lazy_gettext(
            "%(service)s: three people are ahead of number %(number)s. Please be near the room."
        ),
        optional=False,
        android_channel="antrean",
        high_priority=True,
        link_to="queue-bookings",
    ),
    NotificationKind(
        code=QUEUE_CALLED,
        label=lazy_gettext("Your number is called"),
        title=lazy_gettext("Number %(number)s, your turn"),
        body=lazy_gettext("%(service)s is calling number %(number)s now."),
        optional=False,
        android_channel="antrean",
        high_priority=True,
        link_to="queue-bookings",
    ),
    NotificationKind(
        code=QUEUE_CANCELLED_BY_FACILITY,
        label=lazy_gettext("Session cancelled by the facility"),
        title=lazy_gettext("%(service)s on %(date)s is cancelled"),
        body=lazy_gettext(
            "%(facility)s cancelled the session of %(service)s on %(date)s: %(reason)s. "
            "Your booking is cancelled; please book another day."
        ),
        optional=False,
        android_channel="antrean",
        high_priority=True,
        link_to="queue-bookings",
    ),
)
# --- end health ---

# --- command center: escalation of missed deadlines (staff only) ---
ESCALATION_COMPLAINT_VERIFICATION = "escalation_complaint_verification"
ESCALATION_COMPLAINT_FOLLOW_UP = "escalation_complaint_follow_up"
ESCALATION_PERMIT_VERIFICATION = "escalation_permit_verification"
ESCALATION_PERMIT_TECHNICAL_REVIEW = "escalation_permit_technical_review"
ESCALATION_PERMIT_DECISION = "escalation_permit_decision"
ESCALATION_PERMIT_ISSUANCE = "escalation_permit_issuance"
ESCALATION_QUEUE_SESSION = "escalation_queue_session"
ESCALATION_OTHER = "escalation_other"  # a step added to a domain before it has its own texts


def _escalation_kind(
    code: str, link_to: str, title: LazyString, body: LazyString
) -> NotificationKind:
    """A missed deadline, told to the staff who must act and to the BCC. One kind per step, so
    that the step is named in the reader's language. Parameters: `reference`, `title`, `due`
    (the local date and time with its zone, in each language: "4 Desember 2026 pukul 09.30
    WIB")."""
    return NotificationKind(
        code=code,
        label=lazy_gettext("Missed deadlines"),
        title=title,
        body=body,
        optional=False,
        android_channel="eskalasi",
        high_priority=True,
        link_to=link_to,
    )


ESCALATION_KINDS: tuple[NotificationKind, ...] = (
    _escalation_kind(
        ESCALATION_COMPLAINT_VERIFICATION,
        "complaints",
        lazy_gettext("Report %(reference)s not verified in time"),
        lazy_gettext(
            "“%(title)s” was due for verification by %(due)s. Verify it and send it to an "
            "agency, or reject it."
        ),
    ),
    _escalation_kind(
        ESCALATION_COMPLAINT_FOLLOW_UP,
        "complaints",
        lazy_gettext("Report %(reference)s not followed up in time"),
        lazy_gettext("The follow-up of “%(title)s” was due by %(due)s."),
    ),
    _escalation_kind(
        ESCALATION_PERMIT_VERIFICATION,
        "permit-applications",
        lazy_gettext("Application %(reference)s not verified in time"),
        lazy_gettext("The %(title)s application was due for verification by %(due)s."),
    ),
    _escalation_kind(
        ESCALATION_PERMIT_TECHNICAL_REVIEW,
        "permit-applications",
        lazy_gettext("Technical review of %(reference)s overdue"),
        lazy_gettext("The technical review of the %(title)s application was due by %(due)s."),
    ),
    _escalation_kind(
        ESCALATION_PERMIT_DECISION,
        "permit-applications",
        lazy_gettext("Decision on %(reference)s overdue"),
        lazy_gettext("The decision on the %(title)s application was due by %(due)s."),
    ),
    _escalation_kind(
        ESCALATION_PERMIT_ISSUANCE,
        "permit-applications",
        lazy_gettext("Issuance of %(reference)s overdue"),
        lazy_gettext("The %(title)s permit was due to be signed and issued by %(due)s."),
    ),
    _escalation_kind(
        ESCALATION_QUEUE_SESSION,
        "facilities",
        lazy_gettext("Patients still waiting: %(title)s"),
        lazy_gettext(
            "The session of %(title)s ended on %(due)s with patients still in the queue. "
            "Call, serve or mark them."
        ),
    ),
    _escalation_kind(
        ESCALATION_OTHER,
        ANY_RESOURCE,
        lazy_gettext("%(reference)s is overdue"),
        lazy_gettext("“%(title)s” was due by %(due)s."),
    ),
)
# --- end command center ---

# --- service quality: the SKM survey and "is it fixed?" (quality/) ---
SURVEY_INVITATION = "survey_invitation"
COMPLAINT_FIX_CHECK = "complaint_fix_check"

QUALITY_KINDS: tuple[NotificationKind, ...] = (
    NotificationKind(
        code=SURVEY_INVITATION,
        label=lazy_gettext("Service surveys"),
        title=lazy_gettext("How was our service?"),
        body=lazy_gettext(
            "%(service)s (%(reference)s) is done. Rate it in nine short questions by "
            "%(until)s; your answer is anonymous."
        ),
        # A resident may mute invitations; the survey stays in the app until it expires.
        optional=True,
        android_channel="survei",
        high_priority=False,
        link_to="survey-invitations",
    ),
    _complaint_kind(
        COMPLAINT_FIX_CHECK,
        lazy_gettext("Is it fixed? Report %(tracking_number)s"),
        lazy_gettext(
            "“%(title)s” was resolved on %(resolved_on)s. Is the problem really fixed? "
            "Answer yes or no by %(until)s."
        ),
    ),
)
# --- end service quality ---

# --- webhooks: an integrator's endpoint disabled (webhooks/delivery.py) ---
WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint_disabled"

WEBHOOK_KINDS: tuple[NotificationKind, ...] = (
    NotificationKind(
        code=WEBHOOK_ENDPOINT_DISABLED,
        label=lazy_gettext("Integrations"),
        title=lazy_gettext("Webhook endpoint disabled: %(client)s"),
        body=lazy_gettext(
            "Deliveries to %(url)s failed for %(days)s days, so it no longer receives events. "
            "The integrator can enable it again once it answers."
        ),
        optional=False,
        # Told to the admin who registered the API client.
        android_channel="akun",
        high_priority=False,
        link_to=None,  # the notice is its inbox entry
    ),
)
# --- end webhooks ---

# --- area alerts: public reports in the kelurahan and kecamatan a resident follows ---
AREA_REPORT_FILED = "area_report_filed"
AREA_REPORT_RESOLVED = "area_report_resolved"
AREA_DIGEST = "area_digest"


def _area_kind(
    code: str, title: LazyString, body: LazyString, link_to: str | None
) -> NotificationKind:
    return NotificationKind(
        code=code,
        label=lazy_gettext("Reports in my area"),
        title=title,
        body=body,
        # Followed by choice: a resident may mute them and still read them in the inbox.
        optional=True,
        android_channel="sekitar",
        high_priority=False,
        link_to=link_to,
    )


AREA_KINDS: tuple[NotificationKind, ...] = (
    _area_kind(
        AREA_REPORT_FILED,
        lazy_gettext("New report in %(area)s"),
        lazy_gettext("%(tracking_number)s · %(category)s: “%(title)s”"),
        "complaints",
    ),
    _area_kind(
        AREA_REPORT_RESOLVED,
        lazy_gettext("Report resolved in %(area)s"),
        lazy_gettext("%(tracking_number)s · %(category)s: “%(title)s” was resolved."),
        "complaints",
    ),
    # Beyond the daily cap: one entry the next morning with the rest of the day.
    _area_kind(
        AREA_DIGEST,
        lazy_gettext("Your areas on %(day)s"),
        lazy_gettext(
            "%(filed)s more reports filed and %(resolved)s resolved in %(areas)s: %(reports)s"
        ),
        None,
    ),
)
# --- end area alerts ---

KINDS: Mapping[str, NotificationKind] = {
    kind.code: kind
    for kind in (
        *_ACCOUNT_KINDS,
        *COMPLAINT_KINDS,
        *PERMIT_KINDS,
        *QUEUE_KINDS,
        *ESCALATION_KINDS,
        *WEBHOOK_KINDS,
        *QUALITY_KINDS,
        *AREA_KINDS,
    )
}

OPTIONAL_KINDS = tuple(code for code, kind in KINDS.items() if kind.optional)


def check_link(kind_code: str, resource_type: str | None) -> None:
    """Refuse a notification whose link is not the screen its kind's table row names (the app
    routes deep links by that table)."""
    link_to = KINDS[kind_code].link_to
    if link_to != ANY_RESOURCE and resource_type != link_to:
        raise ValueError(
            f"{kind_code} links to {link_to or 'its inbox entry'}, not {resource_type!r}; "
            "see notifications/kinds.py"
        )


def language_or_default(language: str | None) -> str:
    return language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def render(kind_code: str, params: Mapping[str, str], language: str | None) -> tuple[str, str]:
    """The title and body of a notification in `language` (Indonesian when unknown). A
    parameter written per language, `name@id` and `name@en`, gives `name` in each reader's
    language (a staff reply written in both, for instance)."""
    language = language_or_default(language)
    title, body = templates(kind_code, language)
    suffix = f"@{language}"
    localized = {
        key.removesuffix(suffix): value for key, value in params.items() if key.endswith(suffix)
    }
    values = {**params, **localized}
    return _fill(title, values), _fill(body, values)


# (kind, language) -> the kind's title and body templates, translated: the catalogs are loaded
# once per process, and switching the locale (force_locale) to translate them again cost more
# than the rest of an inbox entry.
_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {}


def templates(kind_code: str, language: str) -> tuple[str, str]:
    """The kind's title and body templates in `language` (a supported one), translated once per
    process. Outside an app context (no catalogs) they are the untranslated source, not kept."""
    key = (kind_code, language)
    kept = _TEMPLATES.get(key)
    if kept is not None:
        return kept
    kind = KINDS[kind_code]
    with force_locale(language):
        translated = (str(kind.title), str(kind.body))
    if has_app_context():
        _TEMPLATES[key] = translated
    return translated


def check_params(kind_code: str, params: Mapping[str, str]) -> None:
    """Fail (KeyError, as `render` does) when `params` lack a parameter of the kind's
    Indonesian title or body, so that a missing one fails in the caller, not in a worker. When
    the templates hold nothing but `%(name)s` parameters, the names they need are enough to
    check (worked out once per kind); otherwise they are rendered."""
    needed = _plain_parameters(kind_code)
    if needed is not None:
        suffix = f"@{DEFAULT_LANGUAGE}"
        given = set(params).union(key.removesuffix(suffix) for key in params)
        if needed <= given:
            return
    render(kind_code, params, None)


_PLAIN_PARAMETER = re.compile(r"%\((\w+)\)s")


@cache
def _plain_parameters(kind_code: str) -> frozenset[str] | None:
    """The parameters that the kind's Indonesian title and body name, or None when they hold
    any other `%` (a conversion other than `%(name)s`, a literal `%%`): those are rendered."""
    kind = KINDS[kind_code]
    with force_locale(DEFAULT_LANGUAGE):
        texts = (str(kind.title), str(kind.body))
    if any("%" in _PLAIN_PARAMETER.sub("", text) for text in texts):
        return None
    return frozenset(name for text in texts for name in _PLAIN_PARAMETER.findall(text))


# A parameter followed by a full stop (or ! ?) in the template.
_STOP_AFTER_PARAMETER = re.compile(r"%\((\w+)\)s([.!?])")
_STOPS = (".", "!", "?", "…")


def _fill(template: str, values: Mapping[str, Any]) -> str:
    """`template % values`, without doubling the stop a value (a user's text) already ends with:
    "…diperbaiki dengan hotmix." + "." reads "hotmix.", not "hotmix.."."""

    def one_stop(match: re.Match[str]) -> str:
        value = str(values.get(match.group(1), "")).rstrip()
        return f"%({match.group(1)})s" if value.endswith(_STOPS) else match.group(0)

    return _STOP_AFTER_PARAMETER.sub(one_stop, template) % values
