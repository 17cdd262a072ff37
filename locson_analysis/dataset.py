"""The two containers that cross module boundaries.

``YearData`` is what the reader hands to the store: one school year's tables, canonical and
validated.  ``Dataset`` is what the store hands to everything above it: the active version of
every year, as pandas DataFrames, read once and detached from the database file (so a notebook
never holds a lock on it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .provenance import SAMPLE


@dataclass
class SourceFile:
    path: str  # as given by the user; only the file name is stored in the database
    kind: str  # "pupils" | "school" | "population" | "interventions"
    sha256: str
    sheet: str
    rows: int


@dataclass
class YearData:
    school_year: str
    school_code: str
    pupils: pd.DataFrame | None = None  # contract.PUPIL_COLUMNS + result_scale, source_*
    school: pd.DataFrame | None = None  # item, value, source_file, source_row
    population: pd.DataFrame | None = None  # item, value, source_file, source_row
    interventions: pd.DataFrame | None = None
    files: list[SourceFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # Vietnamese, shown in the import summary

    def kinds(self) -> list[str]:
        return [k for k in ("pupils", "school", "population", "interventions")
                if getattr(self, k) is not None]


@dataclass
class Dataset:
    """Everything the indicators need, for all years (active versions only).

    pupils:      one row per pupil per school year (canonical columns, see contract.py); from
                 ``store.load`` the low-cardinality text columns are categoricals
                 (``store.CATEGORICAL_COLUMNS``), ``full_name`` is there only with
                 ``with_names=True``, and ``pupil_hash`` (DuckDB's hash of ``pupil_id``) is
                 added for linking records fast
    school:      school_code, school_year, item, value  (long format, contract.SCHOOL_ITEMS keys)
    population:  school_code, school_year, item, value  (contract.POPULATION_ITEMS keys)
    imports:     the active import of each year and kind (id, time, files, hashes, row counts)
    checks:      cross-year check findings (school_code, school_year, check, pupil_id, detail)
    interventions: the intervention log (internal use only)
    origin:      where the data came from (``provenance.SAMPLE`` / ``provenance.FILES``;
                 ``"unknown"`` for a database filled before origins were recorded; None when
                 not read from a database) — ``is_sample`` says whether to print
                 ``provenance.SAMPLE_MARK``
    """

    pupils: pd.DataFrame
    school: pd.DataFrame
    population: pd.DataFrame
    imports: pd.DataFrame
    checks: pd.DataFrame
    interventions: pd.DataFrame
    origin: str | None = None

    @property
    def is_sample(self) -> bool:
        """True for the synthetic sample: everything made from it carries the sample mark."""
        return self.origin == SAMPLE

    def years(self) -> list[str]:
        ys: set[str] = set()
        for df in (self.pupils, self.school, self.population):
            ys.update(df["school_year"].dropna().unique().tolist())
        return sorted(ys)

    def for_school(self, school_code: str) -> Dataset:
        def pick(df: pd.DataFrame) -> pd.DataFrame:
            if "school_code" not in df.columns:
                return df
            return df[df["school_code"] == school_code].reset_index(drop=True)

        return Dataset(*(pick(getattr(self, f)) for f in
                         ("pupils", "school", "population", "imports", "checks",
                          "interventions")), origin=self.origin)
