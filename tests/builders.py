"""Tiny crafted Datasets for indicator tests, typed as ``store.load`` returns them."""

from __future__ import annotations

from itertools import count

import pandas as pd

from locson_analysis.contract import PUPIL_COLUMNS, start_year
from locson_analysis.dataset import Dataset
from locson_analysis.store import _typed_pupils

SCHOOL = "LOCSON"
_ids = count(1)


def pupil(school_year: str, grade: int, outcome: str = "promoted", **fields: object) -> dict:
    """One pupil-year row; unspecified fields get harmless defaults.

    Defaults: a Kinh boy aged 11 + (grade − 6) at the start of the year, enrolled at the start,
    TT22 year results Khá/Tốt, no flags.  ``pupil_id`` defaults to a fresh id.
    """
    age = 11 + grade - 6
    row: dict[str, object] = {
        "school_code": SCHOOL, "school_year": school_year, "pupil_id": f"P{next(_ids):05d}",
        "full_name": "Học sinh mẫu", "birth_date": f"{start_year(school_year) - age}-03-15",
        "sex": "M", "ethnicity": "Kinh", "grade": grade, "class_name": f"{grade}A1",
        "entry_date": None, "poor": False, "near_poor": False, "disability": False,
        "special_circumstances": False, "absences_s1": 0, "absences_s2": 0,
        "learning_s1": "Khá", "conduct_s1": "Tốt", "learning_year": "Khá",
        "conduct_year": "Tốt", "result_scale": "tt22", "outcome": outcome, "leave_date": None,
        "dropout_reason": None, "can_swim": None, "source_file": "test.xlsx", "source_row": 0,
    }
    row.update(fields)
    return row


def pupils(n: int, school_year: str, grade: int, outcome: str = "promoted",
           **fields: object) -> list[dict]:
    return [pupil(school_year, grade, outcome, **fields) for _ in range(n)]


def _facts(facts: dict[str, dict[str, float]] | None, school_code: str) -> pd.DataFrame:
    rows = [{"school_code": school_code, "school_year": y, "item": k, "value": float(v)}
            for y, items in (facts or {}).items() for k, v in items.items()]
    return pd.DataFrame(rows, columns=["school_code", "school_year", "item", "value"])


def dataset(rows: list[dict], school: dict[str, dict[str, float]] | None = None,
            population: dict[str, dict[str, float]] | None = None,
            school_code: str = SCHOOL) -> Dataset:
    """A Dataset from pupil rows and {school_year: {item: value}} facts."""
    cols = ["school_code", "school_year", *[c.name for c in PUPIL_COLUMNS], "result_scale",
            "source_file", "source_row"]
    df = pd.DataFrame(rows, columns=cols)
    df = df.astype({"school_code": "str", "school_year": "str"})
    for c in ("birth_date", "entry_date", "leave_date"):
        df[c] = pd.to_datetime(df[c])
    df = _typed_pupils(df)
    empty = pd.DataFrame()
    return Dataset(pupils=df, school=_facts(school, school_code),
                   population=_facts(population, school_code), imports=empty, checks=empty,
                   interventions=empty)


def career(pupil_id: str, first_year: str, path: list[tuple[int, str]],
           **fields: object) -> list[dict]:
    """One pupil over successive years: ``path`` is [(grade, outcome), …] from ``first_year``."""
    y = start_year(first_year)
    return [pupil(f"{y + i}-{y + i + 1}", grade, outcome, pupil_id=pupil_id, **fields)
            for i, (grade, outcome) in enumerate(path)]


def row(table: pd.DataFrame, indicator: str, school_year: str, dimension: str = "school",
        group: str = "Toàn trường", school_code: str = SCHOOL) -> pd.Series:
    """The single row of the tidy table for one indicator, year and group."""
    hit = table[(table["indicator"] == indicator) & (table["school_year"] == school_year)
                & (table["dimension"] == dimension) & (table["group"] == group)
                & (table["school_code"] == school_code)]
    assert len(hit) == 1, f"{len(hit)} rows for {indicator} {school_year} {dimension} {group}"
    return hit.iloc[0]


def planted_school(school_year: str, special_drops_out: bool) -> list[dict]:
    """A school of 4 × 15 pupils where pupil X (Khối 8, Nữ, Mạ, poor) is the only one in special
    circumstances.  World A (``special_drops_out``): X drops out.  World B: X is promoted and Y
    — the same sex, grade, ethnic group and poverty, not in special circumstances — drops out
    instead.  A report that hides small cells must look the same in both worlds."""
    rows = []
    for g in (6, 7, 9):
        rows += pupils(8, school_year, g) + pupils(7, school_year, g, sex="F")
    rows += pupils(6, school_year, 8) + pupils(7, school_year, 8, sex="F")
    twin = {"sex": "F", "ethnicity": "Mạ", "poor": True}
    rows.append(pupil(school_year, 8, "dropped_out" if special_drops_out else "promoted",
                      special_circumstances=True, leave_date="2025-02-10", **twin))
    rows.append(pupil(school_year, 8, "promoted" if special_drops_out else "dropped_out",
                      leave_date="2025-02-10", **twin))
    return rows
