"""The workbooks staff fill in each year (``locson template``).

Four forms, in Vietnamese, with the school's title rows and the place-and-date and signature
lines staff are used to, built from :mod:`locson_analysis.contract` so that a filled form
imports as it is:

- the **school-data** and **census** forms: every item pre-listed under «Nội dung», an empty
  «Giá trị» column with data validation (whole numbers ≥ 0, a Có/Không list), a short note per
  item, and last year's value in a grey column when the database has it;
- the **intervention log**: the log's columns with date validation over the school year;
- the **pupil list** of the new year, when the database holds the previous year: every pupil
  expected back (promoted, repeating, not completed) with the expected grade, the year's columns
  left empty with drop-down lists, and a second sheet of last year's pupils not expected back.
  It holds names: written under ``data/`` or the folder asked for, never under ``outputs/``,
  and says «NỘI BỘ» in its title rows.

Data validation lists only: no cell formula, no macro.  Every text written starts with a letter,
a digit or a quotation mark, never with ``= + - @`` (a spreadsheet would read it as a formula).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from . import config
from . import contract as C
from .errors import LocsonError

#: Where ``locson template`` writes by default: data/templates/<school year>/ (git-ignored).
TEMPLATES_DIR = config.DATA_DIR / "templates"
OFFICE_LINE = "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO BẢO LỘC"
NATION_LINES = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập – Tự do – Hạnh phúc")
INTERNAL_LINE = "NỘI BỘ — không gửi ra ngoài trường (có họ tên, ngày sinh của học sinh)"
REFERENCE_HEADER = "Năm học trước (tham khảo)"
GUIDE_HEADER = "Hướng dẫn"

FILE_NAMES = {kind: name for kind, (name, _) in C.TEMPLATE_FORMS.items()}

#: What to count and at which date, per item (shown beside the item in the form).
ITEM_NOTES = {
    "toilets": "Số khu/phòng vệ sinh dành cho học sinh đang sử dụng, tại thời điểm cuối năm học.",
    "toilets_hygienic": "Trong số nhà vệ sinh ở dòng trên, số đạt chuẩn hợp vệ sinh "
                        "(không lớn hơn dòng trên).",
    "clean_water": "Trường có nguồn nước sạch cho học sinh dùng trong năm học: Có hoặc Không.",
    "psych_service": "Trường có phòng hoặc dịch vụ tư vấn, hỗ trợ tâm lý học sinh: Có hoặc Không.",
    "counselling_sessions": "Cộng cả năm học (01/8 đến 31/5), mỗi buổi tư vấn tính một lần.",
    "pupils_counselled": "Số học sinh khác nhau được tư vấn trong năm học (mỗi em tính một lần).",
    "dialogue_sessions": "Số buổi đối thoại giữa nhà trường và học sinh trong năm học.",
    "staff_trained_social_work": "Số người (không phải số lượt) được tập huấn trong năm học.",
    "violence_incidents": "Số vụ bạo lực học đường đã ghi nhận trong năm học.",
    "abuse_cases": "Số trường hợp trẻ em bị xâm hại đã ghi nhận trong năm học.",
    "complaints_received": "Đơn thư, kiến nghị của học sinh, cha mẹ học sinh nhận được trong "
                           "năm học.",
    "complaints_resolved": "Trong số đơn thư ở dòng trên, số đã giải quyết xong (không lớn hơn "
                           "dòng trên).",
    "sports_clubs": "Số câu lạc bộ thể dục thể thao của học sinh hoạt động trong năm học.",
    "club_members": "Số học sinh tham gia các câu lạc bộ (mỗi em tính một lần).",
    "pupils_taught_swimming": "Số học sinh được dạy bơi trong năm học (kể cả dịp hè).",
    "pupils_policy_support": "Số học sinh được hưởng chính sách hỗ trợ (miễn giảm học phí, "
                             "hỗ trợ chi phí học tập, gạo…) trong năm học.",
    "policy_support_amount": "Tổng số tiền hỗ trợ trong năm học, ghi bằng số (đồng), "
                             "ví dụ 15500000.",
    "pop_age11": "Số trẻ sinh năm (năm đầu năm học − 11) sống trên địa bàn, theo điều tra phổ "
                 "cập giáo dục của năm học.",
    "pop_age11_in_grade6": "Trong số trẻ ở dòng trên, số đang học lớp 6 (ở bất kỳ trường nào).",
    "pop_age11_14": "Số trẻ 11 đến 14 tuổi sống trên địa bàn, theo điều tra phổ cập.",
    "pop_age11_14_in_school": "Trong số trẻ ở dòng trên, số đang đi học (ở bất kỳ trường nào).",
}

_GREY = "D9D9D9"
_EXPECTED_BACK = {"promoted", "repeating", "not_completed"}
_NOT_BACK = {"completed", "transferred_out", "dropped_out"}
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Written:
    kind: str  # "school" | "population" | "interventions" | "pupils"
    path: Path
    rows: int  # items, pre-filled pupils, or empty rows of the log


# --- Workbook helpers ----------------------------------------------------------------------------

def _text(v: object) -> object:
    """A text never read as a formula: a leading ``= + - @`` gets a quotation mark."""
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


class _Form:
    """One worksheet being written: rows appended top to bottom, styles by name."""

    def __init__(self, ws: Any, widths: list[float]):
        from openpyxl.utils import get_column_letter

        self.ws = ws
        self.row = 0
        self.width = len(widths)
        for j, w in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(j)].width = w

    def put(self, col: int, value: object, *, bold: bool = False, italic: bool = False,
            size: float | None = None, fmt: str | None = None, grey: bool = False,
            wrap: bool = False) -> Any:
        from openpyxl.styles import Alignment, Font, PatternFill

        cell = self.ws.cell(self.row, col, _text(value))
        if bold or italic or size:
            cell.font = Font(bold=bold, italic=italic, size=size)
        if fmt:
            cell.number_format = fmt
        if grey:
            cell.fill = PatternFill("solid", fgColor=_GREY)
        if wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell

    def next(self, n: int = 1) -> int:
        self.row += n
        return self.row

    def titles(self, school_line: str, title: str, lines: tuple[str, ...] = ()) -> None:
        """Office and school on the left, the nation's motto on the right, then the title."""
        right = max(3, self.width - 2)
        self.next()
        self.put(1, OFFICE_LINE)
        self.put(right, NATION_LINES[0], bold=True)
        self.next()
        self.put(1, school_line, bold=True)
        self.put(right, NATION_LINES[1], bold=True)
        self.next(2)
        # Not merged across the columns: over the four-column item forms the reader took a
        # merged title for a header cell of columns B–D ("two columns with the same meaning").
        self.put(1, title, bold=True, size=13)
        for line in lines:
            self.next()
            self.put(1, line, italic=True)
        self.next()

    def header(self, headers: list[str], grey_from: int | None = None) -> int:
        self.next()
        for j, h in enumerate(headers, 1):
            self.put(j, h, bold=True, wrap=True,
                     grey=grey_from is not None and j >= grey_from)
        self.ws.freeze_panes = self.ws.cell(self.row + 1, 1)
        return self.row

    def signatures(self, place: str) -> None:
        """A blank row, the place-and-date line, the signers (the reader's table ends here)."""
        right = max(2, self.width - 1)
        self.next(2)
        self.put(right, f"{place}, ngày …… tháng …… năm ……", italic=True)
        self.next()
        self.put(1, "Người lập biểu", bold=True)
        self.put(right, "HIỆU TRƯỞNG", bold=True)
        self.next()
        self.put(1, "(Ký, ghi rõ họ tên)", italic=True)
        self.put(right, "(Ký tên, đóng dấu)", italic=True)


