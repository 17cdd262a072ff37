"""The PGD's view: the schools of one database side by side, with the pooled row.

:func:`side_by_side` returns, for one school year and a few main rates, one row per school and
indicator plus the pooled row (:func:`indicators.compute_pooled`), each with its numerator,
denominator and the plan's target.  The explore notebook only formats and draws it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import indicators, targets
from .dataset import Dataset
from .errors import LocsonError
from .schools import codes_in, load_registry, school_name

#: The main rates compared between schools: dropout, completion (a), grade-6 intake, all-round.
DISTRICT_KEYS = ("dropout_rate", "completion_rate_grade9", "grade6_intake_age11",
                 "allround_rate")

SIDE_BY_SIDE_COLUMNS = ["school_code", "school", "pooled", "indicator", "indicator_label",
                        "value", "numerator", "denominator", "threshold", "direction", "status",
                        "note"]


def side_by_side(ds: Dataset, school_year: str, keys: tuple[str, ...] = DISTRICT_KEYS,
                 label: str = indicators.POOLED_LABEL,
                 targets_file: str | Path | None = None) -> pd.DataFrame:
    """One row per (school, indicator) of ``school_year``, schools in code order, then the
    pooled rows (``pooled`` True, ``school_code`` = ``label``).

    ``status`` is the plan's verdict for that row ("Đạt", "Chưa đạt", …) and ``threshold`` /
    ``direction`` the target of the year's phase (NaN / "" for an indicator without target).
    """
    codes = codes_in(ds.pupils, ds.school, ds.population)
    if not codes:
        raise LocsonError("Cơ sở dữ liệu chưa có trường nào.")
    if school_year not in ds.years():
        raise LocsonError(f"Năm học {school_year} không có trong cơ sở dữ liệu. Các năm học hiện "
                          f"có: {', '.join(ds.years()) or 'không có'}.")
    per_school = indicators.compute_all(ds)
    pooled = indicators.compute_pooled(ds, label=label)
    plan = targets.load_targets(Path(targets_file) if targets_file else None)
    registry = load_registry()
    rows = []
    for code, table, is_pooled in ([(c, per_school, False) for c in codes]
                                   + [(label, pooled, True)]):
        evaluation = targets.evaluate(table, plan, school_year, school_code=code)
        verdict = evaluation.drop_duplicates("indicator").set_index("indicator")
        school_rows = table[(table["school_code"] == code) & (table["dimension"] == "school")
                            & (table["school_year"] == school_year)].set_index("indicator")
        for key in keys:
            r = school_rows.loc[key] if key in school_rows.index else None
            v = verdict.loc[key] if key in verdict.index else None
            rows.append({
                "school_code": code,
                "school": (f"{label} (gộp {len(codes)} trường)" if is_pooled
                           else school_name(code, registry)),
                "pooled": is_pooled,
                "indicator": key,
                "indicator_label": indicators.INDICATORS[key].label_vi,
                "value": r["value"] if r is not None else float("nan"),
                "numerator": r["numerator"] if r is not None else float("nan"),
                "denominator": r["denominator"] if r is not None else float("nan"),
                "threshold": v["threshold"] if v is not None else float("nan"),
                "direction": v["direction"] if v is not None else "",
                "status": v["status"] if v is not None else "",
                "note": r["note"] if r is not None else indicators.NO_DATA,
            })
    out = pd.DataFrame(rows, columns=SIDE_BY_SIDE_COLUMNS)
    for c in ("value", "numerator", "denominator", "threshold"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
    return out
