"""A category's intake form: typed extra questions, a notice before submitting, and the
emergency stop.

FixMyStreet's category questions and SeeClickFix's request-type questions, in one shape:
- a question is `text`, `number`, `choice`, `yes_no` or `date`, required or optional; a
  `private` answer is shown to staff only, never to the public or in Open311;
- a stop blocks the submission with a message (e.g. "Darurat? Hubungi 112"), either for the whole
  category or for some answers of a `choice` or `yes_no` question: 422 `emergency_stop`;
- answers are stored on the report with the question as it was asked, so that a later change of
  the form never changes what a resident answered.

The questions live on the category row (a JSON list), so a submission reads them with the
category itself: a category without questions costs no extra query.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from binjai_api.complaints.models import ComplaintCategory
from binjai_api.errors import Problem, field_errors
from binjai_api.extensions import db
from binjai_api.i18n import gettext, negotiated_language

MAX_QUESTIONS = 20
MAX_TEXT_ANSWER = 1000
# Open311 attributes the service definition already carries (open311/service.py): a question may
# not take their codes, since both arrive as `attribute[code]`.
RESERVED_CODES = ("type", "privacy", "title", "kelurahan_code")


class QuestionKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"
    YES_NO = "yes_no"
    DATE = "date"


# GeoReport v2 attribute datatypes (http://wiki.open311.org/GeoReport_v2#GET_Service_Definition).
OPEN311_DATATYPES: Mapping[str, str] = {
    QuestionKind.TEXT: "text",
    QuestionKind.NUMBER: "number",
    QuestionKind.CHOICE: "singlevaluelist",
    QuestionKind.YES_NO: "singlevaluelist",
    QuestionKind.DATE: "datetime",
}
_YES = ("true", "yes", "ya", "1")
_NO = ("false", "no", "tidak", "0")


def _localized(english: str | None, indonesian: str | None) -> str | None:
    return english if negotiated_language() == "en" and english else indonesian


# --- the form, as admins and operators set it ---------------------------------------------------


def set_form(
    *,
    category_id: uuid.UUID,
    questions: Sequence[Mapping[str, Any]],
    notice: str | None = None,
    notice_en: str | None = None,
    stop_message: str | None = None,
    stop_message_en: str | None = None,
) -> ComplaintCategory:
    """Replace a category's questions, notice and stop (the shape is checked by the schema;
    the rules across fields here)."""
    from binjai_api.complaints import service  # the categories' own service

    category = service.get_category(category_id, lock=True)
    errors = form_errors(questions)
    if stop_message_en and not stop_message:
        errors["stop_message"] = [gettext("Give the stop message in Indonesian too.")]
    if errors:
        raise field_errors(errors)
    category.questions = [_stored_question(question) for question in questions]
    category.notice, category.notice_en = notice or None, notice_en or None
    category.stop_message, category.stop_message_en = stop_message or None, stop_message_en or None
    db.session.commit()
    return category


def form_errors(questions: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Rules across a question's fields: choices for a choice, stops only on listed values."""
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for index, question in enumerate(questions):
        where = f"questions.{index}"
        code, kind = question["code"], question["kind"]
        if code in seen:
            errors[f"{where}.code"] = [gettext("Codes must be unique.")]
        seen.add(code)
        if code in RESERVED_CODES:
            errors[f"{where}.code"] = [
                gettext("This code is reserved: %(codes)s.", codes=", ".join(RESERVED_CODES))
            ]
        choices = question.get("choices") or []
        if kind == QuestionKind.CHOICE and len(choices) < 2:
            errors[f"{where}.choices"] = [gettext("A choice question needs at least 2 choices.")]
        if kind != QuestionKind.CHOICE and choices:
            errors[f"{where}.choices"] = [gettext("Only a choice question has choices.")]
        values = [choice["value"] for choice in choices]
        if len(values) != len(set(values)):
            errors[f"{where}.choices"] = [gettext("Choice values must be unique.")]
        low, high = question.get("min"), question.get("max")
        if (low is not None or high is not None) and kind != QuestionKind.NUMBER:
            errors[f"{where}.min"] = [gettext("Only a number question has a minimum or maximum.")]
        if low is not None and high is not None and low > high:
            errors[f"{where}.min"] = [gettext("The minimum is above the maximum.")]
        stops = question.get("stop_values") or []
        allowed = values if kind == QuestionKind.CHOICE else ["true", "false"]
        if stops and kind not in (QuestionKind.CHOICE, QuestionKind.YES_NO):
            errors[f"{where}.stop_values"] = [
                gettext("Only choice and yes/no answers can stop a submission.")
            ]
        elif any(value not in allowed for value in stops):
            errors[f"{where}.stop_values"] = [
                gettext("Stop values must be among: %(values)s.", values=", ".join(allowed))
            ]
        if stops and not question.get("stop_message"):
            errors[f"{where}.stop_message"] = [gettext("Give the message shown on a stop.")]
    return errors


