"""Facilities and services from the school sheet (targets 1 and 4/5), and swimming."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..dataset import Dataset
from . import flags as F
from .base import (
    NO_DATA,
    NO_SCHOOL_FILE,
    SOURCE_MOET,
    SOURCE_NATIONAL,
    Indicator,
    empty_table,
    item_rows,
    item_table,
    school_years,
    tidy,
)
from .equity import Measure, aggregate, prepare

SCHOOL_YEAR = "Năm học (số liệu nhà trường)"


def _item(key: str, label: str, unit: str, definition: str, numerator: str,
          denominator: str = "—") -> Indicator:
    return Indicator(key, label, unit, definition, SOURCE_NATIONAL, numerator, denominator,
                     SCHOOL_YEAR, input="school", in_progress="known")


INDICATORS = [
    _item("toilets_hygienic_share", "Tỷ lệ nhà vệ sinh học sinh đạt chuẩn hợp vệ sinh", "rate",
          "Số nhà vệ sinh học sinh đạt chuẩn hợp vệ sinh chia cho tổng số nhà vệ sinh học sinh "
          "(chỉ tiêu số 1: duy trì nhà vệ sinh hợp vệ sinh).",
          "Nhà vệ sinh học sinh đạt chuẩn hợp vệ sinh", "Tổng số nhà vệ sinh học sinh"),
    _item("pupils_per_hygienic_toilet", "Số học sinh trên một nhà vệ sinh hợp vệ sinh", "ratio",
          "Số học sinh đầu năm học chia cho số nhà vệ sinh học sinh đạt chuẩn hợp vệ sinh.",
          "Số học sinh đầu năm học (danh sách học sinh)", "Nhà vệ sinh hợp vệ sinh"),
    _item("clean_water", "Có nước sạch", "yesno", "1 nếu trường có nước sạch, 0 nếu không.",
          "Có nước sạch (1/0)"),
    _item("psych_service", "Có dịch vụ hỗ trợ tâm lý", "yesno",
          "1 nếu trường có dịch vụ hỗ trợ tâm lý trẻ em, 0 nếu không (chỉ tiêu «Phấn đấu có "
          "dịch vụ hỗ trợ tâm lý trẻ em»).", "Có dịch vụ hỗ trợ tâm lý (1/0)"),
    _item("counselling_sessions", "Số buổi tư vấn tâm lý", "count",
          "Số buổi (lượt) tư vấn tâm lý đã tổ chức trong năm học.", "Số buổi tư vấn tâm lý"),
    _item("pupils_counselled", "Số học sinh được tư vấn", "count",
          "Số học sinh được tư vấn tâm lý trong năm học.", "Số học sinh được tư vấn"),
    _item("dialogue_sessions", "Số buổi đối thoại học đường", "count",
          "Số buổi đối thoại học đường đã tổ chức.", "Số buổi đối thoại học đường"),
    _item("staff_trained_social_work",
          "Số cán bộ, giáo viên được tập huấn công tác xã hội trường học", "count",
          "Số cán bộ, giáo viên, nhân viên được tập huấn công tác xã hội trường học.",
          "Số người được tập huấn"),
    _item("violence_incidents", "Số vụ bạo lực học đường", "count",
          "Số vụ bạo lực học đường ghi nhận trong năm học (kế hoạch: trường học không có bạo "
          "lực).", "Số vụ bạo lực học đường"),
    _item("abuse_cases", "Số vụ xâm hại trẻ em", "count",
          "Số vụ xâm hại trẻ em ghi nhận trong năm học (kế hoạch mong muốn không có vụ nào).",
          "Số vụ xâm hại trẻ em"),
    _item("complaints_resolved_share", "Tỷ lệ đơn thư, kiến nghị đã giải quyết", "rate",
          "Số đơn thư, kiến nghị đã giải quyết chia cho số đơn thư, kiến nghị nhận được.",
          "Đơn thư, kiến nghị đã giải quyết", "Đơn thư, kiến nghị nhận được"),
    _item("sports_clubs", "Số câu lạc bộ thể thao", "count", "Số câu lạc bộ thể dục thể thao.",
          "Số câu lạc bộ thể thao"),
    _item("club_members", "Số học sinh tham gia câu lạc bộ", "count",
          "Số học sinh tham gia các câu lạc bộ thể thao.", "Số học sinh tham gia câu lạc bộ"),
    _item("pupils_taught_swimming", "Số học sinh được dạy bơi", "count",
          "Số học sinh được dạy bơi trong năm học.", "Số học sinh được dạy bơi"),
    Indicator(
        "swim_share", "Tỷ lệ học sinh biết bơi", "rate",
        "Số học sinh đầu năm biết bơi chia cho số học sinh đầu năm có thông tin biết bơi hay "
        "không. Cùng mẫu số với các tỷ lệ khác (học sinh đầu năm học, không tính học sinh "
        "chuyển đến trong năm); học sinh để trống ô «Biết bơi» không được tính vào tử số lẫn "
        "mẫu số.", SOURCE_MOET, "Học sinh đầu năm biết bơi",
        "Học sinh đầu năm có thông tin biết bơi", "Đầu năm học (danh sách học sinh)",
        in_progress="known"),
    _item("pupils_policy_support", "Số học sinh được hỗ trợ chính sách", "count",
          "Số học sinh thuộc diện chính sách, khuyết tật, hoàn cảnh khó khăn được hỗ trợ kinh "
          "phí.", "Số học sinh được hỗ trợ"),
    _item("policy_support_amount", "Tổng kinh phí hỗ trợ học sinh (đồng)", "money",
          "Tổng kinh phí hỗ trợ học sinh diện chính sách trong năm học, tính bằng đồng.",
          "Tổng kinh phí hỗ trợ (đồng)"),
]

PLAIN_ITEMS = ("clean_water", "psych_service", "counselling_sessions", "pupils_counselled",
               "dialogue_sessions", "staff_trained_social_work", "violence_incidents",
               "abuse_cases", "sports_clubs", "club_members", "pupils_taught_swimming",
               "pupils_policy_support", "policy_support_amount")


def start_enrolment(prep: pd.DataFrame) -> pd.DataFrame:
    """``school_code, school_year, enrolment_start`` of the pupil rows (or cells) ``prep``."""
    keys = ["school_code", "school_year"]
    if prep.empty:
        return pd.DataFrame(columns=[*keys, "enrolment_start"])
    start = (pd.Series(prep["start"].to_numpy(dtype=np.int64), index=prep.index)
             .groupby([prep["school_code"], prep["school_year"]], observed=True).sum()
             .rename("enrolment_start").reset_index())
    return start.astype({"school_code": "str", "school_year": "str"})


def _pupils_per_toilet(wide: pd.DataFrame, start: pd.DataFrame) -> pd.DataFrame:
    keys = ["school_code", "school_year"]
    w = wide.merge(start, on=keys, how="left")
    rows = item_rows(w, "pupils_per_hygienic_toilet", "enrolment_start", "toilets_hygienic",
                     NO_SCHOOL_FILE, "Không có nhà vệ sinh hợp vệ sinh")
    no_pupils = w["enrolment_start"].isna().to_numpy() & w["has_file"].to_numpy()
    rows["note"] = np.where(no_pupils, NO_DATA + " (chưa có danh sách học sinh)", rows["note"])
    return rows


#: The pupil flags of the swim share (one definition for pandas and DuckDB, see .flags).
SWIM_FLAGS = {"start_swim": F.START & F.SWIM, "start_swim_known": F.START & F.SWIM_KNOWN}


def swim_measures(prep: pd.DataFrame) -> list[Measure]:
    return swim_measures_of(F.values(SWIM_FLAGS, F.PupilAtoms(prep)))


def swim_measures_of(f: Mapping[str, np.ndarray]) -> list[Measure]:
    """The swim share from the flags (pupil flags, or their sums per cell; ``sql.FLAG_SQL``
    has the same flags in DuckDB)."""
    return [Measure("swim_share", f["start_swim"], f["start_swim_known"])]


def swim_share(prep: pd.DataFrame) -> pd.DataFrame:
    return aggregate(prep, swim_measures(prep))


def compute(ds: Dataset, prep: pd.DataFrame | None = None,
            with_swim: bool = True) -> pd.DataFrame:
    """Facility and service indicators for every school year present in the dataset.
    ``with_swim=False``: without the pupils' swim share (the caller sums
    :func:`swim_measures` with other families')."""
    prep = prepare(ds.pupils) if prep is None else prep
    universe = school_years(prep, ds.school, ds.population)
    parts = [school_rows(ds.school, universe, start_enrolment(prep)),
             swim_share(prep) if with_swim else empty_table()]
    out = pd.concat([p for p in parts if not p.empty] or [empty_table()], ignore_index=True)
    return tidy(out)


def school_rows(school: pd.DataFrame, universe: pd.DataFrame,
                start: pd.DataFrame) -> pd.DataFrame:
    """The school sheet's indicators for every (school, year) of ``universe``; ``start``: the
    start-of-year enrolment by school and year (:func:`start_enrolment`)."""
    wide = item_table(school, universe)
    parts = [
        item_rows(wide, "toilets_hygienic_share", "toilets_hygienic", "toilets", NO_SCHOOL_FILE,
                  f"{NO_DATA}: trường ghi 0 nhà vệ sinh học sinh"),
        _pupils_per_toilet(wide, start),
        *[item_rows(wide, key, key, None, NO_SCHOOL_FILE) for key in PLAIN_ITEMS],
        item_rows(wide, "complaints_resolved_share", "complaints_resolved",
                  "complaints_received", NO_SCHOOL_FILE,
                  f"{NO_DATA}: năm học không nhận đơn thư, kiến nghị nào"),
    ]
    return pd.concat(parts, ignore_index=True)
