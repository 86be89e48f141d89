"""The issued permit as an A4 PDF, in Indonesian, laid out from its permit type's catalog.

The page: the issuing government and agency, the permit's name and number; the holder (name and
masked NIK); the object of the permit (the application's fields marked `on_permit` in the
catalog, in catalog order); the type's conditions; the validity in long dates; the place, date
and official of issuance; the QR code of the public verification page with its code; a footer
on electronic issuance. A revoked or replaced permit says so in a banner and across the page.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from binjai_api.formatting import long_date, number

GOVERNMENT = "PEMERINTAH KOTA BINJAI"
PLACE_OF_ISSUE = "Binjai"
ELECTRONIC_ISSUANCE = (
    "Dokumen ini diterbitkan secara elektronik oleh Pemerintah Kota Binjai dan sah tanpa tanda "
    "tangan basah dan cap. Keaslian dan status izin ini dapat diperiksa setiap saat dengan "
    "memindai kode QR atau membuka alamat verifikasi di atas."
)
# The width of the text: A4 less 25 mm margins and the frame's own 6 pt paddings.
WIDTH = A4[0] - 50 * mm - 12
# What the page says across itself when the permit no longer holds.
STATE_STAMPS = {"revoked": "DICABUT", "replaced": "DIGANTI"}


@dataclass(frozen=True)
class Official:
    """Who signs for the issuing agency (agency data kept by admins)."""

    name: str | None = None
    nip: str | None = None
    position: str | None = None


@dataclass(frozen=True)
class PermitSheet:
    permit_number: str
    permit_type_name: str
    issuing_agency_name: str
    holder_name: str
    holder_nik_masked: str | None
    valid_from: date
    valid_until: date
    issued_on: date
    verification_url: str
    verification_code: str
    object_rows: tuple[tuple[str, str], ...] = ()
    conditions: tuple[str, ...] = ()
    official: Official = field(default_factory=Official)
    # "active", "revoked" or "replaced", and the sentence that explains the latter two.
    state: str = "active"
    state_note: str | None = None


def field_value_text(
    spec: Mapping[str, Any], value: Any, describe_kelurahan: Callable[[str], str | None]
) -> str | None:
    """A form value as it reads on the permit, by the field's type; None leaves the row out."""
    if value is None or value == "":
        return None
    kind = spec.get("type")
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return number(value, "id")
    if kind == "date" and isinstance(value, str):
        try:
            return long_date(date.fromisoformat(value), "id")
        except ValueError:
            return value
    if kind == "boolean":
        return "Ya" if value else "Tidak"
    if kind == "choice" and isinstance(value, str):
        # Choices are lower_snake Indonesian codes (`neon_box`, `dokter_gigi`).
        words = value.replace("_", " ")
        return words[:1].upper() + words[1:]
    if kind == "kelurahan" and isinstance(value, str):
        return describe_kelurahan(value) or value
    return str(value)


def object_rows(
    form_fields: Iterable[Mapping[str, Any]],
    form_data: Mapping[str, Any],
    describe_kelurahan: Callable[[str], str | None],
) -> tuple[tuple[str, str], ...]:
    """The object of the permit: each `on_permit` field the applicant filled in, in order."""
    rows = []
    for spec in form_fields:
        if not spec.get("on_permit"):
            continue
        text = field_value_text(spec, form_data.get(spec["code"]), describe_kelurahan)
        if text is not None:
            rows.append((str(spec["label"]), text))
    return tuple(rows)


