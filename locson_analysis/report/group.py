"""The group report (issue 14): what ``notebooks/group_report.ipynb`` shows, and its runner.

:func:`build` turns :func:`group.group_view` into the report's parts: the official-document
header (``data/report.yaml``), the tables as a reader sees them (Vietnamese headers, Vietnamese
numbers, hidden cells as «…»), the sentences, the data of each chart and the Excel sheets.
Everything is computed by :mod:`group`; here it is only arranged.  :func:`run_group_report`
executes the notebook with papermill and exports offline HTML with nbconvert
(:func:`runner.run_notebook`) into
``outputs/<nhóm>/<năm học>/`` (HTML, executed notebook, Excel workbook written by the notebook).

No pupil-level row reaches any part: the view holds counts per school and pooled rates only,
and the equity table has passed :func:`disclosure.suppress`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .. import (
    config,
    disclosure,
    group,
    indicators,
    provenance,
    report_config,
    safe_cells,
    store,
    targets,
)
from ..errors import LocsonError
from ..numbers import NO_DATA, fmt_bool, fmt_date, fmt_num, fmt_pct
from ..schools import load_groups, load_registry
from .tables import EXCEL_FORMATS, SMALL_RATE_KEYS, fmt_threshold, format_name

GROUP_NOTEBOOK = config.NOTEBOOKS_DIR / "group_report.ipynb"
#: The dot colour of each status in the charts of the schools' values.
STATUS_PALETTE = {targets.MET: "#2e7d32", targets.NOT_MET: "#c62828", targets.TRACKING: "#1565c0",
                  targets.NO_VALUE: "#90a4ae", targets.OUTSIDE: "#90a4ae"}
#: At most this many schools are named in one dot plot (the furthest from the target).
CHART_SCHOOLS = 30
#: Rate targets get a chart of the schools' values (dot per school) and a pooled trend.
RATE_UNITS = ("rate",)


@dataclass
class Sheet:
    """One sheet of the group workbook: ``data`` holds numbers as numbers (counts as ``int``,
    rates as fractions), dates as dates, text only where the content is text, and hidden cells
    as «…»; ``formats`` gives a column's Excel format by name (a key of
    :data:`tables.EXCEL_FORMATS`, or ``"date"``), one for the column or one per row (a value
    column takes the format of its row's indicator)."""

    data: pd.DataFrame
    formats: dict[str, str | list[str]] = field(default_factory=dict)


#: The format of a date cell of the group workbook.
DATE_FORMAT = "dd/mm/yyyy"


@dataclass
class GroupReport:
    """The parts of one group report."""

    view: group.GroupView
    title: str
    header: report_config.OfficialDocument  # the title and closing blocks; notes: to check
    sample: bool
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # as shown (strings)
    sheets: dict[str, Sheet] = field(default_factory=dict)  # Excel (numbers, «…»)
    rate_targets: list[str] = field(default_factory=list)  # indicator keys with charts

    @property
    def school_year(self) -> str:
        return self.view.school_year


@functools.lru_cache(maxsize=65536)
def _pct(x: object, places: int = 1) -> str:
    return fmt_pct(x, places, missing=NO_DATA)


@functools.lru_cache(maxsize=65536)
def _cnt(x: object) -> str:
    return fmt_num(x, 0, missing="—")


def digits(key: str) -> int:
    """Decimals of a rate in every part of the report — tables, sentences, captions, chart
    labels: 2 for the small rates (:data:`tables.SMALL_RATE_KEYS`: dropout, 0,06 %), else 1."""
    return 2 if key in SMALL_RATE_KEYS else 1


def _value_text(value: object, key: str) -> str:
    unit = indicators.INDICATORS[key].unit if key in indicators.INDICATORS else "rate"
    if unit == "yesno":
        return NO_DATA if pd.isna(value) else ("Có" if float(value) >= 1 else "Không")
    if unit in ("rate",):
        return _pct(value, digits(key))
    return fmt_num(value, 2, missing=NO_DATA, trim=True)


def _target_name(number: object, label: str) -> str:
    return f"{int(number)}. {label}" if not pd.isna(number) else label


def matrix_table(view: group.GroupView) -> pd.DataFrame:
    """Schools × targets: «status (value)» in each cell."""
    m = view.matrix.copy()
    m["cell"] = [f"{s} ({_value_text(v, k)})" if not pd.isna(v) else str(s)
                 for s, v, k in zip(m["status"], m["value"], m["indicator"], strict=True)]
    wide = group.status_matrix(m, "cell")
    wide.index.name = "Trường"
    return wide.reset_index()


def pooled_table(view: group.GroupView) -> pd.DataFrame:
    p = view.pooled
    return pd.DataFrame({
        "Chỉ tiêu": [_target_name(n, lab) for n, lab in zip(p["number"], p["indicator_label"],
                                                              strict=True)],
        "Giá trị gộp": [_value_text(v, k) for v, k in zip(p["value"], p["indicator"],
                                                          strict=True)],
        "Tử số": p["numerator"].map(_cnt), "Mẫu số": p["denominator"].map(_cnt),
        "Số trường có số liệu": [f"{_cnt(a)}/{_cnt(b)}" for a, b in zip(
            p["schools"], p["schools_selected"], strict=True)],
        "Chỉ tiêu đặt ra": p["target_text"], "Đánh giá": p["status"], "Ghi chú": p["note"],
    })


def definitions_table(view: group.GroupView) -> pd.DataFrame:
    p = view.pooled.drop_duplicates("indicator")
    return pd.DataFrame({"Chỉ số": p["indicator_label"], "Định nghĩa": p["definition_vi"],
                         "Tử số": p["numerator_vi"], "Mẫu số": p["denominator_vi"],
                         "Nguồn": p["source"]})


def _blank_rows(e: pd.DataFrame) -> np.ndarray:
    """The equity rows whose every figure is hidden (rate, and the counts where the row has
    them): nothing to read, so the HTML leaves them out and says how many (the workbook keeps
    them, marked «…»)."""
    parity = e["indicator"].str.startswith(disclosure.PARITY_PREFIX).to_numpy()
    counts = e["hidden_numerator"].astype(bool).to_numpy() \
        & e["hidden_denominator"].astype(bool).to_numpy()
    return e["hidden_value"].astype(bool).to_numpy() & (parity | counts)


#: The rate cell of a pupil group too small for a rate (the counts are shown, the note says
#: why).
SMALL_GROUP_VALUE = "Không tính"


def _empty_rows(e: pd.DataFrame) -> np.ndarray:
    """The equity rows with no figure at all (e.g. the end-of-year rates of a mid-year
    report): the HTML leaves them out too and says how many."""
    nothing = e["value"].isna() & pd.to_numeric(e["numerator"], errors="coerce").isna() \
        & pd.to_numeric(e["denominator"], errors="coerce").isna()
    return nothing.to_numpy() & ~_blank_rows(e)


def equity_table(view: group.GroupView) -> pd.DataFrame:
    """The pooled equity rows as the HTML shows them; rows with every figure hidden or with
    no figure at all are left out (:func:`_blank_rows`, :func:`_empty_rows`, counted in
    :func:`suppression_text`)."""
    e = view.equity
    e = e[~_blank_rows(e) & ~_empty_rows(e)] if len(e) else e
    hidden = e["hidden_value"].astype(bool)

    def show(col: str, fmt: object) -> list[str]:
        flag = e[f"hidden_{col}"].astype(bool) if col != "value" else hidden
        return [disclosure.HIDDEN_MARK if h else fmt(v)  # type: ignore[operator]
                for v, h in zip(e[col], flag, strict=True)]

    parity = e["indicator"].str.startswith(disclosure.PARITY_PREFIX)
    # a group too small for a rate (its note says so) still has its counts: «không tính»,
    # not «chưa có số liệu»
    small = e["value"].isna() & (((pd.to_numeric(e["denominator"], errors="coerce") > 0)
                                  & ~parity)
                                 | (parity & e["note"].str.contains("Không tính", na=False)))
    value = [disclosure.HIDDEN_MARK if h else SMALL_GROUP_VALUE if sm else (
                 fmt_num(v, 2, missing=NO_DATA) if p else _value_text(v, k))
             for v, h, p, k, sm in zip(e["value"], hidden, parity, e["indicator"], small,
                                       strict=True)]
    return pd.DataFrame({
        "Chỉ số": e["indicator_label"], "Nhóm": e["dimension_label"],
        "Nhóm học sinh": np.where(parity, "Nữ so với nam", e["group"]),
        "Tỷ lệ": value,
        "Tử số": np.where(parity, "", show("numerator", _cnt)),
        "Mẫu số": np.where(parity, "", show("denominator", _cnt)),
        "Số trường": [disclosure.HIDDEN_MARK if h else _cnt(s)
                      for s, h in zip(e["schools"], hidden, strict=True)],
        "Ghi chú": e["note"],
    })


def furthest_table(view: group.GroupView, top: int = 5) -> pd.DataFrame:
    f = view.furthest[view.furthest["rank"] <= top]
    return pd.DataFrame({
        "Chỉ tiêu": [_target_name(n, lab) for n, lab in zip(f["number"], f["indicator_label"],
                                                              strict=True)],
        "Thứ tự": f["rank"].map(_cnt), "Trường": f["school"],
        "Giá trị": [_value_text(v, k) for v, k in zip(f["value"], f["indicator"], strict=True)],
        "Tử số / mẫu số": [f"{_cnt(a)}/{_cnt(b)}" for a, b in zip(
            f["numerator"], f["denominator"], strict=True)],
        "Còn thiếu": [f"{_cnt(s)} {u}".strip() if not pd.isna(s) else "—"
                      for s, u in zip(f["shortfall"], f["shortfall_unit"], strict=True)],
    })


def completeness_table(view: group.GroupView) -> pd.DataFrame:
    c = view.completeness
    yes = {True: "Có", False: "Chưa"}
    return pd.DataFrame({
        "Trường": c["school"], "Danh sách học sinh": c["has_pupils"].map(yes),
        "Số liệu nhà trường": c["has_school"].map(yes),
        "Số liệu điều tra phổ cập": c["has_population"].map(yes),
        "Năm học đang diễn ra": c["in_progress"].map({True: "Có", False: ""}),
        "Còn thiếu": c["missing"], "Nhập lần cuối": c["last_import"].map(fmt_date),
        # no pupil list this year: nothing was checked against last year (not «0 findings»)
        "Phát hiện đối chiếu năm trước": [_cnt(f) if has else "—" for f, has in zip(
            c["findings"], c["has_pupils"], strict=True)],
    })


def findings_table(view: group.GroupView) -> pd.DataFrame:
    f = view.findings
    return pd.DataFrame({"Trường": f["school"], "Năm học trước": f["school_year"],
                         "Năm học": f["next_year"], "Phát hiện": f["description"],
                         "Số trường hợp": f["count"].map(_cnt), "Cần làm": f["action"]})


def trend_points(report: GroupReport, key: str) -> pd.DataFrame:
    """The pooled trend of one rate target: school_year, value, threshold, status.  A mid-year
    report's year is left out (as in the school report): its value so far is no year's
    value, beside full years it would read as a rise or a fall; the chart stops at the latest
    ended year (:func:`trends_intro` says so)."""
    t = report.view.trend
    keep = (t["indicator"] == key).to_numpy()
    if report.view.mid_year:
        keep = keep & (t["school_year"] != report.school_year).to_numpy()
    return t[keep].reset_index(drop=True)


def trends_intro(report: GroupReport) -> str:
    """Above the trend charts of a mid-year report: its year is not drawn (empty otherwise)."""
    if not report.view.mid_year:
        return ""
    return (f"Năm học {report.school_year} chưa kết thúc nên chưa đưa vào các biểu đồ dưới "
            f"đây; các biểu đồ dừng ở năm học gần nhất đã kết thúc. Số liệu đến nay của năm "
            f"học {report.school_year} ở bảng số liệu gộp (mục 2).")


def school_points(report: GroupReport, key: str, limit: int = CHART_SCHOOLS) -> pd.DataFrame:
    """The schools' values of one target in the report's year, the data of the target's dot
    plot: the schools with a value, furthest from the target first (lowest value for a
    "≥" target, highest for "<"), at most ``limit`` of them (the workbook has them all), with
    the threshold, status and ``position`` (0, 1, … from the top of the chart)."""
    m = report.view.matrix
    pts = m[(m["indicator"] == key) & m["value"].notna()].copy()
    worst_first = not (len(pts) and pts["direction"].iloc[0] == "<")
    pts = pts.sort_values(["value", "school"], ascending=[worst_first, True], kind="stable")
    pts = pts.head(limit).reset_index(drop=True)
    pts["position"] = np.arange(len(pts))
    return pts


def _statuses(statuses: pd.Series) -> str:
    """How many schools are at each status: "cả 150 trường đạt chỉ tiêu", "2 trường đạt,
    1 trường chưa đạt", "3 trường đang theo dõi"."""
    counts = statuses.value_counts()
    n = int(counts.sum())
    met = int(counts.get(targets.MET, 0))
    if n > 1 and met == n:
        return f"cả {fmt_num(n)} trường đạt chỉ tiêu"
    words = {targets.MET: "đạt", targets.NOT_MET: "chưa đạt",
             targets.TRACKING: "đang theo dõi"}
    parts = [f"{fmt_num(int(counts[s]))} trường {w}" for s, w in words.items()
             if counts.get(s, 0)]
    parts += [f"{fmt_num(int(k))} trường: {str(s).lower()}" for s, k in counts.items()
              if s not in words]
    return ", ".join(parts)


def chart_caption(report: GroupReport, key: str, limit: int = CHART_SCHOOLS) -> str:
    """Above the dot plot: the schools' statuses, how many are drawn of how many have a value
    (and in which order), how many have none."""
    m = report.view.matrix
    mine = m[(m["indicator"] == key).to_numpy()]
    valued = mine[mine["value"].notna()]
    n, shown = len(valued), min(len(valued), limit)
    text = f"{group._label(key)}, năm học {report.school_year}: {_statuses(valued['status'])}"
    if shown < n:
        low = "thấp" if valued["direction"].iloc[0] != "<" else "cao"
        missed = int((valued["status"] == targets.NOT_MET).sum())
        if valued["value"].nunique() == 1:
            which = f"các trường cùng giá trị {_value_text(valued['value'].iloc[0], key)}"
        elif missed >= shown:
            which = f"{fmt_num(shown)} trường xa chỉ tiêu nhất, xa nhất ở trên cùng"
        else:
            which = f"{fmt_num(shown)} trường có giá trị {low} nhất, {low} nhất ở trên cùng"
        text += (f"; biểu đồ vẽ {fmt_num(shown)} trong {fmt_num(n)} trường có số liệu "
                 f"({which}; đủ các trường trong tệp Excel, trang «Ma trận chỉ tiêu»)")
    if len(mine) > n:
        text += f"; {fmt_num(len(mine) - n)} trường chưa có số liệu"
    return text + ". Đường đứt: chỉ tiêu."


def trend_alt(report: GroupReport, key: str) -> str:
    """The alt text of a pooled trend chart: its values year by year (as the tables write
    them), and, mid-year, that the report's year is not drawn."""
    series = trend_points(report, key)
    values = "; ".join(f"{y}: {_value_text(v, key)}" for y, v in zip(
        series["school_year"], series["value"], strict=True))
    later = (f" Năm học {report.school_year} chưa kết thúc: chưa đưa vào biểu đồ."
             if report.view.mid_year else "")
    return (f"Biểu đồ đường: {group._label(key)} gộp các trường theo năm học ({values}); "
            f"đường nét đứt màu đỏ là chỉ tiêu.{later}")


def suppression_text(report: GroupReport) -> str:
    """The note under the equity table: why cells are hidden, and how many rows the HTML
    leaves out (empty when nothing is hidden or left out)."""
    e = report.view.equity
    if e.empty:
        return ""
    blank, empty = int(_blank_rows(e).sum()), int(_empty_rows(e).sum())
    out = []
    if e["hidden_value"].astype(bool).any():
        out.append(disclosure.suppression_note(report.view.threshold))
    if blank:
        out.append(f"{fmt_num(blank)} dòng có mọi số liệu bị ẩn không được liệt kê ở bảng trên "
                   "(tệp Excel kèm theo vẫn ghi các dòng này, với dấu «…»).")
    if empty:
        out.append(f"{fmt_num(empty)} dòng chưa có số liệu (ví dụ các tỷ lệ cuối năm trong báo "
                   "cáo giữa năm) không được liệt kê; tệp Excel kèm theo vẫn ghi các dòng này.")
    return " ".join(out)


def chart_alt(report: GroupReport, key: str) -> str:
    """The alt text of a dot plot: the schools drawn, their range, the target, their
    statuses (as the tables write the values)."""
    pts = school_points(report, key)
    label = group._label(key)
    if pts.empty:
        return f"{label}: chưa trường nào có số liệu."
    target = fmt_threshold(pts["threshold"].iloc[0], pts["direction"].iloc[0], key)
    low, high = (_value_text(pts["value"].min(), key), _value_text(pts["value"].max(), key))
    values = f"giá trị {low}" if low == high else f"từ {low} đến {high}"
    return (f"{label}, năm học {report.school_year}: giá trị của {fmt_num(len(pts))} trường "
            f"({values}), chỉ tiêu {target}; {_statuses(pts['status'])}.")


def _count(x: object) -> int | float | None:
    """A count for Excel: an ``int`` (a float only when it is not whole), None when missing."""
    if x is None or pd.isna(x):  # type: ignore[arg-type]
        return None
    v = float(x)  # type: ignore[arg-type]
    return int(v) if v.is_integer() else v


def _counts(values: pd.Series) -> pd.Series:
    """:func:`_count` of each value, kept as Python ints (``map`` would give floats and NaN
    to a column with a missing count)."""
    return pd.Series([_count(v) for v in values], index=values.index, dtype=object)


def _number(x: object) -> float | None:
    return None if x is None or pd.isna(x) else float(x)  # type: ignore[arg-type]


def _values(values: pd.Series, keys: pd.Series) -> list[object]:
    """The values of rows of several indicators: a number, or «Có»/«Không» for a yes/no fact
    (as the HTML shows it), None when missing."""
    return [(None if pd.isna(v) else fmt_bool(v)) if format_name(k) == "bool" else _number(v)
            for v, k in zip(values, keys, strict=True)]


def _day(x: object) -> date | None:
    """The date of a timestamp (an import's time), None when missing."""
    return None if x is None or pd.isna(x) else pd.Timestamp(x).date()  # type: ignore[arg-type]


def _sheets(view: group.GroupView) -> dict[str, Sheet]:
    """The Excel sheets: numbers as numbers, hidden cells as «…», Vietnamese headers."""
    m = view.matrix
    per_row = [format_name(k) for k in m["indicator"]]
    matrix = Sheet(pd.DataFrame({
        "Mã trường": m["school_code"], "Trường": m["school"],
        "Chỉ tiêu số": _counts(m["number"]), "Chỉ tiêu": m["indicator_label"],
        "Giá trị": _values(m["value"], m["indicator"]), "Tử số": _counts(m["numerator"]),
        "Mẫu số": _counts(m["denominator"]),
        "Ngưỡng": _values(m["threshold"], m["indicator"]), "Đánh giá": m["status"],
        "Ghi chú": m["note"]}),
        {"Giá trị": per_row, "Ngưỡng": per_row, "Tử số": "num", "Mẫu số": "num"})
    p = view.pooled
    per_row = [format_name(k) for k in p["indicator"]]
    pooled = Sheet(pd.DataFrame({
        "Chỉ tiêu số": _counts(p["number"]), "Chỉ tiêu": p["indicator_label"],
        "Giá trị gộp": _values(p["value"], p["indicator"]),
        "Tử số": _counts(p["numerator"]), "Mẫu số": _counts(p["denominator"]),
        "Số trường có số liệu": _counts(p["schools"]),
        "Số trường trong nhóm": _counts(p["schools_selected"]),
        "Ngưỡng": _values(p["threshold"], p["indicator"]), "Đánh giá": p["status"],
        "Định nghĩa": p["definition_vi"], "Ghi chú": p["note"]}),
        {"Giá trị gộp": per_row, "Ngưỡng": per_row, "Tử số": "num", "Mẫu số": "num"})
    f = view.furthest
    per_row = [format_name(k) for k in f["indicator"]]
    furthest = Sheet(pd.DataFrame({
        "Chỉ tiêu số": _counts(f["number"]), "Chỉ tiêu": f["indicator_label"],
        "Thứ tự": _counts(f["rank"]), "Mã trường": f["school_code"], "Trường": f["school"],
        "Giá trị": _values(f["value"], f["indicator"]), "Tử số": _counts(f["numerator"]),
        "Mẫu số": _counts(f["denominator"]),
        "Ngưỡng": _values(f["threshold"], f["indicator"]),
        "Còn thiếu": _counts(f["shortfall"]),
        "Còn thiếu (đơn vị)": f["shortfall_unit"]}),
        {"Giá trị": per_row, "Ngưỡng": per_row, "Tử số": "num", "Mẫu số": "num",
         "Còn thiếu": "num"})
    equity = _equity_sheet(view)
    t = view.trend
    per_row = [format_name(k) for k in t["indicator"]]
    trend = Sheet(pd.DataFrame({
        "Chỉ số": t["indicator_label"], "Năm học": t["school_year"],
        "Giá trị gộp": _values(t["value"], t["indicator"]), "Tử số": _counts(t["numerator"]),
        "Mẫu số": _counts(t["denominator"]), "Số trường": _counts(t["schools"]),
        "Ngưỡng": _values(t["threshold"], t["indicator"]), "Đánh giá": t["status"],
        "Ghi chú": t["note"]}),
        {"Giá trị gộp": per_row, "Ngưỡng": per_row, "Tử số": "num", "Mẫu số": "num"})
    c = view.completeness
    yes = {True: "Có", False: "Chưa"}
    done = Sheet(pd.DataFrame({
        "Mã trường": c["school_code"], "Trường": c["school"],
        "Danh sách học sinh": c["has_pupils"].map(yes),
        "Số liệu nhà trường": c["has_school"].map(yes),
        "Số liệu điều tra phổ cập": c["has_population"].map(yes),
        "Năm học đang diễn ra": c["in_progress"].map({True: "Có", False: ""}),
        "Còn thiếu": c["missing"], "Nhập lần cuối": [_day(x) for x in c["last_import"]],
        "Phát hiện đối chiếu năm trước": _counts(c["findings"])}),
        {"Nhập lần cuối": "date", "Phát hiện đối chiếu năm trước": "num"})
    fd = view.findings
    findings = Sheet(pd.DataFrame({
        "Mã trường": fd["school_code"], "Trường": fd["school"],
        "Năm học trước": fd["school_year"], "Năm học": fd["next_year"],
        "Phát hiện": fd["description"], "Số trường hợp": _counts(fd["count"]),
        "Cần làm": fd["action"]}), {"Số trường hợp": "num"})
    return {"Ma trận chỉ tiêu": matrix, "Số liệu gộp": pooled, "Trường xa chỉ tiêu": furthest,
            "Công bằng (gộp)": equity, "Xu hướng gộp": trend, "Đầy đủ số liệu": done,
            "Đối chiếu năm trước": findings}


def _equity_sheet(view: group.GroupView) -> Sheet:
    """The pooled equity table as the HTML shows it (a gender parity row reads «Nữ so với nam»,
    without counts: its numerator and denominator are the two rates), with numbers."""
    e = view.equity
    mark = disclosure.HIDDEN_MARK
    parity = e["indicator"].str.startswith(disclosure.PARITY_PREFIX).to_numpy()
    base = e["indicator"].str.removeprefix(disclosure.PARITY_PREFIX)

    def hid(col: str, flag: str, convert: object, blank_parity: bool = False) -> list:
        return [None if (blank_parity and p) else mark if h else convert(v)  # type: ignore
                for v, h, p in zip(e[col], e[flag].astype(bool), parity, strict=True)]

    return Sheet(pd.DataFrame({
        "Chỉ số": e["indicator_label"], "Nhóm": e["dimension_label"],
        "Nhóm học sinh": np.where(parity, "Nữ so với nam", e["group"]),
        "Giá trị": hid("value", "hidden_value", _number),
        "Tử số": hid("numerator", "hidden_numerator", _count, blank_parity=True),
        "Mẫu số": hid("denominator", "hidden_denominator", _count, blank_parity=True),
        "Số trường": hid("schools", "hidden_value", _count),
        "Ghi chú": e["note"]}),
        {"Giá trị": ["num2" if p else format_name(k) for p, k in zip(parity, base,
                                                                          strict=True)],
         "Tử số": "num", "Mẫu số": "num", "Số trường": "num"})


def header(school_year: str, recipient: str | None, today: date,
           settings_file: str | Path | None = None) -> report_config.OfficialDocument:
    """The official-document blocks of the group report (Nghị định 30/2020/NĐ-CP), from
    ``group_recipients`` of ``data/report.yaml`` for the year
    (:func:`report_config.group_document`; ``recipient``, when given, replaces «Kính gửi»).

    Its ``notes`` say what the analyst must check before sending (an unconfirmed entry; a file
    without ``group_recipients``).  They are printed by ``locson report --group`` and shown in
    the executed notebook, never in the exported report."""
    return report_config.group_document(school_year, today, recipient, settings_file)


def analyst_notes(report: GroupReport) -> str:
    """Markdown for the analyst (a cell left out of the exported report): what to check
    before sending, or that nothing needs checking."""
    notes = report.header.notes
    if not notes:
        return "Cơ quan lập và nơi nhận báo cáo đã được xác nhận trong data/report.yaml."
    return "\n\n".join(f"**Cần kiểm tra trước khi gửi:** {n}" for n in notes)


def report_title(view: group.GroupView) -> str:
    kind = "giữa năm học" if view.mid_year else "năm học"
    return (f"Báo cáo kết quả thực hiện các chỉ tiêu vì trẻ em — {view.group.name} — {kind} "
            f"{view.school_year}")


def build(db: str | Path, school_year: str, schools: str | list[str] | None = None, *,
          mid_year: bool = False, recipient: str | None = None,
          targets_file: str | Path | None = None, schools_file: str | Path | None = None,
          settings_file: str | Path | None = None, engine: str = "sql",
          today: date | None = None) -> GroupReport:
    """Everything the group report shows, for ``school_year`` and the schools ``schools``
    (all, a list of codes, or a group name of ``data/schools.yaml``)."""
    threshold = report_config.suppression_threshold(settings_file)
    if isinstance(schools, str):
        schools = selection(schools)
    if isinstance(schools, str):  # a group's name (read once here), else one school's code
        groups = load_groups(schools_file)
        if schools in groups:
            schools = groups[schools]
        elif schools in load_registry(schools_file):
            schools = [schools]
    view = group.group_view(db, school_year, schools, mid_year=mid_year, recipient=recipient,
                            targets_file=targets_file, schools_file=schools_file,
                            suppress=threshold, engine=engine)
    rates = [k for k in dict.fromkeys(view.matrix["indicator"])
             if indicators.INDICATORS[k].unit in RATE_UNITS]
    rep = GroupReport(view=view, title=report_title(view),
                      header=header(school_year, recipient, today or date.today(),
                                    settings_file),
                      sample=store.data_origin(db) == provenance.SAMPLE, rate_targets=rates)
    rep.tables = {"matrix": matrix_table(view), "pooled": pooled_table(view),
                  "definitions": definitions_table(view), "furthest": furthest_table(view),
                  "equity": equity_table(view), "completeness": completeness_table(view),
                  "findings": findings_table(view)}
    rep.sheets = _sheets(view)
    return rep


#: The workbook's wide columns (when they hold text).
WIDE_COLUMNS = ("Ghi chú", "Định nghĩa", "Trường", "Chỉ tiêu", "Chỉ số", "Phát hiện", "Cần làm",
                "Còn thiếu")


def write_workbook(report: GroupReport, path: str | Path) -> Path:
    """The report's tables in one workbook (suppression applied: hidden cells are «…»).

    Counts are numbers, rates numbers with the percent format of their indicator (the decimals
    the report shows), dates dates (dd/mm/yyyy); every text cell goes through
    :mod:`safe_cells` (a school's or group's name cannot become a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    lead = [report.title]
    if report.sample:
        lead.append(provenance.SAMPLE_MARK_GROUP)
    for name, sheet in report.sheets.items():
        frame = sheet.data
        ws = wb.create_sheet(name[:31])
        for line in lead:
            ws.append([line])
        ws["A1"].font = Font(bold=True, size=12)
        if name.startswith("Công bằng"):
            ws.append([disclosure.suppression_note(report.view.threshold)])
        ws.append([])
        cols = list(frame.columns)
        ws.append(cols)
        head = ws.max_row
        for cell in ws[head]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, row in enumerate(frame.itertuples(index=False)):
            ws.append([safe_cells.excel_value(v) for v in row])
            for j, col in enumerate(cols, start=1):
                fmt = sheet.formats.get(col)
                if isinstance(fmt, list):
                    fmt = fmt[i]
                cell = ws.cell(row=head + 1 + i, column=j)  # (ws.max_row scans the sheet)
                if fmt == "date" and isinstance(cell.value, date):
                    cell.number_format = DATE_FORMAT
                elif fmt in EXCEL_FORMATS and isinstance(cell.value, int | float) and not \
                        isinstance(cell.value, bool):
                    cell.number_format = EXCEL_FORMATS[fmt]
        for j, col in enumerate(cols, start=1):
            wide = col in WIDE_COLUMNS and col not in sheet.formats  # (text)
            ws.column_dimensions[get_column_letter(j)].width = 40 if wide else 14
        ws.freeze_panes = ws.cell(row=head + 1, column=1)
    safe_cells.protect_workbook(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# --- the runner ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GroupReportPaths:
    html: Path
    notebook: Path
    xlsx: Path
    #: what the analyst must check before sending (Vietnamese; e.g. an unconfirmed recipient)
    notes: tuple[str, ...] = ()


def selection(schools: str | None) -> str | list[str] | None:
    """The notebook's ``schools`` parameter as :func:`schools.resolve_group` takes it: "all" or
    "" → None (every school), "A,B,C" → a list of codes, else a group name."""
    text = (schools or "").strip()
    if text in ("", "all"):
        return None
    if "," in text:
        return [c.strip() for c in text.split(",") if c.strip()]
    return text


def folder_name(schools: str | None) -> str:
    """The folder of ``outputs/`` a group report goes to: the group's name, «all», or the
    chosen codes."""
    sel = selection(schools)
    if sel is None:
        return "all"
    if isinstance(sel, str):
        return sel
    return "-".join(sel) if len(sel) <= 4 else f"{len(sel)}-truong"


def check_selection(db: str | Path, schools: str | None,
                    schools_file: str | Path | None = None) -> None:
    """The schools a group report would cover exist (a group of ``data/schools.yaml``, a
    listed school's code, or codes in the registry or the database), and the schools file is
    well formed: else the :class:`LocsonError` the notebook would raise, before it runs."""
    from ..schools import resolve_group

    sel = selection(schools)
    if isinstance(sel, str) and sel not in load_groups(schools_file) \
            and sel in load_registry(schools_file):
        return  # one school's code (as build() takes it)
    with store.connect(db, read_only=True) as con:
        present = [r[0] for r in con.execute(
            "SELECT DISTINCT school_code FROM active_imports").fetchall()]
    resolve_group(sel, present, schools_file)


def report_stem(school_year: str, mid_year: bool = False) -> str:
    return f"bao_cao_nhom_{school_year}" + ("_giua_nam" if mid_year else "")


def run_group_report(db: str | Path, school_year: str | None = None,
                     schools: str | None = None, *, mid_year: bool = False,
                     recipient: str | None = None, out_dir: str | Path = config.OUTPUTS_DIR,
                     targets_file: str | Path = config.TARGETS_FILE,
                     schools_file: str | Path | None = None,
                     notebook: Path | None = None) -> GroupReportPaths:
    """Run ``notebooks/group_report.ipynb`` with papermill and export it with nbconvert (the
    report's offline template, :func:`runner.run_notebook`) into ``out_dir/<nhóm>/<năm học>/``:
    HTML, executed notebook, and the Excel workbook the notebook writes.  ``school_year`` None:
    :func:`default_year`.  Nothing is replaced unless every step succeeded."""
    from . import runner  # (not at the top: nbformat costs the notebook's kernel ~1,8 s)

    db = Path(db)
    if notebook is not None and not Path(notebook).is_file():
        raise runner.ReportStepError(runner.STEP_READ, f"không có tệp sổ tay {notebook}.")
    try:
        if not db.is_file():
            raise LocsonError(f"Không có tệp cơ sở dữ liệu {db}.")
        check_selection(db, schools, schools_file)  # before the kernel: a clear message
        year = school_year or default_year(db, mid_year)
        sample = store.data_origin(db) == provenance.SAMPLE
        notes = tuple(header(year, recipient, date.today()).notes)
    except Exception as exc:
        raise runner.step_error(runner.STEP_READ, exc) from exc
    stem = report_stem(year, mid_year)
    params = {"school_year": year, "mid_year": bool(mid_year), "db_path": str(db.resolve()),
              "schools": schools or "all", "recipient": recipient or "",
              "targets_file": str(Path(targets_file).resolve()),
              "schools_file": str(Path(schools_file).resolve()) if schools_file else "",
              "workbook_name": f"{stem}.xlsx"}
    title = (f"Báo cáo nhóm trường — {'giữa năm học' if mid_year else 'năm học'} {year}")
    done = runner.run_notebook(Path(notebook) if notebook else GROUP_NOTEBOOK, params,
                               Path(out_dir) / folder_name(schools) / year, stem, title,
                               banner=provenance.SAMPLE_MARK_GROUP if sample else "",
                               expect={f"{stem}.xlsx": "sổ tay không ghi bảng tính Excel (ô "
                                                       "cuối của group_report.ipynb)."})
    xlsx = done.html.parent / f"{stem}.xlsx"
    return GroupReportPaths(done.html, done.notebook, xlsx, notes)


# --- what the notebook displays -----------------------------------------------------------------

def default_year(db: str | Path, mid_year: bool = False) -> str:
    """The latest school year with data (a full-year report: the latest that has ended in at
    least one school; a mid-year report: the latest still running in one)."""
    with store.connect(db, read_only=True) as con:
        years = [r[0] for r in con.execute(
            "SELECT DISTINCT school_year FROM active_imports ORDER BY 1").fetchall()]
        # per school and year: running when a pupil is still «đang học», else ended
        pairs = con.execute("SELECT school_year, bool_or(outcome = 'in_progress') FROM pupils "
                            "GROUP BY school_code, school_year").fetchall()
    running = {y for y, r in pairs if r}
    ended = {y for y, r in pairs if not r}
    pool = [y for y in years if (y in running if mid_year else y in ended)]
    if not pool:
        from .errors import LocsonError
        raise LocsonError("Cơ sở dữ liệu chưa có năm học nào để lập báo cáo nhóm trường"
                          + (" giữa năm." if mid_year else " cả năm."))
    return pool[-1]


def show(report: GroupReport, key: str) -> str:
    """One of ``report.tables`` as an HTML table (text already formatted)."""
    from ..present import text_table

    frame = report.tables[key]
    if key == "definitions":  # its «Tử số» and «Mẫu số» say what is counted: text, not numbers
        return text_table(frame)
    right = [c for c in frame.columns if c in ("Giá trị gộp", "Tử số", "Mẫu số", "Tỷ lệ",
                                               "Số trường", "Thứ tự", "Giá trị",
                                               "Tử số / mẫu số", "Số trường hợp")]
    return text_table(frame, right_align=right)


def header_html(report: GroupReport) -> str:
    """The official-document title block (Nghị định 30/2020/NĐ-CP, the same layout as the
    school's report: :func:`text.document_header`) and the sample mark."""
    from ..present import esc
    from .text import document_header, sample_band

    view = report.view
    kind = "BÁO CÁO GIỮA NĂM HỌC" if view.mid_year else "BÁO CÁO NĂM HỌC"
    out = document_header(
        report.header, f"{kind} {view.school_year}",
        '<p style="text-align:center"><b>Kết quả thực hiện các chỉ tiêu của Chương trình hành '
        "động quốc gia vì trẻ em giai đoạn 2022–2030</b><br>"
        f"{esc(view.group.name)} ({fmt_num(len(view.group.codes))} trường)</p>")
    return (sample_band(provenance.SAMPLE_MARK_GROUP) if report.sample else "") + out


def closing_html(report: GroupReport) -> str:
    """«Nơi nhận» and the signature (:func:`text.document_closing`)."""
    from .text import document_closing

    return document_closing(report.header)


def target_lines(report: GroupReport) -> str:
    """One Markdown line per target: its number and name, then the group's sentence (how
    many schools miss it, by how many pupils, the furthest named)."""
    from ..present import esc

    s = report.view.sentences
    return "\n".join(f"- **{esc(_target_name(n, lab))}**: {esc(text)}"
                     for n, lab, text in zip(s["number"], s["indicator_label"], s["sentence"],
                                             strict=True) if text)


def coverage(view: group.GroupView) -> tuple[int, list[str]]:
    """How many of the selected schools have a value for at least one target of the year
    (the schools the pooled figures cover), and the names of those that have none."""
    m = view.matrix
    valued = set(m.loc[m["value"].notna(), "school_code"])
    names = dict(zip(m["school_code"], m["school"], strict=True))
    return len(valued), [names.get(c, c) for c in view.group.codes if c not in valued]


def summary_sentences(report: GroupReport) -> list[str]:
    """The report's opening lines: the schools covered, how many of them the pooled figures
    cover (those without any figure named), and the targets: met out of all (a full-year
    report), or followed, with how many have figures so far (mid-year: nothing is judged)."""
    v = report.view
    n = len(v.group.codes)
    lines = [f"Báo cáo gồm {fmt_num(n)} trường ({v.group.name}), năm học {v.school_year}"
             + (" (giữa năm học)." if v.mid_year else ".")]
    k, without = coverage(v)
    p = v.pooled
    counts = p["status"].value_counts()
    total = len(p)
    met, not_met = int(counts.get(targets.MET, 0)), int(counts.get(targets.NOT_MET, 0))
    no_data = int(counts.get(targets.NO_VALUE, 0))
    tracked = int(counts.get(targets.TRACKING, 0))
    if k == 0:
        lines.append(f"Chưa trường nào có số liệu các chỉ tiêu của năm học {v.school_year}: "
                     "chưa có số liệu gộp.")
        return lines
    who = f"cả {fmt_num(n)} trường" if k == n else f"{fmt_num(k)}/{fmt_num(n)} trường"
    if total and int(counts.get(targets.OUTSIDE, 0)) == total:
        text = (f"Năm học {v.school_year} nằm ngoài các giai đoạn của kế hoạch: số liệu gộp "
                f"của {who} được ghi để so sánh, không đánh giá đạt hay chưa đạt.")
    elif v.mid_year:
        text = (f"Năm học chưa kết thúc: các chỉ tiêu đang được theo dõi, chưa đánh giá đạt "
                f"hay chưa đạt. Đến nay {fmt_num(int(p['value'].notna().sum()))}/"
                f"{fmt_num(total)} chỉ tiêu đã có số liệu gộp (số liệu gộp của {who})")
        if met + not_met:
            text += (f"; {fmt_num(met + not_met)} chỉ tiêu chỉ gồm các trường đã kết thúc năm "
                     f"học nên đã đánh giá được: {fmt_num(met)} đạt, {fmt_num(not_met)} chưa "
                     "đạt")
        text += "."
    else:
        rest = [f"{fmt_num(x)} chỉ tiêu {w}" for x, w in (
            (not_met, "chưa đạt"), (tracked, "đang theo dõi vì có trường chưa kết thúc năm học"),
            (no_data, "chưa có số liệu")) if x]
        text = (f"Số liệu gộp của {who} đạt {fmt_num(met)}/{fmt_num(total)} chỉ tiêu của giai "
                f"đoạn" + (f" ({', '.join(rest)})" if rest else "") + ".")
    lines.append(text + " Chi tiết từng trường ở bảng dưới.")
    if without:
        lines.append(f"Chưa có số liệu của {fmt_num(len(without))} trường: "
                     f"{group._name_list(without)}.")
    return lines


def mid_year_note(report: GroupReport) -> str:
    """The paragraph (HTML) saying what a mid-year report can and cannot say; empty in a
    full-year report."""
    from ..present import note_box

    if not report.view.mid_year:
        return ""
    return note_box(
        f"Đây là báo cáo giữa năm: năm học {report.school_year} chưa kết thúc. Các chỉ tiêu "
        "ghi «Đang theo dõi» với số liệu đến nay, chưa đánh giá đạt hay chưa đạt; trường chưa "
        "có số liệu của một chỉ tiêu thì ghi «Chưa có số liệu». Tỷ lệ hoàn thành chương trình "
        "THCS chỉ có khi kết thúc năm học; số học sinh bỏ học là số đến thời điểm nhập dữ "
        "liệu; tỷ lệ phát triển toàn diện theo kết quả học kỳ I. Biểu đồ xu hướng dừng ở năm "
        "học gần nhất đã kết thúc.", kind="warn")
