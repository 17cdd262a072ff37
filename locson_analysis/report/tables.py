"""The tables of the PGD report, arranged from the indicator table and the target evaluation.

Nothing here computes an indicator: every number comes from ``indicators.compute_all`` and
``targets.evaluate``.  This module chooses rows and columns, Vietnamese headings and formats,
and writes the same tables to Excel.  The notebook ``annual_report.ipynb`` shows them section by
section (:func:`show`) and writes the workbook (:func:`write_workbook`).  No table holds a row
per pupil.

Hooks for what a table needs before it is shown or written (e.g. small-cell suppression):
:data:`TABLE_HOOKS` maps a table key to functions ``ReportTable -> ReportTable`` applied by
:func:`build_report` to that table, in order.
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from .. import config, contract, disclosure, provenance, safe_cells
from .. import numbers as N
from .. import present as P
from ..dataset import Dataset
from ..errors import LocsonError
from ..schools import school_name

EXPECTED_KINDS = ("pupils", "school", "population")
KIND_HINT = {
    "pupils": "Đặt danh sách học sinh vào data/raw/{year}/ rồi nhập riêng tệp đó: locson import "
              "data/raw/{year}/<tên tệp>.xlsx (hoặc cả thư mục: locson import data/raw/{year} "
              "--replace).",
    "school": "Điền trang số liệu nhà trường (nhà vệ sinh, nước sạch, tư vấn tâm lý, …; mẫu: "
              "locson template --year {year}), đặt vào data/raw/{year}/ rồi nhập riêng tệp đó: "
              "locson import data/raw/{year}/<tên tệp>.xlsx.",
    "population": "Điền số liệu điều tra phổ cập (số trẻ 11 tuổi trên địa bàn, …; mẫu: locson "
                  "template --year {year}), đặt vào data/raw/{year}/ rồi nhập riêng tệp đó: "
                  "locson import data/raw/{year}/<tên tệp>.xlsx.",
}
TREND_PREFIXES = (("dropout_rate", "Tỷ lệ học sinh bỏ học"),
                  ("completion", "Tỷ lệ hoàn thành chương trình THCS"),
                  ("grade6", "Tỷ lệ huy động trẻ 11 tuổi vào lớp 6"))
FLOW_COLUMNS = (("promotion_rate", "Lên lớp"), ("repetition_rate", "Ở lại lớp"),
                ("dropout_rate", "Bỏ học"), ("transfer_out_rate", "Chuyển đi"))
EQUITY_RATES = ("dropout_rate", "promotion_rate", "repetition_rate", "allround_rate")
EQUITY_DIMENSIONS = (("sex", "Giới tính"), ("minority", "Dân tộc"), ("ethnicity", "Từng dân tộc"),
                     ("poor", "Hộ nghèo"), ("near_poor", "Hộ cận nghèo"),
                     ("disability", "Khuyết tật"),
                     ("special_circumstances", "Hoàn cảnh đặc biệt"))
#: Rates this small are shown with two decimals (0,13 %), so a target of 0,06 % can be read.
SMALL_RATE_KEYS = ("dropout_rate",)
#: A target of a running year: the value so far, no verdict (targets.TRACKING).
TRACKING = "Đang theo dõi"
#: Table key → functions applied to that table (in order) once the report is built, before it is
#: shown or written to Excel; e.g. ``TABLE_HOOKS["equity"].append(suppress_small_cells)``.
#: A hook returns the table to use (it may return a new :class:`ReportTable`).
TABLE_HOOKS: dict[str, list] = {}
EXCEL_FORMATS = {"pct": "0.0%", "pct2": "0.00%", "num": "#,##0", "num1": "#,##0.0",
                 "num2": "#,##0.00", "money": '#,##0 "đ"', "pp": "+0.0%;-0.0%;0.0%",
                 "pp2": "+0.00%;-0.00%;0.00%", "signed": "+#,##0;-#,##0;0"}


# --------------------------------------------------------------------------------------------
# Which years
# --------------------------------------------------------------------------------------------

def pupil_years(ds: Dataset) -> list[str]:
    return sorted(ds.pupils["school_year"].dropna().unique().tolist()) if len(ds.pupils) else []


def in_progress_years(ds: Dataset) -> list[str]:
    """Years whose pupils' outcome is still ``in_progress`` (the year has not ended)."""
    running = _indicators().in_progress_years(ds)
    return sorted(running["school_year"].unique().tolist())


def complete_years(ds: Dataset) -> list[str]:
    running = set(in_progress_years(ds))
    return [y for y in pupil_years(ds) if y not in running]


def resolve_report_year(ds: Dataset, school_year: str | None, mid_year: bool = False) -> str:
    """The year to report on; the default is the latest ended year (mid-year: latest running)."""
    return choose_year(ds.years(), complete_years(ds), in_progress_years(ds), school_year,
                       mid_year)


def choose_year(years: list[str], ended: list[str], running: list[str],
                school_year: str | None, mid_year: bool = False) -> str:
    """:func:`resolve_report_year` from the school's years (sorted): every year with data,
    the years whose pupils' results are in (``ended``) and those still running."""
    if not years:
        raise LocsonError("Cơ sở dữ liệu chưa có năm học nào. Hãy nhập dữ liệu trước "
                          "(locson import <thư mục năm học>).")
    if not school_year:
        pool = running if mid_year else ended
        if not pool:
            what = "đang diễn ra" if mid_year else "đã kết thúc"
            raise LocsonError(f"Cơ sở dữ liệu chưa có năm học nào {what} để lập báo cáo"
                              f"{' giữa năm' if mid_year else ''}. Các năm học hiện có: "
                              f"{', '.join(years)}.")
        return pool[-1]
    parsed = contract.parse_school_year(school_year)
    if parsed is None or parsed != school_year.strip():
        raise LocsonError(f"Năm học «{school_year}» không đúng dạng. Hãy ghi như 2024-2025.")
    if parsed not in years:
        raise LocsonError(f"Năm học {parsed} không có trong cơ sở dữ liệu. Các năm học hiện có: "
                          f"{', '.join(years)}.")
    if not mid_year and parsed in running:
        raise LocsonError(f"Năm học {parsed} chưa kết thúc (học sinh còn ở trạng thái «Đang "
                          f"học»). Hãy lập báo cáo giữa năm (--mid-year) hoặc chờ nhập kết quả "
                          f"cuối năm.")
    return parsed


# --------------------------------------------------------------------------------------------
# Table objects
# --------------------------------------------------------------------------------------------

