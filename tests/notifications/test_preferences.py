"""Preferences: mute optional kinds, never updates about one's own cases; follow topics."""

from __future__ import annotations

from typing import Any

from tests.platform.test_errors import assert_problem

PATH = "/api/v1/me/notification-preferences"


def test_nothing_is_muted_or_followed_at_first(client: Any, auth_headers: Any) -> None:
    response = client.get(PATH, headers=auth_headers("citizen"))
    assert response.status_code == 200
    assert response.json == {"muted_kinds": [], "topics": []}


def test_preferences_are_replaced_as_a_whole(client: Any, auth_headers: Any) -> None:
    headers = auth_headers("citizen")
    first = {"muted_kinds": ["announcement"], "topics": ["lingkungan", "kesehatan"]}
    assert client.put(PATH, json=first, headers=headers).json == {
        "muted_kinds": ["announcement"],
        "topics": ["kesehatan", "lingkungan"],
    }
    second = {"muted_kinds": [], "topics": ["kesehatan", "kesehatan"]}
    assert client.put(PATH, json=second, headers=headers).status_code == 200
    assert client.get(PATH, headers=headers).json == {"muted_kinds": [], "topics": ["kesehatan"]}


def test_updates_about_my_own_account_cannot_be_muted(client: Any, auth_headers: Any) -> None:
    response = client.put(
        PATH, json={"muted_kinds": ["password_changed"], "topics": []}, headers=auth_headers()
    )
    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"]["json"]["muted_kinds"] == [
        "Kabar tentang urusan dan akun Anda sendiri tidak dapat dibisukan: password_changed."
    ]


def test_unknown_kinds_and_topics_are_refused(client: Any, auth_headers: Any) -> None:
    response = client.put(
        PATH, json={"muted_kinds": ["spam"], "topics": ["astrology"]}, headers=auth_headers()
    )
    problem = assert_problem(response, 422, "validation_error")
    assert set(problem["errors"]["json"]) == {"muted_kinds.0", "topics.0"}


def test_preferences_are_my_own(client: Any, auth_headers: Any) -> None:
    mine, other = auth_headers("citizen"), auth_headers("citizen")
    client.put(PATH, json={"muted_kinds": ["announcement"], "topics": []}, headers=mine)
    assert client.get(PATH, headers=other).json == {"muted_kinds": [], "topics": []}
    assert_problem(client.get(PATH), 401, "missing_token")
