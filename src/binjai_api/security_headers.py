"""Headers every response gets from what it is, set in one place so that future pages and
downloads get them too: no HTML page of ours can be framed by another site (clickjacking), and a
file (a permit document, a photo, a PDF) is downloaded, never opened by a browser as a page of
this origin (CONVENTIONS: pages for people, files).
"""

from __future__ import annotations

from flask import Flask, Response, request

FRAME_ANCESTORS = "frame-ancestors 'none'"
# Bodies that are files rather than API representations: served as attachments.
_FILE_MEDIA_TYPES = ("application/pdf", "application/octet-stream", "application/zip")
_FILE_MEDIA_PREFIXES = ("image/", "video/", "audio/")
# The docs' own assets (scripts, styles, icons) load inside their pages.
_ASSET_ENDPOINTS = frozenset({"static"})


def _is_file(media_type: str) -> bool:
    return media_type in _FILE_MEDIA_TYPES or media_type.startswith(_FILE_MEDIA_PREFIXES)


def add_security_headers(response: Response) -> Response:
    """`frame-ancestors 'none'` on every HTML page (added to a page's own policy when it has
    one), `Content-Disposition: attachment` on every file that does not say otherwise."""
    media_type = response.mimetype or ""  # parsed from Content-Type at each access: read once
    if media_type == "text/html":
        policy = response.headers.get("Content-Security-Policy")
        if not policy:
            response.headers["Content-Security-Policy"] = FRAME_ANCESTORS
        elif "frame-ancestors" not in policy:
            response.headers["Content-Security-Policy"] = (
                f"{policy.rstrip('; ')}; {FRAME_ANCESTORS}"
            )
        response.headers.setdefault("X-Frame-Options", "DENY")  # browsers without CSP 2
    elif _is_file(media_type) and request.endpoint not in _ASSET_ENDPOINTS:
        response.headers.setdefault("Content-Disposition", "attachment")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