@dataclass
class ReportTable:
    """One table of the report: raw values for Excel, formatted strings for HTML."""

    key: str
    sheet: str  # Vietnamese Excel sheet name (≤ 31 characters)
    title: str  # Vietnamese heading
    data: pd.DataFrame  # raw values (numbers stay numbers), Vietnamese column names
    shown: pd.DataFrame  # the same rows as formatted strings
    excel_formats: dict[str, str] = field(default_factory=dict)  # column → format name
    excel_row_formats: dict[str, list[str]] = field(default_factory=dict)  # column → per row
    html_columns: tuple[str, ...] = ()
    nowrap: tuple[str, ...] = ()  # short text columns kept on one line
    lead: str | None = None  # a sentence shown above the table (e.g. why a column is empty)
    col_css: dict[str, str] = field(default_factory=dict)  # extra CSS for a column's cells
    note: str | None = None  # shown under the table and the workbook's title row (the dots)

    def to_html(self, caption: str | None = None) -> str:
        if self.shown.empty:
            return P.paragraph("Không có dòng nào.")
        lead = P.note_box(self.lead, kind="warn") if self.lead else ""
        after = P.note_box(self.note) if self.note else ""
        return lead + after + P.text_table(self.shown, html_columns=self.html_columns,
                                   right_align=[c for c in self.shown.columns
                                                if c in self.excel_formats
                                                or c in self.excel_row_formats
                                                or c in self.nowrap],
                                   col_css=self.col_css, caption=caption)


@dataclass
class Report:
    """Everything the annual report shows, for one school year."""

    school_year: str
    school_code: str
    mid_year: bool
    title: str
    made_on: str
    phase: str | None
    table: pd.DataFrame  # the indicator table, all years
    evaluation: pd.DataFrame  # targets.evaluate for the year
    tables: dict[str, ReportTable]
    trends: dict[str, pd.DataFrame]  # indicator → school_year, value, threshold, label
    target_labels: dict[str, str]  # indicator → "Mục tiêu: < 0,06 % (2022–2025)"
    missing_files: list[str]
    years: list[str]
    enrolment: float | None
    #: the data are the synthetic sample: everything made from them says so (SAMPLE_MARK)
    is_sample: bool = False
    #: title and closing blocks (report_config.official_document); None: not configured
    official: object = None
    #: targets.completion_views of the year (the judged ratio beside the other definitions)
    completion: pd.DataFrame | None = None
    completion_threshold: float | None = None
    #: the year's group rows after disclosure.suppress (what flow, equity, parity show)
    safe_table: pd.DataFrame | None = None
    #: disclosure.suppression_note when a cell is hidden, else ""
    suppression_note: str = ""

    @property
    def sample_mark(self) -> str:
        """provenance.SAMPLE_MARK for sample data, else ""."""
        return provenance.SAMPLE_MARK if self.is_sample else ""

    @property
    def sheet_order(self) -> list[str]:
        return list(self.tables)


def _sheet(name: str) -> str:
    bad = '[]:*?/\\'
    return "".join("-" if ch in bad else ch for ch in name)[:31]


def _indicators():  # imported late: indicators is a sibling that may load heavy modules
    from .. import indicators

    return indicators


def registry() -> dict:
    return _indicators().INDICATORS


def label_of(key: str) -> str:
    """The indicator's Vietnamese label; a money label drops its «(đồng)»: the values say «đ»."""
    ind = registry().get(key)
    if ind is None:
        return key
    return ind.label_vi.replace(" (đồng)", "") if ind.unit == "money" else ind.label_vi


def unit_of(key: str) -> str:
    ind = registry().get(key)
    return ind.unit if ind is not None else "count"


def format_name(key: str) -> str:
    """The display format of an indicator's values (by its unit in the registry)."""
    unit = unit_of(key)
    if unit == "rate":
        return "pct2" if key in SMALL_RATE_KEYS else "pct"
    return {"money": "money", "yesno": "bool", "ratio": "num2", "count": "num"}.get(unit, "num")


def change_format(key: str) -> str:
    unit = unit_of(key)
    if unit == "rate":
        return "pp2" if key in SMALL_RATE_KEYS else "pp"
    if unit == "ratio":
        return "num2"
    if unit == "yesno":
        return "text"
    return "signed"


def fmt_value(value: object, key: str) -> str:
    return P.fmt(value, format_name(key))


def fmt_change(value: object, key: str) -> str:
    if unit_of(key) == "yesno":
        return P.MISSING if P.is_missing(value) else ("không đổi" if value == 0 else "thay đổi")
    if P.is_missing(value):
        return P.MISSING
    fmt = change_format(key)
    if fmt in ("pp", "pp2"):  # the change of the unrounded rates; never "không đổi" by rounding
        return N.fmt_pp(value, 2 if fmt == "pp2" else 1)
    return N.fmt_signed(value, 2 if unit_of(key) == "ratio" else 0)


DIRECTION_SYMBOLS = {
    ">=": "≥", "ge": "≥", "at_least": "≥", "min": "≥", "higher": "≥", "up": "≥",
    ">": ">", "gt": ">", "above": ">",
    "<": "<", "lt": "<", "below": "<",
    "<=": "≤", "le": "≤", "at_most": "≤", "max": "≤", "lower": "≤", "down": "≤",
    "==": "=", "eq": "=",
}


def fmt_threshold(threshold: object, direction: object, key: str) -> str:
    """The target as people read it: "≥ 97,5 %", "< 0,06 %", "Có"."""
    d = "" if P.is_missing(direction) else str(direction)
    if P.is_missing(threshold):
        return P.MISSING
    if unit_of(key) == "yesno" or d in ("yes", "true", "has"):
        return "Có" if float(threshold) else "Không"  # type: ignore[arg-type]
    symbol = DIRECTION_SYMBOLS.get(d, d)
    return f"{symbol} {fmt_value(threshold, key)}".strip()


# --------------------------------------------------------------------------------------------
# Builders
# --------------------------------------------------------------------------------------------

def _school_rows(table: pd.DataFrame, year: str | None = None) -> pd.DataFrame:
    t = table[table["dimension"] == "school"]
    return t if year is None else t[t["school_year"] == year]


def _school_value(table: pd.DataFrame, key: str, year: str) -> pd.Series | None:
    t = _school_rows(table, year)
    t = t[t["indicator"] == key]
    return None if t.empty else t.iloc[0]


def _value(table: pd.DataFrame, key: str, year: str) -> object:
    """The school's value of ``key`` in ``year`` (None when absent)."""
    row = _school_value(table, key, year)
    return None if row is None else row["value"]


def _small(text: str) -> str:
    """A second, smaller line in a table cell (counts under a rate, change under a value)."""
    return f'<br><span style="color:#546e7a;font-size:90%">{P.esc(text)}</span>'


#: The rows of :func:`targets.completion_views` shown beside the judged completion ratio.
COMPLETION_JUDGED = "completion_rate_grade9"
#: Short names of the other completion definitions in the targets table (the sentence under
#: it and the appendix give them in full).
COMPLETION_SHORT = {
    "completion_rate_grade9_start": "(a′) trên học sinh lớp 9 đầu năm trừ chuyển đi",
    "completion_rate_apparent_cohort": "(b) khóa biểu kiến (lớp 6 cách đây 3 năm)",
    "completion_rate_true_cohort": "(c) khóa thực theo mã học sinh",
    "grade9_dropouts": "Học sinh lớp 9 bỏ học trong năm",
}


def _basis_differs(r: pd.Series) -> bool:
    """Is the change measured against something other than last year's full-year figure of
    the same indicator (semester 1, or a running year's figure so far)?"""
    basis = r.get("previous_basis")
    return (not P.is_missing(basis) and bool(str(basis))
            and not str(basis).startswith("Năm học "))


