"""Binjai demo data: regions (facts), agencies and accounts (demo). Loading twice adds nothing."""

from __future__ import annotations

import json
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
from binjai_api.extensions import db
from binjai_api.health import service as health_service
from binjai_api.licensing import service as licensing_service
from binjai_api.regions.models import Kecamatan, Kelurahan


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


def seed_demo_accounts() -> int:
    added = 0
    for account in demo_accounts():
        if db.session.scalar(sa.select(User.id).where(User.email == account["email"])):
            continue
        if account["role"] == Role.CITIZEN:
            user = auth_service.register_citizen(
                full_name=account["full_name"],
                nik=account["nik"],
                phone=account["phone"],
                email=account["email"],
                password=account["password"],
            )
            auth_service.update_profile(
                user=user,
                changes={"kelurahan_code": account.get("kelurahan_code")},
                fresh_login=True,
            )
        else:
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
            )
        added += 1
    return added


def seed_demo() -> dict[str, int]:
    """Load everything; safe to run on every start."""
    return {
        "regions": seed_regions(),
        "agencies": seed_agencies(),
        "accounts": seed_demo_accounts(),
        "permit_types": licensing_service.seed_demo_permit_types(),
        "complaint_categories": complaints_service.seed_categories(),
        "complaint_reply_templates": complaint_reply_templates.seed_demo_templates(),
        "health_facilities": health_service.seed_demo_facilities(),
    }
