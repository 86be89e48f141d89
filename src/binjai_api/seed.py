"""Binjai demo data: regions (facts), agencies and accounts (demo). Loading twice adds nothing,
and loading never fails because of what residents and staff changed since (`make run` seeds on
every start)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from importlib import resources
from typing import Any

import sqlalchemy as sa

from binjai_api.agencies import service as agencies_service
from binjai_api.agencies.models import Agency
from binjai_api.auth import service as auth_service
from binjai_api.auth.enums import Role
from binjai_api.auth.models import User
from binjai_api.complaints import reply_templates as complaint_reply_templates
from binjai_api.complaints import service as complaints_service
from binjai_api.demo_history import seed_demo_history
from binjai_api.errors import Problem
from binjai_api.extensions import db
from binjai_api.health import service as health_service
from binjai_api.licensing import service as licensing_service
from binjai_api.quality import demo as quality_demo
from binjai_api.regions.models import Kecamatan, Kelurahan

log = logging.getLogger("binjai_api.seed")

# Demo accounts get ids derived from their entry in demo_accounts.json: the one thing about an
# account nobody can change through the API (name, phone, email, password, role and agency can).
DEMO_ACCOUNT_NAMESPACE = uuid.UUID("6f1c2b7e-55a4-4f0e-9a57-3d1e0b6f2c11")


def _load(name: str) -> dict[str, Any]:
    text = resources.files("binjai_api").joinpath(f"seed/{name}").read_text("utf-8")
    return dict(json.loads(text))


def seed_regions() -> int:
    """Kecamatan and kelurahan of Kota Binjai (Kemendagri codes). Returns how many were added."""
    added = 0
    for kecamatan in _load("regions.json")["kecamatan"]:
        if db.session.get(Kecamatan, kecamatan["code"]) is None:
            db.session.add(Kecamatan(code=kecamatan["code"], name=kecamatan["name"]))
            added += 1
        for kelurahan in kecamatan["kelurahan"]:
            if db.session.get(Kelurahan, kelurahan["code"]) is None:
                db.session.add(
                    Kelurahan(
                        code=kelurahan["code"],
                        name=kelurahan["name"],
                        kecamatan_code=kecamatan["code"],
                    )
                )
                added += 1
    db.session.commit()
    return added


def seed_agencies() -> int:
    added = 0
    for agency in _load("agencies.json")["agencies"]:
        if db.session.scalar(sa.select(Agency.id).where(Agency.code == agency["code"])) is None:
            agencies_service.create_agency(**agency)
            added += 1
    return added


def demo_accounts() -> list[dict[str, Any]]:
    return list(_load("demo_accounts.json")["accounts"])


def demo_account_id(account: dict[str, Any]) -> uuid.UUID:
    """The id a demo account is created with, from its entry (its email as listed there)."""
    return uuid.uuid5(DEMO_ACCOUNT_NAMESPACE, str(account["email"]).lower())


def _demo_account_exists(account: dict[str, Any]) -> bool:
    """Found by its id; or, seeded before ids were derived, by its NIK (which never changes) or
    its listed email."""
    if db.session.get(User, demo_account_id(account)) is not None:
        return True
    if account.get("nik") and db.session.scalar(
        sa.select(User.id).where(User.nik == account["nik"])
    ):
        return True
    return db.session.scalar(sa.select(User.id).where(User.email == account["email"])) is not None


def _create_demo_account(account: dict[str, Any]) -> None:
    account_id = demo_account_id(account)
    if account["role"] == Role.CITIZEN:
        user = auth_service.register_citizen(
            full_name=account["full_name"],
            nik=account["nik"],
            phone=account["phone"],
            email=account["email"],
            password=account["password"],
            account_id=account_id,
        )
        auth_service.update_profile(
            user=user,
            changes={"kelurahan_code": account.get("kelurahan_code")},
            fresh_login=True,
        )
        return
    agency_id = None
    if account.get("agency_code"):
        agency_id = db.session.scalar(
            sa.select(Agency.id).where(Agency.code == account["agency_code"])
        )
    auth_service.create_staff(
        full_name=account["full_name"],
        email=account["email"],
        password=account["password"],
        role=account["role"],
        agency_id=agency_id,
        account_id=account_id,
    )


def seed_demo_accounts() -> int:
    """The demo accounts not there yet. One whose phone or email now belongs to someone else (a
    resident took it after the demo account changed its own) is left out, with a warning."""
    added = 0
    for account in demo_accounts():
        if _demo_account_exists(account):
            continue
        try:
            _create_demo_account(account)
        except Problem as problem:
            db.session.rollback()
            log.warning("demo account %s not created: %s", account["email"], problem.code)
            continue
        added += 1
    return added


def _tolerant(name: str, load: Callable[[], int]) -> int:
    """Run one kind of demo data; if staff changed its records so that it cannot be loaded as
    listed (a code or name taken by an edited record), leave it as they made it and go on."""
    try:
        return load()
    except (Problem, sa.exc.IntegrityError, KeyError) as error:
        db.session.rollback()
        log.warning("demo %s left as they are: %s", name, type(error).__name__)
        return 0


def seed_demo() -> dict[str, int]:
    """Load everything; safe to run on every start."""
    return {
        "regions": _tolerant("regions", seed_regions),
        "agencies": _tolerant("agencies", seed_agencies),
        "accounts": _tolerant("accounts", seed_demo_accounts),
        "permit_types": _tolerant("permit_types", licensing_service.seed_demo_permit_types),
        "complaint_categories": _tolerant(
            "complaint_categories", complaints_service.seed_categories
        ),
        "complaint_reply_templates": _tolerant(
            "complaint_reply_templates", complaint_reply_templates.seed_demo_templates
        ),
        "health_facilities": _tolerant("health_facilities", health_service.seed_demo_facilities),
        "survey_answers": _tolerant(
            "survey_answers",
            lambda: quality_demo.seed_demo_answers(resident_id=_demo_resident_id()),
        ),
        "history": _tolerant(
            "history", lambda: sum(seed_demo_history(resident_id=_demo_resident_id()).values())
        ),
    }


def _demo_resident_id() -> uuid.UUID | None:
    """The demo resident's id, if that account exists (the demo SKM answers are theirs)."""
    for account in demo_accounts():
        if account["role"] == Role.CITIZEN and _demo_account_exists(account):
            user = db.session.get(User, demo_account_id(account))
            return user.id if user is not None else None
    return None