def _validation(ws: Any, cells: str, kind: str, *, choices: tuple[str, ...] = (),
                low: float | None = None, high: float | None = None, what: str = "") -> None:
    """Excel data validation (a list, or bounds on whole numbers, decimals or dates) with a
    Vietnamese message; the bounds are numbers (dates as Excel serial numbers), not formulas."""
    from openpyxl.worksheet.datavalidation import DataValidation

    if kind == "list":
        dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"',
                            allow_blank=True)
        dv.error = f"Chọn một giá trị trong danh sách: {', '.join(choices)}."
    else:
        operator = "between" if high is not None else "greaterThanOrEqual"
        dv = DataValidation(type=kind, operator=operator, formula1=str(low),
                            formula2=None if high is None else str(high), allow_blank=True)
        dv.error = f"Cần {what}."
    dv.errorTitle = "Giá trị không hợp lệ"
    dv.showErrorMessage = True
    ws.add_data_validation(dv)
    dv.add(cells)


def _serial(d: date) -> int:
    """Excel's serial number of a date (1900 date system)."""
    return (d - date(1899, 12, 30)).days


def _year_window(school_year: str) -> tuple[date, date]:
    start = C.start_year(school_year)
    return date(start, *C.YEAR_START), date(start + 1, *C.YEAR_END)


