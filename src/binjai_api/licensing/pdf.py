"""The issued permit as a PDF: its number, validity, and a QR code of its verification URL."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas


@dataclass(frozen=True)
class PermitSheet:
    permit_number: str
    permit_type_name: str
    issuing_agency_name: str
    holder_name: str
    valid_from: date
    valid_until: date
    verification_url: str
    verification_code: str


def _qr(url: str, size: float) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def render(sheet: PermitSheet) -> bytes:
    """One A4 page; the QR code points at the public verification URL."""
    buffer = io.BytesIO()
    # Uncompressed: a few kilobytes, and the text stays searchable.
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=0)
    page.setTitle(f"{sheet.permit_type_name} {sheet.permit_number}")
    width, height = A4
    page.setFont("Helvetica-Bold", 14)
    page.drawCentredString(width / 2, height - 30 * mm, "PEMERINTAH KOTA BINJAI")
    page.setFont("Helvetica", 11)
    page.drawCentredString(width / 2, height - 37 * mm, sheet.issuing_agency_name)
    page.setFont("Helvetica-Bold", 16)
    page.drawCentredString(width / 2, height - 55 * mm, sheet.permit_type_name.upper())
    page.setFont("Helvetica", 11)
    page.drawCentredString(width / 2, height - 62 * mm, f"Nomor: {sheet.permit_number}")
    rows = (
        ("Diberikan kepada", sheet.holder_name),
        ("Berlaku mulai", sheet.valid_from.strftime("%d-%m-%Y")),
        ("Berlaku sampai", sheet.valid_until.strftime("%d-%m-%Y")),
    )
    y = height - 85 * mm
    for label, value in rows:
        page.drawString(30 * mm, y, label)
        page.drawString(75 * mm, y, f": {value}")
        y -= 8 * mm
    renderPDF.draw(_qr(sheet.verification_url, 40 * mm), page, 30 * mm, 60 * mm)
    page.setFont("Helvetica", 8)
    page.drawString(30 * mm, 55 * mm, "Pindai kode QR untuk memeriksa keaslian izin ini:")
    page.drawString(30 * mm, 50 * mm, sheet.verification_url)
    page.drawString(30 * mm, 45 * mm, f"Kode verifikasi: {sheet.verification_code}")
    page.showPage()
    page.save()
    return buffer.getvalue()
