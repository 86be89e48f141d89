"""The demo categories and the people of a complaint's life: residents, officers, an operator."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from binjai_api.complaints import service
from binjai_api.extensions import db
from tests import factories


@dataclass(frozen=True)
class Person:
    id: str
    headers: dict[str, str]


@pytest.fixture
def categories(app: Flask, rollback_db: None) -> dict[str, str]:
    """The demo categories, by code."""
    with app.app_context():
        service.seed_categories()
        found = db.session.scalars(service.categories_query(include_inactive=True))
        return {category.code: str(category.id) for category in found}


def make_person(app: Flask, client: FlaskClient, role: str = "citizen", **fields: str) -> Person:
    account = factories.make_account(app, role, **fields)
    return Person(account.id, factories.login_headers(client, account))


@pytest.fixture
def resident(app: Flask, client: FlaskClient) -> Person:
    return make_person(app, client)


@pytest.fixture
def other_resident(app: Flask, client: FlaskClient) -> Person:
    return make_person(app, client)


@pytest.fixture
def operator(app: Flask, client: FlaskClient) -> Person:
    return make_person(app, client, "operator")


@pytest.fixture
def pupr_officer(app: Flask, client: FlaskClient) -> Person:
    return make_person(app, client, "officer", agency_code="PUPR")


@pytest.fixture
def perkim_officer(app: Flask, client: FlaskClient) -> Person:
    return make_person(app, client, "officer", agency_code="PERKIM")