def _completion_lines(views: pd.DataFrame | None) -> list[tuple[str, str, dict]]:
    """(label, shown text, raw row) of each completion definition beside the judged one, and
    of the grade-9 dropouts."""
    if views is None or views.empty or views["value"].isna().all():
        return []  # (a running year: nothing to set beside the judged ratio yet)
    out = []
    for _, v in views.iterrows():
        if bool(v["judged"]):
            continue
        key = str(v["indicator"])
        if key == "grade9_dropouts":
            text = (P.NO_DATA if P.is_missing(v["value"])
                    else P.fmt_num(v["value"]) + " học sinh")
        elif P.is_missing(v["value"]):
            text = P.NO_DATA
        else:
            text = fmt_value(v["value"], key)
            if not P.is_missing(v["denominator"]):
                text += f" ({P.fmt_num(v['numerator'])}/{P.fmt_num(v['denominator'])})"
        out.append((str(v["label"]), text, v.to_dict()))
    return out


def targets_table(evaluation: pd.DataFrame, phase: str | None,
                  completion: pd.DataFrame | None = None,
                  arrivals_dropped: object = None) -> ReportTable:
    """The plan's targets for the year, in the plan's numbering, first sheet of the workbook.

    A running year's targets show "Đang theo dõi" with the value so far; a change measured
    against something other than last year's full year says so (``previous_basis``).
    ``completion``: :func:`targets.completion_views` — the other completion definitions and
    the grade-9 dropouts are shown beside the judged ratio (and as rows of the workbook).
    ``arrivals_dropped``: the year's ``dropouts_midyear_arrivals`` (said in the dropout row's
    note: they are counted in the rate, by the GSO formula)."""
    rows, shown, fmts, change_fmts = [], [], [], []
    ev = evaluation.copy()
    if "number" in ev.columns:
        ev = ev.sort_values("number", kind="stable")
    for _, r in ev.iterrows():
        key = str(r["indicator"])
        note = "" if P.is_missing(r.get("note")) else str(r.get("note"))
        if key == "dropout_rate" and not P.is_missing(arrivals_dropped) \
                and float(arrivals_dropped) > 0:  # type: ignore[arg-type]
            note = (note + " " if note else "") + (
                f"Trong số học sinh bỏ học có {P.fmt_num(arrivals_dropped)} em chuyển đến trong "
                "năm học rồi bỏ học (đã tính trong tỷ lệ).")
        num, den = r.get("numerator"), r.get("denominator")
        counts = ("" if P.is_missing(den) or unit_of(key) != "rate"
                  else f"{P.fmt_num(num)}/{P.fmt_num(den)}")
        number = r.get("number")
        number_text = P.MISSING if P.is_missing(number) else f"Số {int(number)}"
        basis = "" if P.is_missing(r.get("previous_basis")) else str(r.get("previous_basis"))
        tracking = r.get("status") == TRACKING
        rows.append({
            "Chỉ tiêu": number_text,
            "Nội dung chỉ tiêu trong kế hoạch": r.get("target_text"),
            "Chỉ số": label_of(key),
            "Kết quả": r.get("value"),
            "Tử số/mẫu số": counts,
            "Mục tiêu": fmt_threshold(r.get("threshold"), r.get("direction"), key),
            "Đánh giá": r.get("status"),
            "Năm học trước": r.get("previous_value"),
            "So sánh với": basis,
            "Thay đổi": r.get("change"),
            "Ghi chú": note,
        })
        fmts.append(format_name(key))
        change_fmts.append(change_format(key))
        value_text = (fmt_value(r.get("value"), key) if not P.is_missing(r.get("value"))
                      else P.NO_DATA)
        before = fmt_value(r.get("previous_value"), key)
        change = fmt_change(r.get("change"), key)
        target = P.fmt(r.get("target_text"), "text")
        result = P.esc(value_text) + (_small(counts) if counts else "")
        if tracking and not P.is_missing(r.get("value")):
            result += _small("số liệu đến nay")
        extra = _completion_lines(completion) if key == COMPLETION_JUDGED else []
        others = ""
        if extra:
            others = ("<b>Cách tính khác (tham khảo, không dùng để đánh giá):</b>"
                      + "".join(f"<br>{P.esc(COMPLETION_SHORT.get(str(v['indicator']), label))}"
                                f": {P.esc(text)}" for label, text, v in extra))
        for label, _text, v in extra:
            rows.append({"Chỉ tiêu": "(như trên — cách tính khác, không dùng để đánh giá)",
                         "Nội dung chỉ tiêu trong kế hoạch": None, "Chỉ số": label,
                         "Kết quả": v["value"],
                         "Tử số/mẫu số": ("" if P.is_missing(v["denominator"]) else
                                          f"{P.fmt_num(v['numerator'])}/"
                                          f"{P.fmt_num(v['denominator'])}"),
                         "Mục tiêu": "", "Đánh giá": "", "Năm học trước": None,
                         "So sánh với": "", "Thay đổi": None,
                         "Ghi chú": "" if v["note"] in ("", None) else str(v["note"])})
            fmts.append("num" if v["indicator"] == "grade9_dropouts"
                        else format_name(str(v["indicator"])))
            change_fmts.append("signed")
        previous = P.esc(before)
        if before != P.MISSING and change != P.MISSING:
            previous += _small(change)
        basis_note = ""
        if _basis_differs(r):  # (in the notes: the previous-year column stays narrow)
            basis_note = P.esc(f"«Năm học trước» là: {basis}.")
        shown.append({
            "Chỉ tiêu": (f"{number_text}. {target}" if number_text != P.MISSING
                         and target not in ("", P.MISSING) else target),
            "Chỉ số": label_of(key),
            "Kết quả": result,
            "Mục tiêu": fmt_threshold(r.get("threshold"), r.get("direction"), key),
            "Đánh giá": P.status_badge(r.get("status")),
            "Năm học trước": previous,
            "Ghi chú": "<br>".join(x for x in (P.esc(note), basis_note, others) if x),
        })
    data = pd.DataFrame(rows)
    shown_df = pd.DataFrame(shown)
    if not shown_df.empty:  # a target measured twice (completion and dropout): say it once
        text = shown_df["Chỉ tiêu"]
        again = text.ne(P.MISSING) & text.ne("") & text.eq(text.shift())
        shown_df.loc[again, "Chỉ tiêu"] = "(như trên)"
    title = "Các chỉ tiêu của kế hoạch" + (f" (giai đoạn {phase})" if phase else "")
    return ReportTable("targets", "Chỉ tiêu", title, data, shown_df,
                       excel_row_formats={"Kết quả": fmts, "Năm học trước": fmts,
                                          "Thay đổi": change_fmts},
                       html_columns=("Đánh giá", "Kết quả", "Năm học trước", "Ghi chú"),
                       nowrap=("Mục tiêu", "Năm học trước"),
                       col_css={"Chỉ tiêu": "min-width:9em", "Ghi chú": "min-width:10em",
                                "Chỉ số": "min-width:6em"})