def _stored_question(question: Mapping[str, Any]) -> dict[str, Any]:
    kind = question["kind"]
    return {
        "code": question["code"],
        "kind": kind,
        "label": question["label"],
        "label_en": question["label_en"],
        "help": question.get("help"),
        "help_en": question.get("help_en"),
        "required": bool(question.get("required", False)),
        "private": bool(question.get("private", False)),
        "choices": [dict(choice) for choice in question.get("choices") or []],
        "min": _whole(question.get("min")),
        "max": _whole(question.get("max")),
        "unit": question.get("unit"),
        "stop_values": list(question.get("stop_values") or []),
        "stop_message": question.get("stop_message"),
        "stop_message_en": question.get("stop_message_en"),
    }


def _whole(number: float | None) -> int | float | None:
    """A bound as the admin meant it: 500, not 500.0."""
    return int(number) if number is not None and float(number).is_integer() else number


# --- answers, at submission ---------------------------------------------------------------------


def emergency_stop(message: str | None, message_en: str | None, *, code: str | None) -> Problem:
    """422 `emergency_stop`: the submission is refused and the resident is told what to do."""
    text = _localized(message_en, message) or gettext("This report cannot be submitted here.")
    return Problem(
        422,
        "emergency_stop",
        text,
        extra={"stop_message": text, "question_code": code},
    )


def check_answers(
    category: ComplaintCategory, answers: Mapping[str, Any] | None
) -> tuple[list[dict[str, Any]] | None, dict[str, list[str]]]:
    """The answers as stored on the report (None when the category asks nothing) and the
    errors of the answers, by field (`answers.<code>`).

    A stop raises at once and wins over every other error: whoever answered "lives at risk"
    must read the emergency message, whatever else is missing."""
    if category.stop_message:
        raise emergency_stop(category.stop_message, category.stop_message_en, code=None)
    questions = category.questions or []
    answers = answers or {}
    if not questions and not answers:
        return None, {}
    by_code = {question["code"]: question for question in questions}
    errors: dict[str, list[str]] = {
        f"answers.{code}": [gettext("Unknown question.")] for code in answers if code not in by_code
    }
    values: dict[str, Any] = {}
    for question in questions:
        raw = answers.get(question["code"])
        if raw is None or raw == "":
            continue
        try:
            values[question["code"]] = _coerce(question, raw)
        except ValueError as error:
            errors[f"answers.{question['code']}"] = [str(error)]
    for question in questions:
        value = values.get(question["code"])
        if value is not None and _stop_key(value) in (question.get("stop_values") or []):
            raise emergency_stop(
                question.get("stop_message"), question.get("stop_message_en"), code=question["code"]
            )
    for question in questions:
        where = f"answers.{question['code']}"
        if question["required"] and question["code"] not in values and where not in errors:
            errors[where] = [gettext("This question must be answered.")]
    stored = [
        _stored_answer(question, values[question["code"]])
        for question in questions
        if question["code"] in values
    ]
    return stored or None, errors