def _date_validation(ws: Any, cells: str, school_year: str) -> None:
    first, last = _year_window(school_year)
    _validation(ws, cells, "date", low=_serial(first), high=_serial(last),
                what=f"một ngày trong năm học {school_year} "
                     f"({first:%d/%m/%Y} đến {last:%d/%m/%Y})")


def school_line(school_code: str) -> str:
    """The school's title row, as the importer recognises it ("TRƯỜNG THCS LỘC SƠN"); a school
    not in data/schools.yaml is a :class:`LocsonError` (its forms could not be imported)."""
    from .schools import load_registry

    registry = load_registry()
    if school_code not in registry:
        raise LocsonError(f"Mã trường «{school_code}» chưa có trong danh sách trường "
                          f"{config.SCHOOLS_FILE.name}; các mã hiện có: "
                          f"{', '.join(registry)}. Hãy thêm trường vào tệp đó trước.")
    return f"TRƯỜNG {registry[school_code].name}".upper()


def _place(school_code: str) -> str:
    return "Lộc Sơn" if school_code == C.DEFAULT_SCHOOL else "……………"


def _save(wb: Any, path: Path) -> Path:
    wb.properties.creator = "locson template"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# --- The forms ---------------------------------------------------------------------------------

def write_items_form(kind: str, school_year: str, school_code: str, path: Path,
                     previous: dict[str, float] | None = None) -> Written:
    """The school-data (``kind="school"``) or census (``"population"``) form."""
    from openpyxl import Workbook

    items = C.SCHOOL_ITEMS if kind == "school" else C.POPULATION_ITEMS
    title = ("SỐ LIỆU NHÀ TRƯỜNG" if kind == "school"
             else "SỐ LIỆU ĐIỀU TRA PHỔ CẬP GIÁO DỤC") + f" NĂM HỌC {school_year}"
    wb = Workbook()
    ws = wb.active
    ws.title = "Số liệu" if kind == "school" else "Phổ cập"
    form = _Form(ws, [58, 16, 60, 18])
    form.titles(school_line(school_code), title, (
        f"Điền cột «{C.VALUE_HEADER[0]}»: số nguyên không âm, hoặc chọn Có/Không. Ô để trống "
        "nghĩa là chưa có số liệu. Không sửa cột «Nội dung».",))
    form.header([C.ITEM_HEADER[0], C.VALUE_HEADER[0], GUIDE_HEADER, REFERENCE_HEADER],
                grey_from=4)
    for item in items:
        form.next()
        form.put(1, item.label, wrap=True)
        value_cell = form.put(2, None, fmt="#,##0" if item.kind == "money" else None)
        form.put(3, ITEM_NOTES[item.key], wrap=True)
        old = (previous or {}).get(item.key)
        shown: object = None
        if old is not None and not pd.isna(old):
            shown = ("Có" if old else "Không") if item.kind == "bool" else float(old)
        form.put(4, shown, grey=True, fmt="#,##0" if item.kind != "bool" else None)
        if item.kind == "bool":
            _validation(ws, value_cell.coordinate, "list", choices=("Có", "Không"))
        else:
            _validation(ws, value_cell.coordinate, "whole" if item.kind == "int" else "decimal",
                        low=0, what="một số không âm" + (" (số nguyên)" if item.kind == "int"
                                                         else ""))
    form.signatures(_place(school_code))
    return Written(kind, _save(wb, path), len(items))


#: Empty rows of the intervention log (with formats and validation).
LOG_ROWS = 300


