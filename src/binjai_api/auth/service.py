"""Accounts, login sessions, tokens and API clients; each function owns its transaction."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import flask_smorest
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app, jsonify
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token, get_jti
from flask_jwt_extended.exceptions import JWTExtendedException
from jwt import PyJWTError

from binjai_api.agencies import service as agencies_service
from binjai_api.audit import service as audit_service
from binjai_api.auth import principals
from binjai_api.auth.enums import STAFF_ROLES, ApiScope, Role
from binjai_api.auth.models import ApiClient, AuthSession, User
from binjai_api.auth.validation import nik_problem, normalize_phone, password_problem
from binjai_api.db import for_update, utcnow
from binjai_api.errors import Problem, conflict, field_errors, not_found, unauthorized
from binjai_api.extensions import db
from binjai_api.fastdump import Dumped, rfc3339_utc
from binjai_api.i18n import gettext
from binjai_api.pagination import apply_sort
from binjai_api.privacy import mask_tail
from binjai_api.regions import service as regions_service

CLIENT_ID_PREFIX = "bjc_"
# Longer than any account's name: its login counter is keyed on a prefix, without a lookup.
MAX_LOGIN_NAME_LENGTH = 320


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person's account or an integrator's API client."""

    kind: str  # "user" or "client"
    id: uuid.UUID
    role: str | None = None
    agency_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    fresh: bool = False

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def idempotency_scope(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


@dataclass(frozen=True)
class ClientToken:
    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"


# --- passwords ---------------------------------------------------------------------------------


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_KIB"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """argon2id hash of `password`."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher().hash("not-a-real-account")


def _dummy_verify(password: str) -> None:
    """Spend the time of one real check, so an unknown account answers as slowly as a known
    one (the dummy hash is made once per cost setting, not on every attempt)."""
    config = current_app.config
    dummy = _dummy_hash(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_KIB"], config["ARGON2_PARALLELISM"]
    )
    verify_password(dummy, password)


# --- registration and profile ---------------------------------------------------------------------


def _normalize_email(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def _check_unique(
    *, nik: str | None, phone: str | None, email: str | None, exclude: uuid.UUID | None = None
) -> None:
    for column, value, code, message in (
        (User.nik, nik, "nik_taken", gettext("An account with this NIK already exists.")),
        (User.phone, phone, "phone_taken", gettext("This phone number is already registered.")),
        (User.email, email, "email_taken", gettext("This email address is already registered.")),
    ):
        if value is None:
            continue
        query = sa.select(User.id).where(column == value)
        if exclude is not None:
            query = query.where(User.id != exclude)
        if db.session.scalar(query) is not None:
            raise conflict(code, message)


def nik_error(nik: str) -> str | None:
    """Why a NIK is invalid (length, region, birth date), or None: for other domains' forms."""
    return nik_problem(nik)


def register_citizen(
    *,
    full_name: str,
    nik: str,
    phone: str,
    password: str,
    email: str | None = None,
    account_id: uuid.UUID | None = None,
) -> User:
    """Create a resident's account after checking NIK, phone and password (`account_id`: a
    chosen id, for the demo seed; a new random one otherwise)."""
    errors: dict[str, list[str]] = {}
    if problem := nik_problem(nik):
        errors["nik"] = [problem]
    e164 = normalize_phone(phone)
    if e164 is None:
        errors["phone"] = [gettext("Enter an Indonesian mobile number such as 0812xxxxxxx.")]
    email = _normalize_email(email)
    if problem := password_problem(password, personal_values=(nik, e164, phone, email)):
        errors["password"] = [problem]
    if errors:
        raise field_errors(errors)
    _check_unique(nik=nik, phone=e164, email=email)
    user = User(
        id=account_id or uuid.uuid4(),
        full_name=full_name.strip(),
        nik=nik,
        phone=e164,
        email=email,
        password_hash=hash_password(password),
        role=Role.CITIZEN,
    )
    db.session.add(user)
    db.session.commit()
    return user


def get_user(user_id: uuid.UUID, *, lock: bool = False) -> User:
    """An account by id (404 when unknown); `lock`: held until the transaction ends
    (db.for_update)."""
    user = db.session.get(User, user_id, **for_update(lock, User))
    if user is None:
        raise not_found()
    return user


@dataclass(frozen=True)
class JsonAnswer:
    """An answer written once: its body as `jsonify` writes the data, and the ETag flask-smorest
    computes from the same data."""

    body: bytes
    mimetype: str
    etag: str


_ANSWERS = "binjai_own_account_answers"
_ANSWERS_KEPT = 10_000  # per process; the oldest are dropped all at once beyond


def own_account_answer(user_id: uuid.UUID) -> JsonAnswer:
    """`GET /me`'s answer (404 when unknown), from the row the session check read: written once
    per distinct row (any change to the account or its agency reads a different row), then only
    looked up: no ORM object, no second read, no dump, hash or JSON encoding per request."""
    row = principals.caller_account_shown(user_id)
    if row is None:
        raise not_found()
    answers: dict[tuple[Any, ...], JsonAnswer] = current_app.extensions.setdefault(_ANSWERS, {})
    answer = answers.get(row)
    if answer is None:
        data = account_json(row)
        written = jsonify(data)
        answer = JsonAnswer(
            body=written.get_data(),
            mimetype=str(written.mimetype),
            etag=flask_smorest.Blueprint._generate_etag(data),
        )
        if len(answers) >= _ANSWERS_KEPT:
            answers.clear()
        answers[row] = answer
    return answer


def account_json(row: tuple[Any, ...]) -> Dumped:
    """An account read as `principals.ACCOUNT_SHOWN`, in the JSON form `AccountSchema`
    documents."""
    (
        account_id,
        full_name,
        nik,
        phone,
        email,
        role,
        agency_id,
        kelurahan_code,
        language,
        is_active,
        created_at,
        updated_at,
        agency_code,
        agency_name,
    ) = row
    agency = None
    if agency_id is not None:
        agency = {"id": str(agency_id), "code": agency_code, "name": agency_name}
    return Dumped(
        id=str(account_id),
        full_name=full_name,
        nik=mask_tail(nik),
        phone=phone,
        email=email,
        role=role,
        agency=agency,
        kelurahan_code=kelurahan_code,
        language=language,
        is_active=is_active,
        created_at=rfc3339_utc(created_at),
        updated_at=rfc3339_utc(updated_at),
    )


def update_profile(*, user: User, changes: dict[str, Any], fresh_login: bool) -> User:
    """Update the caller's own profile; contact details need a fresh login."""
    if ("phone" in changes or "email" in changes) and not fresh_login:
        raise unauthorized(
            "fresh_login_required", gettext("Please log in again to change your phone or email.")
        )
    errors: dict[str, list[str]] = {}
    phone = user.phone
    if "phone" in changes:
        phone = normalize_phone(changes["phone"]) if changes["phone"] else None
        if phone is None and (changes["phone"] or user.role == Role.CITIZEN):
            errors["phone"] = [gettext("Enter an Indonesian mobile number such as 0812xxxxxxx.")]
    email = _normalize_email(changes["email"]) if "email" in changes else user.email
    if (
        "kelurahan_code" in changes
        and changes["kelurahan_code"] is not None
        and (regions_service.find_kelurahan(changes["kelurahan_code"]) is None)
    ):
        errors["kelurahan_code"] = [gettext("Unknown kelurahan code.")]
    if errors:
        raise field_errors(errors)
    _check_unique(
        nik=None,
        phone=phone if phone != user.phone else None,
        email=email if email != user.email else None,
        exclude=user.id,
    )
    user.phone, user.email = phone, email
    for name in ("full_name", "language", "kelurahan_code"):
        if name in changes:
            setattr(user, name, changes[name])
    db.session.commit()
    return user


def change_password(*, user: User, current_password: str, new_password: str) -> None:
    """Set a new password and end every session of the account, on every device."""
    if not verify_password(user.password_hash, current_password):
        raise field_errors({"current_password": [gettext("The current password is wrong.")]})
    if problem := password_problem(
        new_password, personal_values=(user.nik, user.phone, user.email)
    ):
        raise field_errors({"new_password": [problem]})
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    _revoke_all_sessions(user.id, reason="password_changed")
    # Imported here: notifications reads accounts through this module.
    from binjai_api.notifications import service as notifications_service
    from binjai_api.notifications.kinds import PASSWORD_CHANGED

    notifications_service.notify(recipients=[user.id], kind=PASSWORD_CHANGED)
    db.session.commit()


# --- sessions and tokens -----------------------------------------------------------------------


def _login_identity(username: str) -> tuple[str, str] | None:
    """(column, value) a login name stands for, normalised: a lower-cased email, a NIK or an
    E.164 phone number; None when it can be none of them."""
    username = username.strip()
    if "@" in username:
        return "email", username.lower()
    if len(username) == 16 and username.isdigit():
        return "nik", username
    phone = normalize_phone(username)
    return ("phone", phone) if phone is not None else None


def _find_login_account(username: str) -> User | None:
    identity = _login_identity(username)
    if identity is None:
        return None
    column, value = identity
    return db.session.scalar(sa.select(User).where(getattr(User, column) == value))


def login_limit_key(username: str) -> str:
    """The one counter of login attempts at an account, however its name is spelled: the
    account's id once resolved (its phone, NIK and email alike), else the normalised name, so
    that `0812…`, `+62812…` and `0812-…` of an unknown number share one counter too."""
    identity = _login_identity(username) if len(username) <= MAX_LOGIN_NAME_LENGTH else None
    if identity is None:  # no account has this name (an email is at most 254 characters)
        return "login:" + username.strip().lower()[:200]
    column, value = identity
    user_id = db.session.scalar(sa.select(User.id).where(getattr(User, column) == value))
    return f"account:{user_id}" if user_id is not None else f"login:{column}:{value}"


def _issue_pair(user: User, session: AuthSession, *, fresh: bool) -> TokenPair:
    claims = {
        "typ": "user",
        "sid": str(session.id),
        "roles": [user.role],
        "agency_id": str(user.agency_id) if user.agency_id else None,
    }
    access = create_access_token(identity=str(user.id), fresh=fresh, additional_claims=claims)
    refresh = create_refresh_token(
        identity=str(user.id), additional_claims={"sid": str(session.id)}
    )
    session.refresh_jti = str(get_jti(refresh))
    session.expires_at = utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    expires: timedelta = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return TokenPair(access, refresh, int(expires.total_seconds()))


def log_in(*, username: str, password: str) -> TokenPair:
    """Check the credentials and open a new session. Unknown user and wrong password look alike."""
    user = _find_login_account(username)
    if user is None:
        _dummy_verify(password)
    if user is None or not verify_password(user.password_hash, password) or not user.is_active:
        raise unauthorized("invalid_credentials", gettext("The username or password is wrong."))
    session = AuthSession(id=uuid.uuid4(), user_id=user.id, refresh_jti="", expires_at=utcnow())
    db.session.add(session)
    pair = _issue_pair(user, session, fresh=True)
    db.session.commit()
    return pair


def _grace_cipher(spent_token: str) -> AESGCM:
    """The key that seals a rotation's successor pair: derived from the spent refresh token, which
    the database never holds (only its jti), so only its holder can open the pair again."""
    return AESGCM(hashlib.sha256(b"binjai-refresh-grace\0" + spent_token.encode()).digest())


def _seal_successor(spent_token: str, pair: TokenPair) -> str:
    nonce = secrets.token_bytes(12)
    plain = json.dumps([pair.access_token, pair.refresh_token, pair.expires_in]).encode()
    sealed = nonce + _grace_cipher(spent_token).encrypt(nonce, plain, None)
    return base64.urlsafe_b64encode(sealed).decode("ascii")


def _replayed_successor(session: AuthSession, jti: str, spent_token: str) -> TokenPair | None:
    """The pair the last rotation issued, when `jti` is the token it spent and the grace period
    (REFRESH_REUSE_GRACE_SECONDS) has not run out; None otherwise."""
    grace = timedelta(seconds=current_app.config["REFRESH_REUSE_GRACE_SECONDS"])
    if (
        session.previous_refresh_jti != jti
        or session.rotated_at is None
        or session.successor_sealed is None
        or utcnow() - session.rotated_at > grace
    ):
        return None
    sealed = base64.urlsafe_b64decode(session.successor_sealed)
    try:
        plain = _grace_cipher(spent_token).decrypt(sealed[:12], sealed[12:], None)
    except InvalidTag:
        return None
    access, refresh, expires_in = json.loads(plain)
    return TokenPair(access, refresh, expires_in)


def refresh_session(*, refresh_token: str) -> TokenPair:
    """Rotate the refresh token. The token just spent, presented again within the grace period,
    gets the same successor pair (two refreshes racing from one app); any other spent token
    revokes its whole family."""
    invalid = unauthorized("invalid_token", gettext("The refresh token is invalid or expired."))
    try:
        data = decode_token(refresh_token)
    except (PyJWTError, JWTExtendedException) as exc:
        raise invalid from exc
    if data.get("type") != "refresh" or "sid" not in data:
        raise invalid
    # The row lock serialises every refresh of one session, on every instance: a racing duplicate
    # waits here, then reads the rotation the first one committed.
    session = db.session.get(AuthSession, uuid.UUID(data["sid"]), **for_update(True, AuthSession))
    if session is None or session.revoked_at is not None or str(session.user_id) != data["sub"]:
        raise unauthorized("token_revoked", gettext("This session has ended. Please log in again."))
    if session.refresh_jti != data["jti"]:
        replayed = _replayed_successor(session, data["jti"], refresh_token)
        if replayed is not None:
            db.session.commit()
            return replayed
        session.revoked_at = utcnow()
        session.revoked_reason = "refresh_token_reuse"
        # The session ended (its token leaked): its devices stop receiving pushes too.
        _unbind_devices(user_id=session.user_id, session_id=session.id)
        db.session.commit()
        raise unauthorized(
            "refresh_token_reused",
            gettext("This refresh token was already used. Please log in again."),
        )
    user = db.session.get(User, session.user_id)
    if user is None or not user.is_active:
        raise unauthorized("token_revoked", gettext("This session has ended. Please log in again."))
    session.last_used_at = utcnow()
    pair = _issue_pair(user, session, fresh=False)
    session.previous_refresh_jti = data["jti"]
    session.rotated_at = session.last_used_at
    session.successor_sealed = _seal_successor(refresh_token, pair)
    db.session.commit()
    return pair


def _unbind_devices(*, user_id: uuid.UUID, session_id: uuid.UUID | None = None) -> None:
    """Forget the push devices registered under the ended session (all of the account's when
    `session_id` is None), in the caller's transaction: no push reaches the phone afterwards."""
    # Imported here: notifications reads accounts through this module.
    from binjai_api.notifications import service as notifications_service

    notifications_service.unbind_devices(user_id=user_id, session_id=session_id)


def log_out(*, principal: Principal) -> None:
    """End the caller's session: its access and refresh tokens stop working on every instance,
    and the devices registered under it receive no more pushes."""
    if principal.session_id is None:
        return
    db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.id == principal.session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="logout")
    )
    principals.invalidate_after_commit(principal.id)
    _unbind_devices(user_id=principal.id, session_id=principal.session_id)
    db.session.commit()