def _stop_key(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _coerce(question: Mapping[str, Any], raw: Any) -> Any:
    """An answer of the question's type; strings are accepted for every type (Open311 posts
    form fields)."""
    kind = question["kind"]
    if kind == QuestionKind.TEXT:
        if not isinstance(raw, str) or len(raw.strip()) > MAX_TEXT_ANSWER:
            raise ValueError(gettext("Give a text of at most 1,000 characters."))
        return raw.strip()
    if kind == QuestionKind.NUMBER:
        number = _number(raw)
        low, high = question.get("min"), question.get("max")
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(
                gettext(
                    "Give a number from %(min)s to %(max)s.",
                    min=low if low is not None else "-",
                    max=high if high is not None else "-",
                )
            )
        return number
    if kind == QuestionKind.YES_NO:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _YES or text in _NO:
            return text in _YES
        raise ValueError(gettext("Answer yes (true) or no (false)."))
    if kind == QuestionKind.DATE:
        try:
            text = str(raw).strip()
            return (
                date.fromisoformat(text)
                if len(text) == 10
                else datetime.fromisoformat(text.replace("Z", "+00:00")).date()
            ).isoformat()
        except ValueError:
            raise ValueError(gettext("Give a date as YYYY-MM-DD.")) from None
    values = [choice["value"] for choice in question.get("choices") or []]
    if str(raw) not in values:
        raise ValueError(gettext("Choose one of: %(values)s.", values=", ".join(values)))
    return str(raw)


def _number(raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise ValueError(gettext("Give a number."))
    if isinstance(raw, int | float):
        number = raw
    else:
        try:
            number = float(str(raw).strip().replace(",", "."))
        except ValueError:
            raise ValueError(gettext("Give a number.")) from None
    if not math.isfinite(number):
        raise ValueError(gettext("Give a number."))
    return int(number) if float(number).is_integer() else number


def _stored_answer(question: Mapping[str, Any], value: Any) -> dict[str, Any]:
    label = label_en = None
    if question["kind"] == QuestionKind.CHOICE:
        choice = next(c for c in question["choices"] if c["value"] == value)
        label, label_en = choice["label"], choice["label_en"]
    elif question["kind"] == QuestionKind.YES_NO:
        label, label_en = ("Ya", "Yes") if value else ("Tidak", "No")
    return {
        "code": question["code"],
        "kind": question["kind"],
        "question": question["label"],
        "question_en": question["label_en"],
        "unit": question.get("unit"),
        "private": question["private"],
        "value": value,
        "value_label": label,
        "value_label_en": label_en,
    }


# --- answers, as each reader sees them ----------------------------------------------------------


def answers_view(stored: Sequence[Mapping[str, Any]] | None, *, staff: bool) -> list[Any]:
    """A report's answers in the reader's language; private ones only for staff."""
    return [
        {
            "code": answer["code"],
            "kind": answer["kind"],
            "question": _localized(answer["question_en"], answer["question"]),
            "value": answer["value"],
            "value_label": _localized(answer.get("value_label_en"), answer.get("value_label")),
            "unit": answer.get("unit"),
            "private": answer["private"],
        }
        for answer in stored or []
        if staff or not answer["private"]
    ]


def answers_text(stored: Sequence[Mapping[str, Any]] | None) -> str:
    """The answers in one spreadsheet cell: `code=value; ...` (staff's CSV, private included)."""
    return "; ".join(f"{answer['code']}={_stop_key(answer['value'])}" for answer in stored or [])


# --- Open311 ------------------------------------------------------------------------------------


def open311_attributes(category: ComplaintCategory, *, first_order: int) -> list[dict[str, Any]]:
    """The category's questions as GeoReport v2 attributes, after the built-in ones."""
    attributes = []
    for offset, question in enumerate(category.questions or []):
        kind = question["kind"]
        values: list[dict[str, str]] = []
        if kind == QuestionKind.CHOICE:
            values = [
                {"key": c["value"], "name": _localized(c["label_en"], c["label"]) or c["value"]}
                for c in question["choices"]
            ]
        elif kind == QuestionKind.YES_NO:
            values = [
                {"key": "true", "name": gettext("Yes")},
                {"key": "false", "name": gettext("No")},
            ]
        description = _localized(question["label_en"], question["label"]) or question["code"]
        if question.get("private"):
            description = gettext("%(question)s (seen by staff only)", question=description)
        attributes.append(
            {
                "variable": True,
                "code": question["code"],
                "datatype": OPEN311_DATATYPES[kind],
                "required": bool(question["required"]),
                "datatype_description": _datatype_description(question),
                "order": first_order + offset,
                "description": description,
                "values": values,
            }
        )
    return attributes


def _datatype_description(question: Mapping[str, Any]) -> str | None:
    kind = question["kind"]
    if kind == QuestionKind.NUMBER:
        low, high, unit = question.get("min"), question.get("max"), question.get("unit")
        text = gettext(
            "A number from %(min)s to %(max)s",
            min=low if low is not None else "-",
            max=high if high is not None else "-",
        )
        return f"{text} ({unit})" if unit else text
    if kind == QuestionKind.DATE:
        return gettext("A date, YYYY-MM-DD")
    if kind == QuestionKind.YES_NO:
        return gettext("true or false")
    return _localized(question.get("help_en"), question.get("help"))
