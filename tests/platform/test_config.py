"""Settings: safe development defaults, and a refusal to start unsafe in production."""

from __future__ import annotations

import pytest

from binjai_api.config import UnsafeConfigurationError, load_settings

STRONG = "s" * 48


def test_development_defaults_start() -> None:
    settings = load_settings({"BINJAI_ENV": "development"})
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"


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
        }
    )
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


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
