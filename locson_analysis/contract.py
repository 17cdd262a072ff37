"""The yearly data contract, as data.

Everything that knows what a staff file looks like reads this module: the reader (header
matching, value vocabularies), the validator (required columns, allowed values), the sample
generator (which headers to write) and ``docs/data-format.md``.

Canonical names are English; the Vietnamese header is the one staff see, and ``variants`` are
the other spellings real exports use.  Header matching folds case, diacritics, spacing and
punctuation (see :func:`fold`), so variants only need to list different *words*.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

DEFAULT_SCHOOL = "LOCSON"
SCHOOL_NAME = "Trường THCS Lộc Sơn"
GRADES = (6, 7, 8, 9)
LAST_GRADE = 9
#: Circular 22/2021: more than 45 sessions missed in a year and a pupil may not move up.
ABSENCE_LIMIT = 45

Kind = Literal["text", "date", "int", "bool", "sex", "grade", "result", "conduct", "outcome"]


@dataclass(frozen=True)
class Column:
    name: str  # canonical, English
    header: str  # Vietnamese, as staff see it
    kind: Kind
    variants: tuple[str, ...] = ()
    required: bool = False
    personal: bool = False  # identifies a child: never leaves the school
    note: str = ""


PUPIL_COLUMNS: tuple[Column, ...] = (
    Column("pupil_id", "Mã học sinh", "text",
           ("Mã HS", "Mã định danh", "Mã định danh Bộ GD&ĐT", "Mã định danh học sinh"),
           required=True, personal=True, note="Ổn định qua các năm."),
    Column("full_name", "Họ và tên", "text", ("Họ tên", "Họ và tên học sinh", "Tên học sinh"),
           required=True, personal=True),
    Column("birth_date", "Ngày sinh", "date", ("Ngày tháng năm sinh",), required=True,
           personal=True),
    Column("sex", "Giới tính", "sex", ("Phái",), required=True),
    Column("ethnicity", "Dân tộc", "text", (), required=True),
    Column("grade", "Khối", "grade", ("Khối lớp",),
           note="Có thể bỏ trống nếu tên lớp bắt đầu bằng khối (6A1 → 6)."),
    Column("class_name", "Lớp", "text", ("Tên lớp", "Mã lớp", "Lớp học"), required=True),
    Column("entry_date", "Ngày vào trường", "date", ("Ngày chuyển đến", "Ngày nhập học"),
           note="Chỉ ghi cho học sinh đến sau khi năm học bắt đầu."),
    Column("poor", "Hộ nghèo", "bool", ("HS hộ nghèo", "Thuộc hộ nghèo")),
    Column("near_poor", "Hộ cận nghèo", "bool", ("HS hộ cận nghèo", "Thuộc hộ cận nghèo")),
    Column("disability", "Khuyết tật", "bool", ("HS khuyết tật", "Học sinh khuyết tật")),
    Column("special_circumstances", "Hoàn cảnh đặc biệt", "bool",
           ("HS có hoàn cảnh đặc biệt", "Có hoàn cảnh đặc biệt")),
    Column("absences_s1", "Số buổi nghỉ HK1", "int", ("Nghỉ HK1", "Số buổi nghỉ học kỳ 1")),
    Column("absences_s2", "Số buổi nghỉ HK2", "int", ("Nghỉ HK2", "Số buổi nghỉ học kỳ 2")),
    Column("learning_s1", "Kết quả học tập HK1", "result", ("Học lực HK1",)),
    Column("conduct_s1", "Kết quả rèn luyện HK1", "conduct", ("Hạnh kiểm HK1",)),
    Column("learning_year", "Kết quả học tập cả năm", "result",
           ("Học lực cả năm", "Học lực CN", "Kết quả học tập CN")),
    Column("conduct_year", "Kết quả rèn luyện cả năm", "conduct",
           ("Hạnh kiểm cả năm", "Hạnh kiểm CN", "Kết quả rèn luyện CN")),
    Column("outcome", "Kết quả cuối năm", "outcome", ("Tình trạng", "Kết quả cuối năm học"),
           required=True),
    Column("leave_date", "Ngày nghỉ", "date", ("Ngày nghỉ học", "Ngày chuyển đi", "Ngày thôi học"),
           note="Bắt buộc khi học sinh bỏ học hoặc chuyển đi."),
    Column("dropout_reason", "Lý do bỏ học", "text", ("Lý do nghỉ học", "Lý do")),
    Column("can_swim", "Biết bơi", "bool", ("HS biết bơi",)),
)

#: Columns that real exports carry and the workbook must never store (Decree 13/2023/NĐ-CP:
#: children's personal data is sensitive).  Matched by folded substring.
PERSONAL_COLUMNS_NOT_STORED: tuple[tuple[str, str], ...] = (
    ("Họ tên cha", "họ tên cha/mẹ/người giám hộ"),
    ("Họ tên mẹ", "họ tên cha/mẹ/người giám hộ"),
    ("Họ tên bố", "họ tên cha/mẹ/người giám hộ"),
    ("Cha", "thông tin cha/mẹ/người giám hộ"),
    ("Mẹ", "thông tin cha/mẹ/người giám hộ"),
    ("Người giám hộ", "thông tin cha/mẹ/người giám hộ"),
    ("Phụ huynh", "thông tin cha/mẹ/người giám hộ"),
    ("Địa chỉ", "địa chỉ nơi ở"),
    ("Nơi ở", "địa chỉ nơi ở"),
    ("Thường trú", "địa chỉ nơi ở"),
    ("Tạm trú", "địa chỉ nơi ở"),
    ("Quê quán", "địa chỉ nơi ở"),
    ("Nơi sinh", "nơi sinh"),
    ("Số ĐDCN", "số định danh cá nhân (căn cước)"),
    ("Định danh cá nhân", "số định danh cá nhân (căn cước)"),
    ("CCCD", "số định danh cá nhân (căn cước)"),
    ("CMND", "số định danh cá nhân (căn cước)"),
    ("Căn cước", "số định danh cá nhân (căn cước)"),
    ("Điện thoại", "số điện thoại"),
    ("SĐT", "số điện thoại"),
    ("Email", "thư điện tử"),
    ("Tôn giáo", "tôn giáo"),
    ("Ghi chú", "ghi chú tự do (có thể chứa thông tin cá nhân)"),
)

SEX_VALUES = {"nam": "M", "nu": "F", "n": "F"}
SEX_LABELS = {"M": "Nam", "F": "Nữ"}

# Results: the Circular 22/2021 scale and the older Circular 58/2011 scale are both accepted and
# kept apart by ``result_scale`` (``tt22`` or ``tt58``).  Stored values are Vietnamese labels.
RESULTS_TT22 = ("Tốt", "Khá", "Đạt", "Chưa đạt")
LEARNING_TT58 = ("Giỏi", "Khá", "Trung bình", "Yếu", "Kém")
CONDUCT_TT58 = ("Tốt", "Khá", "Trung bình", "Yếu")
#: Old scale → "at least Đạt" for the all-round development indicator (documented in
#: docs/indicators.md): Trung bình and above count as passing, as Circular 58 let a pupil with
#: Trung bình learning and conduct move up.
TT58_PASSING = {"Giỏi", "Khá", "Trung bình", "Tốt"}
TT22_PASSING = {"Tốt", "Khá", "Đạt"}

OUTCOMES: dict[str, tuple[str, tuple[str, ...]]] = {
    # canonical: (Vietnamese label, variants)
    "promoted": ("Lên lớp", ("Được lên lớp", "Lên lớp thẳng")),
    "repeating": ("Ở lại lớp", ("Lưu ban", "Không được lên lớp")),
    "dropped_out": ("Bỏ học", ("Thôi học",)),
    "transferred_out": ("Chuyển đi", ("Chuyển trường", "Chuyển trường đi")),
    "completed": ("Hoàn thành chương trình THCS",
                  ("Tốt nghiệp", "Tốt nghiệp THCS", "Hoàn thành CT THCS", "HTCT THCS")),
    "not_completed": ("Chưa hoàn thành chương trình THCS",
                      ("Chưa hoàn thành CT THCS", "Không tốt nghiệp", "Chưa tốt nghiệp")),
    "in_progress": ("Đang học", ()),
}
OUTCOME_LABELS = {k: v[0] for k, v in OUTCOMES.items()}

YES_VALUES = {"x", "co", "1", "true", "yes", "v", "c"}
NO_VALUES = {"", "khong", "0", "false", "no", "k"}


@dataclass(frozen=True)
class Item:
    key: str
    label: str  # Vietnamese, as written in the "Nội dung" column
    kind: Literal["int", "bool", "money"]
    variants: tuple[str, ...] = ()


SCHOOL_ITEMS: tuple[Item, ...] = (
    Item("toilets", "Số nhà vệ sinh học sinh", "int", ("Tổng số nhà vệ sinh học sinh", "Nhà vệ sinh học sinh")),
    Item("toilets_hygienic", "Trong đó: đạt chuẩn hợp vệ sinh", "int",
         ("Số nhà vệ sinh hợp vệ sinh", "Nhà vệ sinh hợp vệ sinh", "Trong đó hợp vệ sinh")),
    Item("clean_water", "Có nước sạch", "bool", ("Nước sạch",)),
    Item("psych_service", "Có dịch vụ hỗ trợ tâm lý", "bool",
         ("Dịch vụ hỗ trợ tâm lý", "Có phòng tư vấn tâm lý")),
    Item("counselling_sessions", "Số buổi tư vấn tâm lý", "int", ("Số lượt tư vấn tâm lý",)),
    Item("pupils_counselled", "Số học sinh được tư vấn", "int", ("Số học sinh được tư vấn tâm lý",)),
    Item("dialogue_sessions", "Số buổi đối thoại học đường", "int", ("Đối thoại học đường",)),
    Item("staff_trained_social_work", "Số cán bộ, giáo viên được tập huấn công tác xã hội trường học", "int",
         ("Số giáo viên được tập huấn công tác xã hội", "Cán bộ được tập huấn công tác xã hội")),
    Item("violence_incidents", "Số vụ bạo lực học đường", "int", ("Bạo lực học đường",)),
    Item("abuse_cases", "Số vụ xâm hại trẻ em", "int", ("Xâm hại trẻ em", "Số trường hợp xâm hại trẻ em")),
    Item("complaints_received", "Số đơn thư, kiến nghị nhận được", "int",
         ("Số khiếu nại, kiến nghị nhận được", "Đơn thư kiến nghị nhận được")),
    Item("complaints_resolved", "Số đơn thư, kiến nghị đã giải quyết", "int",
         ("Số khiếu nại, kiến nghị đã giải quyết", "Đơn thư kiến nghị đã giải quyết")),
    Item("sports_clubs", "Số câu lạc bộ thể thao", "int", ("Câu lạc bộ thể thao",)),
    Item("club_members", "Số học sinh tham gia câu lạc bộ", "int", ("Thành viên câu lạc bộ",)),
    Item("pupils_taught_swimming", "Số học sinh được dạy bơi", "int", ("Học sinh được dạy bơi",)),
    Item("pupils_policy_support", "Số học sinh được hỗ trợ chính sách", "int",
         ("Học sinh được hỗ trợ chính sách",)),
    Item("policy_support_amount", "Tổng kinh phí hỗ trợ (đồng)", "money",
         ("Kinh phí hỗ trợ", "Số tiền hỗ trợ", "Tổng kinh phí hỗ trợ")),
)

POPULATION_ITEMS: tuple[Item, ...] = (
    Item("pop_age11", "Số trẻ 11 tuổi trên địa bàn", "int", ("Trẻ 11 tuổi", "Số trẻ 11 tuổi")),
    Item("pop_age11_in_grade6", "Trong đó: vào lớp 6", "int",
         ("Số trẻ 11 tuổi vào lớp 6", "Trẻ 11 tuổi vào lớp 6", "Trong đó vào lớp 6")),
    Item("pop_age11_14", "Số trẻ 11–14 tuổi trên địa bàn", "int",
         ("Trẻ 11-14 tuổi", "Số trẻ 11-14 tuổi", "Số trẻ từ 11 đến 14 tuổi")),
    Item("pop_age11_14_in_school", "Trong đó: đang đi học", "int",
         ("Số trẻ 11-14 tuổi đang đi học", "Trẻ 11-14 tuổi đang đi học", "Trong đó đang đi học")),
)

#: Headers of the two-column sheets (school sheet and population sheet).
ITEM_HEADER = ("Nội dung", ("Chỉ tiêu", "Hạng mục", "Nội dung thống kê"))
VALUE_HEADER = ("Giá trị", ("Số liệu", "Số lượng", "Kết quả"))

FILE_KINDS = {
    "pupils": "danh sách học sinh",
    "school": "số liệu nhà trường",
    "population": "số liệu điều tra phổ cập",
    "interventions": "nhật ký can thiệp",
}


def fold(text: object) -> str:
    """Fold a header or value for matching: no case, diacritics, punctuation or extra spaces.

    ``đ`` is folded to ``d`` (it has no Unicode decomposition).  Non-breaking and other Unicode
    spaces count as spaces.
    """
    s = unicodedata.normalize("NFKD", str(text)).replace("đ", "d").replace("Đ", "D")
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    s = re.sub(r"[^0-9a-z]+", " ", s)
    return " ".join(s.split())


@dataclass
class HeaderIndex:
    """Folded header → canonical name, for one list of columns."""

    exact: dict[str, str] = field(default_factory=dict)

    @classmethod
    def for_columns(cls, columns: tuple[Column, ...]) -> HeaderIndex:
        idx = cls()
        for col in columns:
            for h in (col.header, *col.variants):
                idx.exact[fold(h)] = col.name
        return idx


def pupil_column(name: str) -> Column:
    return next(c for c in PUPIL_COLUMNS if c.name == name)


def school_years_between(first: str, last: str) -> list[str]:
    """All school years from ``first`` to ``last`` inclusive ("2019-2020" … "2025-2026")."""
    a, b = start_year(first), start_year(last)
    return [year_label(y) for y in range(a, b + 1)]


YEAR_RE = re.compile(r"(?<!\d)(20\d\d)\s*[-–_/]\s*(20\d\d)(?!\d)")


def parse_school_year(text: str) -> str | None:
    """Find a school year like 2024-2025 (or 2024_2025, 2024–2025) in text; None when absent."""
    m = YEAR_RE.search(str(text))
    if m and int(m.group(2)) == int(m.group(1)) + 1:
        return year_label(int(m.group(1)))
    return None


def start_year(school_year: str) -> int:
    return int(school_year[:4])


def year_label(start: int) -> str:
    return f"{start}-{start + 1}"


def previous_year(school_year: str) -> str:
    return year_label(start_year(school_year) - 1)


def next_year(school_year: str) -> str:
    return year_label(start_year(school_year) + 1)
