"""Find the table in a staff workbook or CSV, map its headers and normalise its values.

Staff files are free-form around the table: title rows above it (Sở/Phòng GD, the school's name,
"DANH SÁCH HỌC SINH NĂM HỌC 2024-2025"), sometimes a row of column numbers under the headers,
and a footer below it (totals, "Lộc Sơn, ngày … tháng … năm …", signatures).  This module finds
the header row, decides what kind of table it is (pupil list, two-column school/population
sheet, intervention log), reads the rows up to the footer and turns every cell into its
canonical value.  A value that cannot be understood becomes a :class:`Problem`, never an
exception.  Columns holding personal data the workbook must not keep are never copied out of
the sheet.

Nothing here judges whether values are *plausible* (grade 6–9, ages, dates inside the year):
that is :mod:`locson_analysis.validate`.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from . import contract as C
from . import sheet_bounds
from .errors import INVISIBLE, Problem, show_invisible
from .numbers import fmt_num

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
READABLE_SUFFIXES = (*EXCEL_SUFFIXES, ".csv")
#: Header rows are looked for among this many rows at the top of a sheet.
HEADER_SEARCH_ROWS = 30
MAX_COLUMNS = 150
PERSONAL_NOTE = "không lưu (Nghị định 13/2023)"
UNUSED_NOTE = "không dùng đến"

TABLE_KINDS = ("pupils", "items", "interventions")
_KEY_COLUMNS = {"pupils": ("pupil_id", "full_name"), "items": ("item", "value"),
                "interventions": ("pupil_id", "action")}


# --- Header matching ----------------------------------------------------------------------------

@dataclass(frozen=True)
class HeaderMatch:
    status: str  # "column" | "ignored" | "personal" | "unused"
    name: str | None = None  # canonical column name when status == "column"
    rank: int = 9  # 0 the Vietnamese header, 1 a listed variant, 2 a longer header containing one
    reason: str = ""  # for personal columns: what kind of personal data


def _tokens_contain(haystack: str, needle: str) -> bool:
    return f" {needle} " in f" {haystack} "


_WORDS = re.compile(r"\w+")


def whose_column(text: object) -> str | None:
    """Why a heading holds personal data of someone other than the pupil's record — a parent,
    guardian, grandparent or other relative (``contract.RELATIVE_REASON``), or a citizen /
    personal ID number (``contract.CITIZEN_ID_REASON``) — else None.

    Relatives are matched as whole words with their diacritics ("bố", not "bỏ học" or "Bộ
    GD&ĐT"); a heading typed without diacritics by the folded words, "bo"/"ong"/"ba" only as
    the last word or before a word such as "ho", "ten", "ngay"."""
    if _blank(text):
        return None
    raw = unicodedata.normalize("NFC", unicodedata.normalize("NFKC", str(text))).lower()
    key = C.fold(raw)
    if any(_tokens_contain(key, w) for w in C.CITIZEN_ID_FOLDED):
        return C.CITIZEN_ID_REASON
    if any(_tokens_contain(key, w) for w in C.RELATIVE_FOLDED):
        return C.RELATIVE_REASON
    words = _WORDS.findall(raw)
    if any(_tokens_contain(" ".join(words), w) for w in (*C.RELATIVE_WORDS, *C.RELATIVE_PHRASES)):
        return C.RELATIVE_REASON
    folded = [C.fold(w) for w in words]
    for i, w in enumerate(words):  # "bo", "ong", "ba" typed without diacritics
        if w.isascii() and w in C.RELATIVE_FOLDED_GUARDED and (
                i == len(words) - 1 or folded[i + 1] in C.RELATIVE_FIELD_WORDS):
            return C.RELATIVE_REASON
    return None


class HeaderMatcher:
    """Matches the headers of one kind of table.

    Exact folded match first; then the headers that are never stored (personal data); then the
    longest known header contained in the header as written ("Mã định danh Bộ GD&ĐT (trên CSDL
    ngành)" → pupil_id).
    """

    def __init__(self, columns: Iterable[tuple[str, str, tuple[str, ...]]],
                 exact_only: Iterable[tuple[str, str, tuple[str, ...]]] = ()):
        self.exact: dict[str, tuple[str, int]] = {}
        self.loose: list[tuple[str, str]] = []
        for name, header, variants in columns:
            for i, h in enumerate((header, *variants)):
                key = C.header_key(h)
                self.exact.setdefault(key, (name, 0 if i == 0 else 1))
                self.loose.append((key, name))
        # Short headers ("Nữ", "Tên") would match far too much by containment.
        for name, header, variants in exact_only:
            for h in (header, *variants):
                self.exact.setdefault(C.header_key(h), (name, 1))
        self.loose.sort(key=lambda kv: -len(kv[0]))
        self.ignored = {C.header_key(h) for h in C.IGNORED_HEADERS}
        self.personal = [(C.header_key(h), why) for h, why in C.PERSONAL_COLUMNS_NOT_STORED]
        self.lookalikes = [C.header_key(h) for h in C.LOOKALIKE_HEADERS]
        self._seen: dict[str, HeaderMatch] = {}  # header key -> match (headers repeat a lot)

    def match(self, text: object) -> HeaderMatch | None:
        if _blank(text):
            return None
        # (by the text as written: "Ngày bỏ học" and "Ngày bố học" fold alike)
        seen_key = text if isinstance(text, str) else (type(text), text)
        found = self._seen.get(seen_key)
        if found is None:
            key = C.header_key(text)
            if not key:
                return None
            whose = whose_column(text)
            found = self._seen[seen_key] = (HeaderMatch("personal", reason=whose) if whose
                                            else self._match_key(key))
        return found

    def _match_key(self, key: str) -> HeaderMatch:
        if key in self.exact:
            name, rank = self.exact[key]
            return HeaderMatch("column", name, rank)
        if key in self.ignored:
            return HeaderMatch("ignored")
        for pattern, why in self.personal:
            if _tokens_contain(key, pattern):
                return HeaderMatch("personal", reason=why)
        if any(_tokens_contain(key, h) for h in self.lookalikes):
            return HeaderMatch("unused")
        for variant, name in self.loose:
            if _tokens_contain(key, variant):
                return HeaderMatch("column", name, 2)
        return HeaderMatch("unused")


def _columns(cols: tuple[C.Column, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.name, c.header, c.variants) for c in cols]


MATCHERS: dict[str, HeaderMatcher] = {
    "pupils": HeaderMatcher(
        _columns(C.PUPIL_COLUMNS),
        exact_only=[("female_flag", C.FEMALE_FLAG_HEADERS[0], C.FEMALE_FLAG_HEADERS[1:]),
                    *((k, v[0], v[1:]) for k, v in C.NAME_PART_HEADERS.items())]),
    "items": HeaderMatcher([("item", C.ITEM_HEADER[0], C.ITEM_HEADER[1]),
                            ("value", C.VALUE_HEADER[0], C.VALUE_HEADER[1])]),
    "interventions": HeaderMatcher(_columns(C.INTERVENTION_COLUMNS)),
}


def expected_headers(kind: str) -> list[str]:
    """The Vietnamese headers a table of this kind is recognised by (for messages and docs)."""
    if kind == "pupils":
        return [c.header for c in C.PUPIL_COLUMNS if c.required]
    if kind == "items":
        return [C.ITEM_HEADER[0], C.VALUE_HEADER[0]]
    return [c.header for c in C.INTERVENTION_COLUMNS if c.required]


def _qualifies(kind: str, names: set[str]) -> bool:
    if kind == "items":
        return {"item", "value"} <= names
    if kind == "interventions":
        return {"action", "pupil_id"} <= names
    return len(names) >= 3 and bool(names & {"pupil_id", "full_name"})


# --- Cells --------------------------------------------------------------------------------------

def _blank(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and v != v:
        return True
    return isinstance(v, str) and not v.replace("\u00a0", " ").strip()


def _clean_str(v: str) -> str | None:
    """:func:`clean_text` of a ``str``: ``str.split()`` splits at U+00A0 and every other
    space as well, and leaves nothing of a blank cell."""
    return " ".join((v if v.isascii() else unicodedata.normalize("NFC", v)).split()) or None


def clean_text(v: object) -> str | None:
    """A cell as tidy text: NFC, single spaces, integral numbers without ".0"; None when blank."""
    if type(v) is str:
        return _clean_str(v)
    if _blank(v):
        return None
    if isinstance(v, bool):
        return "x" if v else None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, datetime):
        v = v.date()
    if isinstance(v, date):
        return v.strftime("%d/%m/%Y")
    s = unicodedata.normalize("NFC", str(v)).replace("\u00a0", " ")
    return " ".join(s.split()) or None


def _shown(v: object) -> object:
    """A value as it should appear in a message."""
    if isinstance(v, datetime):
        return v.strftime("%d/%m/%Y") if v.time() == datetime.min.time() else str(v)
    if isinstance(v, date):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v.strip() if isinstance(v, str) else v


class BadValue(ValueError):
    """A cell that cannot be read; the message (Vietnamese) says what was expected."""


_DMY = re.compile(r"^(\d{1,2})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
EXCEL_EPOCH = datetime(1899, 12, 30)


def parse_date(v: object) -> pd.Timestamp | None:
    if _blank(v):
        return None
    if isinstance(v, bool):
        raise BadValue("không phải ngày tháng; cần dạng ngày/tháng/năm, ví dụ 05/09/2012")
    if isinstance(v, datetime):
        return pd.Timestamp(v.date())
    if isinstance(v, date):
        return pd.Timestamp(v)
    if isinstance(v, int | float):
        # A date typed into a cell formatted as a number: Excel's serial day count.
        if 3000 <= v <= 80000 and float(v).is_integer():
            return pd.Timestamp((EXCEL_EPOCH + timedelta(days=int(v))).date())
        raise BadValue("không phải ngày tháng; cần dạng ngày/tháng/năm, ví dụ 05/09/2012")
    s = clean_text(v) or ""
    m = _DMY.match(s)
    if m:
        d, mo, y = (int(g) for g in m.groups())
    else:
        m = _YMD.match(s)
        if not m:
            raise BadValue("không phải ngày tháng; cần dạng ngày/tháng/năm, ví dụ 05/09/2012")
        y, mo, d = (int(g) for g in m.groups())
    try:
        return pd.Timestamp(date(y, mo, d))
    except ValueError as exc:
        raise BadValue("ngày không có thật (kiểm tra ngày và tháng; cần dạng ngày/tháng/năm)") \
            from exc


_NUMBER_VN = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")
_NUMBER_EN = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_NUMBER_PLAIN = re.compile(r"^-?\d+([.,]\d+)?$")


def parse_number(v: object) -> float | None:
    """A number typed by hand: 12, 12.0, "1.234.567" (Vietnamese), "1,5", "1.500.000 đồng"."""
    if _blank(v):
        return None
    if isinstance(v, bool) or isinstance(v, date | datetime):
        raise BadValue("không phải số")
    if isinstance(v, int | float):
        return float(v)
    s = (clean_text(v) or "").lower()
    s = re.sub(r"\s*(đồng|vnđ|vnd|đ)$", "", s).replace(" ", "")
    if _NUMBER_VN.match(s):
        return float(s.replace(".", "").replace(",", "."))
    if _NUMBER_EN.match(s):
        return float(s.replace(",", ""))
    if _NUMBER_PLAIN.match(s):
        return float(s.replace(",", "."))
    raise BadValue("không phải số")


def parse_int(v: object) -> int | None:
    try:
        x = parse_number(v)
    except BadValue as exc:
        raise BadValue("không phải số nguyên; cần một số như 0, 3, 12") from exc
    if x is None:
        return None
    if not x.is_integer():
        raise BadValue("không phải số nguyên; cần một số như 0, 3, 12")
    return int(x)


_YES = {C.fold(x) for x in C.YES_VALUES} | {"co", "dung", "yes"}
_NO = {C.fold(x) for x in C.NO_VALUES} | {"sai"}


def parse_bool(v: object, blank_is_no: bool = True) -> bool | None:
    if _blank(v):
        return False if blank_is_no else None
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    key = C.fold(v)
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise BadValue("cần «x» hoặc «có» (có), để trống hoặc «không» (không)")


def parse_sex(v: object) -> str | None:
    if _blank(v):
        return None
    sex = C.SEX_VALUES.get(C.fold(v))
    if sex is None:
        raise BadValue("giới tính phải là «Nam» hoặc «Nữ»")
    return sex


def parse_grade(v: object) -> int | None:
    if _blank(v):
        return None
    if isinstance(v, int | float) and not isinstance(v, bool):
        if float(v).is_integer():
            return int(v)
        raise BadValue("khối phải là một số 6, 7, 8 hoặc 9")
    m = re.search(r"\d+", clean_text(v) or "")
    if not m:
        raise BadValue("khối phải là một số 6, 7, 8 hoặc 9")
    return int(m.group())


_CLASS_PREFIX = re.compile(r"^(lớp|lop)\s+", re.IGNORECASE)


def parse_class(v: object) -> str | None:
    s = clean_text(v)
    return _CLASS_PREFIX.sub("", s) if s else None


def grade_of_class(class_name: str | None) -> int | None:
    """Leading digits of a class name: "6A1" → 6, "9/2" → 9, "Lớp 7B" → 7."""
    if not isinstance(class_name, str) or not class_name:
        return None
    m = re.match(r"\d+", _CLASS_PREFIX.sub("", class_name))
    return int(m.group()) if m else None


def _label_map(labels: Iterable[str]) -> dict[str, str]:
    out = {C.fold(x): x for x in labels}
    for abbr, label in C.RESULT_ABBREVIATIONS.items():
        if label in out.values():
            out.setdefault(abbr, label)
    return out


LEARNING_LABELS = tuple(dict.fromkeys((*C.RESULTS_TT22, *C.LEARNING_TT58)))
CONDUCT_LABELS = tuple(dict.fromkeys((*C.RESULTS_TT22, *C.CONDUCT_TT58)))
_LEARNING = _label_map(LEARNING_LABELS)
_CONDUCT = _label_map(CONDUCT_LABELS)


def parse_result(v: object, conduct: bool = False) -> str | None:
    if _blank(v):
        return None
    table, labels = (_CONDUCT, CONDUCT_LABELS) if conduct else (_LEARNING, LEARNING_LABELS)
    label = table.get(C.fold(v))
    if label is None:
        raise BadValue("cần một trong: " + ", ".join(labels))
    return label


_OUTCOMES = {C.fold(k): k for k in C.OUTCOMES}
for _key, (_label, _variants) in C.OUTCOMES.items():
    for _text in (_label, *_variants):
        _OUTCOMES[C.fold(_text)] = _key


def parse_outcome(v: object) -> str | None:
    if _blank(v):
        return None
    key = _OUTCOMES.get(C.fold(v))
    if key is None:
        raise BadValue("cần một trong: " + ", ".join(C.OUTCOME_LABELS.values()))
    return key


def parse_ethnicity(v: object) -> str | None:
    s = clean_text(v)
    if s is None:
        return None
    return C.ETHNICITY_LABELS.get(C.fold(s), s)


def parse_text(v: object) -> str | None:
    return clean_text(v)


PARSERS = {
    "text": parse_text, "date": parse_date, "int": parse_int, "bool": parse_bool,
    "sex": parse_sex, "grade": parse_grade, "result": parse_result,
    "conduct": lambda v: parse_result(v, conduct=True), "outcome": parse_outcome,
}
_SPECIAL_PARSERS = {"class_name": parse_class, "ethnicity": parse_ethnicity}


# --- Files to grids -----------------------------------------------------------------------------

@dataclass
class Grid:
    """One sheet's cells, merged ranges filled, rows and columns numbered as in Excel from 1."""

    sheet: str | None
    rows: list[list[object]]
    #: (row, column) indices of formula cells with no saved result (read as blank by both
    #: readers): reported where they fall in a table's columns.
    unsaved: set[tuple[int, int]] = field(default_factory=set)


class FileProblem(Exception):
    """A file that cannot be read; ``located``: (message, sheet, Excel row) of each problem
    when there are several or they have a place (a cell outside the bounds)."""

    def __init__(self, message: str,
                 located: list[tuple[str, str | None, int | None]] | None = None):
        super().__init__(message)
        self.message = message
        self.located = located or [(message, None, None)]


#: Bounds of a workbook read (issue 12): its uncompressed size, and the rows and columns a
#: sheet's cells holding data may reach.  Past them the file is refused with a message naming
#: the cell, before any reader builds the sheet's grid (python-calamine builds it dense: one
#: value in XFD1048576 asked for 512 GB and aborted the process).
MAX_UNCOMPRESSED_BYTES = 500 * 1024 * 1024
MAX_ROWS = 100_000
#: An .xls is not compressed: its size on disk is what calamine reads (and what the record
#: walk of ``sheet_bounds.xls_far_cells`` walks).
MAX_XLS_BYTES = 100 * 1024 * 1024
#: A cell reference beyond MAX_COLUMNS (column ET) or with a row number of six digits or more:
#: checked in Python against MAX_ROWS.  (Any namespace prefix, either quote, "$" allowed.)
_FAR_CELL = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*[\"']\$?((?:[A-Z]{3}|[F-Z][A-Z]|E[U-Z])"
    rb"\$?\d+|[A-Z]{1,2}\$?[1-9]\d{5,})[\"']")
_VALUE_IN_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|is|f)\b")
#: A formula cell with no saved result: <c r="B5"><f>…</f></c>, <f …/></c>, or <v></v>, <v/>.
_UNSAVED_FORMULA = re.compile(
    rb"<c\s[^>]*?\br=[\"']([A-Z]{1,3})(\d+)[\"'][^>]*>\s*"
    rb"<f\b[^>]*(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>")


