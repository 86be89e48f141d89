"""Image bombs and the pixel budget (MAX_IMAGE_PIXELS), under gunicorn as `make run` serves.

Against the app on a fresh SQLite file (bench/sqlite_writes.py's server: gunicorn.conf.py with
2 workers, the outbox worker beside), a resident uploads complaint photos:

- three bombs (an 8000 x 8000 PNG, a 30000 x 30000 PNG, a JPEG header claiming 65000 x 65000):
  the answer and the time it took;
- the largest images the budget accepts (40 MP by default) as a JPEG and as an RGBA PNG: the
  answer, the time, and the serving worker's peak memory (VmHWM) before and after.

Run: .venv/bin/python bench/image_budget.py
"""

from __future__ import annotations

import http.client
import io
import json
import math
import sys
import tempfile
import time
import uuid
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
sys.path.insert(0, str(REPO_DIR))
sys.path.insert(0, str(BENCH_DIR))

from tests.image_bombs import jpeg_claiming, png_bomb  # noqa: E402

import http_baseline as base  # noqa: E402
from sqlite_writes import SqliteServer  # noqa: E402

BUDGET = 40_000_000


def multipart(content: bytes, filename: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def upload_photo(
    server: SqliteServer, headers: dict[str, str], complaint: str, content: bytes, name: str
) -> tuple[int, str, float]:
    body, content_type = multipart(content, name)
    conn = http.client.HTTPConnection(base.HOST, server.port, timeout=120)
    started = time.perf_counter()
    try:
        conn.request(
            "POST",
            f"/api/v1/complaints/{complaint}/photos",
            body=body,
            headers={**headers, "Content-Type": content_type},
        )
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    code = json.loads(data).get("code", "") if response.status >= 400 else "stored"
    return response.status, code, elapsed


def worker_pids(master_pid: int) -> list[int]:
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(master_pid):
            pids.append(int(status.parent.name))
    return pids


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


def largest_jpeg() -> bytes:
    from PIL import Image

    width = int(math.sqrt(BUDGET * 4 / 3))
    height = BUDGET // width
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (gradient, gradient.rotate(90, expand=False), gradient))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def largest_png() -> bytes:
    from PIL import Image

    width = int(math.sqrt(BUDGET * 4 / 3))
    height = BUDGET // width
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGBA", (gradient, gradient, gradient, gradient))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def measure_bombs(tmp: Path) -> None:
    with SqliteServer(Path(tmp)) as server:
        resident = server.log_in(server.register(77_001))
        print(f"pixel budget {BUDGET / 1e6:g} MP")
        print("bombs (refused from the header, before decoding):")
        for name, make, filename in (
            ("PNG 8000 x 8000", lambda: png_bomb(8000, 8000), "bomb.png"),
            ("PNG 30000 x 30000", lambda: png_bomb(30000, 30000), "bomb.png"),
            ("JPEG header 65000 x 65000", lambda: jpeg_claiming(65000, 65000), "bomb.jpg"),
        ):
            content = make()
            complaint = server.submit_complaint(resident, 1).json()["id"]
            status, code, elapsed = upload_photo(
                server, resident.headers, complaint, content, filename
            )
            print(
                f"  {name:<26} {len(content) / 1024:7.0f} KiB -> {status} {code:<15}"
                f" in {elapsed * 1000:6.0f} ms"
            )


def measure_largest(tmp: Path, name: str, content: bytes, filename: str) -> None:
    """On a fresh server, so that the serving worker's peak is this image's alone."""
    with SqliteServer(Path(tmp)) as server:
        resident = server.log_in(server.register(77_002))
        master = server.processes[-1].pid
        complaint = server.submit_complaint(resident, 2).json()["id"]
        before = {pid: peak_rss_mib(pid) for pid in worker_pids(master)}
        status, code, elapsed = upload_photo(server, resident.headers, complaint, content, filename)
        after = {pid: peak_rss_mib(pid) for pid in worker_pids(master)}
        grown = max(after, key=lambda pid: after[pid] - before.get(pid, 0))
        print(
            f"  {name:<26} {len(content) / 1024 / 1024:5.1f} MiB -> {status} {code}"
            f" in {elapsed:5.2f} s; worker peak RSS {before.get(grown, 0):.0f} ->"
            f" {after[grown]:.0f} MiB (+{after[grown] - before.get(grown, 0):.0f})"
        )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="binjai-image-budget-") as tmp:
        measure_bombs(Path(tmp))
    print("largest accepted images (decoded, re-encoded without metadata, stored):")
    for name, make, filename in (
        ("JPEG RGB 40 MP", largest_jpeg, "big.jpg"),
        ("PNG RGBA 40 MP", largest_png, "big.png"),
    ):
        with tempfile.TemporaryDirectory(prefix="binjai-image-budget-") as tmp:
            measure_largest(Path(tmp), name, make(), filename)
    return 0


if __name__ == "__main__":
    sys.exit(main())
