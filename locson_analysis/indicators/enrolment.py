"""Enrolment counts and the within-year dropout rate (MOET and GSO formula)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..dataset import Dataset
from . import flags as F
from .base import SOURCE_NATIONAL, Indicator
from .equity import Measure, aggregate, prepare

DIMS_GRADE = ("school", "grade")

INDICATORS = [
    Indicator(
        "enrolment_start", "Số học sinh đầu năm học", "count",
        "Số học sinh có tên trong danh sách khi năm học bắt đầu (không ghi ngày vào trường).",
        SOURCE_NATIONAL, "Học sinh không có ngày vào trường", "—",
        "Đầu năm học (tháng 9)", in_progress="known"),
    Indicator(
        "enrolment_end", "Số học sinh cuối năm học", "count",
        "Số học sinh còn học đến cuối năm: mọi học sinh trong danh sách trừ học sinh bỏ học "
        "và học sinh chuyển đi (kể cả học sinh chuyển đến trong năm).",
        SOURCE_NATIONAL, "Học sinh có kết quả cuối năm khác «Bỏ học» và «Chuyển đi»", "—",
        "Cuối năm học (tháng 5)"),
    Indicator(
        "enrolment_any", "Số học sinh có học trong năm", "count",
        "Mọi học sinh có tên trong danh sách của năm học, ở bất kỳ thời điểm nào.",
        SOURCE_NATIONAL, "Mọi dòng học sinh của năm học", "—", "Cả năm học",
        in_progress="so_far"),
    Indicator(
        "dropout_rate", "Tỷ lệ học sinh bỏ học", "rate",
        "Tỷ lệ bỏ học trong năm học (cách tính của Bộ GD&ĐT và Tổng cục Thống kê, nay là Cục "
        "Thống kê): mọi học sinh đã bỏ học trong năm học — kể cả học sinh chuyển đến trong năm "
        "rồi bỏ học — chia cho số học sinh đầu năm. Học sinh chuyển trường không phải là bỏ "
        "học. Số học sinh chuyển đến trong năm rồi bỏ học được nêu riêng ở chỉ số «Học sinh "
        "chuyển đến trong năm rồi bỏ học».",
        SOURCE_NATIONAL,
        "Mọi học sinh có kết quả «Bỏ học» trong năm học", "Số học sinh đầu năm học",
        "Đầu năm học (mẫu số) và cả năm học (tử số)", in_progress="so_far"),
    Indicator(
        "dropouts_midyear_arrivals", "Học sinh chuyển đến trong năm rồi bỏ học", "count",
        "Học sinh có ngày vào trường (đến sau khi năm học bắt đầu) và bỏ học trong cùng năm "
        "học. Đã được tính trong tử số của tỷ lệ bỏ học; nêu riêng để nhà trường biết bao nhiêu "
        "em bỏ học ngay sau khi chuyển đến.",
        SOURCE_NATIONAL,
        "Học sinh có ngày vào trường và kết quả «Bỏ học»", "—", "Cả năm học",
        in_progress="so_far"),
]


#: The pupil flags the measures sum (one definition for pandas and DuckDB, see .flags).
FLAGS = {"start": F.START, "end": F.ENDED, "any": F.ANY,
         "dropped": F.DROPPED, "arrival_dropped": ~F.START & F.DROPPED}


def flags(prep: pd.DataFrame) -> dict[str, np.ndarray]:
    return F.values(FLAGS, F.PupilAtoms(prep))


def measures_of(f: Mapping[str, np.ndarray]) -> list[Measure]:
    """The measures from the flags (pupil flags, or their sums per cell)."""
    return [
        Measure("enrolment_start", f["start"]),
        Measure("enrolment_end", f["end"]),
        Measure("enrolment_any", f["any"]),
        Measure("dropout_rate", f["dropped"], f["start"]),
        Measure("dropouts_midyear_arrivals", f["arrival_dropped"], None, DIMS_GRADE),
    ]


def measures(prep: pd.DataFrame) -> list[Measure]:
    return measures_of(flags(prep))


def compute(ds: Dataset, prep: pd.DataFrame | None = None) -> pd.DataFrame:
    """Enrolment at the start, end and any time of each year, and the dropout rate."""
    prep = prepare(ds.pupils) if prep is None else prep
    return aggregate(prep, measures(prep))
