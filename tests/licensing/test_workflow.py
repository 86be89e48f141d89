"""The state machine is one table, read by the code and rendered in the API docs."""

from __future__ import annotations

from flask import Flask

from binjai_api.licensing.workflow import (
    STATUSES,
    TRANSITIONS,
    USER_ACTIONS,
    Action,
    Clock,
    Status,
    markdown_table,
)
from binjai_api.notifications.kinds import KINDS


def test_every_status_is_described_and_every_open_one_has_a_way_out() -> None:
    assert set(STATUSES) == set(Status)
    exits = {transition.from_status for transition in TRANSITIONS}
    for status, rule in STATUSES.items():
        assert (status in exits) == (
            status != Status.REJECTED and status != Status.WITHDRAWN and status != Status.REVOKED
        ), status
        if rule.clock in (Clock.RUNNING, Clock.PAUSED):
            assert rule.step is not None and rule.waiting_on is not None, status


def test_every_transition_notifies_the_applicant_with_a_known_kind() -> None:
    for transition in TRANSITIONS:
        assert transition.notification in KINDS, transition
        assert not KINDS[transition.notification].optional


def test_no_two_transitions_compete_for_the_same_case() -> None:
    seen = set()
    for t in TRANSITIONS:
        key = (t.action, t.from_status, t.when)
        assert key not in seen, key
        seen.add(key)
    assert Action.CONFIRM_PAYMENT not in USER_ACTIONS


def test_the_api_docs_show_the_table(app: Flask) -> None:
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/permit-applications/{application_id}/transitions"]["post"]
    assert markdown_table() in operation["description"]
    schema = spec["components"]["schemas"]["PermitTransition"]["properties"]["action"]
    enum = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert enum["enum"] == [str(action) for action in USER_ACTIONS]
