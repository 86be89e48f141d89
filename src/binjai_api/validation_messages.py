"""Marshmallow's and webargs' own validation messages, in the reader's language.

The libraries format their English messages before the error reaches us ("Must be one of: a, b.",
"Longer than maximum length 200."), so a plain catalog lookup cannot find them. Each template
below is the library's English text, listed for the catalog; `translate` recognises a formatted
message by its template and formats the translated template with the same values. The app's own
messages are already translated where they are raised and pass through unchanged.
tests/platform/test_validation_messages.py walks every schema's fields and validators and fails on
a message that still reads the same in Indonesian as in English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from flask_babel import LazyString

from binjai_api.i18n import gettext, lazy_gettext

# Messages with no values, exactly as the libraries write them.
EXACT_MESSAGES: tuple[LazyString, ...] = (
    lazy_gettext("Missing data for required field."),
    lazy_gettext("Field may not be null."),
    lazy_gettext("Invalid value."),
    lazy_gettext("Invalid input."),
    lazy_gettext("Unknown field."),
    lazy_gettext("Invalid input type."),
    lazy_gettext("Invalid type."),
    lazy_gettext("Invalid JSON body."),
    lazy_gettext("Not a valid string."),
    lazy_gettext("Not a valid utf-8 string."),
    lazy_gettext("Not a valid integer."),
    lazy_gettext("Not a valid number."),
    lazy_gettext("Number too large."),
    lazy_gettext("Special numeric values (nan or infinity) are not permitted."),
    lazy_gettext("Not a valid boolean."),
    lazy_gettext("Not a valid UUID."),
    lazy_gettext("Not a valid email address."),
    lazy_gettext("Not a valid URL."),
    lazy_gettext("Not a valid datetime."),
    lazy_gettext("Not a valid aware datetime."),
    lazy_gettext("Not a valid naive datetime."),
    lazy_gettext("Not a valid date."),
    lazy_gettext("Not a valid time."),
    lazy_gettext("Not a valid period of time."),
    lazy_gettext("Not a valid list."),
    lazy_gettext("Not a valid tuple."),
    lazy_gettext("Not a valid mapping type."),
    lazy_gettext("String does not match expected pattern."),
)

# Messages formatted with values: `{name}` stands for the value, kept as the library wrote it.
TEMPLATES: tuple[LazyString, ...] = (
    lazy_gettext("Must be one of: {choices}."),
    lazy_gettext("Shorter than minimum length {min}."),
    lazy_gettext("Longer than maximum length {max}."),
    lazy_gettext("Length must be between {min} and {max}."),
    lazy_gettext("Length must be {equal}."),
    lazy_gettext("Must be greater than or equal to {min} and less than or equal to {max}."),
    lazy_gettext("Must be greater than or equal to {min} and less than {max}."),
    lazy_gettext("Must be greater than {min} and less than or equal to {max}."),
    lazy_gettext("Must be greater than {min} and less than {max}."),
    lazy_gettext("Must be greater than or equal to {min}."),
    lazy_gettext("Must be greater than {min}."),
    lazy_gettext("Must be less than or equal to {max}."),
    lazy_gettext("Must be less than {max}."),
    lazy_gettext("Must be equal to {other}."),
    lazy_gettext("One or more of the choices you made was not in: {choices}."),
    lazy_gettext("One or more of the choices you made was in: {values}."),
    lazy_gettext("Not a valid {obj_type}."),
    lazy_gettext("Not a valid {awareness} {obj_type}."),
    lazy_gettext('"{input}" cannot be formatted as a {obj_type}.'),
    lazy_gettext("{input} cannot be formatted as a timedelta."),
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Template:
    english: str
    pattern: re.Pattern[str]
    message: LazyString


@cache
def _templates() -> tuple[_Template, ...]:
    """The templates as patterns, the most literal first ("greater than or equal to {min}"
    before "greater than {min}")."""
    compiled = []
    for message in TEMPLATES:
        english = message._args[0]  # the msgid, whatever the current locale
        parts = _PLACEHOLDER.split(english)
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
            for index, part in enumerate(parts)
        )
        compiled.append(_Template(english, re.compile(f"^{regex}$", re.DOTALL), message))
    literal = lambda template: len(_PLACEHOLDER.sub("", template.english))  # noqa: E731
    return tuple(sorted(compiled, key=literal, reverse=True))


def _fill(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), template)


def translate(message: str) -> str:
    """`message` in the current language: a library's message translated, values kept; any
    other message (already translated, or unknown) as gettext has it."""
    exact = gettext(message)
    if exact != message:
        return exact
    for template in _templates():
        match = template.pattern.match(message)
        if match:
            return _fill(gettext(template.english), match.groupdict())
    return message