def cell_ref(row: int, col: int) -> str:
    """Excel's name of a cell from 1-based row and column: (1048576, 16384) → "XFD1048576"."""
    return f"{_column_label(col - 1)}{row}"


def _ref_position(ref: bytes) -> tuple[int, int]:
    """(row, column), 1-based, of a cell reference such as b"XFD1048576" or b"$B$5"."""
    text = ref.decode("ascii").replace("$", "")
    letters = text.rstrip("0123456789")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(text[len(letters):]), col


#: One pass over a sheet as Excel and openpyxl write it (<row r="5"><c r="A5" …>): a cell in
#: a column past ET, a row numbered 100000 or more, or any other way of writing a row or a cell
#: (no "r" first, a namespace prefix), which sends the sheet to the slower, general check.
_FAR_PLAIN = re.compile(
    rb'<c r="((?:[A-Z]{3}|[F-Z][A-Z]|E[U-Z])\d+)"|<row r="([1-9]\d{5,})"'
    rb'|<(?:c|row)(?:>| (?!r="))|<[A-Za-z_][\w.-]*:c[\s>]')
_CELL_PLAIN = re.compile(rb'<c r="([A-Z]{1,3}\d+)"')


def _holds_value(xml: bytes, start: int, close_tag: bytes) -> bool:
    """Whether the element whose start tag ends after ``start`` holds a value (<v>, <is> or
    <f>) before ``close_tag``; a self-closing element holds none."""
    end = xml.find(b">", start)
    if end < 0 or xml[end - 1:end] == b"/":
        return False
    close = xml.find(close_tag, end)
    return _VALUE_IN_CELL.search(xml, end, close if close > 0 else len(xml)) is not None


def _far_cell(xml: bytes) -> tuple[int, int] | None:
    """(row, column) of the first cell holding data beyond MAX_ROWS or MAX_COLUMNS, else None.
    Cells that are only formatted (no value) are not data: a sheet formatted down to row
    1,048,576 is fine."""
    for m in _FAR_PLAIN.finditer(xml):
        if m.group(1):  # a cell past column ET
            if _holds_value(xml, m.end(), b"c>"):
                return _ref_position(m.group(1))
        elif m.group(2):  # a row numbered 100000 or more
            if int(m.group(2)) <= MAX_ROWS or not _holds_value(xml, m.end(), b"</row>"):
                continue
            stop = xml.find(b"</row>", m.end())
            cell = _CELL_PLAIN.search(xml, m.end(), stop)
            while cell and not _holds_value(xml, cell.end(), b"c>"):
                cell = _CELL_PLAIN.search(xml, cell.end(), stop)
            return _ref_position(cell.group(1)) if cell else (int(m.group(2)), 1)
        else:
            return _far_cell_general(xml)
    return None


def _far_cell_general(xml: bytes) -> tuple[int, int] | None:
    """:func:`_far_cell` of a sheet written in any other way (rows or cells without their
    number are counted: more rows than MAX_ROWS is past the bound)."""
    for m in _FAR_CELL.finditer(xml):
        row, col = _ref_position(m.group(1))
        if (row > MAX_ROWS or col > MAX_COLUMNS) and _holds_value(xml, m.end(), b"c>"):
            return row, col
    rows = len(re.findall(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]", xml))
    return (rows, 1) if rows > MAX_ROWS else None


def _unsaved_formulas(xml: bytes) -> set[tuple[int, int]]:
    """(row index, column index), 0-based, of formula cells with no saved result."""
    if b"<f" not in xml or not (b"</f></c>" in xml or b"/></c>" in xml or b"<v></v>" in xml
                                or b"<v/>" in xml):
        return set()
    out = set()
    for m in _UNSAVED_FORMULA.finditer(xml):
        row, col = _ref_position(m.group(1) + m.group(2))
        out.add((row - 1, col - 1))
    return out


_ATTR = re.compile(r"([\w:]+)\s*=\s*[\"']([^\"']*)[\"']")


def _sheet_names(z: zipfile.ZipFile, names: set[str]) -> dict[str, str]:
    """Worksheet part ("xl/worksheets/sheet1.xml") → sheet name, from the workbook and its
    relationships (small parts; read with regular expressions, no XML entity expansion)."""
    import html

    try:
        rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
        book = z.read("xl/workbook.xml").decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile, zlib.error):
        return {}
    target: dict[str, str] = {}
    for tag in re.findall(r"<(?:\w+:)?Relationship\b[^>]*>", rels):
        a = dict(_ATTR.findall(tag))
        t = a.get("Target", "").lstrip("/")
        target[a.get("Id", "")] = t if t.startswith("xl/") else f"xl/{t}"
    out = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", book):
        a = {k.split(":")[-1] if k.endswith(":id") else k: v for k, v in _ATTR.findall(tag)}
        part = target.get(a.get("id", ""))
        if part in names:
            out[part] = html.unescape(a.get("name", ""))
    return out