def trend_series(table: pd.DataFrame, evaluations: dict[str, pd.DataFrame], key: str,
                 years: list[str]) -> pd.DataFrame:
    """One indicator for the whole school, every year, with the target of that year's phase."""
    rows = []
    mine = table[(table["dimension"] == "school") & (table["indicator"] == key)]
    by_year = {r["school_year"]: r  # the year's first row, as _school_value
               for r in mine.drop_duplicates("school_year").to_dict("records")}
    for y in years:
        r = by_year.get(y)
        thr = float("nan")
        direction = None
        ev = evaluations.get(y)
        if ev is not None and not ev.empty:
            hit = ev[ev["indicator"] == key]
            if not hit.empty:
                thr = hit.iloc[0].get("threshold")
                direction = hit.iloc[0].get("direction")
        rows.append({"school_year": y,
                     "value": float("nan") if r is None else r["value"],
                     "numerator": float("nan") if r is None else r["numerator"],
                     "denominator": float("nan") if r is None else r["denominator"],
                     "threshold": float("nan") if P.is_missing(thr) else float(thr),
                     "direction": direction,
                     "phase": None if ev is None or ev.empty or "phase" not in ev
                     else ev.iloc[0]["phase"]})
    out = pd.DataFrame(rows)
    out["target_label"] = [
        None if P.is_missing(r["threshold"]) else
        f"Mục tiêu {fmt_threshold(r['threshold'], r['direction'], key)}"
        for _, r in out.iterrows()]
    return out


def trend_target_label(series: pd.DataFrame, key: str) -> str:
    """"Mục tiêu: < 0,06 % (2022–2025); < 0,03 % (2025–2030)"."""
    phases: dict[str, list[str]] = {}
    for _, r in series.dropna(subset=["threshold"]).iterrows():
        text = fmt_threshold(r["threshold"], r["direction"], key)
        phase = r.get("phase")
        found = phases.setdefault(text, [])
        if isinstance(phase, str) and phase not in found:
            found.append(phase)
    parts = [text + (f" (giai đoạn {', '.join(ph)})" if ph else "")
             for text, ph in phases.items()]
    return "Mục tiêu: " + "; ".join(parts) if parts else "Chưa có mục tiêu"


def trend_sentence(series: pd.DataFrame, key: str) -> str:
    """A short sentence saying what the trend chart shows."""
    s = series.dropna(subset=["value"])
    label = label_of(key)
    if s.empty:
        return f"{label}: chưa có số liệu năm nào."
    first, last = s.iloc[0], s.iloc[-1]
    text = (f"{label} năm học {last['school_year']} là {fmt_value(last['value'], key)}")
    if len(s) > 1:
        diff = last["value"] - first["value"]
        if N.is_no_change(diff):
            how = "không đổi"
        else:
            how = ("tăng " if diff > 0 else "giảm ") + fmt_change(abs(diff), key).lstrip("+")
        text += f", {how} so với năm học {first['school_year']} ({fmt_value(first['value'], key)})"
    met = s.dropna(subset=["threshold"])
    if not met.empty:
        r = met.iloc[-1]
        text += (f"; mục tiêu của năm học {r['school_year']} là "
                 f"{fmt_threshold(r['threshold'], r['direction'], key)}")
    missing = series[series["value"].isna()]["school_year"].tolist()
    text += "."
    if missing:
        text += f" Chưa có số liệu: {', '.join(missing)}."
    return text


def _first_rows(t: pd.DataFrame) -> dict[str, dict]:
    """Indicator → its first row (as a dict): one pass instead of a filter per indicator."""
    rows: dict[str, dict] = {}
    for r in t.to_dict("records"):
        rows.setdefault(r["indicator"], r)
    return rows


def _hidden(row: pd.Series | dict | None, field: str) -> bool:
    """Was ``field`` (value, numerator, denominator) of a row hidden by
    :func:`disclosure.suppress`?  (False for a table that was not suppressed.)"""
    if row is None:
        return False
    flag = row.get(f"hidden_{field}", False)
    return bool(flag) and not P.is_missing(flag)


def _raw(row: pd.Series | dict | None, field: str) -> object:
    """A figure for the workbook: the number, or :data:`disclosure.HIDDEN_MARK` when hidden."""
    if row is None:
        return None
    return disclosure.HIDDEN_MARK if _hidden(row, field) else row[field]


def _count(row: pd.Series | dict | None) -> str:
    """A count (a row without denominator), or the hidden mark."""
    if row is None:
        return P.MISSING
    return disclosure.HIDDEN_MARK if _hidden(row, "numerator") else P.fmt_num(row["value"])


def _cell_rate(row: pd.Series | dict | None, key: str) -> str:
    """"12,5 % (3/24)"; hidden parts show :data:`disclosure.HIDDEN_MARK` ("… (…/24)")."""
    if row is None:
        return P.MISSING
    mark = disclosure.HIDDEN_MARK
    num = mark if _hidden(row, "numerator") else P.fmt_num(row["numerator"])
    den = mark if _hidden(row, "denominator") else P.fmt_num(row["denominator"])
    if _hidden(row, "value"):
        text = mark
    elif P.is_missing(row["value"]):
        if P.is_missing(row["denominator"]) or _hidden(row, "denominator"):
            return P.MISSING if not _hidden(row, "denominator") else mark
        text = P.MISSING  # a small group: no rate, the counts only
    else:
        text = fmt_value(row["value"], key)
    if not P.is_missing(row["denominator"]) or _hidden(row, "denominator"):
        text += f" ({num}/{den})"
    return text


def _grade_order(group: str) -> tuple[int, str]:
    digits = "".join(ch for ch in str(group) if ch.isdigit())
    return (int(digits) if digits else 99, str(group))


def flow_table(table: pd.DataFrame, year: str) -> ReportTable:
    """Promotion, repetition, dropout and transfers by grade (rates with counts).

    ``table``: the indicator table, or its :func:`disclosure.suppress`-ed copy (hidden cells
    show :data:`disclosure.HIDDEN_MARK`, in the workbook too)."""
    t = table[(table["school_year"] == year) & table["dimension"].isin(["grade", "school"])]
    groups = sorted(t[t["dimension"] == "grade"]["group"].unique().tolist(), key=_grade_order)
    groups += sorted(t[t["dimension"] == "school"]["group"].unique().tolist())
    data, shown, fmt_cols = [], [], {}
    for g in groups:
        sub = t[t["group"] == g].set_index("indicator")
        def pick(key: str, sub: pd.DataFrame = sub) -> pd.Series | None:
            return sub.loc[key] if key in sub.index else None
        start = pick("enrolment_start")
        tin = pick("transfer_in")
        d = {"Khối": g, "Số học sinh đầu năm": _raw(start, "numerator")}
        s = {"Khối": g, "Số học sinh đầu năm": _count(start)}
        for key, label in FLOW_COLUMNS:
            r = pick(key)
            d[f"{label} (tỷ lệ)"] = _raw(r, "value")
            d[f"{label} (số học sinh)"] = _raw(r, "numerator")
            fmt_cols[f"{label} (tỷ lệ)"] = format_name(key)
            fmt_cols[f"{label} (số học sinh)"] = "num"
            s[label] = _cell_rate(r, key)
        d["Chuyển đến trong năm"] = _raw(tin, "numerator")
        s["Chuyển đến trong năm"] = _count(tin)
        data.append(d)
        shown.append(s)
    fmt_cols.update({"Số học sinh đầu năm": "num", "Chuyển đến trong năm": "num"})
    return ReportTable("flow", "Lưu chuyển theo khối", "Lên lớp, ở lại lớp, bỏ học, chuyển "
                       "trường theo khối", pd.DataFrame(data), pd.DataFrame(shown),
                       excel_formats=fmt_cols, nowrap=tuple(label for _, label in FLOW_COLUMNS))


