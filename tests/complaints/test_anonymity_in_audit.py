"""An anonymous reporter in the audit trail: their own actions carry a keyed pseudonym that
staff cannot reverse; no field, filter or CSV of the trail leads back to the account; the chain
still verifies; whoever holds the key links them with `flask audit-pseudonym`, outside the API."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.audit.helpers import AUDIT, records, seal
from tests.complaints.conftest import Person
from tests.complaints.helpers import act, submit


def expected_pseudonym(app: Flask, account_id: str) -> str:
    key = app.config["AUDIT_PSEUDONYM_KEY"].encode()
    return hmac.new(key, account_id.encode(), hashlib.sha256).hexdigest()


def as_text(record: Any) -> str:
    return json.dumps(
        {column: str(getattr(record, column)) for column in ("actor_id", "object_id", "request_id")}
        | {"before": record.before, "after": record.after},
        default=str,
    )


@pytest.fixture
def admin(app: Flask, client: FlaskClient) -> dict[str, str]:
    return factories.login_headers(client, factories.make_account(app, "admin"))


@pytest.fixture
def anonymous_report(
    app: Flask, client: FlaskClient, categories: dict[str, str], operator: Person
) -> tuple[factories.Account, str]:
    """A resident reports anonymously, the agency resolves, the resident reopens it, then rates
    the second resolution: every one of their own steps is audited."""
    account = factories.make_account(app)
    headers = factories.login_headers(client, account)
    cid = submit(client, headers, categories["road_damage"], privacy="anonymous")["id"]
    act(client, operator.headers, cid, "dispatch")
    act(client, operator.headers, cid, "resolve", note="Sudah diperbaiki")
    assert act(client, headers, cid, "reopen", note="Belum beres").status_code == 200
    act(client, operator.headers, cid, "resolve", note="Kali ini beres")
    assert act(client, headers, cid, "rate", rating=4).status_code == 200
    seal(app)
    return account, cid


def test_the_reporters_own_actions_carry_a_keyed_pseudonym(
    app: Flask, anonymous_report: tuple[factories.Account, str]
) -> None:
    account, cid = anonymous_report
    trail = records(app, object_type="complaints", object_id=cid)
    pseudonym = expected_pseudonym(app, account.id)
    own = [record for record in trail if record.actor_type == "pseudonym"]
    # The submission, the reopening and the rating.
    assert [record.action for record in own] == ["create", "update", "update"]
    assert {record.actor_id for record in own} == {pseudonym}
    assert all(record.actor_role is None for record in own)
    assert own[0].after is not None and own[0].after["reporter_id"] == pseudonym
    # Nothing about the report names the account: not its actor, object, values or request.
    for record in trail:
        assert account.id not in as_text(record)
    # Staff acting on the report remain themselves.
    assert {record.actor_type for record in trail} == {"pseudonym", "user"}


def test_no_filter_or_csv_of_the_trail_leads_back_to_the_account(
    app: Flask,
    client: FlaskClient,
    admin: dict[str, str],
    anonymous_report: tuple[factories.Account, str],
) -> None:
    account, cid = anonymous_report
    by_account = client.get(AUDIT, headers=admin, query_string={"actor_id": account.id})
    assert by_account.status_code == 200
    assert all(record["object_type"] != "complaints" for record in by_account.get_json())
    about_report = client.get(AUDIT, headers=admin, query_string={"object_id": cid})
    assert about_report.status_code == 200 and about_report.get_json()
    assert account.id not in about_report.get_data(as_text=True)
    csv = client.get(AUDIT, headers={**admin, "Accept": "text/csv"})
    assert csv.status_code == 200 and cid in csv.get_data(as_text=True)
    for line in csv.get_data(as_text=True).splitlines():
        assert not (cid in line and account.id in line)
    # The pseudonym is not an account the admin can open.
    pseudonym = expected_pseudonym(app, account.id)
    assert client.get(f"/api/v1/admin/accounts/{pseudonym}", headers=admin).status_code == 404


def test_a_public_reporter_is_recorded_as_themselves(
    app: Flask, client: FlaskClient, categories: dict[str, str]
) -> None:
    """The control: only anonymity hides the account."""
    account = factories.make_account(app)
    headers = factories.login_headers(client, account)
    cid = submit(client, headers, categories["waste"], privacy="public")["id"]
    seal(app)
    [created] = records(app, object_type="complaints", object_id=cid)
    assert (created.actor_type, created.actor_id) == ("user", account.id)
    assert created.after is not None and created.after["reporter_id"] == account.id


def test_the_chain_still_verifies(app: Flask, runner: Any, anonymous_report: Any) -> None:
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert "Audit trail intact" in result.output


def test_an_investigation_with_the_key_links_pseudonym_and_account(
    app: Flask, runner: Any, anonymous_report: tuple[factories.Account, str]
) -> None:
    account, cid = anonymous_report
    [created] = [
        r for r in records(app, object_type="complaints", object_id=cid) if r.action == "create"
    ]
    found = runner.invoke(args=["audit-pseudonym", "--pseudonym", str(created.actor_id)])
    assert found.exit_code == 0, found.output
    assert found.output.strip() == account.id
    shown = runner.invoke(args=["audit-pseudonym", "--account", account.id])
    assert shown.output.strip() == created.actor_id
    assert runner.invoke(args=["audit-pseudonym"]).exit_code != 0


def test_without_the_key_the_pseudonym_cannot_be_computed(
    app: Flask,
    runner: Any,
    monkeypatch: pytest.MonkeyPatch,
    anonymous_report: tuple[factories.Account, str],
) -> None:
    """Another key (anyone guessing it) gives other pseudonyms: the key is the only link."""
    account, _cid = anonymous_report
    real = expected_pseudonym(app, account.id)
    monkeypatch.setitem(app.config, "AUDIT_PSEUDONYM_KEY", "a-guess-" + "x" * 40)
    assert runner.invoke(args=["audit-pseudonym", "--account", account.id]).output.strip() != real
    lost = runner.invoke(args=["audit-pseudonym", "--pseudonym", real])
    assert lost.exit_code == 1