def _qr(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


_BASE = ParagraphStyle("base", fontName="Helvetica", fontSize=10, leading=13)
_STYLES = {
    "government": ParagraphStyle(
        "government", _BASE, fontName="Helvetica-Bold", fontSize=14, leading=18, alignment=TA_CENTER
    ),
    "agency": ParagraphStyle("agency", _BASE, fontSize=11, leading=14, alignment=TA_CENTER),
    "title": ParagraphStyle(
        "title", _BASE, fontName="Helvetica-Bold", fontSize=15, leading=19, alignment=TA_CENTER
    ),
    "number": ParagraphStyle("number", _BASE, fontSize=11, leading=14, alignment=TA_CENTER),
    "heading": ParagraphStyle("heading", _BASE, fontName="Helvetica-Bold", spaceBefore=4),
    "cell": _BASE,
    "small": ParagraphStyle("small", _BASE, fontSize=8, leading=10),
    "condition": ParagraphStyle("condition", _BASE, leftIndent=6 * mm, firstLineIndent=-6 * mm),
    "banner": ParagraphStyle(
        "banner",
        _BASE,
        fontName="Helvetica-Bold",
        fontSize=11,
        leading=14,
        textColor=colors.HexColor("#8a1c1c"),
        alignment=TA_CENTER,
    ),
}


def _p(text: str, style: str) -> Paragraph:
    return Paragraph(escape(text), _STYLES[style])


def _rows_table(rows: Iterable[tuple[str, str]]) -> Table:
    table = Table(
        [[_p(label, "cell"), _p(":", "cell"), _p(value, "cell")] for label, value in rows],
        colWidths=[48 * mm, 4 * mm, WIDTH - 52 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _signature_block(sheet: PermitSheet) -> Table:
    official = sheet.official
    right = [
        _p(f"Ditetapkan di {PLACE_OF_ISSUE}", "cell"),
        _p(f"pada tanggal {long_date(sheet.issued_on, 'id')}", "cell"),
        Spacer(1, 3 * mm),
        _p(official.position or sheet.issuing_agency_name, "heading"),
        Spacer(1, 3 * mm),
        _p("Ditandatangani secara elektronik", "small"),
        Spacer(1, 3 * mm),
        _p(official.name or "-", "heading"),
        _p(f"NIP {official.nip}" if official.nip else "NIP -", "cell"),
    ]
    left = [
        _qr(sheet.verification_url, 34 * mm),
        _p("Pindai kode QR untuk memeriksa keaslian dan status izin ini.", "small"),
    ]
    table = Table([[left, right]], colWidths=[WIDTH / 2, WIDTH / 2], hAlign="LEFT")
    table.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return table


def _state_banner(sheet: PermitSheet) -> list[Flowable]:
    if sheet.state not in STATE_STAMPS:
        return []
    text = f"IZIN INI TELAH {STATE_STAMPS[sheet.state]}"
    if sheet.state_note:
        text += f". {sheet.state_note}"
    banner = Table([[_p(text, "banner")]], colWidths=[WIDTH])
    banner.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 1.5, colors.HexColor("#8a1c1c"))]))
    return [banner, Spacer(1, 4 * mm)]


def _decorate(sheet: PermitSheet) -> Callable[[Canvas, Any], None]:
    """Each page: the footer on electronic issuance, and the state stamp across the page."""

    def draw(page: Canvas, _doc: Any) -> None:
        width, _height = A4
        page.saveState()
        footer = Paragraph(escape(ELECTRONIC_ISSUANCE), _STYLES["small"])
        _w, h = footer.wrap(width - 50 * mm, 30 * mm)
        footer.drawOn(page, 25 * mm, 12 * mm)
        page.setStrokeColor(colors.grey)
        page.line(25 * mm, 14 * mm + h, width - 25 * mm, 14 * mm + h)
        stamp = STATE_STAMPS.get(sheet.state)
        if stamp:
            page.setFillColor(colors.HexColor("#8a1c1c"), alpha=0.18)
            page.setFont("Helvetica-Bold", 96)
            page.translate(width / 2, A4[1] / 2)
            page.rotate(35)
            page.drawCentredString(0, 0, stamp)
        page.restoreState()

    return draw


def render(sheet: PermitSheet) -> bytes:
    """The permit on A4; the QR code points at the public verification page."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=20 * mm,
        bottomMargin=30 * mm,
        title=f"{sheet.permit_type_name} {sheet.permit_number}",
        author=sheet.issuing_agency_name,
        invariant=True,
        # Uncompressed: a few kilobytes, and the text stays searchable.
        pageCompression=0,
    )
    story: list[Flowable] = [
        _p(GOVERNMENT, "government"),
        _p(sheet.issuing_agency_name.upper(), "agency"),
        Spacer(1, 2 * mm),
        Table([[""]], colWidths=[WIDTH], style=[("LINEABOVE", (0, 0), (-1, 0), 1.5, colors.black)]),
        Spacer(1, 4 * mm),
        *_state_banner(sheet),
        _p(sheet.permit_type_name.upper(), "title"),
        _p(f"Nomor: {sheet.permit_number}", "number"),
        Spacer(1, 6 * mm),
        _p("Diberikan kepada:", "heading"),
        _rows_table([("Nama", sheet.holder_name), ("NIK", sheet.holder_nik_masked or "-")]),
    ]
    if sheet.object_rows:
        story += [Spacer(1, 3 * mm), _p("Objek izin:", "heading"), _rows_table(sheet.object_rows)]
    story += [
        Spacer(1, 3 * mm),
        _p("Masa berlaku:", "heading"),
        _p(
            f"Berlaku sejak {long_date(sheet.valid_from, 'id')} sampai dengan "
            f"{long_date(sheet.valid_until, 'id')}.",
            "cell",
        ),
    ]
    if sheet.conditions:
        story += [Spacer(1, 3 * mm), _p("Ketentuan:", "heading")]
        story += [
            Paragraph(f"{index}.&nbsp;&nbsp;{escape(condition)}", _STYLES["condition"])
            for index, condition in enumerate(sheet.conditions, start=1)
        ]
    story += [
        Spacer(1, 8 * mm),
        _signature_block(sheet),
        Spacer(1, 3 * mm),
        # On full lines of their own: a wrapped address or code could not be typed back.
        _p(f"Alamat verifikasi: {sheet.verification_url}", "small"),
        _p(f"Kode verifikasi: {sheet.verification_code}", "small"),
    ]
    decorate = _decorate(sheet)
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