def equity_table(table: pd.DataFrame, year: str) -> ReportTable:
    """Pupil indicators by sex, ethnic group, poor/near-poor, disability — counts beside rates.

    ``table``: the indicator table, or its :func:`disclosure.suppress`-ed copy."""
    t = table[(table["school_year"] == year)
              & table["dimension"].isin([dim for dim, _ in EQUITY_DIMENSIONS])]
    # (dimension, group) → indicator → row, groups in the table's order: one pass, no filters
    rows: dict[tuple[str, str], dict[str, dict]] = {}
    for r in t.to_dict("records"):
        rows.setdefault((r["dimension"], r["group"]), {}).setdefault(r["indicator"], r)
    data, shown, fmt_cols = [], [], {"Số học sinh đầu năm": "num"}
    for dim, dim_label in EQUITY_DIMENSIONS:
        for (row_dim, g), sub in rows.items():
            if row_dim != dim:
                continue
            start = sub.get("enrolment_start")
            d = {"Nhóm theo": dim_label, "Nhóm": g,
                 "Số học sinh đầu năm": _raw(start, "numerator")}
            s = {"Nhóm theo": dim_label, "Nhóm": g, "Số học sinh đầu năm": _count(start)}
            notes: list[str] = []
            for key in EQUITY_RATES:
                r = sub.get(key)
                label = label_of(key).replace("Tỷ lệ học sinh ", "").replace("Tỷ lệ ", "")
                label = label[:1].upper() + label[1:]
                d[f"{label} (tỷ lệ)"] = _raw(r, "value")
                d[f"{label} (tử số)"] = _raw(r, "numerator")
                d[f"{label} (mẫu số)"] = _raw(r, "denominator")
                fmt_cols[f"{label} (tỷ lệ)"] = format_name(key)
                fmt_cols[f"{label} (tử số)"] = "num"
                fmt_cols[f"{label} (mẫu số)"] = "num"
                s[label] = _cell_rate(r, key)
                if r is not None and r["note"] and "Nhóm nhỏ" in str(r["note"]) \
                        and not _hidden(r, "denominator"):  # (the note names the group's size)
                    notes.append(str(r["note"]).split(";")[-1].strip())
            note = "; ".join(dict.fromkeys(notes))
            d["Ghi chú"] = note
            s["Ghi chú"] = note
            data.append(d)
            shown.append(s)
    shown_df = pd.DataFrame(shown)
    if not shown_df.empty:  # name each dimension once, on its first row
        repeat = shown_df["Nhóm theo"].eq(shown_df["Nhóm theo"].shift())
        shown_df.loc[repeat, "Nhóm theo"] = ""
    return ReportTable("equity", "Công bằng", "Kết quả theo nhóm học sinh", pd.DataFrame(data),
                       shown_df, excel_formats=fmt_cols)


def parity_sentence(table: pd.DataFrame, year: str, safe: pd.DataFrame | None = None) -> str:
    """The gender parity indices of the year in one sentence, each with the counts of girls and
    boys it comes from ("" when there are none).  An index not computed says why (fewer than
    5 events or 10 pupils in a group, indicators.equity.parity_note), with the counts as the
    reader may see them: ``safe`` (the :func:`disclosure.suppress`-ed rows) hides small
    counts, and an index hidden there is not shown."""
    t = _school_rows(table, year)
    t = t[t["indicator"].str.startswith("gender_parity_index_")]
    sex_src = safe if safe is not None else table
    sex = sex_src[(sex_src["school_year"] == year) & (sex_src["dimension"] == "sex")]
    sex_rows = {(r["indicator"], r["group"]): r for r in sex.to_dict("records")}
    hidden_gpi = set()
    if safe is not None:
        s = safe[(safe["school_year"] == year) & (safe["dimension"] == "school")]
        hidden_gpi = set(s[s["indicator"].str.startswith("gender_parity_index_")
                           & s.get("hidden_value", pd.Series(False, index=s.index))
                           .fillna(False).astype(bool)]["indicator"])
    parts = []
    for _, r in t.iterrows():
        base = r["indicator"].removeprefix("gender_parity_index_")
        label = label_of(base).replace("Tỷ lệ học sinh ", "").replace("Tỷ lệ ", "")
        counts = []
        for group, word in (("Nữ", "nữ"), ("Nam", "nam")):
            c = sex_rows.get((base, group))
            if c is None:
                continue
            mark = disclosure.HIDDEN_MARK
            num = mark if _hidden(c, "numerator") else P.fmt_num(c["numerator"])
            den = mark if _hidden(c, "denominator") else P.fmt_num(c["denominator"])
            counts.append(f"{word} {num}/{den}")
        count_text = f" ({', '.join(counts)})" if counts else ""
        if P.is_missing(r["value"]):
            value = "không tính"
        elif r["indicator"] in hidden_gpi:  # it would give the hidden counts of girls and boys
            value = disclosure.HIDDEN_MARK
        else:
            value = P.fmt_num(r["value"], 2)
        parts.append(f"{label}: {value}{count_text}")
    if not parts:
        return ""
    return ("Chỉ số bình đẳng giới (tỷ lệ của học sinh nữ chia cho tỷ lệ của học sinh nam; "
            "bằng 1 là bình đẳng), trong ngoặc là số trường hợp trên số học sinh của mỗi "
            "nhóm. Chỉ số không tính khi một nhóm có dưới "
            f"{_parity_min()[0]} trường hợp hoặc dưới {_parity_min()[1]} học sinh: quá ít để "
            f"so sánh; «{disclosure.HIDDEN_MARK}» là số được ẩn (xem ghi chú trên bảng). "
            + _capital("; ".join(parts)) + ".")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _parity_min() -> tuple[int, int]:
    from ..indicators.equity import MIN_GROUP_PUPILS, MIN_PARITY_EVENTS

    return MIN_PARITY_EVENTS, MIN_GROUP_PUPILS


