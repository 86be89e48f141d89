"""Render /api/docs (Swagger UI), /api/redoc (ReDoc) and the permit verification page in
headless Chromium, offline.

Run as `.venv/bin/python bench/docs_render_check.py`. It serves the app with gunicorn on a free
port against a throwaway SQLite database, checks that the served HTML references no external URL,
renders each page with Chromium (all DNS except 127.0.0.1 fails, as on a machine without
internet), checks the rendered DOM shows what it must, lists any external request the page tried,
and saves screenshots: the docs in bench/results/, the verification page in each of its five
states (and once in English) at a phone's width in docs/screenshots/, beside a PNG of a sample
permit's PDF (bench/permit_samples.py). Exits non-zero when a check fails.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import permit_samples

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
# Pictures the README points at, committed with the code that draws them.
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
HOST = "127.0.0.1"

APT_TIMEOUT_S = 900
SERVER_START_TIMEOUT_S = 30
SERVER_STOP_TIMEOUT_S = 20
HTTP_TIMEOUT_S = 10
CHROMIUM_TIMEOUT_S = 120
RENDER_BUDGET_MS = 15000
WINDOW_SIZE = "1280,2000"
PHONE_WINDOW_SIZE = "412,915"  # a common Android phone's viewport, in CSS pixels

URL_RE = re.compile(r"""https?://[^\s"'<>()\\]+""")
# Namespace names (SVG, XHTML...) look like URLs but are never fetched.
NAMESPACE_PREFIXES = ("http://www.w3.org/",)

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--no-proxy-server",
    # Every host but the app's fails to resolve: the pages must render with no internet at all.
    f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}",
    f"--virtual-time-budget={RENDER_BUDGET_MS}",
)


@dataclass(frozen=True)
class Page:
    """A docs page, what its rendered DOM must contain, and where its screenshot goes."""

    name: str
    path: str
    screenshot: str
    markers: tuple[str, ...]
    directory: Path = RESULTS
    window_size: str = WINDOW_SIZE
    # Texts the rendered DOM must never contain (a NIK on the public page, for one).
    absent: tuple[str, ...] = ()
    # The browser's languages (Accept-Language): headless Chromium says en-US unless told.
    languages: str = "en-US,en"


@dataclass
class Outcome:
    """What checking one page found."""

    page: Page
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


PAGES = (
    Page(
        name="Swagger UI",
        path="/api/docs",
        screenshot="docs-swagger.png",
        markers=('class="swagger-ui"', "opblock", "/api/v1/auth/login", "Binjai API"),
    ),
    Page(
        name="ReDoc",
        path="/api/redoc",
        screenshot="docs-redoc.png",
        markers=(
            "redoc-wrap",
            "Binjai API",
            "/api/v1/auth/login",
            "Log in with phone, email or NIK and a password",
        ),
    ),
)


# What each state of the verification page must say in words (Indonesian, and English once).
VERIFICATION_MARKERS = {
    "valid": ("Izin berlaku", "Siti Rahmawati Br. Ginting", "Izin Reklame", "Diperiksa pada"),
    "expired": ("Masa berlaku izin habis", "berakhir pada"),
    "revoked": ("Izin dicabut", "tidak berlaku lagi"),
    "replaced": ("Izin telah diganti", "REKLAME/00012/DPMPTSP/"),
    "not_found": ("Izin tidak ditemukan", "palsu"),
}


def verification_pages(codes: dict[str, str]) -> tuple[Page, ...]:
    """The verification page of each sample permit, at a phone's width."""
    pages = [
        Page(
            name=f"Permit verification: {state}",
            path=f"/api/v1/permits/verify/{codes[state]}",
            screenshot=f"verify-{state.replace('_', '-')}.png",
            markers=('<html lang="id">', *markers),
            directory=SCREENSHOTS,
            window_size=PHONE_WINDOW_SIZE,
            absent=(permit_samples.SAMPLE_NIK, "<script"),
            languages="id-ID,id",  # a phone in Binjai
        )
        for state, markers in VERIFICATION_MARKERS.items()
    ]
    pages.append(
        Page(
            name="Permit verification: valid, in English",
            path=f"/api/v1/permits/verify/{codes['valid']}?lang=en",
            screenshot="verify-valid-en.png",
            markers=('<html lang="en">', "Valid permit", "Advertising permit", "Checked on"),
            directory=SCREENSHOTS,
            window_size=PHONE_WINDOW_SIZE,
            absent=(permit_samples.SAMPLE_NIK, "<script"),
        )
    )
    return tuple(pages)


def ensure_chromium() -> None:
    """Install Debian's chromium when it is missing (we run as root)."""
    if CHROMIUM.exists():
        return
    print("chromium missing: installing it with apt-get", flush=True)
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
    ):
        subprocess.run(
            command, check=True, env=apt_env, timeout=APT_TIMEOUT_S, stdout=subprocess.DEVNULL
        )


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    """Status and body of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def start_server(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start gunicorn and wait until the OpenAPI document answers."""
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                "1",
                # Not the shared ~/.gunicorn/gunicorn.ctl, which a developer's server may hold.
                "--no-control-socket",
                "binjai_api:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log_tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log_tail}")
        try:
            if fetch(f"http://{HOST}:{port}/api/v1/openapi.json")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(server)
    raise RuntimeError(f"gunicorn did not answer within {SERVER_START_TIMEOUT_S} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn gracefully, killing it when it does not stop in time."""
    if server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=SERVER_STOP_TIMEOUT_S)


