"""Accounts, sessions, staff and API clients."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_jwt_extended import get_jwt
from flask_smorest.utils import get_appcontext

from binjai_api import access, idempotency
from binjai_api.auth import principals, service
from binjai_api.auth.enums import Role
from binjai_api.auth.schemas import (
    REGISTER_EXAMPLE,
    AccountQueryArgsSchema,
    AccountRolePatchSchema,
    AccountSchema,
    ApiClientCreatedSchema,
    ApiClientCreateSchema,
    ApiClientSchema,
    ClientCredentialsSchema,
    ClientTokenSchema,
    LoginSchema,
    MePatchSchema,
    PasswordChangeSchema,
    RefreshSchema,
    RegisterSchema,
    StaffAccountSchema,
    StaffCreateSchema,
    TokenPairSchema,
)
from binjai_api.config import API_V1_STR
from binjai_api.openapi import Blueprint
from binjai_api.pagination import SelectPage
from binjai_api.ratelimit import (
    client_address,
    client_id_key,
    is_conflict,
    limit_by,
    login_account,
    registration_identity,
)

blp = Blueprint(
    "auth", __name__, url_prefix=API_V1_STR, description="Accounts, login sessions and tokens."
)
admin_blp = Blueprint(
    "admin",
    __name__,
    url_prefix=f"{API_V1_STR}/admin",
    description="Staff accounts and integrators' API clients (admins).",
)


@blp.after_request
@admin_blp.after_request
def _never_cache(response: Any) -> Any:
    """Tokens and account data must not be kept by shared caches (RFC 6749 §5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _answer(answer: service.JsonAnswer) -> Response:
    """An answer written beforehand, through flask-smorest's ETag handling as a dump would go:
    304 when `If-None-Match` holds its ETag, else its body, the ETag set by `blp.etag`."""
    if blp._is_etag_enabled():
        blp._check_not_modified(answer.etag)
        get_appcontext().setdefault("etag", {})["etag"] = answer.etag
    return current_app.response_class(answer.body, mimetype=answer.mimetype)


def _caller_account() -> str:
    """The account changing its profile (the view's `access.authenticated` ran first)."""
    return f"account:{access.current_principal().id}"


@blp.route("/auth/register")
class RegisterView(MethodView):
    @access.public
    @limit_by("REGISTER_RATE_LIMIT", client_address)
    @limit_by("REGISTER_RATE_LIMIT", registration_identity)
    @limit_by("REGISTER_CONFLICT_RATE_LIMIT", client_address, deduct_when=is_conflict)
    @idempotency.idempotent
    @blp.arguments(RegisterSchema, example=REGISTER_EXAMPLE)
    @blp.response(201, AccountSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any]) -> Any:
        """Register a resident's account

        A NIK, phone number or email already registered answers 409 `nik_taken`, `phone_taken`
        or `email_taken`, so that the resident knows which detail to correct or to log in
        instead. Against account enumeration these answers are rationed: one client address gets
        at most `REGISTER_CONFLICT_RATE_LIMIT` of them (5 per hour), then 429 on every
        registration whatever its outcome, beside the limits per address and per NIK.
        """
        return service.register_citizen(**payload)


@blp.route("/auth/login")
class LoginView(MethodView):
    @access.public
    @limit_by("LOGIN_RATE_LIMIT", client_address)
    @limit_by("LOGIN_RATE_LIMIT", login_account)
    @blp.arguments(LoginSchema, example={"username": "081234567890", "password": "rahasia-ku-1"})
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, payload: dict[str, Any]) -> Any:
        """Log in with phone, email or NIK and a password"""
        return service.log_in(**payload)