def facilities_table(table: pd.DataFrame, year: str, previous: str | None) -> ReportTable:
    """Facilities and services (school sheet): toilets, water, counselling, safety, support."""
    reg = registry()
    keys = [k for k, ind in reg.items() if getattr(ind, "input", "") == "school"]
    extra = [k for k in ("swim_share",) if k in reg and k not in keys]
    keys += extra
    now = _first_rows(_school_rows(table, year))
    before = _first_rows(_school_rows(table, previous)) if previous else {}
    data, shown, fmts = [], [], []
    for key in keys:
        r = now.get(key)
        if r is None:
            continue
        pv = before[key]["value"] if key in before else None
        value_text = fmt_value(r["value"], key) if not P.is_missing(r["value"]) else P.NO_DATA
        if unit_of(key) == "rate" and not P.is_missing(r["denominator"]):
            value_text += f" ({P.fmt_num(r['numerator'])}/{P.fmt_num(r['denominator'])})"
        data.append({"Nội dung": label_of(key), "Năm học này": r["value"],
                     "Năm học trước": pv, "Ghi chú": r["note"]})
        shown.append({"Nội dung": label_of(key), "Năm học này": value_text,
                      "Năm học trước": fmt_value(pv, key), "Ghi chú": r["note"]})
        fmts.append(format_name(key))
    data_df, shown_df, lead = pd.DataFrame(data), pd.DataFrame(shown), None
    if not shown_df.empty:  # one reason for every row (file not imported): say it once
        notes = shown_df["Ghi chú"].replace("", None).dropna().unique()
        if len(notes) == 1 and shown_df["Ghi chú"].eq(notes[0]).sum() > len(shown_df) // 2:
            lead = str(notes[0]) + "."
            shown_df.loc[shown_df["Ghi chú"] == notes[0], "Ghi chú"] = ""
    return ReportTable("facilities", "Cơ sở vật chất, dịch vụ", "Cơ sở vật chất và dịch vụ "
                       "cho học sinh", data_df, shown_df,
                       excel_row_formats={"Năm học này": fmts, "Năm học trước": fmts}, lead=lead)


def outlook_table(outlook: pd.DataFrame, phase: str) -> ReportTable:
    """Will each target of the phase be met by its last year, on present trends?"""
    data, shown, fmts = [], [], []
    for _, r in outlook.iterrows():
        key = str(r["indicator"])
        last = r.get("last_year")
        last_text = ("" if P.is_missing(last) else f" ({last})")
        data.append({"Chỉ tiêu": f"Số {int(r['number'])}", "Chỉ số": label_of(key),
                     "Mục tiêu": fmt_threshold(r["threshold"], r["direction"], key),
                     "Năm gần nhất": None if P.is_missing(last) else last,
                     "Giá trị gần nhất": r.get("last_value"),
                     "Dự báo cuối giai đoạn": r.get("projected_value"),
                     "Nhận định": r.get("outlook"), "Cách đánh giá": r.get("method")})
        shown.append({"Chỉ tiêu": f"Số {int(r['number'])}", "Chỉ số": label_of(key),
                      "Mục tiêu": fmt_threshold(r["threshold"], r["direction"], key),
                      "Giá trị gần nhất": fmt_value(r.get("last_value"), key) + last_text,
                      f"Dự báo năm {r.get('projected_year')}":
                          fmt_value(r.get("projected_value"), key),
                      "Nhận định": P.fmt(r.get("outlook"), "text"),
                      "Cách đánh giá": P.fmt(r.get("method"), "text")})
        fmts.append(format_name(key))
    shown_df = pd.DataFrame(shown)
    return ReportTable("outlook", "Triển vọng giai đoạn", f"Triển vọng đạt chỉ tiêu đến cuối "
                       f"giai đoạn {phase}", pd.DataFrame(data), shown_df,
                       excel_row_formats={"Giá trị gần nhất": fmts,
                                          "Dự báo cuối giai đoạn": fmts})


def missing_files(ds: Dataset, year: str) -> list[str]:
    """The kinds of file not imported for the year, with what cannot be computed and what to do."""
    imp = ds.imports
    have = set(imp[imp["school_year"] == year]["kind"]) if len(imp) else set()
    out = []
    for kind in EXPECTED_KINDS:
        if kind not in have:
            out.append(f"Chưa nhập {contract.FILE_KINDS[kind]} năm học {year}. "
                       f"{KIND_HINT[kind].format(year=year)}")
    return out


#: Import notes every staff file repeats (a column not stored or not used, how many rows were
#: read, how many files): routine, not a warning for the reader of the report.
_ROUTINE_NOTE = re.compile(
    r"(không lưu \(Nghị định|không dùng đến|: đọc \d+ tệp\.$|, \d+ dòng \((dòng|không có)"
    r"|bỏ qua \(không nhận ra)")
#: The kinds of real import warning, counted in section 6: (pattern, what it is).
IMPORT_WARNINGS = (
    (re.compile(r"^Bỏ qua tệp"), "Tệp trong thư mục năm học không đọc được nên bị bỏ qua"),
    (re.compile(r"đã làm sạch"), "Ô mã học sinh có ký tự ẩn đã được làm sạch khi nhập"),
    (re.compile(r"để trống — coi là chưa có số liệu"),
     "Mục của số liệu nhà trường hoặc điều tra phổ cập để trống (coi là chưa có số liệu)"),
    (re.compile(r"vẫn ghi «Đang học»"),
     "Danh sách học sinh của năm học đã kết thúc vẫn ghi «Đang học»"),
    (re.compile(r"^Nhập cho mã trường"), "Mã trường khi nhập khác với dòng tiêu đề của tệp"),
)
#: Section 6's advice for import warnings: a command that prints every note of the year again
#: (into a scratch database, so the database in use does not change), then how to fix.
IMPORT_ADVICE_SHOW = ("Xem từng lưu ý (lệnh in lại mọi lưu ý, cơ sở dữ liệu đang dùng không đổi): "
                      "locson import data/raw/{year} --replace --db outputs/internal/thu.duckdb")
IMPORT_ADVICE_FIX = "— sửa tệp nếu cần rồi nhập lại: locson import data/raw/{year} --replace."
#: Name of any other note that is not routine.
OTHER_IMPORT_WARNING = "Lưu ý khác khi nhập dữ liệu"


def import_warnings(ds: Dataset, year: str) -> dict[str, int]:
    """The real import warnings of ``year`` (routine notes left out), counted by kind.

    The notes of one import are stored with each kind of file it brought: each is counted
    once.  The note texts (they name files) never leave this function."""
    imp = ds.imports[ds.imports["school_year"] == year] if len(ds.imports) else ds.imports
    notes = {n.strip() for v in imp.get("notes", pd.Series(dtype="str")).dropna()
             for n in str(v).splitlines() if n.strip()}
    out: dict[str, int] = {}
    for note in sorted(notes):
        if _ROUTINE_NOTE.search(note):
            continue
        what = next((w for pattern, w in IMPORT_WARNINGS if pattern.search(note)),
                    OTHER_IMPORT_WARNING)
        out[what] = out.get(what, 0) + 1
    return out


