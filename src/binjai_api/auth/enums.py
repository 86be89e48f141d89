"""Roles and API scopes: the vocabulary of access rules."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"  # belongs to one agency (OPD)
    OPERATOR = "operator"  # Binjai Command Center: sees every agency
    ADMIN = "admin"


STAFF_ROLES = (Role.OFFICER, Role.OPERATOR, Role.ADMIN)


class ApiScope(StrEnum):
    """What an integrator's API client may do. New scopes are added, never renamed, within v1."""

    AGENCIES_READ = "agencies:read"
    COMPLAINTS_READ = "complaints:read"
    COMPLAINTS_WRITE = "complaints:write"
    FACILITIES_READ = "facilities:read"
    PERMITS_VERIFY = "permits:verify"
    OPS_READ = "ops:read"
    WEBHOOKS_MANAGE = "webhooks:manage"  # register webhook endpoints (webhooks/)


class Language(StrEnum):
    ID = "id"
    EN = "en"
