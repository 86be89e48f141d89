"""Sample permits for bench/docs_render_check.py: one in each verification state, written into a
throwaway database, and a PNG of a sample permit's PDF page.

`prepare(database_url)` migrates and seeds the database, writes a billboard permit (Izin Reklame)
that is valid, one expired, one revoked and one replaced, and returns each state's verification
code (a code of no permit for `not_found`) and the valid permit's PDF. `pdf_page_png` renders a
PDF's first page with pypdfium2 (PDFium, from PyPI: no system package needed).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

FORM = {
    "jenis_reklame": "neon_box",
    "ukuran_m2": 12.5,
    "lokasi": "Jl. Sudirman No. 12, depan Pasar Tavip",
    "naskah": "Toko Sejahtera: perlengkapan sekolah lengkap",
    "kelurahan": "12.75.02.1001",
}
SAMPLE_NIK = "1275014107900002"


@dataclass(frozen=True)
class Samples:
    codes: dict[str, str]
    permit_pdf: bytes


def prepare(database_url: str, public_base_url: str) -> Samples:
    """Migrate, seed and write the sample permits; their codes by state and a sample PDF."""
    from flask_migrate import upgrade

    from binjai_api import create_app, seed
    from binjai_api.auth import service as auth_service
    from binjai_api.db import utcnow
    from binjai_api.extensions import db
    from binjai_api.licensing import permits
    from binjai_api.licensing import service as licensing_service
    from binjai_api.licensing.models import Permit, PermitApplication, PermitType
    from binjai_api.licensing.pdf import render
    from binjai_api.workcalendar import service as workcalendar

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "BINJAI_ENV": "development",
            "REDIS_URL": None,
            "PUBLIC_BASE_URL": public_base_url,
        }
    )
    with app.app_context():
        upgrade(revision="heads")
        seed.seed_regions()
        seed.seed_agencies()
        licensing_service.seed_demo_permit_types()
        holder = auth_service.register_citizen(
            full_name="Siti Rahmawati Br. Ginting",
            nik=SAMPLE_NIK,
            phone="081265430021",
            password="Binjai-contoh-2026!",
        )
        permit_type = db.session.query(PermitType).filter_by(code="REKLAME").one()
        today = workcalendar.local_date(utcnow())

        def write(serial: int, *, issued_days_ago: int, **values: Any) -> Permit:
            application = PermitApplication(
                number=f"IZN-{today.year}-{serial:06d}",
                permit_type_id=permit_type.id,
                applicant_id=holder.id,
                status="issued",
                form_data=FORM,
            )
            db.session.add(application)
            db.session.flush()
            valid_from = today - timedelta(days=issued_days_ago)
            permit = Permit(
                id=uuid.uuid4(),
                application_id=application.id,
                permit_type_id=permit_type.id,
                holder_id=holder.id,
                permit_number=f"REKLAME/{serial:05d}/DPMPTSP/{valid_from.year}",
                issued_at=utcnow() - timedelta(days=issued_days_ago),
                valid_from=valid_from,
                valid_until=valid_from + timedelta(days=364),
                **{"status": "active", **values},
            )
            permit.permit_type = permit_type
            permit.verification_code = permits.code_of(permit)
            db.session.add(permit)
            db.session.flush()
            return permit

        valid = write(12, issued_days_ago=3)
        expired = write(7, issued_days_ago=400)
        revoked = write(9, issued_days_ago=40, status="revoked", revoked_at=utcnow())
        revoked.revocation_reason = "Reklame dipasang di luar lokasi yang disetujui."
        replaced = write(4, issued_days_ago=30, replaced_by_id=valid.id)
        db.session.commit()
        codes = {
            "valid": valid.verification_code,
            "expired": expired.verification_code,
            "revoked": revoked.verification_code,
            "replaced": replaced.verification_code,
            "not_found": "A" * 43,
        }
        with app.test_request_context():
            pdf = render(permits.permit_sheet(valid))
    return Samples(codes=codes, permit_pdf=pdf)


def pdf_page_png(pdf: bytes, target: Path, *, scale: float = 1.5) -> None:
    """The PDF's first page as a PNG (about 890 by 1260 pixels for A4 at the default scale)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=scale).to_pil()
        image.save(target, format="PNG", optimize=True)
    finally:
        document.close()
