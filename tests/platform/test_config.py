"""Settings: safe development defaults, and a refusal to start unsafe in production."""

from __future__ import annotations

import pytest

from binjai_api.config import UnsafeConfigurationError, load_settings

STRONG = "s" * 48


def test_development_defaults_start() -> None:
    settings = load_settings({"BINJAI_ENV": "development"})
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    assert settings["RATELIMIT_STORAGE_URI"] == "process-memory://"


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # default secrets
        {"SECRET_KEY": STRONG},
        {"JWT_SECRET_KEY": STRONG},
        {"SECRET_KEY": STRONG, "JWT_SECRET_KEY": "short"},
    ],
)
def test_production_refuses_default_or_weak_secrets(
    overrides: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    with pytest.raises(UnsafeConfigurationError):
        load_settings(
            {
                "BINJAI_ENV": "production",
                "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/binjai",
                **overrides,
            }
        )


def test_production_refuses_sqlite() -> None:
    with pytest.raises(UnsafeConfigurationError, match="PostgreSQL"):
        load_settings(
            {
                "BINJAI_ENV": "production",
                "SECRET_KEY": STRONG,
                "JWT_SECRET_KEY": STRONG + "x",
                "PAYMENT_CALLBACK_SECRET": STRONG + "p",
                "PERMIT_SIGNING_KEY": STRONG + "k",
                "AUDIT_PSEUDONYM_KEY": STRONG + "a",
            }
        )


def test_production_refuses_the_development_audit_pseudonym_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whoever holds this key can link an anonymous reporter to their account."""
    monkeypatch.delenv("AUDIT_PSEUDONYM_KEY", raising=False)
    with pytest.raises(UnsafeConfigurationError, match="AUDIT_PSEUDONYM_KEY"):
        load_settings(
            {
                "BINJAI_ENV": "production",
                "SECRET_KEY": STRONG,
                "JWT_SECRET_KEY": STRONG + "x",
                "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/binjai",
                "PAYMENT_CALLBACK_SECRET": STRONG + "p",
                "PERMIT_SIGNING_KEY": STRONG + "k",
            }
        )


def test_production_with_real_secrets_starts() -> None:
    settings = load_settings(
        {
            "BINJAI_ENV": "production",
            "SECRET_KEY": STRONG,
            "JWT_SECRET_KEY": STRONG + "x",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/binjai",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "PAYMENT_CALLBACK_SECRET": STRONG + "p",
            "PERMIT_SIGNING_KEY": STRONG + "k",
            "AUDIT_PSEUDONYM_KEY": STRONG + "a",
            "PUBLIC_BASE_URL": "https://api.binjaikota.go.id/",
        }
    )
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert settings["PUBLIC_BASE_URL"] == "https://api.binjaikota.go.id"


@pytest.mark.parametrize("missing", ["PAYMENT_CALLBACK_SECRET", "PERMIT_SIGNING_KEY"])
def test_production_refuses_licensing_secrets_left_at_their_defaults(
    missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(missing, raising=False)
    secrets = {"PAYMENT_CALLBACK_SECRET": STRONG + "p", "PERMIT_SIGNING_KEY": STRONG + "k"}
    del secrets[missing]
    with pytest.raises(UnsafeConfigurationError, match=missing):
        load_settings(
            {
                "BINJAI_ENV": "production",
                "SECRET_KEY": STRONG,
                "JWT_SECRET_KEY": STRONG + "x",
                "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/binjai",
                **secrets,
            }
        )


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(UnsafeConfigurationError):
        load_settings({"BINJAI_ENV": "staging"})


PRODUCTION = {
    "BINJAI_ENV": "production",
    "SECRET_KEY": STRONG,
    "JWT_SECRET_KEY": STRONG + "x",
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/binjai",
    "PAYMENT_CALLBACK_SECRET": STRONG + "p",
    "PERMIT_SIGNING_KEY": STRONG + "k",
    "AUDIT_PSEUDONYM_KEY": STRONG + "a",
}


@pytest.mark.parametrize(
    "base_url",
    ["", "http://api.binjaikota.go.id", "https://", "api.binjaikota.go.id", "https://x.id/?a=1"],
)
def test_production_refuses_a_public_base_url_that_is_not_https(
    base_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(UnsafeConfigurationError, match="PUBLIC_BASE_URL"):
        load_settings({**PRODUCTION, "PUBLIC_BASE_URL": base_url})


def test_production_refuses_to_start_without_public_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unset, the development default (a loopback http address) is not good enough."""
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    with pytest.raises(UnsafeConfigurationError, match="PUBLIC_BASE_URL"):
        load_settings(PRODUCTION)


def test_public_base_url_defaults_to_this_machines_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make run` passes its PORT; the links the API writes then point at that port."""
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("PORT", "8123")
    assert load_settings({"BINJAI_ENV": "development"})["PUBLIC_BASE_URL"] == (
        "http://127.0.0.1:8123"
    )
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://binjai.example/")
    assert load_settings({"BINJAI_ENV": "development"})["PUBLIC_BASE_URL"] == (
        "https://binjai.example"
    )
