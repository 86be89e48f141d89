"""The permit verification page: what a phone camera opens when it scans a permit's QR code.

Server-rendered, mobile-first, no JavaScript and no outside assets (CONVENTIONS: pages for
people). The state is said in words, with a symbol beside the colour, never by colour alone.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import render_template
from flask_babel import LazyString, force_locale

from binjai_api.formatting import local_date_time, long_date
from binjai_api.i18n import gettext, lazy_gettext
from binjai_api.licensing.permits import Verification

# Each state: its headline, its symbol, and its style (a colour as well, never alone).
HEADLINES: Mapping[str, tuple[LazyString, str]] = {
    "valid": (lazy_gettext("Valid permit"), "✓"),
    "expired": (lazy_gettext("Permit expired"), "!"),
    "revoked": (lazy_gettext("Permit revoked"), "✕"),
    "replaced": (lazy_gettext("Permit replaced"), "↻"),
    "not_found": (lazy_gettext("Permit not found"), "?"),
}

# The page's own CSP: inline styles only; nothing loads, nothing runs, nothing frames it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _explanation(verification: Verification, language: str) -> str:
    result = verification.result
    if result == "valid":
        return gettext(
            "This permit was issued by the Binjai City Government and is valid until %(date)s.",
            date=long_date(verification.valid_until, language) if verification.valid_until else "-",
        )
    if result == "expired":
        return gettext(
            "This permit was issued by the Binjai City Government, but it expired on %(date)s.",
            date=long_date(verification.valid_until, language) if verification.valid_until else "-",
        )
    if result == "revoked":
        return gettext(
            "This permit was revoked on %(date)s and is no longer valid.",
            date=long_date(verification.revoked_on, language) if verification.revoked_on else "-",
        )
    if result == "replaced":
        return gettext(
            "This permit was replaced by permit number %(number)s; only the new permit is valid.",
            number=verification.replaced_by_permit_number or "-",
        )
    return gettext(
        "This code matches no permit issued by the Binjai City Government. The document that "
        "shows it may be forged: do not rely on it."
    )


def verification_page(verification: Verification, language: str) -> str:
    """The HTML page of one check, in `language` ("id" or "en")."""
    with force_locale(language):
        headline, symbol = HEADLINES[verification.result]
        details: list[tuple[str, str]] = []
        if verification.result != "not_found":
            english = language == "en"
            validity = "-"
            if verification.valid_from and verification.valid_until:
                validity = gettext(
                    "%(start)s to %(end)s",
                    start=long_date(verification.valid_from, language),
                    end=long_date(verification.valid_until, language),
                )
            details = [
                (gettext("Permit number"), verification.permit_number or "-"),
                (
                    gettext("Type of permit"),
                    (verification.permit_type_name_en if english else None)
                    or verification.permit_type_name
                    or "-",
                ),
                (gettext("Holder"), verification.holder_name or "-"),
                (gettext("Valid"), validity),
                (
                    gettext("Issued by"),
                    (verification.issuing_agency_name_en if english else None)
                    or verification.issuing_agency_name
                    or "-",
                ),
            ]
        return render_template(
            "permit_verification.html",
            language=language,
            result=verification.result,
            symbol=symbol,
            headline=str(headline),
            explanation=_explanation(verification, language),
            details=details,
            checked_label=gettext("Checked on"),
            checked_at=local_date_time(verification.checked_at, language),
            title=gettext("Permit verification"),
            government=gettext("Binjai City Government"),
            other_language=("id", "Bahasa Indonesia") if language == "en" else ("en", "English"),
            note=gettext(
                "Compare these details with the printed permit. The permit's holder is named "
                "here; their NIK is never shown."
            ),
        )