def log_out_everywhere(*, principal: Principal) -> None:
    """End every session of the caller's account, on every device, and unbind its devices."""
    _revoke_all_sessions(principal.id, reason="logout_all")
    db.session.commit()


def _revoke_all_sessions(user_id: uuid.UUID, *, reason: str) -> None:
    """End every session of the account and unbind every device registered to it."""
    db.session.execute(
        sa.update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    principals.invalidate_after_commit(user_id)
    _unbind_devices(user_id=user_id)


# --- staff and accounts (admins) ----------------------------------------------------------------


def create_staff(
    *,
    full_name: str,
    email: str,
    password: str,
    role: str,
    agency_id: uuid.UUID | None = None,
    phone: str | None = None,
    account_id: uuid.UUID | None = None,
) -> User:
    """Create an officer, operator or admin account (`account_id`: a chosen id, for the demo
    seed; a new random one otherwise)."""
    errors: dict[str, list[str]] = {}
    if role not in STAFF_ROLES:
        errors["role"] = [gettext("Staff role must be officer, operator or admin.")]
    if role == Role.OFFICER and agency_id is None:
        errors["agency_id"] = [gettext("An officer must belong to an agency.")]
    if agency_id is not None and agencies_service.find_agency(agency_id) is None:
        errors["agency_id"] = [gettext("Unknown agency.")]
    e164 = None
    if phone:
        e164 = normalize_phone(phone)
        if e164 is None:
            errors["phone"] = [gettext("Enter an Indonesian mobile number such as 0812xxxxxxx.")]
    email_norm = _normalize_email(email)
    if problem := password_problem(password, personal_values=(e164, email_norm)):
        errors["password"] = [problem]
    if errors:
        raise field_errors(errors)
    _check_unique(nik=None, phone=e164, email=email_norm)
    user = User(
        id=account_id or uuid.uuid4(),
        full_name=full_name.strip(),
        email=email_norm,
        phone=e164,
        password_hash=hash_password(password),
        role=role,
        agency_id=agency_id,
    )
    db.session.add(user)
    db.session.commit()
    return user


ACCOUNT_SORTABLE = {
    "created_at": User.created_at,
    "full_name": User.full_name,
    "updated_at": User.updated_at,
}


def accounts_query(
    *,
    role: str | None = None,
    agency_id: uuid.UUID | None = None,
    is_active: bool | None = None,
    updated_after: datetime | None = None,
    sort: str = "created_at",
) -> sa.Select[User]:
    query = apply_sort(sa.select(User), sort, ACCOUNT_SORTABLE, tiebreaker=User.id)
    if role:
        query = query.where(User.role == role)
    if agency_id:
        query = query.where(User.agency_id == agency_id)
    if is_active is not None:
        query = query.where(User.is_active.is_(is_active))
    if updated_after is not None:
        query = query.where(User.updated_at > updated_after)
    return query


# What an admin is shown of an account unmasked (StaffAccountSchema masks the NIK and phone).
ACCOUNT_FIELDS_SHOWN_TO_ADMINS = ("full_name", "email")


def accounts_shown_to_admin(accounts: Iterable[User]) -> list[User]:
    """A page of accounts an admin is about to see: one audit record of the personal data shown."""
    shown = list(accounts)
    audit_service.record_access(
        object_type=User.__tablename__,
        object_ids=[user.id for user in shown],
        fields=ACCOUNT_FIELDS_SHOWN_TO_ADMINS,
    )
    return shown


def read_account(*, account_id: uuid.UUID) -> User:
    """An account as an admin reads it (recorded in the audit trail)."""
    return accounts_shown_to_admin([get_user(account_id)])[0]


def active_account_ids_query(*, kecamatan_code: str | None = None) -> sa.Select[Any]:
    """Ids of the active accounts, optionally of residents of one kecamatan (the audience of a
    city announcement)."""
    query = sa.select(User.id).where(User.is_active.is_(True))
    if kecamatan_code is not None:
        # Kemendagri codes nest: kelurahan 12.75.01.1001 lies in kecamatan 12.75.01.
        query = query.where(User.kelurahan_code.like(f"{kecamatan_code}.%"))
    return query


def active_staff_ids(
    *,
    role: Role | str,
    agency_id: uuid.UUID | None = None,
    among: Iterable[uuid.UUID] | None = None,
) -> list[uuid.UUID]:
    """Ids of the active accounts with `role`, of one agency or only `among` the given ids (who
    hears of a missed deadline)."""
    query = sa.select(User.id).where(User.role == str(role), User.is_active.is_(True))
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    if among is not None:
        query = query.where(User.id.in_(list(among)))
    return list(db.session.scalars(query.order_by(User.id)))


def languages_of(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Each account's preferred language, for texts sent outside a request."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.language).where(User.id.in_(ids)))
    return {row.id: row.language for row in rows}


def set_account_active(*, account_id: uuid.UUID, active: bool, acting_admin_id: uuid.UUID) -> User:
    """Deactivate (its tokens stop working at once) or reactivate an account."""
    user = get_user(account_id)
    if not active and user.id == acting_admin_id:
        raise conflict("cannot_deactivate_self", gettext("You cannot deactivate your own account."))
    user.is_active = active
    user.deactivated_at = None if active else utcnow()
    if not active:
        _revoke_all_sessions(user.id, reason="account_deactivated")
    db.session.commit()
    return user


def change_account_role(
    *, account_id: uuid.UUID, role: str, agency_id: uuid.UUID | None, acting_admin_id: uuid.UUID
) -> User:
    """Change a staff account's role or agency; takes effect on the account's next request."""
    if account_id == acting_admin_id:
        raise conflict("cannot_change_own_role", gettext("You cannot change your own role."))
    user = get_user(account_id)
    if user.role == Role.CITIZEN or role == Role.CITIZEN:
        raise conflict("not_staff", gettext("Only staff accounts change roles."))
    if role == Role.OFFICER and agency_id is None:
        raise field_errors({"agency_id": [gettext("An officer must belong to an agency.")]})
    if agency_id is not None and agencies_service.find_agency(agency_id) is None:
        raise field_errors({"agency_id": [gettext("Unknown agency.")]})
    user.role, user.agency_id = role, agency_id
    db.session.commit()
    return user


def ensure_admin(
    *, email: str, password: str, full_name: str = "Administrator"
) -> tuple[User, bool]:
    """Create the first admin (CLI), or return the existing account with that email."""
    existing = db.session.scalar(sa.select(User).where(User.email == _normalize_email(email)))
    if existing is not None:
        return existing, False
    return create_staff(full_name=full_name, email=email, password=password, role=Role.ADMIN), True


# --- API clients (integrators) ------------------------------------------------------------------


def create_api_client(
    *, name: str, scopes: list[str], created_by_id: uuid.UUID | None
) -> tuple[ApiClient, str]:
    """Register an integrator; the secret is returned once and only its hash is kept."""
    unknown = sorted(set(scopes) - {scope.value for scope in ApiScope})
    if unknown:
        raise field_errors({"scopes": [gettext("Unknown scope: %(scope)s", scope=unknown[0])]})
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(12),
        name=name.strip(),
        secret_hash=hash_password(secret),
        scopes=sorted(set(scopes)),
        created_by_id=created_by_id,
    )
    db.session.add(client)
    db.session.commit()
    return client, secret


def client_for_api_key(*, api_key: str, scope: ApiScope) -> ApiClient | None:
    """The integrator holding this API key (`<client_id>:<client_secret>`, the credentials an
    admin issued) when it is active and granted `scope`; None otherwise. For standards that pass
    a key instead of a bearer token (Open311 GeoReport v2)."""
    client_id, separator, secret = api_key.partition(":")
    if not separator or not client_id or not secret:
        _dummy_verify(secret or api_key)
        return None
    client = _verified_client(client_id, secret)
    if client is None or scope.value not in client.scopes:
        return None
    client.last_used_at = utcnow()
    return client


def api_clients_query() -> sa.Select[ApiClient]:
    return sa.select(ApiClient).order_by(ApiClient.created_at, ApiClient.id)


def api_clients_by_id(ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ApiClient]:
    """These API clients, by id (for the domains that serve integrators, such as webhooks)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    clients = db.session.scalars(sa.select(ApiClient).where(ApiClient.id.in_(wanted)))
    return {client.id: client for client in clients}


def deactivate_api_client(*, api_client_id: uuid.UUID) -> ApiClient:
    """Stop an integrator: its tokens fail at once."""
    client = db.session.get(ApiClient, api_client_id)
    if client is None:
        raise not_found()
    client.is_active = False
    db.session.commit()
    return client


def _verified_client(client_id: str, client_secret: str) -> ApiClient | None:
    """The active client with these credentials, or None (in constant time per attempt)."""
    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        _dummy_verify(client_secret)
        return None
    if not client.is_active or not verify_password(client.secret_hash, client_secret):
        return None
    return client


def issue_client_token(*, client_id: str, client_secret: str, scope: str | None) -> ClientToken:
    """OAuth 2.0 client credentials grant (RFC 6749 §4.4)."""
    client = _verified_client(client_id, client_secret)
    if client is None:
        raise unauthorized("invalid_client", gettext("Unknown client or wrong secret."))
    requested = set(scope.split()) if scope else set(client.scopes)
    if not requested <= set(client.scopes):
        raise Problem(
            403,
            "invalid_scope",
            gettext("This client is not allowed the requested scope."),
        )
    granted = sorted(requested)
    client.last_used_at = utcnow()
    token = create_access_token(
        identity=f"client:{client.client_id}",
        additional_claims={"typ": "client", "client_id": client.client_id, "scopes": granted},
    )
    db.session.commit()
    expires: timedelta = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return ClientToken(token, int(expires.total_seconds()), " ".join(granted))


def phone_as_e164(raw: str) -> str | None:
    """An Indonesian mobile number as E.164 (`+628…`), or None when it is not one."""
    return normalize_phone(raw)


def find_resident(*, phone: str | None = None, nik: str | None = None) -> User | None:
    """The active resident's account with this phone number (E.164) or NIK, or None: staff
    filing a report on a resident's behalf link it to the resident's own account."""
    pairs = ((User.phone, phone), (User.nik, nik))
    conditions = [column == value for column, value in pairs if value]
    if not conditions:
        return None
    query = sa.select(User).where(
        sa.or_(*conditions), User.role == Role.CITIZEN, User.is_active.is_(True)
    )
    return db.session.scalars(query.order_by(User.created_at).limit(1)).first()
