"""The SKM questionnaire and the IKM arithmetic of PermenPANRB 14/2017 (Pedoman Penyusunan Survei
Kepuasan Masyarakat Unit Penyelenggara Pelayanan Publik), as data and pure functions.

The Indonesian wording of each element's question and of its four answers is the regulation's
own (its Lampiran, "contoh kuesioner"), kept verbatim beside its English rendering rather than as
a gettext translation: the Indonesian is the source, not a translation of the English.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class Text:
    id: str
    en: str

    def get(self, language: str) -> str:
        return self.en if language == "en" else self.id


@dataclass(frozen=True)
class Element:
    """One of the nine elements (unsur), scored 1 (worst) to 4 (best)."""

    code: str
    number: int  # U1..U9, the regulation's order
    name: Text
    question: Text
    # The answers for scores 1, 2, 3, 4.
    scale: tuple[Text, Text, Text, Text]


def _scale(*pairs: tuple[str, str]) -> tuple[Text, Text, Text, Text]:
    texts = tuple(Text(indonesian, english) for indonesian, english in pairs)
    first, second, third, fourth = texts
    return first, second, third, fourth


_SUITABLE = _scale(
    ("Tidak sesuai", "Not suitable"),
    ("Kurang sesuai", "Less suitable"),
    ("Sesuai", "Suitable"),
    ("Sangat sesuai", "Very suitable"),
)

ELEMENTS: tuple[Element, ...] = (
    Element(
        "requirements",
        1,
        Text("Persyaratan", "Requirements"),
        Text(
            "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis "
            "pelayanannya?",
            "How well did the service's requirements suit the kind of service?",
        ),
        _SUITABLE,
    ),
    Element(
        "procedure",
        2,
        Text("Sistem, mekanisme dan prosedur", "System, mechanism and procedure"),
        Text(
            "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
            "How easy was the service's procedure?",
        ),
        _scale(
            ("Tidak mudah", "Not easy"),
            ("Kurang mudah", "Less easy"),
            ("Mudah", "Easy"),
            ("Sangat mudah", "Very easy"),
        ),
    ),
    Element(
        "completion_time",
        3,
        Text("Waktu penyelesaian", "Completion time"),
        Text(
            "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
            "How fast was the service delivered?",
        ),
        _scale(
            ("Tidak cepat", "Not fast"),
            ("Kurang cepat", "Less fast"),
            ("Cepat", "Fast"),
            ("Sangat cepat", "Very fast"),
        ),
    ),
    Element(
        "cost",
        4,
        Text("Biaya/tarif", "Cost/fee"),
        Text(
            "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
            "How reasonable was the service's cost or fee?",
        ),
        _scale(
            ("Sangat mahal", "Very expensive"),
            ("Cukup mahal", "Fairly expensive"),
            ("Murah", "Cheap"),
            ("Gratis", "Free"),
        ),
    ),
    Element(
        "product",
        5,
        Text("Produk spesifikasi jenis pelayanan", "Product of the service"),
        Text(
            "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang "
            "tercantum dalam standar pelayanan dengan hasil yang diberikan?",
            "How well did what you received match the service standard?",
        ),
        _SUITABLE,
    ),
    Element(
        "competence",
        6,
        Text("Kompetensi pelaksana", "Competence of the staff"),
        Text(
            "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
            "How competent were the staff who served you?",
        ),
        _scale(
            ("Tidak kompeten", "Not competent"),
            ("Kurang kompeten", "Less competent"),
            ("Kompeten", "Competent"),
            ("Sangat kompeten", "Very competent"),
        ),
    ),
    Element(
        "conduct",
        7,
        Text("Perilaku pelaksana", "Conduct of the staff"),
        Text(
            "Bagaimana pendapat Saudara perilaku petugas dalam pelayanan terkait kesopanan dan "
            "keramahan?",
            "How polite and friendly were the staff?",
        ),
        _scale(
            ("Tidak sopan dan ramah", "Not polite and friendly"),
            ("Kurang sopan dan ramah", "Less polite and friendly"),
            ("Sopan dan ramah", "Polite and friendly"),
            ("Sangat sopan dan ramah", "Very polite and friendly"),
        ),
    ),
    Element(
        "complaint_handling",
        8,
        Text("Penanganan pengaduan, saran dan masukan", "Handling of complaints and suggestions"),
        Text(
            "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
            "How were complaints and suggestions from service users handled?",
        ),
        _scale(
            ("Tidak ada", "None"),
            ("Ada tetapi tidak berfungsi", "Exists but does not work"),
            ("Berfungsi kurang maksimal", "Works, but not fully"),
            ("Dikelola dengan baik", "Well managed"),
        ),
    ),
    Element(
        "facilities",
        9,
        Text("Sarana dan prasarana", "Facilities and infrastructure"),
        Text(
            "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
            "How good were the facilities and infrastructure?",
        ),
        _scale(
            ("Buruk", "Poor"),
            ("Cukup", "Fair"),
            ("Baik", "Good"),
            ("Sangat baik", "Very good"),
        ),
    ),
)

ELEMENT_CODES: tuple[str, ...] = tuple(element.code for element in ELEMENTS)
MIN_SCORE, MAX_SCORE = 1, 4
# Each element weighs the same: 1 / the number of elements (the regulation's "bobot nilai rata-rata
# tertimbang"), and the index is brought from 1-4 onto 25-100 by the base value 25.
WEIGHT_NUMERATOR = 1  # each element's weight is 1 / len(ELEMENTS)
BASE_VALUE = 25

# No breakdown (element averages, index, grade) of fewer answers than this: a group that small
# could point at a person.
PRIVACY_THRESHOLD = 5


@dataclass(frozen=True)
class Grade:
    """A "mutu pelayanan" band of the IKM (converted, 25-100), inclusive of both ends."""

    letter: str
    low: Decimal
    high: Decimal
    label: Text


# PermenPANRB 14/2017, Lampiran, table "Nilai Persepsi, Interval IKM, Interval Konversi IKM, Mutu
# Pelayanan dan Kinerja Unit Pelayanan" (converted interval, two decimals).
GRADES: tuple[Grade, ...] = (
    Grade("A", Decimal("88.31"), Decimal("100.00"), Text("Sangat Baik", "Very good")),
    Grade("B", Decimal("76.61"), Decimal("88.30"), Text("Baik", "Good")),
    Grade("C", Decimal("65.00"), Decimal("76.60"), Text("Kurang Baik", "Less than good")),
    Grade("D", Decimal("25.00"), Decimal("64.99"), Text("Tidak Baik", "Not good")),
)


def _two_decimals(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def nrr(scores: Sequence[int]) -> float:
    """Nilai rata-rata (NRR) of one element: the mean of its scores."""
    if not scores:
        raise ValueError("no scores")
    return sum(scores) / len(scores)


def ikm(element_nrr: Mapping[str, float]) -> float:
    """IKM = (Σ NRR of the nine elements x 1/9) x 25, on 25-100."""
    missing = set(ELEMENT_CODES) - set(element_nrr)
    if missing:
        raise ValueError(f"NRR missing for {sorted(missing)}")
    # Σ NRR x 1/9, written as one division so that equal scores give exact figures (x 1/9
    # nine times in floating point is not exactly 1).
    index = sum(element_nrr[code] for code in ELEMENT_CODES) * WEIGHT_NUMERATOR / len(ELEMENTS)
    return index * BASE_VALUE


def grade(ikm_value: float) -> Grade:
    """The band of an IKM value, read at two decimals (as published): 88.305 is 88.31, an A."""
    rounded = _two_decimals(ikm_value)
    for band in GRADES:
        if band.low <= rounded <= band.high:
            return band
    raise ValueError(f"IKM {ikm_value} is outside 25-100")


def rounded(value: float, places: int = 2) -> float:
    """Half-up rounding, as the regulation's worked figures are written (not banker's)."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


# Krejcie and Morgan (1970), "Determining Sample Size for Research Activities", the table the
# regulation refers to: s = X²NP(1-P) / (d²(N-1) + X²P(1-P)), with X² = 3.841 (chi-square, one
# degree of freedom, 95%), P = 0.5 and d = 0.05; rounded to the nearest whole respondent, as the
# published table is (N = 50 gives 44.3: the table says 44; N = 100 gives 79.5: it says 80).
CHI_SQUARE = 3.841
PROPORTION = 0.5
MARGIN = 0.05


def minimum_sample(population: int) -> int:
    """The Krejcie-Morgan minimum number of respondents for a population of `population`."""
    if population <= 0:
        return 0
    n = population
    variance = PROPORTION * (1 - PROPORTION)
    size = CHI_SQUARE * n * variance / (MARGIN**2 * (n - 1) + CHI_SQUARE * variance)
    return min(n, int(Decimal(repr(size)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))