def gaps_table(ds: Dataset, table: pd.DataFrame, year: str) -> ReportTable:
    """What the reader must know the data does not tell: missing files, real import warnings
    and cross-year findings, in counts, each with advice that works."""
    from .. import crossyear

    rows = []
    for line in missing_files(ds, year):
        what, _, todo = line.partition(". ")
        rows.append({"Loại": "Thiếu tệp", "Nội dung": what, "Số lượng": None,
                     "Việc cần làm": todo})
    for what, n in import_warnings(ds, year).items():
        rows.append({"Loại": "Lưu ý khi nhập", "Nội dung": f"{what} (năm học {year})",
                     "Số lượng": n,
                     "Việc cần làm": f"{IMPORT_ADVICE_SHOW.format(year=year)} "
                                     f"{IMPORT_ADVICE_FIX.format(year=year)}"})
    checks = ds.checks
    if len(checks):
        mine = checks[(checks["school_year"] == year) | (checks["next_year"] == year)]
        for _, c in crossyear.counts(mine).iterrows():
            rows.append({"Loại": f"Đối chiếu {c['school_year']} → {c['next_year']}",
                         "Nội dung": c["description"], "Số lượng": int(c["count"]),
                         "Việc cần làm": f"{c['action']} Danh sách từng em (nội bộ): "
                                         f"locson checks --year {c['school_year']}."})
    data = pd.DataFrame(rows, columns=["Loại", "Nội dung", "Số lượng", "Việc cần làm"])
    shown = data.copy()
    shown["Số lượng"] = [P.fmt_num(v) if not P.is_missing(v) else "" for v in data["Số lượng"]]
    return ReportTable("gaps", "Số liệu chưa cho biết", "Những điều số liệu chưa cho biết",
                       data, shown, excel_formats={"Số lượng": "num"})


def sources_table(ds: Dataset, year: str) -> ReportTable:
    """The data the report was made from: the kind of data and when it was imported — never a
    file name (staff name files after pupils), never the intervention log (internal)."""
    imp = ds.imports[ds.imports["school_year"] == year] if len(ds.imports) else ds.imports
    if len(imp):
        imp = imp[imp["kind"].isin(EXPECTED_KINDS)]
        order = {k: i for i, k in enumerate(EXPECTED_KINDS)}
        imp = imp.sort_values("kind", key=lambda k: k.map(order), kind="stable")
    cols = ["Loại số liệu", "Năm học", "Ngày nhập", "Số dòng"]
    data, shown = [], []
    for _, r in imp.iterrows():
        kind = str(contract.FILE_KINDS.get(r["kind"], r["kind"]))
        kind = kind[:1].upper() + kind[1:]
        data.append({"Loại số liệu": kind, "Năm học": year, "Ngày nhập": r["imported_at"],
                     "Số dòng": r["rows"]})
        shown.append({"Loại số liệu": kind, "Năm học": year,
                      "Ngày nhập": P.fmt_date(r["imported_at"]),
                      "Số dòng": P.fmt_num(r["rows"])})
    return ReportTable("sources", "Nguồn dữ liệu", "Dữ liệu dùng để lập báo cáo",
                       pd.DataFrame(data, columns=cols), pd.DataFrame(shown, columns=cols),
                       excel_formats={"Số dòng": "num", "Ngày nhập": "date"})


def _how_counted(row: pd.Series) -> str:
    no_denominator = str(row["Mẫu số"]).strip() in ("", "—", "-")
    parts = ([f"Đếm: {row['Tử số']}"] if no_denominator
             else [f"Tử số: {row['Tử số']}", f"Mẫu số: {row['Mẫu số']}"])
    parts.append(f"Thời điểm: {row['Thời điểm']}")
    return ". ".join(p.rstrip(".") for p in parts) + "."


#: The appendix names each source in full once (in its heading); the rows use the short name.
SOURCE_SHORT = {"Viện Thống kê UNESCO (UNESCO UIS)": "Viện Thống kê UNESCO",
                "Bộ GD&ĐT; Tổng cục Thống kê (nay là Cục Thống kê)":
                    "Bộ GD&ĐT; Tổng cục Thống kê (nay là Cục Thống kê)"}


def definitions_table(keys: list[str]) -> ReportTable:
    """Appendix: how each indicator in the report is defined, and its source."""
    reg = registry()
    rows = []
    for key in dict.fromkeys(keys):
        ind = reg.get(key)
        if ind is None:
            continue
        rows.append({"Chỉ số": label_of(key),
                     "Định nghĩa": ind.definition_vi.replace(" (GPI)", ""),
                     "Tử số": ind.numerator_vi, "Mẫu số": ind.denominator_vi,
                     "Thời điểm": ind.reference_date_vi,
                     "Nguồn": SOURCE_SHORT.get(ind.source, ind.source)})
    data = pd.DataFrame(rows, columns=["Chỉ số", "Định nghĩa", "Tử số", "Mẫu số", "Thời điểm",
                                       "Nguồn"])
    shown = pd.DataFrame({
        "Chỉ số": data["Chỉ số"], "Định nghĩa": data["Định nghĩa"],
        "Cách đếm, thời điểm": [_how_counted(r) for _, r in data.iterrows()],
        "Nguồn": data["Nguồn"]})
    return ReportTable("definitions", "Định nghĩa chỉ số", "Phụ lục: định nghĩa các chỉ số",
                       data, shown)


# --------------------------------------------------------------------------------------------
# The whole report
# --------------------------------------------------------------------------------------------

def _evaluate(targets_mod, table: pd.DataFrame, targets, year: str,
              school_code: str | None) -> pd.DataFrame:
    try:
        return targets_mod.evaluate(table, targets, year, school_code=school_code)
    except LocsonError:
        return pd.DataFrame()


#: The tables built from groups of pupils: small cells hidden (disclosure.suppress), the note
#: explaining the dots shown above them (HTML) and under the title row (Excel).
SUPPRESSED_TABLES = ("flow", "equity")


def _suppression_threshold() -> int:
    from .. import report_config

    return report_config.suppression_threshold()


def official_document(school_code: str, school_year: str, today: date | None = None):
    """report_config.official_document for the report (dated today)."""
    from .. import report_config

    return report_config.official_document(school_code, school_year, today or date.today())


def report_title(school_year: str, mid_year: bool, school: str = contract.SCHOOL_NAME) -> str:
    kind = "Báo cáo giữa năm học" if mid_year else "Báo cáo năm học"
    return (f"{kind} {school_year} — Thực hiện Chương trình hành động vì trẻ em — "
            f"{school}")