@dataclass
class _SheetScan:
    """What the raw XML of a workbook's sheets says before a reader opens it."""

    errors: bool = False  # error cells (#N/A): read with openpyxl, which keeps their text
    unsaved: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # sheet → cells


def _check_unzipped_size(z: zipfile.ZipFile, file_size: int, what: str, app: str) -> None:
    """Refuse a zip-based workbook (``what``: "tệp Excel", "bảng tính .ods") larger than
    MAX_UNCOMPRESSED_BYTES once unzipped."""
    total = sum(i.file_size for i in z.infolist())
    if total > MAX_UNCOMPRESSED_BYTES:
        raise FileProblem(
            f"{what} quá lớn khi giải nén ({fmt_num(total / 1024 / 1024)} MB; giới hạn "
            f"{fmt_num(MAX_UNCOMPRESSED_BYTES / 1024 / 1024)} MB, tệp trên đĩa "
            f"{fmt_num(file_size / 1024)} KB) — tệp hỏng hoặc không phải danh sách của trường; "
            f"hãy mở bằng {app}, xoá các trang tính và ô thừa rồi lưu lại")


def _far_message(row: int, col: int, app: str = "Excel") -> str:
    """What a cell holding data past the bounds is told (the sheet is named by the Problem)."""
    return (f"có dữ liệu ở ô {cell_ref(row, col)}, ngoài giới hạn đọc "
            f"({fmt_num(MAX_ROWS)} dòng, {MAX_COLUMNS} cột — đến cột "
            f"{_column_label(MAX_COLUMNS - 1)}); nếu ô đó không thuộc bảng hãy xoá nó "
            f"(Ctrl+End trong {app} cho biết ô xa nhất) rồi lưu lại")


def _refuse_far(cells: list[sheet_bounds.FarCell], app: str = "Excel") -> None:
    """Raise the :class:`FileProblem` of these far cells (one problem per sheet), if any."""
    if cells:
        located = [(_far_message(c.row, c.col, app), c.sheet, c.row) for c in cells]
        raise FileProblem(located[0][0], located)


