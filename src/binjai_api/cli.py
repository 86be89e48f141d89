"""Flask commands: `flask --app binjai_api <command>`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from binjai_api import idempotency, seed
from binjai_api.auth import service as auth_service
from binjai_api.errors import Problem


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the Binjai demo data (idempotent) and list the demo accounts."""
    added = seed.seed_demo()
    click.echo("Demo data loaded: " + ", ".join(f"{k} +{v}" for k, v in added.items()))
    click.echo("Demo accounts (local development only):")
    for account in seed.demo_accounts():
        login = account.get("phone") or account["email"]
        click.echo(f"  {account['role']:<9} {login:<34} {account['password']}")


@click.command("create-admin")
@with_appcontext
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--full-name", default="Administrator")
def create_admin_command(email: str, password: str, full_name: str) -> None:
    """Create the first admin account, non-interactively."""
    try:
        user, created = auth_service.ensure_admin(
            email=email, password=password, full_name=full_name
        )
    except Problem as problem:
        raise click.ClickException(f"{problem.detail}: {problem.errors}") from problem
    click.echo(f"{'Created' if created else 'Already exists'}: admin {user.email} ({user.id})")


@click.command("prune-idempotency")
@with_appcontext
def prune_idempotency_command() -> None:
    """Delete Idempotency-Key records older than their retention."""
    click.echo(f"Deleted {idempotency.prune_expired()} expired idempotency records")


@click.command("openapi-write")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False))
def openapi_write_command(path: str) -> None:
    """Write the OpenAPI document, as served at /api/v1/openapi.json."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    text = json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if path == "-":
        sys.stdout.write(text)
    else:
        Path(path).write_text(text, encoding="utf-8")


def init_app(app: Flask) -> None:
    for command in (
        seed_demo_command,
        create_admin_command,
        prune_idempotency_command,
        openapi_write_command,
    ):
        app.cli.add_command(command)