@blp.route("/auth/refresh")
class RefreshView(MethodView):
    @access.public
    @limit_by("TOKEN_RATE_LIMIT", client_address)
    @blp.arguments(RefreshSchema, example={"refresh_token": "eyJhbGciOiJIUzI1NiIs..."})
    @blp.response(200, TokenPairSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    def post(self, payload: dict[str, Any]) -> Any:
        """Exchange a refresh token for a new pair (the old one is spent)"""
        return service.refresh_session(refresh_token=payload["refresh_token"])


@blp.route("/auth/logout")
class LogoutView(MethodView):
    @access.authenticated
    @blp.response(204)
    def post(self) -> None:
        """End this session on every instance"""
        service.log_out(principal=access.current_principal())


@blp.route("/auth/logout-all")
class LogoutAllView(MethodView):
    @access.authenticated
    @blp.response(204)
    @blp.doc(operationId="logOutAllSessions")
    def post(self) -> None:
        """End every session of your account, on every device"""
        service.log_out_everywhere(principal=access.current_principal())


@blp.route("/auth/token")
class ClientTokenView(MethodView):
    @access.public
    @limit_by("TOKEN_RATE_LIMIT", client_address)
    @limit_by("TOKEN_RATE_LIMIT", client_id_key)
    @blp.arguments(
        ClientCredentialsSchema,
        location="form",
        example={
            "grant_type": "client_credentials",
            "client_id": "bjc_5f0c6a1e2b7d4c43a1a8f3f7",
            "client_secret": "s3cr3t-shown-once",
            "scope": "complaints:read",
        },
    )
    @blp.response(200, ClientTokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(403, response="FORBIDDEN")
    def post(self, payload: dict[str, Any]) -> Any:
        """Get an access token for an API client (OAuth 2.0 client credentials)"""
        client_id, client_secret = payload.get("client_id"), payload.get("client_secret")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username
            client_secret = request.authorization.password
        return service.issue_client_token(
            client_id=client_id or "", client_secret=client_secret or "", scope=payload.get("scope")
        )


@blp.route("/me")
class MeView(MethodView):
    @principals.shows_caller_account
    @access.authenticated
    @blp.etag
    @blp.response(200, AccountSchema)
    def get(self) -> Any:
        """Read your own account"""
        return _answer(service.own_account_answer(access.current_principal().id))

    @principals.reads_caller_account
    @access.authenticated
    @limit_by("REGISTER_CONFLICT_RATE_LIMIT", _caller_account, deduct_when=is_conflict)
    @blp.etag
    @blp.arguments(MePatchSchema, example={"full_name": "Siti Aminah", "language": "en"})
    @blp.response(200, AccountSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, changes: dict[str, Any]) -> Any:
        """Update your own profile (phone and email need a fresh login)

        A phone number or email already registered to another account answers 409
        `phone_taken` or `email_taken`. Like registration's, these answers are rationed against
        account enumeration: one account gets at most `REGISTER_CONFLICT_RATE_LIMIT` of them
        (5 per hour), then 429 on every profile change.
        """
        user = service.get_user(access.current_principal().id, lock=True)
        blp.check_etag(user, AccountSchema)
        return service.update_profile(
            user=user, changes=changes, fresh_login=bool(get_jwt().get("fresh"))
        )


@blp.route("/me/password")
class PasswordView(MethodView):
    @principals.reads_caller_account
    @access.authenticated
    @blp.arguments(
        PasswordChangeSchema,
        example={"current_password": "lama-sekali-1", "new_password": "Baru-2026-aman"},
    )
    @blp.response(204)
    def post(self, payload: dict[str, Any]) -> None:
        """Change your password; every session of the account ends"""
        user = service.get_user(access.current_principal().id)
        service.change_password(user=user, **payload)


@admin_blp.route("/staff")
class StaffView(MethodView):
    @access.roles(Role.ADMIN)
    @idempotency.idempotent
    @admin_blp.arguments(
        StaffCreateSchema,
        example={
            "full_name": "Budi Santoso",
            "email": "budi@pupr.binjaikota.go.id",
            "password": "Petugas-PUPR-2026",
            "role": "officer",
            "agency_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        },
    )
    @admin_blp.response(201, StaffAccountSchema)
    @admin_blp.alt_response(409, response="CONFLICT")
    def post(self, payload: dict[str, Any]) -> Any:
        """Create an officer, operator or admin account"""
        return service.create_staff(**payload)


class AccountPage(SelectPage):
    """Accounts an admin sees; the page's personal data shown goes into the audit trail."""

    @property
    def items(self) -> list[Any]:
        return service.accounts_shown_to_admin(super().items)


@admin_blp.route("/accounts")
class AccountsView(MethodView):
    @access.roles(Role.ADMIN)
    @admin_blp.arguments(AccountQueryArgsSchema, location="query")
    @admin_blp.response(200, StaffAccountSchema(many=True))
    @admin_blp.paginate(AccountPage)
    def get(self, filters: dict[str, Any]) -> Any:
        """List accounts"""
        return service.accounts_query(**filters)


@admin_blp.route("/accounts/<uuid:account_id>")
class AccountByIdView(MethodView):
    @access.roles(Role.ADMIN)
    @admin_blp.response(200, StaffAccountSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    def get(self, account_id: uuid.UUID) -> Any:
        """Read an account"""
        return service.read_account(account_id=account_id)

    @access.roles(Role.ADMIN)
    @admin_blp.arguments(AccountRolePatchSchema, example={"role": "operator", "agency_id": None})
    @admin_blp.response(200, StaffAccountSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    @admin_blp.alt_response(409, response="CONFLICT")
    def patch(self, payload: dict[str, Any], account_id: uuid.UUID) -> Any:
        """Change a staff account's role or agency"""
        return service.change_account_role(
            account_id=account_id, acting_admin_id=access.current_principal().id, **payload
        )


@admin_blp.route("/accounts/<uuid:account_id>/deactivate")
class AccountDeactivateView(MethodView):
    @access.roles(Role.ADMIN)
    @admin_blp.response(200, StaffAccountSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    @admin_blp.alt_response(409, response="CONFLICT")
    def post(self, account_id: uuid.UUID) -> Any:
        """Deactivate an account; its tokens stop working at once"""
        return service.set_account_active(
            account_id=account_id, active=False, acting_admin_id=access.current_principal().id
        )


@admin_blp.route("/accounts/<uuid:account_id>/reactivate")
class AccountReactivateView(MethodView):
    @access.roles(Role.ADMIN)
    @admin_blp.response(200, StaffAccountSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    def post(self, account_id: uuid.UUID) -> Any:
        """Reactivate an account"""
        return service.set_account_active(
            account_id=account_id, active=True, acting_admin_id=access.current_principal().id
        )


@admin_blp.route("/api-clients")
class ApiClientsView(MethodView):
    @access.roles(Role.ADMIN)
    @admin_blp.response(200, ApiClientSchema(many=True))
    @admin_blp.paginate(SelectPage)
    def get(self) -> Any:
        """List integrators' API clients"""
        return service.api_clients_query()

    @access.roles(Role.ADMIN)
    @admin_blp.arguments(
        ApiClientCreateSchema, example={"name": "SP4N-LAPOR! bridge", "scopes": ["complaints:read"]}
    )
    @admin_blp.response(201, ApiClientCreatedSchema)
    def post(self, payload: dict[str, Any]) -> Any:
        """Register an API client; its secret is shown only in this answer

        Exception to the Idempotency-Key rule: a replay would have to keep the one-time secret
        in clear for 24 hours. An admin who loses the answer deactivates the client and makes
        another.
        """
        client, secret = service.create_api_client(
            created_by_id=access.current_principal().id, **payload
        )
        created = {name: getattr(client, name) for name in ApiClientSchema().fields}
        return {**created, "client_secret": secret}


@admin_blp.route("/api-clients/<uuid:api_client_id>/deactivate")
class ApiClientDeactivateView(MethodView):
    @access.roles(Role.ADMIN)
    @admin_blp.response(200, ApiClientSchema)
    @admin_blp.alt_response(404, response="NOT_FOUND")
    def post(self, api_client_id: uuid.UUID) -> Any:
        """Deactivate an API client; its tokens stop working at once"""
        return service.deactivate_api_client(api_client_id=api_client_id)
