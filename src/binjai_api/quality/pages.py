"""The public performance page: the JSON's figures as a server-rendered page for people.

No JavaScript and no outside assets (CONVENTIONS: pages for people); Indonesian by default,
English on request. Shares are written as percentages, and every figure says what it counts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import render_template
from flask_babel import force_locale

from binjai_api.formatting import number
from binjai_api.i18n import gettext

# Inline styles only; nothing loads, nothing runs, nothing frames it.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _percent(share: float | None, language: str) -> str:
    return "\u2013" if share is None else f"{number(round(share * 100, 1), language)}%"


def _value(value: float | None, language: str) -> str:
    return "\u2013" if value is None else number(value, language)


def _ikm(ikm: dict[str, Any], language: str) -> dict[str, str]:
    if ikm["suppressed"]:
        return {
            "value": "\u2013",
            "grade": "",
            "note": gettext("not shown, to keep the answers anonymous"),
            "letter": "none",
        }
    return {
        "value": format_decimal(ikm["ikm"], format="#,##0.00", locale=language),
        "grade": f"{ikm['grade']['letter']} · {ikm['grade']['label']}",
        "note": gettext("%(answers)s answers", answers=number(ikm["answers"], language)),
        "letter": ikm["grade"]["letter"],
    }


def _row(figures: dict[str, Any], language: str) -> dict[str, Any]:
    complaints, permits, queues = figures["complaints"], figures["permits"], figures["queues"]
    return {
        "received": number(complaints["received"], language),
        "followed_up": _percent(complaints["followed_up_on_time_share"], language),
        "followed_up_of": number(complaints["followed_up_judged"], language),
        "resolve_hours": _value(complaints["median_hours_to_resolve"], language),
        "issued": number(permits["issued"], language),
        "within_sla": _percent(permits["within_sla_share"], language),
        "served": number(queues["served"], language),
        "wait_minutes": _value(queues["median_minutes_waiting"], language),
        "ikm": _ikm(figures["ikm"], language),
    }


def performance_page(figures: dict[str, Any], language: str) -> str:
    """The HTML page of the figures, in `language` ("id" or "en")."""
    with force_locale(language):
        year, month = (int(part) for part in figures["month"].split("-"))
        month_name = format_date(date(year, month, 1), format="MMMM y", locale=language)
        scope = gettext("Binjai City")
        if figures["agency"]:
            scope = figures["agency"]["name"]
        if figures["kecamatan"]:
            scope = gettext(
                "%(scope)s, Kecamatan %(kecamatan)s",
                scope=scope,
                kecamatan=figures["kecamatan"]["name"],
            )
        summary = figures["summary"]
        checks = summary["complaints"].get("fix_checks")
        labels = {
            "title": gettext("Public service performance"),
            "government": gettext("Binjai City Government"),
            "reports": gettext("Reports received"),
            "followed_up": gettext("Followed up within the deadline"),
            "followed_up_of": gettext("of reports due"),
            "resolve": gettext("Median time to resolve (hours)"),
            "issued": gettext("Permits issued"),
            "within_sla": gettext("Permits issued within their service level"),
            "served": gettext("Patients served from the online queue"),
            "wait": gettext("Median wait in the queue (minutes)"),
            "ikm": gettext("Satisfaction index (IKM)"),
            "agency": gettext("Agency"),
            "agencies": gettext("Per agency"),
            "kecamatan": gettext("Kecamatan"),
            "per_kecamatan": gettext("Reports per kecamatan"),
            "fixed": gettext("“Is it fixed?”"),
            "no_agencies": gettext("No agency had activity this month."),
            "ikm_note": gettext(
                "IKM: the Community Satisfaction Index of PermenPANRB 14/2017, from residents' "
                "anonymous survey answers (25-100; A very good, B good, C less than good, D not "
                "good). It is not shown for fewer than 5 answers, nor where it would reveal such "
                "a group by difference."
            ),
            "lapor_note": gettext(
                "Followed up: work started or resolved within the deadline of the report's "
                "category, counted as SP4N-LAPOR! does, among the reports sent to an agency "
                "whose follow-up is done or overdue."
            ),
            "privacy_note": gettext("Figures only: no report or person is shown on this page."),
            "month": gettext("Month"),
            "show": gettext("Show"),
        }
        fixed_line = None
        if checks and checks["asked"]:
            fixed_line = gettext(
                "Asked %(asked)s times: %(fixed)s fixed, %(not_fixed)s reopened, "
                "%(unanswered)s without an answer.",
                asked=number(checks["asked"], language),
                fixed=number(checks["fixed"], language),
                not_fixed=number(checks["not_fixed"], language),
                unanswered=number(checks["unanswered"], language),
            )
        return render_template(
            "public_performance.html",
            language=language,
            labels=labels,
            scope=scope,
            month=figures["month"],
            month_name=month_name,
            summary=_row(summary, language),
            fixed_line=fixed_line,
            agencies=[
                {"name": row["agency"]["name"], **_row(row, language)}
                for row in figures["agencies"]
            ],
            areas=[
                {
                    "name": row["kecamatan"]["name"],
                    "received": number(row["complaints"]["received"], language),
                    "followed_up": _percent(
                        row["complaints"]["followed_up_on_time_share"], language
                    ),
                    "resolve_hours": _value(row["complaints"]["median_hours_to_resolve"], language),
                }
                for row in figures["kecamatan_figures"]
            ],
            other_language=("id", "Bahasa Indonesia") if language == "en" else ("en", "English"),
        )
