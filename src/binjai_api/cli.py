"""Flask commands: `flask --app binjai_api <command>`."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import uuid
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from binjai_api import idempotency, seed
from binjai_api.area_alerts import service as area_alerts_service
from binjai_api.audit import service as audit_service
from binjai_api.auth import service as auth_service
from binjai_api.errors import Problem
from binjai_api.extensions import db
from binjai_api.notifications import dispatcher, fcm
from binjai_api.notifications import service as notifications_service
from binjai_api.ops import escalation
from binjai_api.ops import figures as ops_figures
from binjai_api.quality import fix_checks
from binjai_api.webhooks import service as webhooks_service


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


@click.command("outbox-worker")
@with_appcontext
@click.option("--drain", is_flag=True, help="Exit once nothing is due, instead of polling.")
def outbox_worker_command(drain: bool) -> None:
    """Deliver queued push notifications (and record broadcasts in each inbox) until stopped."""
    sender = dispatcher.make_sender()
    click.echo(f"Outbox worker started: {sender.description}")
    if isinstance(sender, fcm.LoggingSender):
        logging.getLogger(__name__).warning(
            "FIREBASE_CREDENTIALS is not set: pushes are written to the log, not sent"
        )
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    try:
        dispatcher.run_worker(sender, stop=stop, drain_only=drain, periodic=_worker_jobs())
    finally:
        sender.close()
    click.echo("Outbox worker stopped")


def _worker_jobs() -> list[dispatcher.PeriodicJob]:
    """What the outbox worker does besides pushing: seal the audit trail's new records, every
    AUDIT_SEAL_INTERVAL_SECONDS, and escalate missed deadlines, every
    ESCALATION_INTERVAL_SECONDS (0: not at all)."""
    jobs = [
        dispatcher.PeriodicJob(
            "audit-seal",
            current_app.config["AUDIT_SEAL_INTERVAL_SECONDS"],
            audit_service.seal_pending,
        )
    ]
    interval = current_app.config["ESCALATION_INTERVAL_SECONDS"]
    if interval > 0:
        jobs.append(
            dispatcher.PeriodicJob("escalate-overdue", interval, escalation.escalate_overdue)
        )
    interval = current_app.config["FIX_CHECK_INTERVAL_SECONDS"]
    if interval > 0:
        jobs.append(
            dispatcher.PeriodicJob("ask-fix-checks", interval, fix_checks.ask_due_fix_checks)
        )
    interval = current_app.config["AREA_ALERTS_INTERVAL_SECONDS"]
    if interval > 0:
        jobs.append(
            dispatcher.PeriodicJob("area-alerts", interval, area_alerts_service.run_area_alerts)
        )
    return jobs


@click.command("send-area-alerts")
@with_appcontext
def send_area_alerts_command() -> None:
    """Tell followers of the reports filed or resolved in their areas, and send the digests due
    (one round of the worker's job)."""
    report = area_alerts_service.run_area_alerts()
    click.echo(f"Area alerts: {report.summary()}")


@click.command("ask-fix-checks")
@with_appcontext
def ask_fix_checks_command() -> None:
    """Ask "is it fixed?" about every report due and not asked yet (one round of the worker's
    job)."""
    report = fix_checks.ask_due_fix_checks()
    click.echo(f"Is it fixed?: {report.summary()}")


@click.command("escalate-overdue")
@with_appcontext
def escalate_overdue_command() -> None:
    """Escalate every missed deadline not escalated yet (one round of the worker's job)."""
    report = escalation.escalate_overdue()
    click.echo(f"Escalation: {report.summary()}")
    if report.failed:
        raise click.ClickException(f"{report.failed} items could not be escalated (see the log)")


@click.command("rebuild-ops-figures")
@with_appcontext
def rebuild_ops_figures_command() -> None:
    """Derive the command center's step rows and day rows afresh from the histories and items
    (after rows were written straight into the tables, past the services)."""
    ops_figures.rebuild_figures()
    db.session.commit()
    click.echo("Command center figures rebuilt.")


@click.command("prune-devices")
@with_appcontext
def prune_devices_command() -> None:
    """Delete device tokens the app has not refreshed for DEVICE_RETENTION_DAYS (60) days."""
    days = current_app.config["DEVICE_RETENTION_DAYS"]
    deleted = notifications_service.prune_stale_devices(days=days)
    click.echo(f"Deleted {deleted} device tokens not refreshed for {days} days")


@click.command("prune-deliveries")
@with_appcontext
def prune_deliveries_command() -> None:
    """Delete outbox rows (pushes and webhooks) sent or dropped more than OUTBOX_RETENTION_DAYS
    (30) days ago."""
    days = current_app.config["OUTBOX_RETENTION_DAYS"]
    deleted = notifications_service.prune_finished_deliveries(days=days)
    click.echo(f"Deleted {deleted} push deliveries finished more than {days} days ago")
    deleted = webhooks_service.prune_finished_deliveries(days=days)
    click.echo(f"Deleted {deleted} webhook deliveries finished more than {days} days ago")


@click.command("audit-seal")
@with_appcontext
def audit_seal_command() -> None:
    """Seal the audit trail's pending records into the chain (one round of the worker's job)."""
    click.echo(f"Sealed {audit_service.seal_pending()} audit records")


@click.command("audit-verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit trail's hash chain; name the first altered or removed record."""
    report = audit_service.verify_chain()
    if report.problem is None:
        click.echo(
            f"Audit trail intact: {report.records} records sealed, {report.pending} pending "
            "(the outbox worker seals them, or `flask audit-seal`)"
        )
        return
    problem = report.problem
    click.echo(
        f"Audit trail broken ({problem.kind}): seq {problem.seq}, record {problem.record_id}: "
        f"{problem.detail}",
        err=True,
    )
    sys.exit(1)


@click.command("audit-pseudonym")
@click.option(
    "--account", "account_id", type=click.UUID, help="The account whose pseudonym to show."
)
@click.option("--pseudonym", "pseudonym_hex", help="The pseudonym whose account to find.")
@with_appcontext
def audit_pseudonym_command(account_id: uuid.UUID | None, pseudonym_hex: str | None) -> None:
    """For an authorised investigation, on the server holding AUDIT_PSEUDONYM_KEY: the pseudonym
    an account's anonymous reports carry in the audit trail, or the account behind one."""
    if (account_id is None) == (pseudonym_hex is None):
        raise click.UsageError("Give exactly one of --account and --pseudonym.")
    if account_id is not None:
        click.echo(audit_service.pseudonym_of(account_id))
        return
    assert pseudonym_hex is not None
    query = auth_service.accounts_query().execution_options(yield_per=1000)
    accounts = (user.id for user in db.session.scalars(query))
    found = audit_service.account_behind(pseudonym_hex, accounts)
    if found is None:
        click.echo("No account has this pseudonym under the configured key.", err=True)
        sys.exit(1)
    click.echo(str(found))


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
        outbox_worker_command,
        escalate_overdue_command,
        rebuild_ops_figures_command,
        ask_fix_checks_command,
        send_area_alerts_command,
        prune_devices_command,
        prune_deliveries_command,
        openapi_write_command,
        audit_seal_command,
        audit_verify_command,
        audit_pseudonym_command,
    ):
        app.cli.add_command(command)
