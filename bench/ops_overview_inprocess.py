"""The command center's overview computed in process, this code against an older export of it,
in turns on the same database (a machine shared with other work slows both alike).

Needs a database that `bench/ops_dashboard.py --database NAME --in-process-only` filled (and
migrated to this code). Each round runs the older code, then this code, in fresh processes
(`PYTHONPATH` to each tree's src), each timing `compute_overview` for 30 and 365 days over
`--repeat` runs after one warm-up; the medians are reported, and the median of the rounds.

Run: .venv/bin/python bench/ops_overview_inprocess.py --database bench_ops \\
    --before-tree /tmp/before (an export: `git archive <commit> src | tar -x -C /tmp/before`)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
PG_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"
PERIODS = (30, 365)


def measure(database: str, repeat: int) -> dict[str, float]:
    """Median milliseconds of compute_overview per period, in this process's code."""
    from binjai_api import create_app
    from binjai_api.extensions import db
    from binjai_api.ops import service
    from binjai_api.workcalendar.service import local_date

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"{PG_SERVER_URL}/{database}", "BINJAI_ENV": "development"}
    )
    found = {}
    with app.app_context():
        now = datetime.now(UTC)
        today = local_date(now)
        for days in PERIODS:
            period = service.Period(today - timedelta(days=days - 1), today)
            timings = []
            for run in range(repeat + 1):
                started = time.perf_counter()
                service.compute_overview(period=period, agency_id=None, now=now)
                if run:  # the first run warms the caches (PostgreSQL's and SQLAlchemy's)
                    timings.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            found[f"{days}_days_ms"] = round(statistics.median(timings), 1)
    return found


def run_tree(src: Path, database: str, repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, __file__, "--measure", "--database", database]
    done = subprocess.run(
        [*argv, "--repeat", str(repeat)], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", default="bench_ops")
    parser.add_argument("--before-tree", type=Path, help="an export of the older code")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.database, args.repeat)))
        return 0
    trees = {"after (this code)": REPO_DIR / "src"}
    if args.before_tree is not None:
        trees = {"before": args.before_tree / "src", **trees}
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for number in range(1, args.rounds + 1):
        for name, src in trees.items():
            found = run_tree(src, args.database, args.repeat)
            rounds[name].append(found)
            print(f"round {number}, {name}: {found}", flush=True)
    print()
    print(f"overview computed in process, median of {args.rounds} rounds of {args.repeat} runs:")
    print("| code | 30 days ms | 365 days ms |")
    print("|---|---:|---:|")
    for name, found in rounds.items():
        cells = [statistics.median(r[f"{days}_days_ms"] for r in found) for days in PERIODS]
        print(f"| {name} | {cells[0]:.1f} | {cells[1]:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
