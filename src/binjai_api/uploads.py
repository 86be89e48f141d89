"""The one file-upload path (CONVENTIONS: files): a per-file size limit, the type read from the
content and never from the filename, image metadata (EXIF, GPS) stripped, and private storage.

Domains keep their own rows (a complaint's photos, an application's documents) that point at a
storage key; the key and the folder never reach a client.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from binjai_api.errors import Problem, field_errors
from binjai_api.i18n import gettext, lazy_gettext

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
IMAGE_TYPES = (JPEG, PNG, WEBP)
_PILLOW_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}

# Pillow's own guard (a warning above it, an error above twice it) stays as a last line; the
# pixel budget (MAX_IMAGE_PIXELS, `_within_pixel_budget`) refuses before it is ever reached.
Image.MAX_IMAGE_PIXELS = 50_000_000

_READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks, as it will be stored."""

    content: bytes
    media_type: str
    sha256: str
    original_filename: str | None

    @property
    def size(self) -> int:
        return len(self.content)


def sniff_media_type(content: bytes) -> str | None:
    """The media type the bytes really are (magic numbers), or None when not one we accept."""
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content.startswith(b"%PDF-"):
        return PDF
    return None


def _read_within(file: FileStorage, max_bytes: int) -> bytes:
    buffer = bytearray()
    while chunk := file.stream.read(_READ_CHUNK):
        buffer.extend(chunk)
        if len(buffer) > max_bytes:
            raise Problem(
                413,
                "file_too_large",
                gettext("The file is larger than %(limit)s MB.", limit=_megabytes(max_bytes)),
            )
    return bytes(buffer)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def _within_pixel_budget(content: bytes) -> None:
    """413 `image_too_large` when the image's header declares more pixels than the budget
    (MAX_IMAGE_PIXELS), read without decoding a single pixel: a PNG of a few hundred KiB can
    declare 30000 x 30000 pixels, which decoding would turn into gigabytes and many seconds."""
    budget = int(current_app.config["MAX_IMAGE_PIXELS"])
    try:
        with warnings.catch_warnings():  # Pillow warns of what we are about to refuse
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:  # reads the header only
                width, height = image.size
    except Image.DecompressionBombError:  # Pillow's own guard, far above any budget
        width, height = budget + 1, 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return  # not readable: the decoding step answers 415
    if width * height > budget:
        raise Problem(
            413,
            "image_too_large",
            gettext(
                "The image has %(pixels)s megapixels; at most %(limit)s are accepted.",
                pixels=f"{width * height / 1_000_000:.0f}",
                limit=f"{budget / 1_000_000:g}",
            ),
        )


def _strip_image_metadata(content: bytes, media_type: str) -> bytes:
    """Re-encode the pixels alone: EXIF (with GPS), XMP, comments and text chunks are dropped,
    after the EXIF orientation is applied so the photo still shows the right way up.

    At most two copies of the pixels are held at once (the decoded image while the clean one is
    filled, then the clean one while it is encoded): a 40 MP photo is 120 MB per copy."""
    try:
        with Image.open(io.BytesIO(content)) as probe:
            probe.verify()
        with Image.open(io.BytesIO(content)) as image:
            if image.format != _PILLOW_FORMATS[media_type]:
                raise _not_accepted((media_type,))
            image.load()
            ImageOps.exif_transpose(image, in_place=True)
            # Pixels only: a new image carries no info, no EXIF, no XMP.
            clean = Image.new(image.mode, image.size)
            clean.paste(image)
            palette = image.getpalette() if image.mode == "P" else None
        # The decoded original is closed and freed before the clean copy is encoded.
        if palette is not None:
            clean.putpalette(palette)
        out = io.BytesIO()
        options: dict[str, object] = {"quality": 90} if media_type != PNG else {}
        clean.save(out, format=_PILLOW_FORMATS[media_type], **options)
        return out.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise Problem(
            415, "unsupported_media_type", gettext("The file is not a readable image.")
        ) from None


_ACCEPTED_LABELS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WebP", PDF: "PDF"}


def _not_accepted(accepted: Collection[str]) -> Problem:
    labels = ", ".join(_ACCEPTED_LABELS.get(media_type, media_type) for media_type in accepted)
    return Problem(
        415,
        "unsupported_media_type",
        gettext("This file type is not accepted here. Accepted: %(types)s.", types=labels),
    )


NO_FILE = lazy_gettext("Attach a file in the `file` field.")


def check_upload(
    file: FileStorage | None, *, accepted: Collection[str], max_bytes: int, field: str = "file"
) -> CheckedFile:
    """Read and check one uploaded file: 422 when missing or empty, 413 when larger than
    `max_bytes` (or an image of more pixels than MAX_IMAGE_PIXELS), 415 when its content is not
    one of the `accepted` media types. Images come back re-encoded without their metadata."""
    if file is None:
        raise field_errors({field: [str(NO_FILE)]}, location="files")
    content = _read_within(file, max_bytes)
    if not content:
        raise field_errors({field: [str(NO_FILE)]}, location="files")
    media_type = sniff_media_type(content)
    if media_type is None or media_type not in accepted:
        raise _not_accepted(accepted)
    if media_type in IMAGE_TYPES:
        _within_pixel_budget(content)
        content = _strip_image_metadata(content, media_type)
    return CheckedFile(
        content=content,
        media_type=media_type,
        sha256=hashlib.sha256(content).hexdigest(),
        original_filename=Path(file.filename).name[:200] if file.filename else None,
    )


def _upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def _path_of(key: str) -> Path:
    if not key.isalnum():  # keys are our own hex names; never a path from outside
        raise ValueError("not a storage key")
    return _upload_dir() / key[:2] / key


def store(content: bytes) -> str:
    """Write the bytes to private storage; returns the key to keep in the domain's row."""
    key = uuid.uuid4().hex
    path = _path_of(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    temporary.write_bytes(content)
    temporary.replace(path)  # readers never see a half-written file
    return key


def read_stored(key: str) -> bytes:
    return _path_of(key).read_bytes()


def delete_stored(key: str) -> None:
    """Remove a stored file; used when the transaction that referenced it fails."""
    _path_of(key).unlink(missing_ok=True)
