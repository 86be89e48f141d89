"""The IKM arithmetic of PermenPANRB 14/2017 and the Krejcie-Morgan sample, as pure functions."""

from __future__ import annotations

import pytest

from binjai_api.quality.scoring import ELEMENT_CODES, ELEMENTS, grade, ikm, minimum_sample, nrr


def test_the_questionnaire_has_the_nine_elements_in_the_regulations_order_and_wording() -> None:
    assert [element.name.id for element in ELEMENTS] == [
        "Persyaratan",
        "Sistem, mekanisme dan prosedur",
        "Waktu penyelesaian",
        "Biaya/tarif",
        "Produk spesifikasi jenis pelayanan",
        "Kompetensi pelaksana",
        "Perilaku pelaksana",
        "Penanganan pengaduan, saran dan masukan",
        "Sarana dan prasarana",
    ]
    by_code = {element.code: element for element in ELEMENTS}
    assert [t.id for t in by_code["requirements"].scale] == [
        "Tidak sesuai",
        "Kurang sesuai",
        "Sesuai",
        "Sangat sesuai",
    ]
    assert [t.id for t in by_code["completion_time"].scale] == [
        "Tidak cepat",
        "Kurang cepat",
        "Cepat",
        "Sangat cepat",
    ]
    assert [t.id for t in by_code["cost"].scale] == [
        "Sangat mahal",
        "Cukup mahal",
        "Murah",
        "Gratis",
    ]
    assert [t.en for t in by_code["cost"].scale] == [
        "Very expensive",
        "Fairly expensive",
        "Cheap",
        "Free",
    ]


def test_a_worked_example_from_nrr_per_element_to_the_ikm_and_its_grade() -> None:
    # The regulation's method: NRR of each element x 1/9, summed (the index, 1-4), x 25.
    element_nrr = dict(
        zip(ELEMENT_CODES, (3.20, 3.10, 2.90, 3.80, 3.05, 3.15, 3.40, 2.85, 3.00), strict=True)
    )
    # Σ NRR = 28.45; x 1/9 = 3.1611; x 25 = 79.03
    value = ikm(element_nrr)
    assert round(value, 2) == 79.03
    band = grade(value)
    assert (band.letter, band.label.id, band.label.en) == ("B", "Baik", "Good")


def test_nrr_is_the_mean_of_the_scores() -> None:
    assert nrr([4, 3, 3, 3, 3]) == 3.2
    with pytest.raises(ValueError):
        nrr([])


def test_the_extremes_of_the_scale_are_25_and_100() -> None:
    assert ikm(dict.fromkeys(ELEMENT_CODES, 1.0)) == 25
    assert ikm(dict.fromkeys(ELEMENT_CODES, 4.0)) == 100
    with pytest.raises(ValueError):
        ikm({"requirements": 3.0})


@pytest.mark.parametrize(
    ("value", "letter"),
    [
        (100.0, "A"),
        (88.31, "A"),
        (88.305, "A"),  # read at two decimals, as published
        (88.30, "B"),
        (76.61, "B"),
        (76.60, "C"),
        (65.00, "C"),
        (64.99, "D"),
        (25.00, "D"),
    ],
)
def test_the_grade_bands_are_the_regulations(value: float, letter: str) -> None:
    assert grade(value).letter == letter


def test_the_grade_labels_are_the_regulations() -> None:
    assert [grade(v).label.id for v in (90, 80, 70, 50)] == [
        "Sangat Baik",
        "Baik",
        "Kurang Baik",
        "Tidak Baik",
    ]
    with pytest.raises(ValueError):
        grade(24.0)


@pytest.mark.parametrize(
    ("population", "sample"),
    [
        # Krejcie and Morgan's (1970) table.
        (10, 10),
        (50, 44),
        (100, 80),
        (500, 217),
        (1000, 278),
        (10000, 370),
        (100000, 383),
        (1000000, 384),
    ],
)
def test_the_minimum_sample_matches_the_krejcie_morgan_table(population: int, sample: int) -> None:
    assert minimum_sample(population) == sample


def test_no_population_needs_no_sample() -> None:
    assert minimum_sample(0) == 0
    assert minimum_sample(1) == 1
