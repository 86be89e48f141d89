"""Push benchmark: one city broadcast to 100,000 registered devices, through the real SDK.

A fake FCM (tests/fake_fcm.py) runs in its own process on 127.0.0.1; the outbox dispatcher sends
to it with firebase-admin's `messaging.send_each` (500 messages per call) and a generated service
account. The run measures, separately:
- recording: writing the broadcast into every inbox and queuing one push per device (database);
- dispatching: claiming, rendering, sending and recording outcomes, split into database time
  and SDK time (the `send_each` calls, HTTP to the fake included).

By default it uses PostgreSQL at 127.0.0.1 (database `binjai_bench`, dropped and created anew);
`--sqlite` uses a throwaway SQLite file instead. With `--workers N` (N > 1) the dispatch runs in N
`flask outbox-worker --drain` processes at once and only the wall-clock rate is reported.

Run: .venv/bin/python bench/push_broadcast.py [--devices 100000] [--workers 1] [--sqlite]
Prints a table and writes bench/results/push_broadcast.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(BENCH_DIR))

import http_baseline as base  # noqa: E402  (shared benchmark helpers)

CHUNK = 10_000


def start_fake_fcm(workdir: Path) -> tuple[subprocess.Popen[str], str, Path]:
    service_account = workdir / "service-account.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fake_fcm",
            "--port",
            "0",
            "--project",
            "binjai-bench",
            "--service-account",
            str(service_account),
        ],
        cwd=REPO_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    where = json.loads(process.stdout.readline())
    return process, where["base_url"], service_account


def fake_stats(base_url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base_url}/_fake/stats", timeout=10) as response:
        return dict(json.load(response))


def seed_residents(devices: int) -> uuid.UUID:
    """`devices` residents with one device each (half of them in English), and one operator."""
    from binjai_api.auth.models import User
    from binjai_api.db import utcnow
    from binjai_api.extensions import db
    from binjai_api.notifications.models import Device

    users, devices_table = User.__table__, Device.__table__
    now = utcnow()
    password_hash = "$argon2id$v=19$m=1024,t=1,p=1$bm90LXVzZWQ$bm90LXVzZWQtaW4tYmVuY2g"
    operator_id = uuid.uuid4()
    db.session.execute(
        sa.insert(users),
        [
            {
                "id": operator_id,
                "full_name": "Operator Bench",
                "email": "op@bench.local",
                "password_hash": password_hash,
                "role": "operator",
                "language": "id",
                "is_active": True,
                "password_changed_at": now,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )
    for start in range(0, devices, CHUNK):
        people = []
        phones = []
        for n in range(start, min(devices, start + CHUNK)):
            user_id = uuid.uuid4()
            language = "en" if n % 2 else "id"
            people.append(
                {
                    "id": user_id,
                    "full_name": f"Warga {n}",
                    "nik": f"{9_000_000_000_000_000 + n}",
                    "password_hash": password_hash,
                    "role": "citizen",
                    "language": language,
                    "is_active": True,
                    "password_changed_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            phones.append(
                {
                    "id": uuid.uuid4(),
                    "token": f"bench-{n:07d}:APA91b-{uuid.uuid4().hex}",
                    "user_id": user_id,
                    "platform": "android" if n % 3 else "ios",
                    "language": None,
                    "created_at": now,
                    "refreshed_at": now,
                }
            )
        db.session.execute(sa.insert(users), people)
        db.session.execute(sa.insert(devices_table), phones)
        db.session.commit()
    return operator_id


def run_workers(count: int, database_url: str, base_url: str, service_account: Path) -> float:
    env = {
        **os.environ,
        "BINJAI_ENV": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "FIREBASE_CREDENTIALS": str(service_account),
        "FCM_ENDPOINT": base_url,
        "LOG_LEVEL": "WARNING",
    }
    began = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "binjai_api", "outbox-worker", "--drain"],
            cwd=REPO_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    for worker in workers:
        if worker.wait() != 0:
            raise SystemExit("an outbox worker failed")
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="binjai-push-bench-"))
    database_url = (
        f"sqlite:///{workdir / 'bench.db'}"
        if args.sqlite
        else base.fresh_postgres_database("binjai_bench")
    )
    fake, base_url, service_account = start_fake_fcm(workdir)
    try:
        figures = measure(args, database_url, base_url, service_account)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    report(figures)


def measure(
    args: argparse.Namespace, database_url: str, base_url: str, service_account: Path
) -> dict[str, Any]:
    from flask_migrate import upgrade

    from binjai_api import create_app, seed
    from binjai_api.extensions import db
    from binjai_api.notifications import dispatcher, service

    app = create_app(
        {
            "BINJAI_ENV": "test",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": None,
            "FIREBASE_CREDENTIALS": str(service_account),
            "FCM_ENDPOINT": base_url,
            "LOG_LEVEL": "WARNING",
        }
    )
    figures: dict[str, Any] = {
        "devices": args.devices,
        "database": "SQLite" if args.sqlite else "PostgreSQL",
        "workers": args.workers,
        "batch_size": app.config["OUTBOX_BATCH_SIZE"],
        "broadcast_batch_size": app.config["BROADCAST_BATCH_SIZE"],
    }
    with app.app_context():
        upgrade()
        seed.seed_regions()
        began = time.perf_counter()
        operator_id = seed_residents(args.devices)
        figures["seed_seconds"] = time.perf_counter() - began

        broadcast = service.create_broadcast(
            created_by_id=operator_id,
            audience="all",
            title_id="Pengumuman Pemko Binjai",
            body_id="Uji kirim ke seluruh warga.",
            title_en="Binjai city announcement",
            body_en="A test send to every resident.",
        )
        began = time.perf_counter()
        batches = 0
        while service.record_broadcast_batch(batch_size=app.config["BROADCAST_BATCH_SIZE"]):
            batches += 1
        figures["record_seconds"] = time.perf_counter() - began
        figures["record_batches"] = batches
        db.session.refresh(broadcast)
        figures["inbox_entries"] = broadcast.recipients_count
        figures["queued_pushes"] = broadcast.deliveries_count

        if args.workers == 1:
            sender = dispatcher.make_sender()
            total = dispatcher.DispatchReport()
            began = time.perf_counter()
            while (round_ := dispatcher.dispatch_due(sender)).claimed:
                total.add(round_)
            figures["dispatch_seconds"] = time.perf_counter() - began
            figures["dispatch_db_seconds"] = total.db_seconds
            figures["dispatch_sdk_seconds"] = total.send_seconds
            figures["send_each_calls"] = sender.timings.calls
            sender.close()
        else:
            figures["dispatch_seconds"] = run_workers(
                args.workers, database_url, base_url, service_account
            )
        counts = service.delivery_counts(broadcast.id)
    figures["sent"] = counts["sent"]
    figures["not_sent"] = counts["pending"] + counts["failed"] + counts["dropped"]
    figures["fake_fcm_messages"] = fake_stats(base_url)["message_count"]
    figures["dispatch_messages_per_second"] = figures["sent"] / figures["dispatch_seconds"]
    end_to_end = figures["record_seconds"] + figures["dispatch_seconds"]
    figures["end_to_end_seconds"] = end_to_end
    figures["end_to_end_messages_per_second"] = figures["sent"] / end_to_end
    return figures


def report(figures: dict[str, Any]) -> None:
    meta = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "firebase_admin": metadata.version("firebase-admin"),
    }
    rows = [
        ("database", figures["database"]),
        ("devices (one per resident)", f"{figures['devices']:,}"),
        ("pushes sent / not sent", f"{figures['sent']:,} / {figures['not_sent']:,}"),
        ("messages received by the fake FCM", f"{figures['fake_fcm_messages']:,}"),
        (
            "record: inbox entries + queued pushes",
            f"{figures['record_seconds']:.1f} s ({figures['inbox_entries']:,} entries, "
            f"{figures['record_batches']} batches of {figures['broadcast_batch_size']})",
        ),
        (
            f"dispatch ({figures['workers']} worker{'s' if figures['workers'] > 1 else ''})",
            f"{figures['dispatch_seconds']:.1f} s = "
            f"{figures['dispatch_messages_per_second']:,.0f} messages/s",
        ),
    ]
    if "dispatch_sdk_seconds" in figures:
        dispatch = figures["dispatch_seconds"]
        rows += [
            (
                "  of which SDK (send_each, HTTP to the fake)",
                f"{figures['dispatch_sdk_seconds']:.1f} s "
                f"({100 * figures['dispatch_sdk_seconds'] / dispatch:.0f}%), "
                f"{figures['send_each_calls']} calls",
            ),
            (
                "  of which database (claim, render, record)",
                f"{figures['dispatch_db_seconds']:.1f} s "
                f"({100 * figures['dispatch_db_seconds'] / dispatch:.0f}%)",
            ),
        ]
    rows.append(
        (
            "end to end (record + dispatch)",
            f"{figures['end_to_end_seconds']:.1f} s = "
            f"{figures['end_to_end_messages_per_second']:,.0f} messages/s",
        )
    )
    width = max(len(name) for name, _ in rows)
    lines = [
        f"Push broadcast benchmark, {meta['when']}, {meta['machine']}, "
        f"firebase-admin {meta['firebase_admin']}"
    ]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    print("\n".join(lines))
    RESULTS_DIR.mkdir(exist_ok=True)
    suffix = (
        ""
        if figures["database"] == "PostgreSQL" and figures["workers"] == 1
        else (f"-{figures['database'].lower()}-{figures['workers']}w")
    )
    (RESULTS_DIR / f"push_broadcast{suffix}.json").write_text(
        json.dumps({**meta, **figures}, indent=2) + "\n", encoding="utf-8"
    )
    table = "\n".join(f"| {name.strip()} | {value} |" for name, value in rows)
    (RESULTS_DIR / f"push_broadcast{suffix}.md").write_text(
        f"{lines[0]}\n\n| measure | figure |\n|---|---|\n{table}\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
