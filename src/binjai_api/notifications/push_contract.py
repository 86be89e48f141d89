"""The push contract with the app, written out from kinds.py into docs/push-notifications.md.

The document's tables are generated between two markers; the rest is prose. A test fails when
the document and the tables disagree; rewrite it with:

    .venv/bin/python -m binjai_api.notifications.push_contract --write
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from flask_babel import force_locale

from binjai_api.config import PROJECT_DIR
from binjai_api.notifications.kinds import CHANNELS, KINDS

DOC_PATH = PROJECT_DIR / "docs" / "push-notifications.md"
BEGIN = "<!-- generated from notifications/kinds.py: begin -->"
END = "<!-- generated from notifications/kinds.py: end -->"

# The FCM `data` of every push (all values are strings, as FCM requires).
PUSH_DATA_KEYS: Mapping[str, str] = {
    "kind": "What the notification is about: a code of the kinds table below.",
    "notification_id": "The inbox entry (`GET /api/v1/notifications/{notification_id}`); "
    "the same on every device of the account. The app de-duplicates on it.",
    "resource_type": "The screen's resource (`complaints`, `permit-applications`, "
    "`queue-bookings`, `facilities`), or empty when the entry links to itself.",
    "resource_id": "The id of that resource, or empty.",
    "link": "The deep link to open on tap, as in the kinds table (`binjai://complaints/5f0c...`).",
}


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def render_tables() -> str:
    """The generated part of the document (needs an app context for the translated names)."""
    lines = ["### FCM data keys", "", _row("Key", "Value"), _row("---", "---")]
    lines += [_row(f"`{key}`", text) for key, text in PUSH_DATA_KEYS.items()]
    lines += [
        "",
        "### Android channels and iOS categories",
        "",
        _row("Android channel id", "iOS category", "Name (id)", "Name (en)", "Importance"),
        _row("---", "---", "---", "---", "---"),
    ]
    for channel in CHANNELS.values():
        with force_locale("id"):
            name_id = str(channel.name)
        with force_locale("en"):
            name_en = str(channel.name)
        lines.append(
            _row(
                f"`{channel.android_channel_id}`",
                f"`{channel.ios_category}`",
                name_id,
                name_en,
                "high" if channel.high_importance else "default",
            )
        )
    lines += [
        "",
        "### Kinds",
        "",
        _row("Kind", "Android channel", "iOS category", "Priority", "Deep link", "Muteable"),
        _row("---", "---", "---", "---", "---", "---"),
    ]
    for kind in KINDS.values():
        lines.append(
            _row(
                f"`{kind.code}`",
                f"`{kind.android_channel}`",
                f"`{kind.ios_category}`",
                "high" if kind.high_priority else "normal",
                f"`{kind.deep_link_template}`",
                "yes" if kind.optional else "no",
            )
        )
    return "\n".join(lines) + "\n"


def generated_part(document: str) -> str:
    """What the document holds between its markers."""
    start = document.index(BEGIN) + len(BEGIN)
    return document[start : document.index(END)].strip("\n") + "\n"


def write(path: Path = DOC_PATH) -> None:
    document = path.read_text(encoding="utf-8")
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    path.write_text(f"{head}{BEGIN}\n{render_tables()}{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"rewrite {DOC_PATH}")
    arguments = parser.parse_args()
    from binjai_api import create_app

    with create_app().app_context():
        if arguments.write:
            write()
        else:
            print(render_tables(), end="")


if __name__ == "__main__":
    main()
