"""Pupil-level flows by grade: promotion, repetition, transfers (dropout is in enrolment.py).

These are computed from each pupil's own end-of-year outcome, not from aggregate counts (the
UNESCO reconstructed-cohort method from counts is ``locson_analysis.flows``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..dataset import Dataset
from . import flags as F
from .base import SOURCE_NATIONAL, Indicator
from .equity import Measure, aggregate, prepare

INDICATORS = [
    Indicator(
        "promotion_rate", "Tỷ lệ học sinh lên lớp", "rate",
        "Số học sinh được lên lớp chia cho số học sinh cuối năm (không tính học sinh bỏ học, "
        "chuyển đi). Ở lớp 9, «lên lớp» là được công nhận hoàn thành chương trình THCS (UNESCO "
        "gọi là tốt nghiệp).",
        SOURCE_NATIONAL, "Học sinh cuối năm có kết quả «Lên lớp» (lớp 9: «Hoàn thành chương trình "
        "THCS»)", "Số học sinh cuối năm học", "Cuối năm học"),
    Indicator(
        "repetition_rate", "Tỷ lệ học sinh ở lại lớp", "rate",
        "Số học sinh ở lại lớp chia cho số học sinh cuối năm. Ở lớp 9, học sinh chưa được công "
        "nhận hoàn thành chương trình THCS được tính là ở lại lớp 9.",
        SOURCE_NATIONAL, "Học sinh cuối năm có kết quả «Ở lại lớp» (lớp 9: cả «Chưa hoàn thành "
        "chương trình THCS»)", "Số học sinh cuối năm học", "Cuối năm học"),
    Indicator(
        "transfer_out_rate", "Tỷ lệ học sinh chuyển trường đi", "rate",
        "Số học sinh đầu năm chuyển sang trường khác trong năm học chia cho số học sinh đầu "
        "năm. Chuyển trường không phải là bỏ học.",
        SOURCE_NATIONAL, "Học sinh đầu năm có kết quả «Chuyển đi»", "Số học sinh đầu năm học",
        "Đầu năm học (mẫu số) và cả năm học (tử số)", in_progress="so_far"),
    Indicator(
        "transfer_in", "Số học sinh chuyển đến trong năm", "count",
        "Số học sinh vào trường sau khi năm học đã bắt đầu (có ghi ngày vào trường).",
        SOURCE_NATIONAL, "Học sinh có ngày vào trường", "—", "Cả năm học", in_progress="so_far"),
]


#: The pupil flags the measures sum (one definition for pandas and DuckDB, see .flags).
#: In grade 9, "promoted" is completing the programme and "repeating" is not completing it.
FLAGS = {"end": F.ENDED, "start": F.START,
         "end_promoted": F.ENDED & (F.PROMOTED | (F.LAST & F.COMPLETED)),
         "end_repeating": F.ENDED & (F.REPEATING | (F.LAST & F.NOT_COMPLETED)),
         "start_transferred": F.START & F.TRANSFERRED, "arrival": ~F.START}


def flags(prep: pd.DataFrame) -> dict[str, np.ndarray]:
    return F.values(FLAGS, F.PupilAtoms(prep))


def measures_of(f: Mapping[str, np.ndarray]) -> list[Measure]:
    """The measures from the flags (pupil flags, or their sums per cell)."""
    return [
        Measure("promotion_rate", f["end_promoted"], f["end"]),
        Measure("repetition_rate", f["end_repeating"], f["end"]),
        Measure("transfer_out_rate", f["start_transferred"], f["start"]),
        Measure("transfer_in", f["arrival"]),
    ]


def measures(prep: pd.DataFrame) -> list[Measure]:
    return measures_of(flags(prep))


def compute(ds: Dataset, prep: pd.DataFrame | None = None) -> pd.DataFrame:
    """Promotion, repetition and transfer-out rates and transfers in, by grade and group."""
    prep = prepare(ds.pupils) if prep is None else prep
    return aggregate(prep, measures(prep))
