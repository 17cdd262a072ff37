"""The registry, the tidy table, several schools, and the docs."""

import re

from locson_analysis.config import PROJ_ROOT
from locson_analysis.indicators import INDICATORS, TIDY_COLUMNS, compute_all
from locson_analysis.indicators.base import SOURCES
from tests.builders import dataset, pupils, row

Y = "2023-2024"


def test_every_indicator_is_documented():
    doc = (PROJ_ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z0-9_]+)`", doc))
    assert set(INDICATORS) - documented == set()


def test_registry_entries_are_complete():
    for key, ind in INDICATORS.items():
        assert ind.key == key
        assert ind.unit in {"rate", "count", "money", "ratio", "yesno"}
        assert ind.source in SOURCES
        # a user reads the label and definition: never an internal key (issue 11)
        for other in INDICATORS:
            assert f"«{other}»" not in ind.definition_vi
        assert ind.label_vi and ind.definition_vi and ind.reference_date_vi


def test_every_indicator_has_a_school_row_for_every_year():
    table = compute_all(dataset(pupils(2, Y, 6) + pupils(1, "2024-2025", 7)))
    assert list(table.columns) == TIDY_COLUMNS
    school = table[table["dimension"] == "school"]
    counts = school.groupby(["school_year", "indicator"]).size()
    assert (counts == 1).all()
    assert len(counts) == 2 * len(INDICATORS)


def test_computes_per_school_and_filters():
    a = pupils(3, Y, 6) + pupils(1, Y, 6, "dropped_out")
    b = [dict(r, school_code="OTHER") for r in pupils(5, Y, 6)]
    table = compute_all(dataset(a + b))
    # LOCSON: 1 / 4; OTHER: 0 / 5
    assert row(table, "dropout_rate", Y).value == 0.25
    assert row(table, "dropout_rate", Y, school_code="OTHER").value == 0.0
    only = compute_all(dataset(a + b), school_year=Y, school_code="OTHER")
    assert set(only["school_code"]) == {"OTHER"} and set(only["school_year"]) == {Y}


def test_docs_catalogue_is_written_from_the_registry():
    # regenerate with: .venv/bin/python -m locson_analysis.indicators.catalogue
    from locson_analysis.indicators.catalogue import HEADING, catalogue_markdown

    doc = (PROJ_ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    assert doc[doc.index(HEADING):] == catalogue_markdown()