def build_report(ds: Dataset, school_year: str, mid_year: bool = False,
                 targets_file: Path | str | None = None,
                 school_code: str | None = None) -> Report:
    """Arrange every table, series and sentence of the report for ``school_year``."""
    from .. import targets as targets_mod

    indicators = _indicators()
    school_code = school_code or (ds.pupils["school_code"].iloc[0] if len(ds.pupils)
                                  else contract.DEFAULT_SCHOOL)
    ds = ds.for_school(school_code)
    years = ds.years()
    if school_year not in years:
        raise LocsonError(f"Năm học {school_year} không có trong cơ sở dữ liệu. Các năm học "
                          f"hiện có: {', '.join(years) or 'không có'}.")
    tpath = Path(targets_file) if targets_file else config.TARGETS_FILE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = indicators.compute_all(ds)
        targets = targets_mod.load_targets(tpath)
        evaluations = {y: _evaluate(targets_mod, table, targets, y, school_code) for y in years}
    evaluation = evaluations[school_year]
    if evaluation is None or evaluation.empty:
        raise LocsonError(f"Không tìm thấy chỉ tiêu nào của kế hoạch cho năm học {school_year} "
                          f"trong {tpath.name}. Hãy kiểm tra giai đoạn của kế hoạch trong tệp "
                          f"chỉ tiêu.")
    phase = str(evaluation.iloc[0]["phase"]) if "phase" in evaluation.columns else None
    if phase == getattr(targets_mod, "OUTSIDE", None):
        phase = None
    trends, labels = {}, {}
    # A running year's values are partial: they stay out of the trend lines.
    running = set(in_progress_years(ds))
    trend_years = [y for y in years if y <= school_year and y not in running]
    for prefix, _title in TREND_PREFIXES:
        keys = [k for k in evaluation["indicator"].astype(str).unique() if k.startswith(prefix)]
        for key in keys[:1]:
            series = trend_series(table, evaluations, key, trend_years)
            trends[key] = series
            labels[key] = trend_target_label(series, key)
    prev = contract.previous_year(school_year)
    previous = prev if prev in years else None
    completion, completion_threshold = None, None
    judged = evaluation[evaluation["indicator"] == COMPLETION_JUDGED]
    if len(judged) and not P.is_missing(judged.iloc[0]["threshold"]):
        completion_threshold = float(judged.iloc[0]["threshold"])
        completion = targets_mod.completion_views(table, school_year, school_code,
                                                  completion_threshold, COMPLETION_JUDGED)
    # No child identifiable: every table built from groups shows the suppressed figures.
    threshold = _suppression_threshold()
    safe = disclosure.suppress(table[table["school_year"] == school_year], threshold)
    tables = {
        "targets": targets_table(evaluation, phase, completion,
                                 _value(table, "dropouts_midyear_arrivals", school_year)),
        "flow": flow_table(safe.table, school_year),
        "equity": equity_table(safe.table, school_year),
        "facilities": facilities_table(table, school_year, previous),
        "gaps": gaps_table(ds, table, school_year),
        "sources": sources_table(ds, school_year),
    }
    used = (list(evaluation["indicator"].astype(str))
            + ([] if completion is None else list(completion["indicator"].astype(str)))
            + [k for k, _ in FLOW_COLUMNS]
            + ["enrolment_start", "transfer_in", "dropouts_midyear_arrivals"]
            + list(EQUITY_RATES) + ["swim_share"]
            + [k for k in registry() if getattr(registry()[k], "input", "") == "school"])
    tables["definitions"] = definitions_table([k for k in used if k in registry()])
    start = _school_value(table, "enrolment_start", school_year)
    if phase:
        # Only the years up to the one reported: a report is what was known then.
        known = table[table["school_year"] <= school_year]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outlook = targets_mod.outlook(known, targets, phase, school_code=school_code)
        tables["outlook"] = outlook_table(outlook, phase)
    for key, hooks in TABLE_HOOKS.items():
        for hook in hooks:
            if key in tables:
                tables[key] = hook(tables[key])
    for key in SUPPRESSED_TABLES:
        if key in tables and safe.note:
            tables[key].note = safe.note
    return Report(
        school_year=school_year, school_code=school_code, mid_year=mid_year,
        title=report_title(school_year, mid_year, school_name(school_code)),
        made_on=P.fmt_date(date.today()),
        phase=phase, table=table, evaluation=evaluation, tables=tables, trends=trends,
        target_labels=labels,
        missing_files=missing_files(ds, school_year), years=trend_years,
        enrolment=None if start is None else start["value"],
        is_sample=bool(getattr(ds, "is_sample", False)),
        official=official_document(school_code, school_year),
        completion=completion, completion_threshold=completion_threshold,
        safe_table=safe.table, suppression_note=safe.note,
    )


def load_report(db_path: Path | str = "", targets_file: Path | str = "", school_year: str = "",
                mid_year: bool = False, school_code: str = "") -> Report:
    """The one call of the report notebook: read the database (never a pupil's name), choose
    the school and the year, compute every indicator and evaluate the targets
    (``store.load`` → ``indicators.compute_all`` → ``targets.evaluate``), arrange the report.

    Empty arguments mean the defaults: ``data/locson.duckdb``, ``data/targets.yaml``, the latest
    ended year (mid-year: the latest running year), Lộc Sơn or the database's only school.
    ``report.table`` is the indicator table, ``report.evaluation`` the year's targets."""
    from .. import schools, store

    ds = store.load(Path(db_path) if db_path else config.DEFAULT_DB, with_names=False)
    codes = schools.codes_in(ds.pupils, ds.school, ds.population)
    code = schools.choose_school(codes, school_code or None)
    year = resolve_report_year(ds.for_school(code), school_year or None, mid_year)
    return build_report(ds, year, mid_year=mid_year,
                        targets_file=Path(targets_file) if targets_file else None,
                        school_code=code)


def show(report: Report, key: str, caption: str | None = None):
    """A table of the report for the notebook (an IPython HTML object)."""
    from IPython.display import HTML

    return HTML(report.tables[key].to_html(caption))


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------

def write_workbook(report: Report, path: Path | str) -> Path:
    """The report's tables in one workbook, the targets first, Vietnamese sheet names.

    Each sheet's first row is its title; on sample data it starts with
    :data:`provenance.SAMPLE_MARK`.  A table with hidden cells has the note explaining the
    dots on its second row; hidden cells hold :data:`disclosure.HIDDEN_MARK`."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="ECEFF1")
    for table in report.tables.values():
        ws = wb.create_sheet(_sheet(table.sheet))
        mark = f"{report.sample_mark} — " if report.sample_mark else ""
        ws.append([f"{mark}{school_name(report.school_code)} — {table.title} — năm học "
                   f"{report.school_year}" + (" (giữa năm)" if report.mid_year else "")])
        ws["A1"].font = Font(bold=True, size=12, color="B71C1C" if mark else None)
        ws.append([table.note] if table.note else [])
        cols = list(table.data.columns)
        ws.append(cols)
        for cell in ws[3]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for i, (_, row) in enumerate(table.data.iterrows()):
            values = []
            for c in cols:
                v = row[c]
                if P.is_missing(v):
                    v = None
                elif isinstance(v, pd.Timestamp):
                    v = v.to_pydatetime()
                elif hasattr(v, "item") and not isinstance(v, str):
                    v = v.item()
                values.append(v)
            ws.append(values)
            excel_row = ws.max_row
            for j, c in enumerate(cols, start=1):
                name = table.excel_formats.get(c)
                if c in table.excel_row_formats:
                    name = table.excel_row_formats[c][i]
                cell = ws.cell(row=excel_row, column=j)
                if name in EXCEL_FORMATS and isinstance(cell.value, int | float):
                    cell.number_format = EXCEL_FORMATS[name]
                elif name == "bool" and isinstance(cell.value, int | float):
                    cell.value = P.fmt_bool(cell.value)
                elif name == "date" and isinstance(cell.value, date):
                    cell.number_format = "dd/mm/yyyy"
                elif name == "datetime" or isinstance(cell.value, date):
                    cell.number_format = "dd/mm/yyyy hh:mm"
        for j, c in enumerate(cols, start=1):
            longest = max([len(str(c))] + [len(str(v)) for v in table.data[c].tolist()[:200]])
            ws.column_dimensions[get_column_letter(j)].width = min(max(10, longest + 2), 60)
        ws.freeze_panes = "A4"
    safe_cells.protect_workbook(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def is_finite(x: object) -> bool:
    try:
        return not math.isnan(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