def write_interventions_form(school_year: str, school_code: str, path: Path) -> Written:
    from openpyxl import Workbook

    cols = C.INTERVENTION_COLUMNS
    wb = Workbook()
    ws = wb.active
    ws.title = "Nhật ký"
    form = _Form(ws, [14, 16, 50, 22, 36])
    form.titles(school_line(school_code), f"NHẬT KÝ CAN THIỆP NĂM HỌC {school_year}", (
        "NỘI BỘ — không gửi ra ngoài trường. Mỗi lần hỗ trợ một học sinh ghi một dòng; ngày "
        "trong năm học; mã học sinh như trong danh sách học sinh.",))
    form.header([c.header for c in cols])
    first = form.row + 1
    last = first + LOG_ROWS - 1
    for r in range(first, last + 1):
        ws.cell(r, 1).number_format = "dd/mm/yyyy"
        ws.cell(r, 2).number_format = "@"
    _date_validation(ws, f"A{first}:A{last}", school_year)
    form.row = last
    form.signatures(_place(school_code))
    return Written("interventions", _save(wb, path), LOG_ROWS)


def expected_pupils(previous: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(expected back with ``expected_grade``, not expected back) from last year's pupils.

    Promoted pupils come back one grade up, repeating pupils and grade-9 pupils who did not
    complete the programme in the same grade; pupils who completed, transferred out or dropped
    out are not expected.
    """
    outcome = previous["outcome"].astype(str)
    if (outcome == "in_progress").any():
        raise LocsonError("Năm học trước còn đang diễn ra (học sinh «Đang học»): hãy nhập danh "
                          "sách cuối năm của năm học trước rồi mới lập danh sách năm mới.")
    back = previous[outcome.isin(_EXPECTED_BACK).to_numpy()].copy()
    grade = back["grade"].astype(int)
    back["expected_grade"] = grade.where(back["outcome"].astype(str) != "promoted", grade + 1)
    back = back.sort_values(["expected_grade", "class_name", "full_name"], kind="stable")
    gone = previous[outcome.isin(_NOT_BACK).to_numpy()]
    return back.reset_index(drop=True), gone.sort_values(
        ["grade", "class_name", "full_name"], kind="stable").reset_index(drop=True)


#: The pupil form's columns, in order (canonical names; "stt" is the row number).
PUPIL_FORM_COLUMNS = ("stt", "pupil_id", "full_name", "birth_date", "sex", "ethnicity", "grade",
                      "class_name", "entry_date", "poor", "near_poor", "disability",
                      "special_circumstances", "can_swim", "absences_s1", "absences_s2",
                      "learning_s1", "conduct_s1", "learning_year", "conduct_year", "outcome",
                      "leave_date", "dropout_reason")
#: Carried over from last year (staff correct what changed); the rest of the year is empty.
CARRIED = ("pupil_id", "full_name", "birth_date", "sex", "ethnicity", "poor", "near_poor",
           "disability", "special_circumstances", "can_swim")
_WIDTH = {"stt": 5, "pupil_id": 14, "full_name": 26, "birth_date": 12, "ethnicity": 10,
          "dropout_reason": 26}


def _result_choices(column: str, scale: str) -> tuple[str, ...]:
    conduct = column.startswith("conduct")
    if scale == "tt22":
        return C.RESULTS_TT22
    return C.CONDUCT_TT58 if conduct else C.LEARNING_TT58


def write_pupils_form(school_year: str, school_code: str, path: Path,
                      previous: pd.DataFrame) -> Written:
    """The new year's pupil list from last year's pupils (``previous``: ``store.load`` rows of
    the previous year, with names)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    from .read import default_scale

    back, gone = expected_pupils(previous)
    cols = PUPIL_FORM_COLUMNS
    headers = ["STT" if c == "stt" else C.pupil_column(c).header for c in cols]
    headers.append(REFERENCE_HEADER)
    letter = {c: get_column_letter(j) for j, c in enumerate(cols, 1)}
    wb = Workbook()
    ws = wb.active
    ws.title = "DSHS"
    form = _Form(ws, [_WIDTH.get(c, 11) for c in cols] + [22])
    form.titles(school_line(school_code), f"DANH SÁCH HỌC SINH NĂM HỌC {school_year}", (
        INTERNAL_LINE,
        "Lập từ danh sách năm học trước: học sinh lên lớp, ở lại lớp, chưa hoàn thành chương "
        "trình; «Khối» là khối dự kiến. Điền lớp, kết quả trong năm; sửa các ô đã có nếu thay "
        "đổi; xoá dòng của học sinh không trở lại; thêm học sinh mới ở các dòng trống cuối bảng.",
    ))
    form.header(headers, grey_from=len(cols) + 1)
    first = form.row + 1
    for n, p in enumerate(back.itertuples(index=False), 1):
        form.next()
        form.put(1, n)
        for j, c in enumerate(cols, 1):
            if c not in CARRIED and c != "grade":
                continue
            v = getattr(p, "expected_grade" if c == "grade" else c)
            if v is None or v is pd.NA or (not isinstance(v, str) and pd.isna(v)):
                continue
            kind = "grade" if c == "grade" else C.pupil_column(c).kind
            if kind == "date":
                form.put(j, pd.Timestamp(v).date(), fmt="dd/mm/yyyy")
            elif kind == "bool":
                if bool(v):
                    form.put(j, "x")
            elif kind == "sex":
                form.put(j, C.SEX_LABELS.get(str(v)))
            elif kind == "grade":
                form.put(j, int(v))
            else:
                form.put(j, str(v), fmt="@" if c == "pupil_id" else None)
        form.put(len(cols) + 1, f"Lớp {p.class_name}: {C.OUTCOME_LABELS[str(p.outcome)]}",
                 grey=True)
    new_rows = max(60, int((previous["grade"].astype(int) == C.GRADES[0]).sum()) + 20)
    last = form.row + new_rows
    for r in range(first, last + 1):
        ws.cell(r, cols.index("pupil_id") + 1).number_format = "@"
        for c in ("birth_date", "entry_date", "leave_date"):
            ws.cell(r, cols.index(c) + 1).number_format = "dd/mm/yyyy"
    def rng(c: str) -> str:
        return f"{letter[c]}{first}:{letter[c]}{last}"

    _validation(ws, rng("sex"), "list", choices=tuple(C.SEX_LABELS.values()))
    _validation(ws, rng("grade"), "list", choices=tuple(str(g) for g in C.GRADES))
    for c in ("poor", "near_poor", "disability", "special_circumstances", "can_swim"):
        _validation(ws, rng(c), "list", choices=("x",))
    for c in ("absences_s1", "absences_s2"):
        _validation(ws, rng(c), "whole", low=0, high=200, what="số buổi nghỉ từ 0 đến 200")
    for c in ("entry_date", "leave_date"):
        _date_validation(ws, rng(c), school_year)
    _validation(ws, rng("outcome"), "list", choices=tuple(C.OUTCOME_LABELS.values()))
    # Results: the scale of each row's grade this year (new pupils' rows: grade 6's scale).
    grades = [int(g) for g in back["expected_grade"]] + [C.GRADES[0]] * new_rows
    by_scale: dict[str, list[int]] = {}
    for r, g in zip(range(first, last + 1), grades, strict=True):
        by_scale.setdefault(default_scale(g, school_year), []).append(r)
    for scale, rows in by_scale.items():
        for c in ("learning_s1", "conduct_s1", "learning_year", "conduct_year"):
            cells = " ".join(f"{letter[c]}{a}:{letter[c]}{b}" for a, b in _runs(rows))
            _validation(ws, cells, "list", choices=_result_choices(c, scale))
    form.row = last
    form.signatures(_place(school_code))
    _write_gone_sheet(wb.create_sheet("Không học tiếp"), school_code, gone)
    return Written("pupils", _save(wb, path), len(back))


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive row numbers as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


#: Headers of the check-only sheet, chosen so the importer does not read it as a pupil list
#: (no pupil-ID or name header): it lists pupils not expected back, for checking only.
GONE_HEADERS = ("Số TT", "Mã số", "Học sinh", "Ngày sinh", "Lớp năm trước", "Năm trước")


def _write_gone_sheet(ws: Any, school_code: str, gone: pd.DataFrame) -> None:
    form = _Form(ws, [6, 14, 26, 12, 14, 34])
    form.titles(school_line(school_code), "HỌC SINH NĂM HỌC TRƯỚC KHÔNG HỌC TIẾP", (
        INTERNAL_LINE,
        "Để đối chiếu, không nhập: học sinh đã hoàn thành chương trình, chuyển đi hoặc bỏ học "
        "năm học trước. Em nào vẫn học ở trường thì chuyển sang trang DSHS.",))
    form.header(list(GONE_HEADERS))
    for n, p in enumerate(gone.itertuples(index=False), 1):
        form.next()
        form.put(1, n)
        form.put(2, str(p.pupil_id), fmt="@")
        form.put(3, str(p.full_name))
        if not pd.isna(p.birth_date):
            form.put(4, pd.Timestamp(p.birth_date).date(), fmt="dd/mm/yyyy")
        form.put(5, str(p.class_name))
        form.put(6, C.OUTCOME_LABELS[str(p.outcome)])


# --- The command -------------------------------------------------------------------------------

def _check_out_dir(out: Path) -> None:
    """Forms are inputs and the pupil list holds names: never under outputs/."""
    resolved = out.resolve()
    outputs = config.OUTPUTS_DIR.resolve()
    if resolved == outputs or outputs in resolved.parents:
        raise LocsonError(f"Không ghi mẫu vào {out}: thư mục outputs/ là nơi để báo cáo gửi "
                          "đi, còn danh sách học sinh có họ tên, ngày sinh (NỘI BỘ). Hãy ghi "
                          f"vào {TEMPLATES_DIR} (mặc định) hoặc chọn thư mục khác bằng --out.")


def write_templates(school_year: str, out_dir: str | Path | None = None,
                    school_code: str | None = None,
                    db: str | Path | None = None) -> tuple[list[Written], list[str]]:
    """Write the year's forms; returns what was written and Vietnamese notes.

    ``out_dir`` defaults to ``data/templates/<school_year>/``.  Last year's values and pupils
    come from ``db`` (default: the project database) when it exists and holds them.
    """
    if C.parse_school_year(school_year) != school_year:
        raise LocsonError(f"Năm học «{school_year}» không đúng dạng; cần ví dụ 2026-2027.")
    out = Path(out_dir) if out_dir else TEMPLATES_DIR / school_year
    _check_out_dir(out)
    code = school_code or C.DEFAULT_SCHOOL
    school_line(code)  # an unknown school stops here, before any file is written
    prev_year = C.previous_year(school_year)
    db = Path(db) if db else config.DEFAULT_DB
    notes: list[str] = []
    previous_pupils = pd.DataFrame()
    previous_items: dict[str, dict[str, float]] = {"school": {}, "population": {}}
    if db.exists():
        from . import store

        ds = store.load(db, school_code=code, years=[prev_year], with_names=True)
        previous_pupils = ds.pupils
        for kind, frame in (("school", ds.school), ("population", ds.population)):
            previous_items[kind] = dict(zip(frame["item"], frame["value"], strict=True))
    else:
        notes.append(f"Chưa có cơ sở dữ liệu {db}: mẫu không có cột số liệu năm trước và chưa "
                     "lập được danh sách học sinh.")
    written: list[Written] = []
    for kind in ("school", "population"):
        written.append(write_items_form(kind, school_year, code,
                                        out / FILE_NAMES[kind].format(year=school_year),
                                        previous_items[kind] or None))
    written.append(write_interventions_form(
        school_year, code, out / FILE_NAMES["interventions"].format(year=school_year)))
    if len(previous_pupils):
        try:
            written.append(write_pupils_form(
                school_year, code, out / FILE_NAMES["pupils"].format(year=school_year),
                previous_pupils))
        except LocsonError as exc:
            notes.append(f"Chưa lập danh sách học sinh: {exc}")
    elif db.exists():
        notes.append(f"Cơ sở dữ liệu chưa có danh sách học sinh năm học {prev_year} của trường "
                     f"{code}: chưa lập được danh sách học sinh năm học {school_year} (lấy danh "
                     "sách từ phần mềm quản lý trường học).")
    return written, notes