def is_external(url: str) -> bool:
    """Whether fetching `url` would leave this machine."""
    if url.startswith(NAMESPACE_PREFIXES):
        return False
    return urlsplit(url).hostname not in {HOST, "localhost"}


def external_urls(text: str) -> list[str]:
    """The http(s) URLs in `text` that point off this machine."""
    return sorted({url for url in URL_RE.findall(text) if is_external(url)})


def run_chromium(url: str, workdir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on `url` with a fresh profile."""
    profile = tempfile.mkdtemp(prefix="profile-", dir=workdir)
    return subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=CHROMIUM_TIMEOUT_S,
        check=False,
    )


def requested_urls(net_log: Path, origin: str) -> list[str]:
    """URLs the page (not Chromium itself) asked for, read from a Chromium net log."""
    text = net_log.read_text(encoding="utf-8", errors="replace")
    try:
        events = json.loads(text)["events"]
    except (ValueError, KeyError):
        # A net log cut short is not valid JSON: count every URL it mentions, to be safe.
        return sorted(set(URL_RE.findall(text)))
    urls: set[str] = set()
    for event in events:
        params = event.get("params") or {}
        initiator = params.get("initiator") or ""
        # Only request starts carry a method; other events repeat URLs or name bare origins.
        if "method" not in params or "url" not in params:
            continue
        if initiator.startswith(origin) or params["url"].startswith(origin):
            urls.add(params["url"])
    return sorted(urls)


def check_page(base_url: str, page: Page, workdir: Path) -> Outcome:
    """Check one docs page: served HTML, rendered DOM, requests made, screenshot."""
    outcome = Outcome(page)
    url = base_url + page.path
    status, html = fetch(url)
    if status != 200:
        outcome.problems.append(f"GET {page.path} answered {status}")
        return outcome
    outcome.problems += [f"served HTML references {ext}" for ext in external_urls(html)]

    net_log = workdir / f"{page.screenshot}.netlog.json"
    lang = f"--accept-lang={page.languages}"
    dump = run_chromium(url, workdir, lang, "--dump-dom", f"--log-net-log={net_log}")
    dom = dump.stdout
    if dump.returncode != 0 or not dom.strip():
        outcome.problems.append(
            f"chromium --dump-dom exited {dump.returncode}: {dump.stderr[-500:]}"
        )
        return outcome
    missing = [marker for marker in page.markers if marker not in dom]
    outcome.problems += [f"rendered DOM lacks {marker!r}" for marker in missing]
    outcome.problems += [f"rendered DOM shows {text!r}" for text in page.absent if text in dom]
    outcome.notes.append(f"rendered DOM {len(dom) // 1024} KiB")

    if net_log.exists():
        requested = requested_urls(net_log, base_url)
        outside = [u for u in requested if is_external(u)]
        outcome.problems += [f"page requested {u}" for u in outside]
        outcome.notes.append(f"{len(requested)} requests, {len(outside)} external")
    else:
        outcome.problems.append("chromium wrote no net log")

    screenshot = page.directory / page.screenshot
    screenshot.unlink(missing_ok=True)
    shot = run_chromium(
        url, workdir, lang, f"--screenshot={screenshot}", f"--window-size={page.window_size}"
    )
    if shot.returncode != 0 or not screenshot.exists():
        outcome.problems.append(f"no screenshot (chromium exited {shot.returncode})")
    else:
        outcome.notes.append(f"screenshot {screenshot.relative_to(ROOT)}")
    return outcome


def main() -> int:
    """Run every check and print a PASS/FAIL report."""
    ensure_chromium()
    RESULTS.mkdir(parents=True, exist_ok=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docs-render-", dir="/tmp") as tmp:
        workdir = Path(tmp)
        port = free_port()
        base_url = f"http://{HOST}:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir}/docs.db",
            "BINJAI_ENV": "development",
            "REDIS_URL": "",
            "PUBLIC_BASE_URL": base_url,
        }
        samples = permit_samples.prepare(env["DATABASE_URL"], base_url)
        permit_png = SCREENSHOTS / "permit-sample.png"
        permit_samples.pdf_page_png(samples.permit_pdf, permit_png)
        log_path = workdir / "gunicorn.log"
        server = start_server(port, env, log_path)
        try:
            pages = PAGES + verification_pages(samples.codes)
            outcomes = [check_page(base_url, page, workdir) for page in pages]
        finally:
            stop_server(server)
        failed = any(outcome.problems for outcome in outcomes)
        if failed:
            print(f"--- gunicorn log ---\n{log_path.read_text(errors='replace')[-3000:]}")

    version = subprocess.run(
        [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=30, check=False
    ).stdout.strip()
    print(f"{version}, offline, {RENDER_BUDGET_MS} ms virtual time budget")
    print(f"sample permit PDF page: {permit_png.relative_to(ROOT)}")
    for outcome in outcomes:
        verdict = "FAIL" if outcome.problems else "PASS"
        print(f"{verdict} {outcome.page.name} ({outcome.page.path}): {'; '.join(outcome.notes)}")
        for problem in outcome.problems:
            print(f"    - {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