def _scan_workbook(z: zipfile.ZipFile, names: set[str], file_size: int) -> _SheetScan:
    """Check the bounds (uncompressed size, the cells holding data) and find error cells and
    formulas without a saved result.  Raises :class:`FileProblem` naming the cells."""
    _check_unzipped_size(z, file_size, "tệp Excel", "Excel")
    parts = sorted(n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    sheet_of = _sheet_names(z, names)
    scan = _SheetScan()
    far: list[sheet_bounds.FarCell] = []
    for part in parts:
        xml = z.read(part)
        sheet = sheet_of.get(part, part.rsplit("/", 1)[-1])
        scan.errors = scan.errors or b't="e"' in xml or b"t='e'" in xml
        found = _far_cell(xml)
        if found is not None:
            far.append(sheet_bounds.FarCell(sheet, *found))
        unsaved = _unsaved_formulas(xml)
        if unsaved:
            scan.unsaved[sheet] = unsaved
        del xml
    _refuse_far(far)
    return scan


def _is_ole(data: bytes) -> bool:
    return data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


_PASSWORD = "tệp được đặt mật khẩu — hãy mở bằng Excel, bỏ mật khẩu và lưu lại"
_ODS_BROKEN = "bảng tính .ods bị hỏng, không mở được — hãy mở bằng LibreOffice, kiểm tra và lưu lại"
_XLS_BROKEN = ("tệp Excel cũ (.xls) bị hỏng hoặc không phải tệp Excel — hãy mở bằng Excel và lưu "
               "lại dạng «Sổ làm việc Excel (.xlsx)»")
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"


def _ole_grids(data: bytes) -> list[Grid]:
    """An OLE2 file: an Excel 97–2003 workbook (.xls), read by calamine, or an encrypted one
    (a password-protected .xlsx is an OLE2 container too)."""
    try:
        import msoffcrypto

        if msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted():
            raise FileProblem(_PASSWORD)
    except FileProblem:
        raise
    except Exception:  # noqa: BLE001 - not a file msoffcrypto knows: calamine decides
        pass
    if len(data) > MAX_XLS_BYTES:
        raise FileProblem(
            f"tệp Excel cũ (.xls) quá lớn ({fmt_num(len(data) / 1024 / 1024)} MB; giới hạn "
            f"{fmt_num(MAX_XLS_BYTES / 1024 / 1024)} MB) — tệp hỏng hoặc không phải danh sách "
            "của trường; hãy mở bằng Excel, xoá các trang tính và ô thừa rồi lưu lại dạng «Sổ "
            "làm việc Excel (.xlsx)»")
    try:
        _refuse_far(sheet_bounds.xls_far_cells(data, MAX_ROWS, MAX_COLUMNS))
        return _calamine_grids(data)
    except FileProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - calamine raises several kinds on foreign files
        if type(exc).__name__ == "PasswordError":
            raise FileProblem(_PASSWORD) from exc
        raise FileProblem(_XLS_BROKEN) from exc


def _opendocument_grids(z: zipfile.ZipFile, data: bytes) -> list[Grid]:
    """An OpenDocument file (LibreOffice): a spreadsheet (.ods) is read by calamine."""
    if not z.read("mimetype").strip().startswith(_ODS_MIME):
        raise FileProblem("đây là tệp văn bản hoặc trình chiếu OpenDocument (LibreOffice), "
                          "không phải bảng tính; cần tệp Excel (.xlsx, .xls), bảng tính .ods "
                          "hoặc CSV")
    if b"encryption-data" in z.read("META-INF/manifest.xml"):
        raise FileProblem(_PASSWORD)
    _check_unzipped_size(z, len(data), "bảng tính .ods", "LibreOffice")
    try:
        content = z.read("content.xml")
    except KeyError as exc:
        raise FileProblem(_ODS_BROKEN) from exc
    _refuse_far(sheet_bounds.ods_far_cells(content, MAX_ROWS, MAX_COLUMNS), "LibreOffice")
    del content
    try:
        return _calamine_grids(data)
    except Exception as exc:  # noqa: BLE001
        raise FileProblem(_ODS_BROKEN) from exc


def _excel_grids(data: bytes) -> list[Grid]:
    if _is_ole(data):
        return _ole_grids(data)
    if data[:2] != b"PK":
        raise FileProblem("không phải tệp Excel (.xlsx) — có thể là tệp khác bị đổi tên; hãy mở "
                          "bằng Excel và lưu lại dạng .xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
            if "mimetype" in names and "META-INF/manifest.xml" in names:
                return _opendocument_grids(z, data)
            # python-calamine reads error cells (#N/A, #DIV/0!) as blanks; openpyxl as their text
            # ("#N/A"), which is what staff see and what messages must show.
            scan = _scan_workbook(z, names, len(data)) if "xl/workbook.xml" in names \
                else _SheetScan()
            errors = scan.errors
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, KeyError) as exc:
        raise FileProblem("tệp Excel bị hỏng, không mở được — hãy mở bằng Excel, kiểm tra và lưu "
                          "lại, hoặc xuất lại tệp") from exc
    if "xl/workbook.xml" not in names:
        what = ("tệp Word (.docx)" if "word/document.xml" in names else
                "tệp PowerPoint" if "ppt/presentation.xml" in names else
                "tệp nén, không phải Excel")
        raise FileProblem(f"đây là {what} bị đặt tên như tệp Excel; cần tệp Excel (.xlsx) hoặc CSV")
    grids = None
    if not errors:
        try:
            grids = _calamine_grids(data)
        except Exception:  # noqa: BLE001 - calamine refused it: openpyxl decides (and says why)
            pass
    if grids is None:
        grids = _openpyxl_grids(data)
    for g in grids:
        g.unsaved = scan.unsaved.get(g.sheet or "", set())
    return grids


def _calamine_grids(data: bytes) -> list[Grid]:
    """Every worksheet's cells read by python-calamine (cached formula values, as Excel shows
    them): dates as ``date``/``datetime``, numbers as ``float``, blanks as None, merged ranges
    filled with their top-left value."""
    import python_calamine as pc

    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    grids = []
    try:
        for meta in wb.sheets_metadata:
            if meta.typ != pc.SheetTypeEnum.WorkSheet:
                continue  # chart sheets hold no cells (openpyxl's ``worksheets`` skips them too)
            ws = wb.get_sheet_by_name(meta.name)
            merged = list(ws.merged_cell_ranges or [])
            end = ws.end
            nrows = end[0] + 1 if end is not None else 0
            ncols = end[1] + 1 if end is not None else 0
            # A merged range holds no data past its first cell: it is filled only where the
            # cells holding data reach (a range merged down to row 1.048.576 makes no rows).
            ncols = min(ncols, MAX_COLUMNS)
            rows: list[list[object]] = []
            if nrows:
                for r in ws.to_python(skip_empty_area=False):
                    row = [None if c == "" else c for c in r[:ncols]]
                    if len(row) < ncols:
                        row += [None] * (ncols - len(row))
                    rows.append(row)
                rows += [[None] * ncols for _ in range(nrows - len(rows))]
            for (r0, c0), (r1, c1) in merged:
                if r0 >= len(rows) or c0 >= ncols:
                    continue
                value = rows[r0][c0]
                for r in range(r0, min(r1 + 1, len(rows))):
                    for c in range(c0, min(c1 + 1, ncols)):
                        rows[r][c] = value
            grids.append(Grid(meta.name, rows))
    finally:
        wb.close()
    return grids


def _openpyxl_grids(data: bytes) -> list[Grid]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on broken files
        raise FileProblem("tệp Excel bị hỏng, không mở được — hãy mở bằng Excel, kiểm tra và lưu "
                          "lại, hoặc xuất lại tệp") from exc
    grids = []
    for ws in wb.worksheets:
        nrows, ncols = _used_extent(ws)
        ncols = min(ncols, MAX_COLUMNS)
        rows = [list(r) for r in ws.iter_rows(min_row=1, max_row=max(nrows, 1), min_col=1,
                                              max_col=max(ncols, 1), values_only=True)]
        if nrows == 0:
            rows = []
        for rng in ws.merged_cells.ranges:
            top = rng.min_row - 1
            left = rng.min_col - 1
            if top >= len(rows) or left >= ncols:
                continue
            value = rows[top][left]
            for r in range(top, min(rng.max_row, len(rows))):
                for c in range(left, min(rng.max_col, ncols)):
                    rows[r][c] = value
        grids.append(Grid(ws.title, rows))
    wb.close()
    return grids


def _used_extent(ws: object) -> tuple[int, int]:
    """Last row and column holding a value.  ``max_row`` counts formatted empty cells too, and
    a sheet formatted down to row 1,048,576 must not be walked cell by cell."""
    cells = getattr(ws, "_cells", None)
    if cells is None:
        return ws.max_row or 0, ws.max_column or 0  # type: ignore[attr-defined]
    used = [rc for rc, cell in cells.items() if cell.value is not None]
    if not used:
        return 0, 0
    # (merged ranges fill only within this extent, as in _calamine_grids)
    return max(r for r, _ in used), max(c for _, c in used)


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1258", "cp1252"):
        try:
            return unicodedata.normalize("NFC", data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _csv_grids(data: bytes) -> list[Grid]:
    if b"\x00" in data[:4096] or data[:2] == b"PK" or _is_ole(data):
        raise FileProblem("không phải tệp CSV (văn bản); hãy lưu lại từ Excel dạng CSV UTF-8 "
                          "hoặc dùng tệp .xlsx")
    text = _decode_csv(data)
    best: list[list[object]] = []
    best_score = -1
    # A separator that does not occur splits nothing: try only those that do (the same choice,
    # without parsing a large file three times).
    candidates = [c for c in (",", ";", "\t") if c in text] or [","]
    for sep in candidates:
        try:
            rows: list[list[object]] = list(  # csv.reader yields a new list per row
                csv.reader(io.StringIO(text, newline=""), delimiter=sep))
        except csv.Error as exc:
            raise FileProblem(f"tệp CSV không đọc được ({exc}); hãy lưu lại từ Excel dạng "
                              "CSV UTF-8") from exc
        score = _csv_score(rows) if len(candidates) > 1 else 0
        if score > best_score:
            best, best_score = rows, score
    width = max((len(r) for r in best), default=0)
    for r in best:
        if len(r) < width:
            r.extend([None] * (width - len(r)))
    return [Grid(None, best)]


def _csv_score(rows: list[list[object]]) -> int:
    """The filled cells of the five widest rows (how well a separator splits the file)."""
    top: list[int] = []  # the five largest widths so far, smallest first
    for r in sorted(rows, key=len, reverse=True):
        if len(top) == 5 and top[0] >= len(r):
            break  # no shorter row can beat the five already seen
        w = sum(1 for c in r if c.strip())
        if len(top) < 5:
            top.append(w)
            top.sort()
        elif w > top[0]:
            top[0] = w
            top.sort()
    return sum(top)


# --- Tables -------------------------------------------------------------------------------------

@dataclass
class Table:
    """One recognised table: its kind, where it is, and its rows as canonical values."""

    kind: str  # "pupils" | "items" | "interventions"
    file: str
    sheet: str | None
    header_row: int
    headers: dict[str, str]  # canonical name -> header as written in the file
    frame: pd.DataFrame  # canonical columns present + source_file, source_sheet, source_row
    bad_cells: set[tuple[int, str]] = field(default_factory=set)  # (row, canonical) unreadable


@dataclass
class FileRead:
    path: Path
    name: str
    sha256: str
    tables: list[Table] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    title_years: set[str] = field(default_factory=set)
    title_texts: list[str] = field(default_factory=list)  # text cells above each table


def _header_texts(rows: list[list[object]], r: int, combine: bool) -> list[object]:
    top = rows[r]
    if not combine:
        return list(top)
    below = rows[r + 1]
    out: list[object] = []
    for a, b in zip(top, below, strict=False):
        ta, tb = clean_text(a), clean_text(b)
        if ta and tb and ta != tb and not _numeric_label(b):
            out.append(f"{ta} {tb}")
        else:
            out.append(ta or (None if _numeric_label(b) else tb))
    return out


_LABEL_NUMBER = re.compile(r"\(?\d{1,3}\)?")


def _numeric_label(v: object) -> bool:
    if isinstance(v, int | float) and not isinstance(v, bool):
        return True
    s = clean_text(v)
    return bool(s) and _LABEL_NUMBER.fullmatch(s) is not None


def _is_number_row(row: list[object]) -> bool:
    cells = [c for c in row if not _blank(c)]
    return len(cells) >= 2 and all(_numeric_label(c) for c in cells)


def _match_row(kind: str, texts: list[object]) -> dict[int, HeaderMatch]:
    matcher = MATCHERS[kind]
    out = {}
    for i, t in enumerate(texts):
        m = matcher.match(t)
        if m is not None:
            out[i] = m
    return out


def _names(matches: dict[int, HeaderMatch]) -> set[str]:
    return {m.name for m in matches.values() if m.status == "column" and m.name}


#: _match_row of rows (or row pairs) seen before, by their cells: never changed once made.
_MATCH_CACHE: dict[tuple, dict[int, HeaderMatch]] = {}
_MATCH_CACHE_MAX = 20_000


def _find_header(rows: list[list[object]]) -> tuple[str, int, bool, dict[int, HeaderMatch]] | None:
    """(kind, header row index, combined with the row below, matches) of the first table."""
    limit = min(len(rows), HEADER_SEARCH_ROWS)
    seen: dict[tuple[str, int, bool], dict[int, HeaderMatch]] = {}

    row_keys: dict[int, tuple] = {}

    def row_key(i: int) -> tuple:
        if i not in row_keys:  # (typed: True == 1 in Python, not in a sheet)
            row_keys[i] = tuple((type(c), c) for c in rows[i])
        return row_keys[i]

    def match(kind: str, r: int, combine: bool) -> dict[int, HeaderMatch]:
        """_match_row of a row (or a row and the one below), each worked out once (and once
        per batch: the same title and header rows come back in file after file)."""
        key = (kind, r, combine)
        if key not in seen:
            cached = (kind, combine, row_key(r), row_key(r + 1) if combine else None)
            found = _MATCH_CACHE.get(cached)
            if found is None:
                found = _match_row(kind, _header_texts(rows, r, combine))
                if len(_MATCH_CACHE) >= _MATCH_CACHE_MAX:
                    _MATCH_CACHE.clear()
                _MATCH_CACHE[cached] = found
            seen[key] = found
        return seen[key]

    for r in range(limit):
        for kind in ("interventions", "items", "pupils"):
            single = match(kind, r, False)
            candidates = [(single, False)]
            if r + 1 < len(rows):
                combined = match(kind, r, True)
                below = _names(match(kind, r + 1, False))
                if len(_names(combined)) > max(len(_names(single)), len(below)):
                    candidates.insert(0, (combined, True))
            for matches, comb in candidates:
                if _qualifies(kind, _names(matches)):
                    return kind, r, comb, matches
    return None


#: Totals rows: skipped (a list may have one per class), never read as data.
_TOTAL_EXACT = {"cong", "tong", "tong cong", "tong so", "cong so"}
_TOTAL_PREFIX = ("tong cong", "cong lop", "cong khoi", "tong so hoc sinh", "tong so hs")
#: Signature block: the table ends here.
_SIGNATURE_PREFIX = ("nguoi lap", "hieu truong", "pho hieu truong", "ky ten", "ky ghi ro ho ten",
                     "xac nhan cua", "thu truong don vi", "giao vien chu nhiem",
                     "danh sach nay co", "an dinh danh sach")
#: "Lộc Sơn, ngày 25 tháng 5 năm 2025" or a blank "ngày … tháng … năm …" — but not the header
#: "Ngày tháng năm sinh" repeated on a new page.
_PLACE_DATE = re.compile(r"\bngay\s*\d{0,2}\s*thang\s*\d{0,2}\s*nam(\s*\d{4}\b|$)")


#: Every folded text that is a totals or signature text (_total_text, _signature_text) matches
#: this at the start of its line, or holds "ngay": a column with no match has neither.
_FOOTER_SCREEN = re.compile(
    "^(?:" + "|".join(re.escape(p) for p in (*_TOTAL_EXACT, *_TOTAL_PREFIX, *_SIGNATURE_PREFIX))
    + ")|ngay", re.MULTILINE)


def _folded_texts(row: list[object]) -> list[str]:
    return [C.fold(c) for c in row if isinstance(c, str) and not _blank(c)]


def _is_total(row: list[object]) -> bool:
    return any(f in _TOTAL_EXACT or f.startswith(_TOTAL_PREFIX) for f in _folded_texts(row))


def _is_signature(row: list[object]) -> bool:
    return any(f.startswith(_SIGNATURE_PREFIX) or _PLACE_DATE.search(f)
               for f in _folded_texts(row))


def _is_footer(row: list[object]) -> bool:
    return _is_total(row) or _is_signature(row)


def _total_text(f: str) -> bool:
    return f in _TOTAL_EXACT or f.startswith(_TOTAL_PREFIX)


def _signature_text(f: str) -> bool:
    return f.startswith(_SIGNATURE_PREFIX) or ("ngay" in f and _PLACE_DATE.search(f) is not None)


_TYPED_KINDS = {"string", "empty", "floating", "integer", "mixed-integer-float", "boolean",
                "date", "datetime", "time", "timedelta"}


def _factorize(values: object, with_kind: bool = False) -> tuple:
    """(codes, distinct values) of a column of cells; None and NaN get code -1.

    ``True == 1 == 1.0`` in Python: a column mixing booleans and numbers keeps them apart."""
    arr = np.empty(len(values), dtype=object)  # type: ignore[arg-type]
    arr[:] = values
    kind = pd.api.types.infer_dtype(arr, skipna=True)
    if kind not in _TYPED_KINDS and any(type(v) is bool for v in arr):
        keyed = np.empty(len(arr), dtype=object)
        keyed[:] = [("bool", v) if type(v) is bool else v for v in arr]
        codes, uniques = pd.factorize(keyed)
        out = codes, [u[1] if isinstance(u, tuple) else u for u in uniques]
    else:
        codes, uniques = pd.factorize(arr)
        out = codes, list(uniques)
    return (*out, kind) if with_kind else out


_NON_ALNUM_LINES = re.compile(r"[^0-9a-z\n]+")


def _fold_many(texts: list[str]) -> list[str]:
    """``[contract.fold(t) for t in texts]``, the steps of ``fold`` run once over the texts
    joined by line breaks (each step works character by character, and a line break is kept
    by every one of them), then split again."""
    if len(texts) < 32:
        return [C.fold(t) for t in texts]
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:  # a text with a line break of its own
        return [C.fold(t) for t in texts]
    if not joined.isascii():
        joined = C._COMMON_MARKS.sub("", unicodedata.normalize("NFKD", joined))
        if "đ" in joined or "Đ" in joined:
            joined = joined.replace("đ", "d").replace("Đ", "D")
        if not joined.isascii():
            joined = joined.translate(C._FOLD_TABLE)
    # (on ASCII text, lower() then the non-alphanumerics to spaces is fold's ASCII table)
    joined = _NON_ALNUM_LINES.sub(" ", joined.lower())
    return [" ".join(line.split()) for line in joined.split("\n")]


_BLANK_CELL = ()
#: _cell_info of the cells (other than text) of earlier sheets: Excel's row numbers, dates and
#: numbers repeat from file to file.
_CELL_CACHE: dict[tuple[type, object], tuple] = {}


def _cell_info(v: object) -> tuple:
    """What :class:`_Body` needs of a cell of a column not all text: _BLANK_CELL, or (fold,
    totals text, signature text, column-number label, the folded text the cell shows)."""
    if _blank(v):
        return _BLANK_CELL
    f = C.fold(v)
    if isinstance(v, str):
        return f, _total_text(f), _signature_text(f), len(v.strip()) <= 5 and _numeric_label(v), f
    if isinstance(v, int | float) and not isinstance(v, bool):
        return f, False, False, True, C.fold(clean_text(v))  # (_numeric_label)
    # dates, times, booleans: as _numeric_label, one clean_text
    shown = clean_text(v) or ""
    return (f, False, False, bool(shown) and _LABEL_NUMBER.fullmatch(shown) is not None,
            C.fold(shown))


class _Body:
    """The rows of a sheet from the first data row down, classified column by column.

    Each column is factorised once; what decides a row's fate (blank, totals or signature text,
    a column-number label, the header repeated) is worked out once per distinct value and taken
    back to the cells, so a list of 100,000 pupils costs a few thousand value checks, not
    millions.  ``special`` marks the rows that need a closer look (the rest are plainly data).
    """

    def __init__(self, rows: list[list[object]], start: int, keys: list[int],
                 header_keys: list[str], mapped: list[int], personal: Iterable[int] = ()):
        part = rows[start:]
        self.n = n = len(part)
        self.first_row = start  # index in ``rows`` of the body's first row
        width = max(max((len(r) for r in part), default=0),
                    max((*keys, *mapped), default=-1) + 1)
        if any(len(r) != width for r in part):
            part = [r + [None] * (width - len(r)) for r in part]
        columns = list(zip(*part, strict=True)) if n else [()] * width
        self.codes: list[np.ndarray] = []
        self.uniques: list[list[object]] = []
        blank = np.zeros((n, width), dtype=bool)
        numeric = np.zeros((n, width), dtype=bool)
        total = np.zeros(n, dtype=bool)
        signature = np.zeros(n, dtype=bool)
        header_again = np.ones(n, dtype=bool)
        ids: dict[str, int] = {}
        raw_ids: dict[object, int] = {}  # a cell's value → its id (see personal columns)
        fresh = -1
        cmp = np.full((n, width), -1, dtype=np.int64)
        self.codes = [np.empty(0, dtype=np.int64)] * width
        self.uniques = [[]] * width
        skip = set(personal) - set(mapped) - set(keys)
        # Personal columns last: the values of the others are known by then.
        for j in [*(j for j in range(width) if j not in skip), *sorted(skip & set(range(width)))]:
            col = columns[j]
            codes, uniques, kind = _factorize(col, with_kind=True)
            self.codes[j] = codes
            self.uniques[j] = uniques
            # One entry per distinct value, and one more at the end that code -1 (None) takes.
            if j in skip:
                # A column of personal data that is not stored (an address, parents' names, an
                # ID card number): never read as text.  Only whether a cell is blank, whether
                # it is a short column-number label ("(9)") and whether it repeats a value of
                # another column of the row (a heading merged across the row) are looked at.
                m = len(uniques)
                u_blank = np.ones(m + 1, dtype=bool)
                u_num = np.zeros(m + 1, dtype=bool)
                u_cmp = np.full(m + 1, -1, dtype=np.int64)
                for u, v in enumerate(uniques):
                    if _blank(v):
                        continue
                    u_blank[u] = False
                    if isinstance(v, str):
                        u_num[u] = len(v.strip()) <= 5 and _numeric_label(v)
                    elif isinstance(v, int | float) and not isinstance(v, bool):
                        u_num[u] = True
                    else:
                        shown = clean_text(v) or ""
                        u_num[u] = bool(shown) and _LABEL_NUMBER.fullmatch(shown) is not None
                    fresh -= 1  # (an id no other cell has: the row is not uniform)
                    u_cmp[u] = raw_ids.get(v, fresh)
                blank[:, j] = u_blank[codes]
                numeric[:, j] = u_num[codes]
                cmp[:, j] = u_cmp[codes]
                continue
            if kind == "string":  # text only (every CSV column): list comprehensions
                stripped = [v.strip() for v in uniques]  # str.strip() also strips U+00A0
                folds = _fold_many(uniques)  # (a blank cell folds to "")
                u_blank = np.array([not t for t in stripped] + [True], dtype=bool)
                if _FOOTER_SCREEN.search("\n".join(folds)) is None:  # (most columns)
                    u_tot = u_sig = np.zeros(len(folds) + 1, dtype=bool)
                else:
                    u_tot = np.array([f in _TOTAL_EXACT or f.startswith(_TOTAL_PREFIX)
                                      for f in folds] + [False], dtype=bool)
                    u_sig = np.array([_signature_text(f) for f in folds] + [False], dtype=bool)
                u_num = np.array([0 < len(t) <= 5 and _numeric_label(v)
                                  for v, t in zip(uniques, stripped, strict=True)] + [False],
                                 dtype=bool)
                # clean_text(a) == clean_text(b) implies fold(a) == fold(b) for text
                u_cmp = np.array([ids.setdefault(f, len(ids)) if t else -1
                                  for f, t in zip(folds, stripped, strict=True)] + [-1],
                                 dtype=np.int64)
                u_fold = [*folds, ""]
                if skip:
                    raw_ids.update(zip(uniques, u_cmp.tolist(), strict=False))
            else:
                m = len(uniques)
                u_blank = np.ones(m + 1, dtype=bool)
                u_num = np.zeros(m + 1, dtype=bool)
                u_tot = np.zeros(m + 1, dtype=bool)
                u_sig = np.zeros(m + 1, dtype=bool)
                u_cmp = np.full(m + 1, -1, dtype=np.int64)
                u_fold = [""] * (m + 1)
                cache = _CELL_CACHE if len(_CELL_CACHE) < _PARSE_CACHE_MAX else {}
                for u, v in enumerate(uniques):
                    key = (type(v), v)
                    info = cache.get(key)
                    if info is None:
                        info = _cell_info(v)
                        if v == v:  # (NaN is never found again: not kept)
                            cache[key] = info
                    if info is _BLANK_CELL:
                        continue
                    u_blank[u] = False
                    u_fold[u], u_tot[u], u_sig[u], u_num[u], shown = info
                    u_cmp[u] = ids.setdefault(shown, len(ids))
                    if skip:
                        raw_ids[v] = int(u_cmp[u])
            blank[:, j] = u_blank[codes]
            numeric[:, j] = u_num[codes]
            cmp[:, j] = u_cmp[codes]
            if u_tot.any():
                total |= u_tot[codes]
            if u_sig.any():
                signature |= u_sig[codes]
            if j in keys:
                for key_index, jj in enumerate(keys):
                    if jj == j:
                        want = header_keys[key_index]
                        u_hdr = np.array([x == want for x in u_fold], dtype=bool)
                        u_hdr[-1] = want == ""
                        header_again &= u_hdr[codes]
        filled_all = (~blank).sum(axis=1)
        self.blank = blank
        self.total = total
        self.signature = signature
        self.header_again = header_again if keys else np.ones(n, dtype=bool)
        self.number_row = (filled_all >= 2) & ~(~blank & ~numeric).any(axis=1)
        key_cells = blank[:, keys] if keys else np.ones((n, 1), dtype=bool)
        self.key_blank = key_cells.all(axis=1)
        self.any_key_blank = key_cells.any(axis=1) if keys else np.zeros(n, dtype=bool)
        hi = cmp.max(axis=1) if width else np.full(n, -1)
        lo = np.where(blank, np.iinfo(np.int64).max, cmp).min(axis=1) if width else hi
        self.uniform = (filled_all > 1) & (lo == hi)
        self.filled = (~blank[:, mapped]).sum(axis=1) if mapped else np.zeros(n, dtype=int)
        self.special = (self.header_again | self.number_row | self.signature | self.uniform
                        | self.key_blank | self.total)


def _school_year_in_titles(rows: list[list[object]], upto: int) -> set[str]:
    years = set()
    for row in rows[:upto]:
        for c in row:
            if isinstance(c, str):
                y = C.parse_school_year(c)
                if y:
                    years.add(y)
    return years


def _column_label(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        s = chr(65 + rem) + s
    return s


@contextlib.contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused (memory is still freed by reference counting).

    Reading a sheet makes a list per row and a tuple per column: hundreds of thousands of
    objects, none in a reference cycle, which the collector would otherwise walk again and
    again as they pile up — half the time of reading a 200,000-row CSV.  Nests; the previous
    state is restored on exit.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


_batch_depth = 0


@contextlib.contextmanager
def batch_caches() -> Iterator[None]:
    """The caches of parsed and classified cells and of matched header rows (which make the
    files of one import cheaper to read after the first) live for one import: emptied when the
    outermost ``with`` ends, so that no pupil's values stay in memory after it.  Nests."""
    global _batch_depth
    _batch_depth += 1
    try:
        yield
    finally:
        _batch_depth -= 1
        if not _batch_depth:
            _PARSE_CACHE.clear()
            _CELL_CACHE.clear()
            _MATCH_CACHE.clear()


def read_file(path: str | Path) -> FileRead:
    """Read every recognised table of one staff file (never raises for bad content)."""
    with no_cycle_collection():
        return _read_file(path)


def _read_file(path: str | Path) -> FileRead:
    path = Path(path)
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        fr = FileRead(path, name, "")
        fr.problems.append(Problem(name, f"không đọc được tệp ({exc.strerror or exc})"))
        return fr
    fr = FileRead(path, name, hashlib.sha256(data).hexdigest())
    if not data.strip():
        fr.problems.append(Problem(name, "tệp rỗng (không có dữ liệu)"))
        return fr
    try:
        grids = _csv_grids(data) if path.suffix.lower() == ".csv" else _excel_grids(data)
    except FileProblem as exc:
        fr.problems += [Problem(name, msg, sheet, row) for msg, sheet, row in exc.located]
        return fr
    unrecognised: list[Grid] = []
    for grid in grids:
        found = _find_header(grid.rows)
        if found is None:
            unrecognised.append(grid)
            continue
        kind, r, combined, matches = found
        fr.title_years |= _school_year_in_titles(grid.rows, r)
        fr.title_texts += [c for row in grid.rows[:r] for c in row if isinstance(c, str)]
        _read_table(fr, grid, kind, r, combined, matches)
    if not fr.tables and not fr.problems:
        shown = [h for g in grids for h in _nonblank_headers(g.rows)][:8]
        fr.problems.append(Problem(
            name,
            "không nhận ra bảng dữ liệu nào: không tìm thấy dòng tiêu đề cột trong "
            f"{HEADER_SEARCH_ROWS} dòng đầu"
            + (f" (các ô đầu bảng: {', '.join(shown)})" if shown else "")
            + ". Cần một trong các loại: danh sách học sinh (các cột "
            + ", ".join(expected_headers("pupils"))
            + "); số liệu nhà trường hoặc điều tra phổ cập (hai cột "
            + " | ".join(expected_headers("items"))
            + "); nhật ký can thiệp (các cột "
            + ", ".join(expected_headers("interventions")) + ")."))
    elif fr.tables:
        for grid in unrecognised:
            if any(not _blank(c) for row in grid.rows for c in row):
                fr.notes.append(f"Tệp «{name}», trang tính «{grid.sheet}»: bỏ qua (không nhận ra "
                                "tiêu đề cột của loại bảng nào).")
    return fr


def _nonblank_headers(rows: list[list[object]]) -> list[str]:
    """The cells of the likeliest header row: most distinct texts, merged titles counting
    against (their text fills several cells)."""
    best: list[str] = []
    best_score = 1
    for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = [t for t in (clean_text(c) for c in row) if t]
        cells = list(dict.fromkeys(texts))
        score = 2 * len(cells) - len(texts)
        below = rows[r + 1] if r + 1 < len(rows) else []
        filled = [i for i, c in enumerate(row) if not _blank(c)]
        if filled and all(i < len(below) and not _blank(below[i]) for i in filled):
            score += 1  # a header has a row of data under it
        if score > best_score:
            best, best_score = cells, score
    return [f"«{c}»" for c in best]


def _where(fr: FileRead, grid: Grid) -> str:
    return f"Tệp «{fr.name}»" + (f", trang tính «{grid.sheet}»" if grid.sheet else "")


def _read_table(fr: FileRead, grid: Grid, kind: str, r: int, combined: bool,
                matches: dict[int, HeaderMatch]) -> None:
    rows = grid.rows
    texts = _header_texts(rows, r, combined)
    header_row_excel = r + 1
    # Pick one file column per canonical column: the best-ranked; equal ranks are ambiguous.
    chosen: dict[str, int] = {}
    for i, m in sorted(matches.items()):
        if m.status != "column" or m.name is None:
            continue
        j = chosen.get(m.name)
        if j is None or m.rank < matches[j].rank:
            chosen[m.name] = i
    where = _where(fr, grid)
    for i, m in sorted(matches.items()):
        written = clean_text(texts[i])
        if m.status == "personal":
            fr.notes.append(f"{where}: cột «{written}» {PERSONAL_NOTE}: {m.reason}.")
        elif m.status == "unused":
            fr.notes.append(f"{where}: cột «{written}» {UNUSED_NOTE}.")
        elif m.status == "column" and chosen.get(m.name) != i:
            j = chosen[m.name]
            if matches[j].rank == m.rank:
                fr.problems.append(Problem(
                    fr.name, f"có hai cột cùng mang nghĩa «{clean_text(texts[j])}» (cột "
                    f"{_column_label(j)} và cột {_column_label(i)}); hãy xoá hoặc đổi tên một cột",
                    grid.sheet, header_row_excel, written))
            else:
                fr.notes.append(f"{where}: cột «{written}» {UNUSED_NOTE} (đã dùng cột "
                                f"«{clean_text(texts[j])}»).")
    headers = {name: clean_text(texts[i]) or name for name, i in chosen.items()}
    start = r + (2 if combined else 1)
    if start < len(rows) and _is_number_row(rows[start]):
        start += 1
    keys = [chosen[k] for k in _KEY_COLUMNS[kind] if k in chosen]
    header_keys = [C.fold(texts[i]) for i in keys]
    mapped = sorted(chosen.values())
    personal = [i for i, m in matches.items() if m.status == "personal"]
    body = _Body(rows, start, keys, header_keys, mapped, personal)
    filled = body.filled
    filled_hist = [0] * (len(mapped) + 1)  # how many data rows have 0, 1, … mapped cells filled
    n_data = 0

    def looks_like_data(k: int) -> bool:
        """After a gap or a totals row: a row of the table, not a summary or a signature."""
        if kind == "items":  # goes on after a section heading ("II. Phổ cập") with no value
            return bool(keys) and not body.blank[k, keys[0]]
        if body.any_key_blank[k]:
            return False
        if n_data:  # the median of the filled counts so far (upper median)
            seen, typical = 0, 0
            for value, count in enumerate(filled_hist):
                seen += count
                if seen > n_data // 2:
                    typical = value
                    break
        else:
            typical = len(mapped)
        return int(filled[k]) >= max(min(3, len(mapped)), (typical + 1) // 2)

    def merged_heading(k: int) -> bool:
        """A heading merged across the row ("KHỐI 6"): every filled cell the same text."""
        if not body.uniform[k] or body.total[k]:
            return False
        cells = [clean_text(c) for c in rows[start + k] if not _blank(c)]
        return len(cells) > 1 and len(set(cells)) == 1

    data: list[int] = []  # indices into rows
    n = body.n
    k = 0
    special = body.special
    special_at = np.flatnonzero(special)  # (the plain rows between them taken at once)
    while k < n:
        if not special[k]:
            nxt = special_at[np.searchsorted(special_at, k)] if len(special_at) and \
                special_at[-1] > k else n
            data.extend(range(start + k, start + nxt))
            for value, count in enumerate(np.bincount(filled[k:nxt]).tolist()):
                filled_hist[value] += count
            n_data += nxt - k
            k = int(nxt)
            continue
        if body.header_again[k] or body.number_row[k]:
            k += 1  # a header or column-number row repeated on each printed page
            continue
        if body.signature[k]:
            break
        if merged_heading(k):
            k += 1
            continue
        if body.key_blank[k] or body.total[k]:
            # A blank or totals row ends the table unless more rows of it follow (one block
            # per class or grade).
            j = k + 1
            while j < n and (body.key_blank[j] or body.total[j]) and not body.signature[j]:
                j += 1
            if j >= n or body.signature[j] or not looks_like_data(j):
                k = min(j, n)  # the row that ends the table
                break
            k = j
            continue
        data.append(start + k)
        filled_hist[filled[k]] += 1
        n_data += 1
        k += 1
    i = start + k
    # Whatever looks like data below the end of the table would be lost: say so.
    if kind != "items":
        left = [start + m + 1 for m in range(k + 1, n)
                if looks_like_data(m) and not (body.total[m] or body.signature[m])]
        if left:
            fr.problems.append(Problem(
                fr.name, f"có {len(left)} dòng giống dữ liệu nằm dưới chỗ kết thúc bảng (dòng "
                f"{i + 1}) nên không được đọc; hãy xoá dòng trống hoặc dòng chân bảng xen giữa "
                "danh sách", grid.sheet, left[0]))
    table = Table(kind, fr.name, grid.sheet, header_row_excel, headers, pd.DataFrame())
    if kind == "items":
        _items_frame(fr, grid, table, chosen, [(r + 1, rows[r]) for r in data])
    else:
        _records_frame(fr, grid, table, chosen, body, [r - start for r in data])
    if grid.unsaved:
        _report_unsaved_formulas(fr, grid, table, chosen, data)
    fr.tables.append(table)
    span = ("không có dòng dữ liệu" if not data else f"dòng {data[0] + 1}" if len(data) == 1
            else f"dòng {data[0] + 1}–{data[-1] + 1}")
    what = C.FILE_KINDS.get(kind) or (
        " và ".join(C.FILE_KINDS[k] for k in sorted(set(table.frame["kind"]), reverse=True))
        or "bảng hai cột Nội dung | Giá trị")
    fr.notes.append(f"{where}: {what}, "
                    f"{len(data)} dòng ({span}).")


def _report_unsaved_formulas(fr: FileRead, grid: Grid, table: Table, chosen: dict[str, int],
                             data: list[int]) -> None:
    """A formula cell of a column read with no saved result is a problem of its cell, not a
    blank: the value Excel would show is unknown (the file was made by another program or
    saved without calculating)."""
    column_of = {i: name for name, i in chosen.items()}
    rows = set(data)
    for r, c in sorted(grid.unsaved):
        name = column_of.get(c)
        if name is None or r not in rows:
            continue
        header = table.headers.get(name) or name
        table.bad_cells.add((r + 1, name))
        fr.problems.append(Problem(
            fr.name, f"ô {cell_ref(r + 1, c + 1)} có công thức nhưng tệp không lưu kết quả của "
            "công thức (tệp do chương trình khác tạo hoặc chưa được tính lại), nên không biết "
            "giá trị; hãy mở tệp bằng Excel, lưu lại rồi nhập lại", grid.sheet, r + 1, header))


def _problem(fr: FileRead, grid: Grid, row: int, header: str, value: object, msg: str) -> Problem:
    return Problem(fr.name, msg, grid.sheet, row, header, _shown(value))


#: Parsed cells of earlier files, per parser: (type, raw value) → (value, problem or None).
#: Parsers are pure; a batch of many folders meets the same dates, grades, labels and classes
#: again and again.  Cleared when it grows past _PARSE_CACHE_MAX entries.
_PARSE_CACHE: dict[object, dict[tuple[type, object], tuple[object, str | None]]] = {}
_PARSE_CACHE_MAX = 200_000
_NAT = np.iinfo(np.int64).min


def _parse_distinct(parser: object, uniques: list[object],
                    as_date: bool = False) -> tuple[np.ndarray, dict[int, str]]:
    """(parsed values, one more at the end for blank cells; {index: why} of those that fail,
    -1 for blank cells) of a column's distinct cells.  Dates come back as datetime64[ns]."""
    failed: dict[int, str] = {}
    values: list[object]
    if parser is parse_text and all(type(v) is str for v in uniques):
        values = [_clean_str(v) for v in uniques]  # type: ignore[arg-type]
        values.append(parse_text(None))
    else:
        cache = _PARSE_CACHE.get(parser)
        if cache is None or len(cache) > _PARSE_CACHE_MAX:
            cache = _PARSE_CACHE[parser] = {}
        values = []
        for u, raw in enumerate((*uniques, None)):
            key = (type(raw), raw)
            hit = cache.get(key)
            if hit is None:
                try:
                    hit = (parser(raw), None)  # type: ignore[operator]
                except BadValue as exc:
                    hit = (None, str(exc))
                if raw == raw:  # (NaN is never found again: not kept)
                    cache[key] = hit
            values.append(hit[0])
            if hit[1] is not None:
                failed[u if u < len(uniques) else -1] = hit[1]
    if as_date:  # datetime64 straight away, one conversion per value
        try:
            ns = [_NAT if v is None else v.value for v in values]  # type: ignore[attr-defined]
            return np.array(ns, dtype=np.int64).view("datetime64[ns]"), failed
        except (AttributeError, OverflowError, ValueError):
            return _date_series(pd.Series(values, dtype=object)).to_numpy(), failed
    parsed = np.empty(len(values), dtype=object)
    parsed[:] = values
    return parsed, failed


#: Columns whose cells are identifiers: cleaned of invisible characters and full-width forms
#: before they are parsed or validated (one pupil, one class, one date however typed).
IDENTIFIER_COLUMNS = ("pupil_id", "class_name")


def clean_identifier(v: object) -> object:
    """An identifier cell as it is meant: NFKC (full-width "６A1" → "6A1") without invisible
    characters (zero-width spaces, direction marks…).  Other values are returned as they are."""
    if type(v) is not str or v.isascii():
        return v
    return INVISIBLE.sub("", unicodedata.normalize("NFKC", v))


def _clean_uniques(fr: FileRead, grid: Grid, header: str, uniques: list[object],
                   codes: np.ndarray, excel_rows: np.ndarray) -> list[object]:
    """The distinct cells of an identifier column cleaned (:func:`clean_identifier`); one note
    per column when a cell was changed, showing the first such cell as it was written."""
    cleaned = [clean_identifier(u) for u in uniques]
    changed = [u for u, (a, b) in enumerate(zip(uniques, cleaned, strict=True)) if a != b]
    if changed:
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        changed = [u for u in changed if counts[u]]
    if changed:
        # (what was removed or changed is named, never the value: it is a pupil's identifier)
        found = sorted({show_invisible(ch) for u in changed for ch in INVISIBLE.findall(
            str(uniques[u]))})
        wide = any(INVISIBLE.sub("", str(uniques[u])) != cleaned[u] for u in changed)
        what = ", ".join([*(f"ký tự ẩn {f}" for f in found),
                          *(["chữ/số toàn độ rộng (như ６)"] if wide else [])])
        rows = sorted(int(excel_rows[i]) for i in np.flatnonzero(np.isin(codes, changed)))
        shown = ", ".join(str(r) for r in rows[:5]) + (", …" if len(rows) > 5 else "")
        fr.notes.append(
            f"{_where(fr, grid)}, cột «{header}»: đã làm sạch {fmt_num(len(rows))} ô trước khi "
            f"kiểm tra — bỏ {what} (dòng {shown}).")
    return cleaned


def _records_frame(fr: FileRead, grid: Grid, table: Table, chosen: dict[str, int], body: _Body,
                   data: list[int]) -> None:
    """Parse the data rows (``data``: indices into ``body``), each column once per distinct
    value; every unreadable cell is a Problem, in row order as a person reads the sheet."""
    columns = C.PUPIL_COLUMNS if table.kind == "pupils" else C.INTERVENTION_COLUMNS
    kinds = {c.name: c.kind for c in columns}
    at = np.asarray(data, dtype=np.int64)
    excel_rows = at + (body.first_row + 1)
    out: dict[str, object] = {
        "source_file": np.full(len(at), fr.name, dtype=object),
        "source_sheet": np.full(len(at), grid.sheet, dtype=object),
        "source_row": excel_rows,
    }
    bad: list[tuple[int, int, str, object, str]] = []  # (position, column order, name, raw, why)
    for order, (name, i) in enumerate(chosen.items()):
        if name == "female_flag":
            parser = parse_bool
        elif name in C.NAME_PART_HEADERS:
            parser = parse_text
        else:
            parser = _SPECIAL_PARSERS.get(name) if table.kind == "pupils" else None
            parser = parser or PARSERS[kinds[name]]
        if i < len(body.codes):
            codes, uniques = body.codes[i][at], body.uniques[i]
        else:
            codes, uniques = np.full(len(at), -1, dtype=np.int64), []
        if uniques and (name in IDENTIFIER_COLUMNS or kinds.get(name) == "date"):
            uniques = _clean_uniques(fr, grid, table.headers[name], uniques, codes, excel_rows)
        parsed, failed = _parse_distinct(parser, uniques, as_date=kinds.get(name) == "date")
        out[name] = parsed[codes]
        if failed:
            for u, why in failed.items():
                raw = uniques[u] if u >= 0 else None
                for pos in np.flatnonzero(codes == u):
                    bad.append((int(pos), order, name, raw, why))
    for pos, _, name, raw, why in sorted(bad, key=lambda b: b[:2]):
        excel_row = int(excel_rows[pos])
        table.bad_cells.add((excel_row, name))
        fr.problems.append(_problem(fr, grid, excel_row, table.headers[name], raw, why))
    df = pd.DataFrame(out, columns=["source_file", "source_sheet", "source_row", *chosen])
    if not len(at):
        fr.problems.append(Problem(fr.name, "bảng không có dòng dữ liệu nào dưới dòng tiêu đề "
                                   f"(dòng {table.header_row})", grid.sheet))
    if table.kind == "pupils":
        df = _finish_pupils(fr, grid, table, df)
    table.frame = typed_frame(df, columns, tidy=True)


def _finish_pupils(fr: FileRead, grid: Grid, table: Table, df: pd.DataFrame) -> pd.DataFrame:
    parts = [c for c in C.NAME_PART_HEADERS if c in df.columns]
    if parts:
        # The pupil's own «Họ đệm» + «Tên» win over a column that only contains "họ tên"
        # («Họ tên GVCN»): the full name is joined from the pupil's columns only.
        loose = "full_name" in df.columns and len(parts) == 2 and \
            MATCHERS["pupils"].match(table.headers["full_name"]).rank == 2  # type: ignore[union-attr]
        if loose:
            fr.notes.append(f"{_where(fr, grid)}: cột «{table.headers['full_name']}» "
                            f"{UNUSED_NOTE} (họ tên học sinh ghép từ cột "
                            f"«{table.headers['name_head']}» và «{table.headers['name_given']}»).")
            del df["full_name"]
        if "full_name" not in df.columns and len(parts) == 2:
            df["full_name"] = [" ".join(x for x in (h, g) if isinstance(x, str)) or None
                               for h, g in zip(df["name_head"], df["name_given"], strict=True)]
            table.headers["full_name"] = table.headers["name_given"]
        df = df.drop(columns=parts)
        for c in parts:
            table.headers.pop(c, None)
    if "female_flag" in df.columns:
        if "sex" not in df.columns:
            df["sex"] = df["female_flag"].map(lambda f: "F" if f else "M")
            table.headers["sex"] = table.headers["female_flag"]
        del df["female_flag"]
        table.headers.pop("female_flag", None)
    if "class_name" in df.columns:
        from_class = _map_distinct(df["class_name"], grade_of_class)
        if "grade" not in df.columns:
            df["grade"] = from_class
            table.headers["grade"] = table.headers["class_name"]
        else:
            g = df["grade"].astype(object)
            g_missing = g.isna().to_numpy()
            both = np.flatnonzero(~g_missing & from_class.notna().to_numpy())
            # Both are Python ints (parse_grade, grade_of_class): compared as objects.
            differ = np.asarray(g.iloc[both].to_numpy(dtype=object)
                                != from_class.iloc[both].to_numpy(dtype=object), dtype=bool)
            for idx in df.index[both[differ]]:
                gv = int(g[idx])
                if int(from_class[idx]) == gv:
                    continue
                fr.problems.append(Problem(
                    fr.name, f"khối {gv} không khớp với lớp «{df.at[idx, 'class_name']}»",
                    grid.sheet, int(df.at[idx, "source_row"]), table.headers["grade"], gv))
                table.bad_cells.add((int(df.at[idx, "source_row"]), "grade"))
            df["grade"] = g.where(~g_missing, from_class)
    return df


def _map_distinct(s: pd.Series, func: object) -> pd.Series:
    """``s.map(func)`` with ``func`` called once per distinct value (None and NaN too)."""
    codes, uniques = _factorize(s.to_numpy(dtype=object))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(u) for u in uniques]  # type: ignore[operator]
    mapped[-1] = func(None)  # type: ignore[operator]
    return pd.Series(mapped[codes], index=s.index, dtype=object)


def _int_array(s: pd.Series) -> pd.api.extensions.ExtensionArray:
    values = s.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("integer", "empty"):
        missing = pd.isna(values)
        ints = np.zeros(len(values), dtype=np.int64)
        ints[~missing] = values[~missing].astype(np.int64)
        return pd.arrays.IntegerArray(ints, missing)
    return pd.array([None if _blank(x) else int(x) for x in values], dtype="Int64")


def _bool_array(s: pd.Series) -> pd.api.extensions.ExtensionArray:
    values = s.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("boolean", "empty"):
        missing = pd.isna(values)
        return pd.arrays.BooleanArray(np.where(missing, False, values).astype(bool), missing)
    return pd.array([None if x is None or x != x else bool(x) for x in values], dtype="boolean")


def _str_series(s: pd.Series) -> pd.Series:
    values = s.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        missing = pd.isna(values)
        blanks = {v for v in pd.unique(values[~missing]) if _blank(v)}
        values = np.where(missing | (np.isin(values, list(blanks)) if blanks else missing),
                          None, values)
        return pd.Series(values, index=s.index, dtype="str")
    return pd.Series([None if _blank(x) else str(x) for x in values], index=s.index, dtype="str")


def _date_series(s: pd.Series) -> pd.Series:
    """datetime64[ns], each distinct value converted once (the same few hundred birth dates)."""
    if s.dtype == "datetime64[ns]":
        return s
    if s.dtype != object:
        return pd.to_datetime(s.astype(object).where(s.notna(), None)).astype("datetime64[ns]")
    codes, uniques = pd.factorize(s.to_numpy(dtype=object))
    if not len(uniques):
        return pd.to_datetime(s.astype(object).where(s.notna(), None)).astype("datetime64[ns]")
    distinct = pd.to_datetime(pd.Series(uniques, dtype=object)).astype(
        "datetime64[ns]").to_numpy()
    values = np.append(distinct, np.datetime64("NaT", "ns"))[codes]
    return pd.Series(values, index=s.index, dtype="datetime64[ns]")


def typed_frame(df: pd.DataFrame, columns: tuple[C.Column, ...],
                tidy: bool = False) -> pd.DataFrame:
    """Give each canonical column its dtype: datetime64, Int64, boolean or str.

    ``tidy``: the text columns hold only tidy text (:func:`clean_text`) or None, as the
    parsers return them; no blank cell to look for."""
    cols: dict[str, object] = {}
    for c in columns:
        if c.name not in df.columns:
            continue
        s = df[c.name]
        if c.kind == "date":
            cols[c.name] = _date_series(s)
        elif c.kind in ("int", "grade"):
            cols[c.name] = pd.Series(_int_array(s), index=df.index)
        elif c.kind == "bool":
            cols[c.name] = pd.Series(_bool_array(s), index=df.index)
        elif tidy and s.dtype == "str":  # (pandas made it str already)
            cols[c.name] = s
        elif tidy and s.dtype == object:
            cols[c.name] = pd.Series(s.to_numpy(), index=df.index, dtype="str")
        else:
            cols[c.name] = _str_series(s)
    for extra in ("source_file", "source_sheet"):
        if extra in df.columns:
            cols[extra] = df[extra].astype("str") if extra == "source_file" else df[extra]
    if "source_row" in df.columns:
        cols["source_row"] = df["source_row"].astype("Int64")
    # (every column has df's index: the frame is put together without aligning them)
    out = pd.DataFrame({k: v.array if isinstance(v, pd.Series) else v
                        for k, v in cols.items()}, index=pd.RangeIndex(len(df)), copy=False)
    return out


# Items of the two-column sheets: folded label -> (kind of file, item)
def _item_index() -> tuple[dict[str, tuple[str, C.Item]], list[tuple[str, str, C.Item]]]:
    exact: dict[str, tuple[str, C.Item]] = {}
    loose: list[tuple[str, str, C.Item]] = []
    for file_kind, items in (("school", C.SCHOOL_ITEMS), ("population", C.POPULATION_ITEMS)):
        for item in items:
            for text in (item.label, *item.variants):
                exact.setdefault(C.fold(text), (file_kind, item))
                loose.append((C.fold(text), file_kind, item))
    loose.sort(key=lambda t: -len(t[0]))
    return exact, loose


_ITEMS_EXACT, _ITEMS_LOOSE = _item_index()


def match_item(text: object) -> tuple[str, C.Item] | None:
    """(kind of file, item) for a label in the "Nội dung" column, or None."""
    key = C.fold(text)
    key = re.sub(r"^([ivx]+|\d+|[a-z])\s(?=\D)", "", key) if key not in _ITEMS_EXACT else key
    if key in _ITEMS_EXACT:
        return _ITEMS_EXACT[key]
    for variant, file_kind, item in _ITEMS_LOOSE:
        if _tokens_contain(key, variant):
            return file_kind, item
    return None


def accepted_items() -> str:
    return "; ".join(f"«{i.label}»" for i in (*C.SCHOOL_ITEMS, *C.POPULATION_ITEMS))


def parse_item_value(item: C.Item, v: object) -> float | None:
    if item.kind == "bool":
        b = parse_bool(v, blank_is_no=False)
        return None if b is None else float(b)
    x = parse_number(v)
    if x is not None and item.kind == "int" and not x.is_integer():
        raise BadValue("cần một số nguyên")
    return x


def _items_frame(fr: FileRead, grid: Grid, table: Table, chosen: dict[str, int],
                 data: list[tuple[int, list[object]]]) -> None:
    ii, vi = chosen["item"], chosen["value"]
    records = []
    blank: list[tuple[int, C.Item]] = []
    for excel_row, row in data:
        label, raw = row[ii], (row[vi] if vi < len(row) else None)
        found = match_item(label) if not _blank(label) else None
        if found is None:
            if _blank(raw):
                continue  # a section heading such as "I. Cơ sở vật chất"
            fr.problems.append(_problem(
                fr, grid, excel_row, table.headers["item"], label,
                "không nhận ra nội dung này; các nội dung được chấp nhận: " + accepted_items()))
            continue
        file_kind, item = found
        try:
            value = parse_item_value(item, raw)
        except BadValue as exc:
            expected = ("cần «có» hoặc «không»" if item.kind == "bool" else
                        "cần một số không âm" if item.kind == "money" else str(exc))
            fr.problems.append(_problem(fr, grid, excel_row, table.headers["value"], raw,
                                        f"{expected} (nội dung «{item.label}»)"))
            table.bad_cells.add((excel_row, "value"))
            continue
        if value is None:
            blank.append((excel_row, item))
            continue
        records.append({"kind": file_kind, "item": item.key, "value": value,
                        "label": clean_text(label), "source_file": fr.name,
                        "source_sheet": grid.sheet, "source_row": excel_row})
    for excel_row, item in blank:
        # Some items blank: no data for them.  Every item blank: a form not filled in.
        if records:
            fr.notes.append(f"{_where(fr, grid)}, dòng {excel_row}: «{item.label}» để trống — "
                            "coi là chưa có số liệu.")
        else:
            fr.problems.append(_problem(
                fr, grid, excel_row, table.headers["value"], None,
                f"«{item.label}» để trống, và mọi nội dung của bảng đều trống: hãy điền số liệu "
                "(hoặc bỏ tệp chưa điền ra khỏi thư mục nhập)"))
    df = pd.DataFrame.from_records(
        records, columns=["kind", "item", "value", "label", "source_file", "source_sheet",
                          "source_row"])
    df["value"] = df["value"].astype("float64")
    df["source_row"] = df["source_row"].astype("Int64")
    if df.empty:  # the text columns' dtype as when rows are there (the schema checks it)
        df = df.astype({"kind": "str", "item": "str", "source_file": "str"})
    table.frame = df


# --- Folders ------------------------------------------------------------------------------------

def list_input_files(path: Path) -> tuple[list[Path], list[str]]:
    """The files of a school-year folder to read, and notes about those skipped."""
    files, notes = [], []
    for p in sorted(path.iterdir()):
        if p.name.startswith(("~$", ".")) or not p.is_file():
            continue
        if p.suffix.lower() in READABLE_SUFFIXES:
            files.append(p)
        else:
            notes.append(f"Bỏ qua tệp «{p.name}» (không phải tệp Excel .xlsx/.xlsm/.xls, bảng "
                         "tính .ods hoặc CSV).")
    return files, notes


# --- Result scales ------------------------------------------------------------------------------

RESULT_COLUMNS = ("learning_s1", "conduct_s1", "learning_year", "conduct_year")


def pupil_scale(labels: Iterable[object]) -> str | None:
    """"tt58" if an old-only label appears, "tt22" if a new-only one does, "mixed" if both."""
    seen = {x for x in labels if isinstance(x, str)}
    old, new = bool(seen & C.TT58_ONLY), bool(seen & C.TT22_ONLY)
    if old and new:
        return "mixed"
    return "tt58" if old else "tt22" if new else None


def default_scale(grade: object, school_year: str) -> str:
    """The scale Circular 22 prescribes: grade 6 from 2021-2022, one grade more each year."""
    if grade is None or grade != grade:
        return "tt22"
    reached = 6 + C.start_year(school_year) - C.TT22_FIRST_YEAR
    return "tt22" if int(grade) <= reached else "tt58"


def row_scales(pupils: pd.DataFrame) -> pd.Series:
    """:func:`pupil_scale` of every row, vectorised (None where the labels do not tell)."""
    cols = [c for c in RESULT_COLUMNS if c in pupils.columns]
    n = len(pupils)
    old = np.zeros(n, dtype=bool)
    new = np.zeros(n, dtype=bool)
    for c in cols:  # each distinct label looked up once (code -1, a blank, takes the last)
        codes, uniques = pd.factorize(pupils[c].to_numpy(dtype=object))
        old |= np.array([u in C.TT58_ONLY for u in uniques] + [False], dtype=bool)[codes]
        new |= np.array([u in C.TT22_ONLY for u in uniques] + [False], dtype=bool)[codes]
    out = np.full(n, np.nan, dtype=object)  # (NaN where the labels do not tell, as before)
    out[old & ~new] = "tt58"
    out[new & ~old] = "tt22"
    out[old & new] = "mixed"
    return pd.Series(out, index=pupils.index, dtype=object)


def result_scales(pupils: pd.DataFrame, school_year: str) -> pd.Series:
    """The result scale of each pupil.

    Read from the labels where they tell (Giỏi/Trung bình/Yếu/Kém only exist on the old scale,
    Đạt/Chưa đạt only on the new one); a pupil whose labels fit both (Tốt, Khá or none) takes
    the scale of most other pupils of the grade, else the one Circular 22 prescribes.
    """
    return result_scales_many([(pupils, school_year)])[0]


def grade_scales(fid: np.ndarray, grade_codes: np.ndarray, n_grades: int, n_tables: int,
                 own: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pupils per result scale in each (table, grade) cell ``fid * n_grades + grade code``
    (``n_grades`` ≥ 1; a missing grade, code −1, is in no cell): the Circular 22 counts, the
    Circular 58 counts and each cell's majority scale — "tt22" or "tt58"; in a tie the scale
    met first in the cell (as ``value_counts().idxmax()``); None where neither is met."""
    key = fid * n_grades + grade_codes
    valid = grade_codes >= 0
    t22, t58 = own == "tt22", own == "tt58"
    size = n_tables * n_grades
    n22 = np.bincount(key[valid & t22], minlength=size)
    n58 = np.bincount(key[valid & t58], minlength=size)
    majority = np.full(size, None, dtype=object)
    majority[n22 > n58] = "tt22"
    majority[n58 > n22] = "tt58"
    for kg in np.flatnonzero((n22 == n58) & (n22 > 0)):
        first = np.flatnonzero((key == kg) & valid & (t22 | t58))[0]
        majority[kg] = own[first]
    return n22, n58, majority


def result_scales_many(years: list[tuple[pd.DataFrame, str]]) -> list[pd.Series]:
    """:func:`result_scales` of many school years' pupil tables at once (the majority of a
    grade is that grade's within one year), one Series per table."""
    if not years:
        return []
    sizes = [len(df) for df, _ in years]
    total = sum(sizes)
    fid = np.repeat(np.arange(len(years)), sizes)

    def column(name: str) -> np.ndarray:
        parts = [df[name].to_numpy(dtype=object) if name in df.columns
                 else np.full(len(df), None, dtype=object) for df, _ in years]
        return np.concatenate(parts) if total else np.empty(0, dtype=object)

    labels = pd.DataFrame({c: column(c) for c in RESULT_COLUMNS
                           if any(c in df.columns for df, _ in years)}, dtype=object)
    own = row_scales(labels).to_numpy() if len(labels.columns) else \
        np.full(total, np.nan, dtype=object)
    grades = pd.Series(column("grade"), dtype=object)
    out = own.copy()
    t22, t58 = own == "tt22", own == "tt58"
    untold = ~(t22 | t58)
    if untold.any():  # default_scale, vectorised: Circular 22 reached grade 6 + years since
        g = pd.to_numeric(grades[untold], errors="coerce")
        reached = (6 + np.array([C.start_year(y) for _, y in years]) - C.TT22_FIRST_YEAR)[fid]
        out[untold] = np.where(g.isna() | (g <= reached[untold]), "tt22", "tt58")
    unknown_all = pd.isna(own)
    codes, uniques = pd.factorize(grades)  # (a missing grade: code -1, no group)
    n_g = max(len(uniques), 1)
    key = fid * n_g + codes
    valid = codes >= 0
    _, _, majority = grade_scales(fid, codes, n_g, len(years), own)
    take = valid & unknown_all
    take[take] = majority[key[take]] != None  # noqa: E711 - elementwise on objects
    out[take] = majority[key[take]]
    typed = pd.Series(out, dtype=object).astype("str").array
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return [pd.Series(typed[a:b], index=df.index)
            for (df, _), a, b in zip(years, bounds[:-1], bounds[1:], strict=True)]
