"""docs/integrating.md: every topic with a curl example, every example's operation in the spec,
and no link that leaves the repository; the README points to it."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "integrating.md"
TOPICS = (
    "Tokens",
    "Idempotency",
    "Paging and sync",
    "ETags and polling",
    "Errors",
    "Rate limits",
    "Open311 GeoReport v2",
    "Push notifications",
)
# `curl ... [-X METHOD] ... "$API/path?query"`, on one line, as the guide writes them.
_CURL = re.compile(r"^curl (?P<options>[^\n]*?)\"\$API(?P<path>/[^\"?]*)", re.MULTILINE)
_METHOD = re.compile(r"-X ([A-Z]+)")


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## \d+\. (.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_topic_has_its_section_with_a_curl_example() -> None:
    sections = _sections(GUIDE.read_text("utf-8"))
    assert tuple(sections) == TOPICS
    for topic, body in sections.items():
        assert re.search(r"```sh\n(?:[^`]*\n)?curl ", body), topic


def test_every_example_calls_an_operation_of_the_spec(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    examples = _CURL.findall(GUIDE.read_text("utf-8"))
    assert len(examples) >= 15
    for options, path in examples:
        explicit = _METHOD.search(options)
        method = explicit.group(1) if explicit else ("POST" if " -d " in options else "GET")
        path = re.sub(r"<[^>]+>", "{}", path)
        path = re.sub(r"\.json$", ".{}", path) if path.startswith("/open311") else path
        assert (method, path) in operations, f"{method} {path}"


def test_the_guide_and_the_readme_link_only_inside_the_repository() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "## Integrating" in readme and "(docs/integrating.md)" in readme
    for document in (GUIDE, ROOT / "docs" / "push-notifications.md"):
        for target in re.findall(r"\]\(([^)]+)\)", document.read_text("utf-8")):
            assert "://" not in target, target
            assert (document.parent / target).exists(), target
