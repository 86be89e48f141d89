"""Images within a pixel budget (issue 15, point 3): an image declaring more pixels than
MAX_IMAGE_PIXELS is refused with 413 `image_too_large` from its header, before any pixel is
decoded. The time each refusal takes is measured by bench/image_budget.py, not here."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import ImageFile

from binjai_api.complaints import service as complaints_service
from binjai_api.errors import Problem
from binjai_api.extensions import db
from tests.complaints.helpers import report
from tests.image_bombs import jpeg_claiming, photo, png_bomb
from tests.platform.test_errors import assert_problem
from tests.platform.test_uploads import check

BOMBS = {
    "png-8000x8000": lambda: png_bomb(8000, 8000),
    "png-30000x30000": lambda: png_bomb(30000, 30000),
    "jpeg-header-65000x65000": lambda: jpeg_claiming(65000, 65000),
}


@pytest.fixture
def decoding_forbidden(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any attempt to decode pixels is recorded and stopped."""
    attempts: list[str] = []

    def refuse_to_decode(image: ImageFile.ImageFile) -> None:
        attempts.append(f"{image.format} {image.size}")
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)
    yield attempts


@pytest.mark.parametrize("bomb", BOMBS.values(), ids=BOMBS.keys())
def test_an_image_over_the_budget_is_refused_before_decoding(
    app: Flask, bomb: Callable[[], bytes], decoding_forbidden: list[str]
) -> None:
    content = bomb()
    assert len(content) < 200 * 1024  # small files, huge images
    with pytest.raises(Problem) as refused:
        check(app, content, "photo.png", max_bytes=5 * 1024 * 1024)
    assert (refused.value.status, refused.value.code) == (413, "image_too_large")
    assert decoding_forbidden == []


def test_the_budget_is_a_setting_and_its_edge_is_accepted(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAX_IMAGE_PIXELS", 100 * 100)
    assert check(app, photo(100, 100)).size > 0
    assert check(app, png_bomb(100, 100), "edge.png").media_type == "image/png"
    with pytest.raises(Problem) as refused:
        check(app, photo(101, 100))
    assert (refused.value.status, refused.value.code) == (413, "image_too_large")


def test_the_default_budget_is_40_megapixels(app: Flask) -> None:
    assert app.config["MAX_IMAGE_PIXELS"] == 40_000_000


@pytest.mark.usefixtures("rollback_db")
@pytest.mark.parametrize("language", ["id", "en"])
def test_a_complaint_photo_bomb_is_a_413_problem(
    app: Flask,
    client: FlaskClient,
    auth_headers: Callable[..., dict[str, str]],
    language: str,
) -> None:
    headers = {**auth_headers(), "Accept-Language": language}
    created = client.post("/api/v1/complaints", headers=headers, json=report(_category(app)))
    assert created.status_code == 201, created.get_json()
    response = client.post(
        f"/api/v1/complaints/{created.get_json()['id']}/photos",
        headers=headers,
        data={"file": (io.BytesIO(png_bomb(8000, 8000)), "lubang.png")},
        content_type="multipart/form-data",
    )
    problem = assert_problem(response, 413, "image_too_large")
    expected = {
        "id": "Gambar berukuran 64 megapiksel; paling banyak 40 yang diterima.",
        "en": "The image has 64 megapixels; at most 40 are accepted.",
    }
    assert problem["detail"] == expected[language]
    detail = client.get(f"/api/v1/complaints/{created.get_json()['id']}", headers=headers)
    assert detail.get_json()["photos"] == []


def _category(app: Flask) -> str:
    with app.app_context():
        complaints_service.seed_categories()
        category = db.session.scalars(complaints_service.categories_query()).first()
        assert category is not None
        return str(category.id)
