"""Pupil flags written once, evaluated on pandas rows and inside DuckDB.

A measure sums boolean flags of pupils (:class:`.equity.Measure`).  Each flag is an expression
over a few *atoms* — the start of the year, an outcome, the grade, … — built with ``&``, ``|``
and ``~``: ``START & DROPPED`` is both ``start & dropped`` on numpy arrays (the pandas path,
:func:`values`) and ``(st AND dr)`` in SQL (:mod:`.sql`, the DuckDB path).  The families define
their flags with these (``enrolment.FLAGS``, …), so the two paths cannot count differently.

An atom has its two spellings side by side in :data:`ATOMS`: the column of ``equity.prepare``'s
rows (or a small function of them) and the column of the SQL rows (``p`` in
:func:`.sql._cells_sql`).  Atoms that need linked records (grade-6 entrants) or per-school
sizes are computed by their family and handed to :func:`values` as arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import contract

Atoms = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Flag:
    """A boolean expression over atoms, as SQL text and as a numpy function."""

    sql: str
    fn: Callable[[Atoms], np.ndarray]

    def __and__(self, other: Flag) -> Flag:
        return Flag(f"({self.sql} AND {other.sql})", lambda a: self.fn(a) & other.fn(a))

    def __or__(self, other: Flag) -> Flag:
        return Flag(f"({self.sql} OR {other.sql})", lambda a: self.fn(a) | other.fn(a))

    def __invert__(self) -> Flag:
        return Flag(f"(NOT {self.sql})", lambda a: ~self.fn(a))


def atom(name: str) -> Flag:
    """The atom ``name``: column ``a_<name>`` of the SQL rows, ``atoms[name]`` in numpy."""
    return Flag(f"a_{name}", lambda a: np.asarray(a[name], dtype=bool))


#: Every pupil is counted.
ANY = Flag("true", lambda a: np.ones(len(a["start"]), dtype=bool))


def _outcome(value: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda p: (p["outcome"] == value).fillna(False).to_numpy(dtype=bool)


def _grade(grade: int) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda p: (p["grade"] == grade).fillna(False).to_numpy(dtype=bool)


def _as_category(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col
    return col.astype("str").astype("category")


def passing(results: pd.Series, old_scale: np.ndarray) -> np.ndarray:
    """At least Đạt: TT22 Tốt/Khá/Đạt, or TT58 Giỏi/Khá/Trung bình (learning), Tốt/Khá/Trung
    bình (conduct) — ``contract.TT58_PASSING`` covers both old scales."""
    cat = _as_category(results)
    labels = [str(c) for c in cat.cat.categories]
    codes = cat.cat.codes.to_numpy()
    ok22 = np.append(np.isin(labels, list(contract.TT22_PASSING)), False)[codes]  # -1 → False
    ok58 = np.append(np.isin(labels, list(contract.TT58_PASSING)), False)[codes]
    return np.where(old_scale, ok58, ok22)


def _passing_sql(col: str) -> str:
    def quoted(values: object) -> str:
        return ", ".join(f"'{v}'" for v in sorted(values))

    return (f"coalesce(CASE WHEN coalesce(result_scale = 'tt58', false) THEN {col} IN "
            f"({quoted(contract.TT58_PASSING)}) ELSE {col} IN ({quoted(contract.TT22_PASSING)}) "
            f"END, false)")


def _both_passing(learning: str, conduct: str) -> Callable[[pd.DataFrame], np.ndarray]:
    def fn(p: pd.DataFrame) -> np.ndarray:
        old = (p["result_scale"] == "tt58").fillna(False).to_numpy(dtype=bool)
        known = (p[learning].notna() & p[conduct].notna()).to_numpy()
        return known & passing(p[learning], old) & passing(p[conduct], old)
    return fn


def _both_known(learning: str, conduct: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda p: (p[learning].notna() & p[conduct].notna()).to_numpy()


#: The atoms read from ``equity.prepare``'s rows: name → (SQL over a pupil row, pandas).
ATOMS: dict[str, tuple[str, Callable[[pd.DataFrame], np.ndarray]]] = {
    "start": ("entry_date IS NULL", lambda p: p["start"].to_numpy()),
    "ended": ("NOT coalesce(outcome IN ('dropped_out', 'transferred_out'), false)",
              lambda p: p["end"].to_numpy()),
    **{name: (f"coalesce(outcome = '{value}', false)", _outcome(value)) for name, value in (
        ("dropped", "dropped_out"), ("transferred", "transferred_out"),
        ("promoted", "promoted"), ("completed", "completed"), ("repeating", "repeating"),
        ("not_completed", "not_completed"), ("in_progress", "in_progress"))},
    "last": (f"coalesce(grade = {contract.LAST_GRADE}, false)", _grade(contract.LAST_GRADE)),
    "g6": ("coalesce(grade = 6, false)", _grade(6)),
    "swim": ("coalesce(can_swim, false)",
             lambda p: p["can_swim"].astype("boolean").fillna(False).to_numpy(dtype=bool)),
    "swim_known": ("can_swim IS NOT NULL",
                   lambda p: p["can_swim"].astype("boolean").notna().to_numpy()),
    # both results of the year (or of semester 1) known / at least Đạt
    **{f"{when}_known": (f"{learning} IS NOT NULL AND {conduct} IS NOT NULL",
                         _both_known(learning, conduct))
       for when, learning, conduct in (("year", "learning_year", "conduct_year"),
                                       ("s1", "learning_s1", "conduct_s1"))},
    **{f"{when}_pass": (f"{_passing_sql(learning)} AND {_passing_sql(conduct)}",
                        _both_passing(learning, conduct))
       for when, learning, conduct in (("year", "learning_year", "conduct_year"),
                                       ("s1", "learning_s1", "conduct_s1"))},
}

START, ENDED = atom("start"), atom("ended")
DROPPED, TRANSFERRED = atom("dropped"), atom("transferred")
PROMOTED, COMPLETED = atom("promoted"), atom("completed")
REPEATING, NOT_COMPLETED = atom("repeating"), atom("not_completed")
IN_PROGRESS, LAST, G6 = atom("in_progress"), atom("last"), atom("g6")
SWIM, SWIM_KNOWN = atom("swim"), atom("swim_known")
YEAR_PASS, YEAR_KNOWN = atom("year_pass"), atom("year_known")
S1_PASS, S1_KNOWN = atom("s1_pass"), atom("s1_known")
#: Linked atoms, computed by their family (pandas: ``intake.entrants_age11``; SQL: a join in
#: :func:`.sql._cells_sql`): a grade-6 pupil who was not in grade 6 at the school the year
#: before; aged ``intake.ENTRY_AGE`` in the calendar year the school year starts.
ENTRANT, AGE11 = atom("entrant"), atom("age11")


class PupilAtoms(Mapping[str, np.ndarray]):
    """The atoms of ``equity.prepare``'s rows, computed when first asked; arrays given in
    ``extra`` (atoms a family computes itself) are returned as they are."""

    def __init__(self, prep: pd.DataFrame, extra: Atoms | None = None) -> None:
        self._prep = prep
        self._done: dict[str, np.ndarray] = dict(extra or {})

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._done:
            self._done[name] = ATOMS[name][1](self._prep)
        return self._done[name]

    def __iter__(self):  # noqa: ANN204 - the Mapping protocol
        return iter(ATOMS)

    def __len__(self) -> int:
        return len(ATOMS)


def values(flags: Mapping[str, Flag], atoms: Atoms) -> dict[str, np.ndarray]:
    """Each flag on the rows whose atoms are ``atoms`` (pupil rows: see :class:`PupilAtoms`)."""
    return {name: f.fn(atoms) for name, f in flags.items()}
