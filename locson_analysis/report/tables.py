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

import json
import math
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from .. import config, contract, safe_cells
from .. import present as P
from ..dataset import Dataset
from ..errors import LocsonError
from ..schools import school_name

EXPECTED_KINDS = ("pupils", "school", "population")
KIND_HINT = {
    "pupils": "Nhập danh sách học sinh của năm học (locson import).",
    "school": "Nhập trang số liệu nhà trường (nhà vệ sinh, nước sạch, tư vấn tâm lý, …).",
    "population": "Nhập số liệu điều tra phổ cập (số trẻ 11 tuổi trên địa bàn, …).",
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
    years = ds.years()
    if not years:
        raise LocsonError("Cơ sở dữ liệu chưa có năm học nào. Hãy nhập dữ liệu trước "
                          "(locson import <thư mục năm học>).")
    if not school_year:
        pool = in_progress_years(ds) if mid_year else complete_years(ds)
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
    if not mid_year and parsed in in_progress_years(ds):
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

    def to_html(self, caption: str | None = None) -> str:
        if self.shown.empty:
            return P.paragraph("Không có dòng nào.")
        lead = P.note_box(self.lead, kind="warn") if self.lead else ""
        return lead + P.text_table(self.shown, html_columns=self.html_columns,
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
    ind = registry().get(key)
    return ind.label_vi if ind is not None else key


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
    if unit_of(key) == "ratio" and not P.is_missing(value):
        return ("+" if float(value) > 0 else "") + P.fmt_num(value, 2)  # type: ignore[arg-type]
    return P.fmt(value, change_format(key))


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


def _small(text: str) -> str:
    """A second, smaller line in a table cell (counts under a rate, change under a value)."""
    return f'<br><span style="color:#546e7a;font-size:90%">{P.esc(text)}</span>'


def targets_table(evaluation: pd.DataFrame, phase: str | None) -> ReportTable:
    """The plan's targets for the year, in the plan's numbering, first sheet of the workbook."""
    rows, shown, fmts, change_fmts = [], [], [], []
    ev = evaluation.copy()
    if "number" in ev.columns:
        ev = ev.sort_values("number", kind="stable")
    for _, r in ev.iterrows():
        key = str(r["indicator"])
        note = "" if P.is_missing(r.get("note")) else str(r.get("note"))
        num, den = r.get("numerator"), r.get("denominator")
        counts = ("" if P.is_missing(den) or unit_of(key) != "rate"
                  else f"{P.fmt_num(num)}/{P.fmt_num(den)}")
        number = r.get("number")
        number_text = P.MISSING if P.is_missing(number) else f"Số {int(number)}"
        rows.append({
            "Chỉ tiêu": number_text,
            "Nội dung chỉ tiêu trong kế hoạch": r.get("target_text"),
            "Chỉ số": label_of(key),
            "Kết quả": r.get("value"),
            "Tử số/mẫu số": counts,
            "Mục tiêu": fmt_threshold(r.get("threshold"), r.get("direction"), key),
            "Đánh giá": r.get("status"),
            "Năm học trước": r.get("previous_value"),
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
        shown.append({
            "Chỉ tiêu": (f"{number_text}. {target}" if number_text != P.MISSING
                         and target not in ("", P.MISSING) else target),
            "Chỉ số": label_of(key),
            "Kết quả": P.esc(value_text) + (_small(counts) if counts else ""),
            "Mục tiêu": fmt_threshold(r.get("threshold"), r.get("direction"), key),
            "Đánh giá": P.status_badge(r.get("status")),
            "Năm học trước": P.esc(before) + (_small(change) if before != P.MISSING
                                              and change != P.MISSING else ""),
            "Ghi chú": note or "",
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
                       html_columns=("Đánh giá", "Kết quả", "Năm học trước"),
                       nowrap=("Mục tiêu", "Kết quả", "Năm học trước"),
                       col_css={"Chỉ tiêu": "min-width:11em", "Ghi chú": "min-width:9em",
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
        if abs(diff) < 1e-12:
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


def _cell_rate(row: pd.Series | dict | None, key: str) -> str:
    if row is None:
        return P.MISSING
    if P.is_missing(row["value"]):
        return P.MISSING
    text = fmt_value(row["value"], key)
    if not P.is_missing(row["denominator"]):
        text += f" ({P.fmt_num(row['numerator'])}/{P.fmt_num(row['denominator'])})"
    return text


def _grade_order(group: str) -> tuple[int, str]:
    digits = "".join(ch for ch in str(group) if ch.isdigit())
    return (int(digits) if digits else 99, str(group))


def flow_table(table: pd.DataFrame, year: str) -> ReportTable:
    """Promotion, repetition, dropout and transfers by grade (rates with counts)."""
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
        d = {"Khối": g, "Số học sinh đầu năm": None if start is None else start["value"]}
        s = {"Khối": g, "Số học sinh đầu năm": P.fmt_num(None if start is None
                                                          else start["value"])}
        for key, label in FLOW_COLUMNS:
            r = pick(key)
            d[f"{label} (tỷ lệ)"] = None if r is None else r["value"]
            d[f"{label} (số học sinh)"] = None if r is None else r["numerator"]
            fmt_cols[f"{label} (tỷ lệ)"] = format_name(key)
            fmt_cols[f"{label} (số học sinh)"] = "num"
            s[label] = _cell_rate(r, key)
        d["Chuyển đến trong năm"] = None if tin is None else tin["value"]
        s["Chuyển đến trong năm"] = P.fmt_num(None if tin is None else tin["value"])
        data.append(d)
        shown.append(s)
    fmt_cols.update({"Số học sinh đầu năm": "num", "Chuyển đến trong năm": "num"})
    return ReportTable("flow", "Lưu chuyển theo khối", "Lên lớp, ở lại lớp, bỏ học, chuyển "
                       "trường theo khối", pd.DataFrame(data), pd.DataFrame(shown),
                       excel_formats=fmt_cols, nowrap=tuple(label for _, label in FLOW_COLUMNS))


def equity_table(table: pd.DataFrame, year: str) -> ReportTable:
    """Pupil indicators by sex, ethnic group, poor/near-poor, disability — counts beside rates."""
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
                 "Số học sinh đầu năm": None if start is None else start["value"]}
            s = {"Nhóm theo": dim_label, "Nhóm": g,
                 "Số học sinh đầu năm": P.fmt_num(None if start is None else start["value"])}
            notes: list[str] = []
            for key in EQUITY_RATES:
                r = sub.get(key)
                label = label_of(key).replace("Tỷ lệ học sinh ", "").replace("Tỷ lệ ", "")
                label = label[:1].upper() + label[1:]
                d[f"{label} (tỷ lệ)"] = None if r is None else r["value"]
                d[f"{label} (tử số)"] = None if r is None else r["numerator"]
                d[f"{label} (mẫu số)"] = None if r is None else r["denominator"]
                fmt_cols[f"{label} (tỷ lệ)"] = format_name(key)
                fmt_cols[f"{label} (tử số)"] = "num"
                fmt_cols[f"{label} (mẫu số)"] = "num"
                s[label] = _cell_rate(r, key)
                if r is not None and r["note"] and "Nhóm nhỏ" in str(r["note"]):
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


def parity_sentence(table: pd.DataFrame, year: str) -> str:
    """The gender parity indices of the year in one sentence ("" when there are none)."""
    t = _school_rows(table, year)
    t = t[t["indicator"].str.startswith("gender_parity_index_")]
    parts = []
    for _, r in t.iterrows():
        base = r["indicator"].removeprefix("gender_parity_index_")
        label = label_of(base).replace("Tỷ lệ học sinh ", "").replace("Tỷ lệ ", "")
        value = (P.fmt_num(r["value"], 2) if not P.is_missing(r["value"])
                 else "không tính được")
        parts.append(f"{label} {value}")
    if not parts:
        return ""
    return ("Chỉ số bình đẳng giới (tỷ lệ của học sinh nữ chia cho tỷ lệ của học sinh nam; "
            "bằng 1 là bình đẳng; không tính được khi một trong hai tỷ lệ chưa có hoặc tỷ lệ "
            "của nam bằng 0): " + "; ".join(parts) + ".")


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
                       f"{KIND_HINT[kind]}")
    return out


def gaps_table(ds: Dataset, table: pd.DataFrame, year: str) -> ReportTable:
    """What the data does not tell: missing files, import notes and cross-year findings, counted."""
    from .. import crossyear

    rows = []
    for line in missing_files(ds, year):
        what, _, todo = line.partition(". ")
        rows.append({"Loại": "Thiếu tệp", "Nội dung": what, "Số lượng": None,
                     "Việc cần làm": todo})
    imp = ds.imports[ds.imports["school_year"] == year] if len(ds.imports) else ds.imports
    # The notes of one import are stored with each kind of file it brought: count them once.
    notes = {n.strip() for v in imp.get("notes", pd.Series(dtype="str")).dropna()
             for n in str(v).splitlines() if n.strip()}
    if notes:
        rows.append({"Loại": "Cảnh báo khi nhập",
                     "Nội dung": f"Ghi chú, cảnh báo khi nhập dữ liệu năm học {year}",
                     "Số lượng": len(notes),
                     "Việc cần làm": "Xem lại thông báo khi nhập (locson history); sửa tệp nếu "
                                     "cần và nhập lại với --replace."})
    checks = ds.checks
    if len(checks):
        mine = checks[(checks["school_year"] == year) | (checks["next_year"] == year)]
        for _, c in crossyear.counts(mine).iterrows():
            rows.append({"Loại": f"Đối chiếu {c['school_year']} → {c['next_year']}",
                         "Nội dung": c["description"], "Số lượng": int(c["count"]),
                         "Việc cần làm": c["action"]})
    t = _school_rows(table, year)
    nodata = t[t["value"].isna() & ~t["indicator"].str.startswith("gender_parity_index_")]
    for reason, group in nodata.groupby(nodata["note"].replace("", P.NO_DATA), sort=False):
        rows.append({"Loại": "Chỉ số chưa tính được",
                     "Nội dung": "; ".join(label_of(k) for k in group["indicator"]),
                     "Số lượng": len(group), "Việc cần làm": reason})
    data = pd.DataFrame(rows, columns=["Loại", "Nội dung", "Số lượng", "Việc cần làm"])
    shown = data.copy()
    shown["Số lượng"] = [P.fmt_num(v) if not P.is_missing(v) else "" for v in data["Số lượng"]]
    return ReportTable("gaps", "Số liệu chưa cho biết", "Những điều số liệu chưa cho biết",
                       data, shown, excel_formats={"Số lượng": "num"})


def sources_table(ds: Dataset, year: str) -> ReportTable:
    """The files the report was made from: names and import times only."""
    imp = ds.imports[ds.imports["school_year"] == year] if len(ds.imports) else ds.imports
    data, shown = [], []
    for _, r in imp.iterrows():
        try:
            names = json.loads(r["files"]) if r["files"] else []
        except (TypeError, ValueError):
            names = [str(r["files"])]
        names = [Path(str(n)).name for n in names]
        kind = str(contract.FILE_KINDS.get(r["kind"], r["kind"]))
        kind = kind[:1].upper() + kind[1:]
        data.append({"Loại số liệu": kind, "Tệp": ", ".join(names),
                     "Thời điểm nhập": r["imported_at"], "Số dòng": r["rows"]})
        shown.append({"Loại số liệu": kind, "Tệp": ", ".join(names),
                      "Thời điểm nhập": P.fmt_datetime(r["imported_at"]),
                      "Số dòng": P.fmt_num(r["rows"])})
    return ReportTable("sources", "Nguồn dữ liệu", "Dữ liệu dùng để lập báo cáo",
                       pd.DataFrame(data, columns=["Loại số liệu", "Tệp", "Thời điểm nhập",
                                                   "Số dòng"]),
                       pd.DataFrame(shown, columns=["Loại số liệu", "Tệp", "Thời điểm nhập",
                                                    "Số dòng"]),
                       excel_formats={"Số dòng": "num"})


def _how_counted(row: pd.Series) -> str:
    no_denominator = str(row["Mẫu số"]).strip() in ("", "—", "-")
    parts = ([f"Đếm: {row['Tử số']}"] if no_denominator
             else [f"Tử số: {row['Tử số']}", f"Mẫu số: {row['Mẫu số']}"])
    parts.append(f"Thời điểm: {row['Thời điểm']}")
    return ". ".join(p.rstrip(".") for p in parts) + "."


def definitions_table(keys: list[str]) -> ReportTable:
    """Appendix: how each indicator in the report is defined, and its source."""
    reg = registry()
    rows = []
    for key in dict.fromkeys(keys):
        ind = reg.get(key)
        if ind is None:
            continue
        rows.append({"Chỉ số": ind.label_vi, "Định nghĩa": ind.definition_vi,
                     "Tử số": ind.numerator_vi, "Mẫu số": ind.denominator_vi,
                     "Thời điểm": ind.reference_date_vi, "Nguồn": ind.source})
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
    tables = {
        "targets": targets_table(evaluation, phase),
        "flow": flow_table(table, school_year),
        "equity": equity_table(table, school_year),
        "facilities": facilities_table(table, school_year, previous),
        "gaps": gaps_table(ds, table, school_year),
        "sources": sources_table(ds, school_year),
    }
    used = (list(evaluation["indicator"].astype(str)) + [k for k, _ in FLOW_COLUMNS]
            + ["enrolment_start", "transfer_in"] + list(EQUITY_RATES)
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
    return Report(
        school_year=school_year, school_code=school_code, mid_year=mid_year,
        title=report_title(school_year, mid_year, school_name(school_code)),
        made_on=P.fmt_date(date.today()),
        phase=phase, table=table, evaluation=evaluation, tables=tables, trends=trends,
        target_labels=labels,
        missing_files=missing_files(ds, school_year), years=trend_years,
        enrolment=None if start is None else start["value"],
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
    """The report's tables in one workbook, the targets first, Vietnamese sheet names."""
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
        ws.append([f"{contract.SCHOOL_NAME} — {table.title} — năm học {report.school_year}"
                   + (" (giữa năm)" if report.mid_year else "")])
        ws["A1"].font = Font(bold=True, size=12)
        ws.append([])
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
