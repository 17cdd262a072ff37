"""The yearly data contract, as data.

Everything that knows what a staff file looks like reads this module: the reader (header
matching, value vocabularies), the validator (required columns, allowed values), the sample
generator (which headers to write) and ``docs/data-format.md``.

Canonical names are English; the Vietnamese header is the one staff see, and ``variants`` are
the other spellings real exports use.  Header matching folds case, diacritics, spacing and
punctuation (see :func:`fold`), so variants only need to list different *words*.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
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
           ("Mã HS", "Mã định danh", "Mã định danh Bộ GD&ĐT", "Mã định danh học sinh",
            "Mã định danh Bộ GD&ĐT (trên CSDL ngành)"),
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
    Column("absences_s1", "Số buổi nghỉ HK1", "int",
           ("Nghỉ HK1", "Số buổi nghỉ học kỳ 1", "Số ngày nghỉ HK1", "Số buổi nghỉ học HK1",
            "Nghỉ học HK1")),
    Column("absences_s2", "Số buổi nghỉ HK2", "int",
           ("Nghỉ HK2", "Số buổi nghỉ học kỳ 2", "Số ngày nghỉ HK2", "Số buổi nghỉ học HK2",
            "Nghỉ học HK2")),
    Column("learning_s1", "Kết quả học tập HK1", "result", ("Học lực HK1", "KQHT HK1")),
    Column("conduct_s1", "Kết quả rèn luyện HK1", "conduct", ("Hạnh kiểm HK1", "KQRL HK1")),
    Column("learning_year", "Kết quả học tập cả năm", "result",
           ("Học lực cả năm", "Học lực CN", "Kết quả học tập CN", "KQHT cả năm")),
    Column("conduct_year", "Kết quả rèn luyện cả năm", "conduct",
           ("Hạnh kiểm cả năm", "Hạnh kiểm CN", "Kết quả rèn luyện CN", "KQRL cả năm")),
    Column("outcome", "Kết quả cuối năm", "outcome",
           ("Tình trạng", "Kết quả cuối năm học", "Tình trạng cuối năm", "Kết quả lên lớp"),
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
    ("Sức khỏe", "thông tin sức khỏe"),
    ("Sức khoẻ", "thông tin sức khỏe"),
    ("Bệnh", "thông tin sức khỏe"),
    ("Nghề nghiệp", "thông tin cha/mẹ/người giám hộ"),
)

#: Whose data a heading names.  A heading naming a parent, guardian, grandparent or other
#: relative — or a citizen's/personal ID number — holds someone's personal data that is not
#: the pupil's own record: never mapped to a pupil column, never stored (read.HeaderMatcher).
#: Words are matched as whole words of the heading in lower case with its diacritics
#: ("bố" is a father, "bỏ học" and "Bộ GD&ĐT" are not).
RELATIVE_WORDS = ("bố", "mẹ", "cha", "má", "ông", "bà", "dì", "bác", "cậu", "mợ",
                  "thím", "dượng", "cô")
RELATIVE_PHRASES = ("người giám hộ", "người đỡ đầu", "người nuôi dưỡng", "người bảo hộ",
                    "người thân", "người liên hệ", "người chăm sóc", "phụ huynh", "chủ hộ",
                    "anh chị", "anh trai", "chị gái", "em trai", "em gái", "họ hàng")
#: The same words typed without diacritics (folded).  "bo", "ong" and "ba" also spell "bỏ",
#: "Bộ", "ống", "ba" (three): typed without marks they count only as the last word of the
#: heading or before a word of RELATIVE_FIELD_WORDS ("Ho ten bo", "Bo - ngay sinh").  "dì",
#: "cậu", "bác" typed without marks ("di", "cau", "bac") are not recognised: "Ngày chuyển đi".
RELATIVE_FOLDED = ("cha", "me", "nguoi giam ho", "nguoi do dau", "nguoi nuoi duong",
                   "nguoi bao ho", "nguoi than", "nguoi lien he", "phu huynh", "chu ho",
                   "ong ba", "bo me", "cha me", "anh chi", "anh trai", "chi gai", "em trai",
                   "em gai", "ho hang", "nguoi cham soc")
RELATIVE_FOLDED_GUARDED = ("bo", "ong", "ba")
RELATIVE_FIELD_WORDS = frozenset(
    ("ho", "ten", "va", "ngay", "sinh", "nam", "dan", "toc", "nghe", "nghiep", "so", "sdt",
     "dien", "thoai", "ma", "dinh", "danh", "dia", "chi", "noi", "cccd", "cmnd", "cua", "hoac",
     "me", "cha", "gioi", "tinh", "lop", "hs"))
#: Citizen and personal identity numbers (folded, whole words): never a pupil's school code.
CITIZEN_ID_FOLDED = ("can cuoc", "cccd", "cmnd", "cmtnd", "chung minh", "dinh danh cong dan",
                     "dinh danh ca nhan", "ddcn", "ho chieu", "so dinh danh ca nhan")
RELATIVE_REASON = "thông tin cha/mẹ/người giám hộ/người thân"
CITIZEN_ID_REASON = "số định danh cá nhân/căn cước công dân"

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
    "promoted": ("Lên lớp", ("Được lên lớp", "Lên lớp thẳng", "Lên lớp sau kiểm tra lại",
                             "Lên lớp sau rèn luyện hè")),
    "repeating": ("Ở lại lớp", ("Lưu ban", "Không được lên lớp", "Ở lại", "Không lên lớp")),
    "dropped_out": ("Bỏ học", ("Thôi học", "Bỏ học giữa chừng")),
    "transferred_out": ("Chuyển đi", ("Chuyển trường", "Chuyển trường đi",
                                       "Chuyển đến trường khác")),
    "completed": ("Hoàn thành chương trình THCS",
                  ("Tốt nghiệp", "Tốt nghiệp THCS", "Hoàn thành CT THCS", "HTCT THCS",
                   "Hoàn thành chương trình", "Được công nhận tốt nghiệp THCS")),
    "not_completed": ("Chưa hoàn thành chương trình THCS",
                      ("Chưa hoàn thành CT THCS", "Không tốt nghiệp", "Chưa tốt nghiệp")),
    "in_progress": ("Đang học", ("Đang đi học",)),
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
    Item("toilets", "Số nhà vệ sinh học sinh", "int",
         ("Tổng số nhà vệ sinh học sinh", "Nhà vệ sinh học sinh")),
    Item("toilets_hygienic", "Trong đó: đạt chuẩn hợp vệ sinh", "int",
         ("Số nhà vệ sinh hợp vệ sinh", "Nhà vệ sinh hợp vệ sinh", "Trong đó hợp vệ sinh")),
    Item("clean_water", "Có nước sạch", "bool", ("Nước sạch",)),
    Item("psych_service", "Có dịch vụ hỗ trợ tâm lý", "bool",
         ("Dịch vụ hỗ trợ tâm lý", "Có phòng tư vấn tâm lý")),
    Item("counselling_sessions", "Số buổi tư vấn tâm lý", "int", ("Số lượt tư vấn tâm lý",)),
    Item("pupils_counselled", "Số học sinh được tư vấn", "int",
         ("Số học sinh được tư vấn tâm lý",)),
    Item("dialogue_sessions", "Số buổi đối thoại học đường", "int", ("Đối thoại học đường",)),
    Item("staff_trained_social_work",
         "Số cán bộ, giáo viên được tập huấn công tác xã hội trường học", "int",
         ("Số giáo viên được tập huấn công tác xã hội", "Cán bộ được tập huấn công tác xã hội")),
    Item("violence_incidents", "Số vụ bạo lực học đường", "int", ("Bạo lực học đường",)),
    Item("abuse_cases", "Số vụ xâm hại trẻ em", "int",
         ("Xâm hại trẻ em", "Số trường hợp xâm hại trẻ em")),
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


class _FoldTable(dict):
    """``str.translate`` table of :func:`fold`: combining marks removed, ``đ``/``Đ`` to
    ``d``/``D``, every other character kept; filled as characters are first seen."""

    def __missing__(self, cp: int) -> int | None:
        ch = chr(cp)
        out: int | None = cp
        if ch == "đ":
            out = ord("d")
        elif ch == "Đ":
            out = ord("D")
        elif unicodedata.combining(ch):
            out = None
        self[cp] = out
        return out


_FOLD_TABLE = _FoldTable()
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
#: The combining diacritics of Vietnamese (U+034F, the grapheme joiner, is not combining).
_COMMON_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")
#: ASCII bytes to lower-case letters and digits, everything else to a space.
_ASCII_FOLD = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 else 32
                    for c in range(256))


@functools.lru_cache(maxsize=1 << 17)
def _fold_str(s: str) -> str:
    if not s.isascii():
        s = _COMMON_MARKS.sub("", unicodedata.normalize("NFKD", s))
        if "đ" in s or "Đ" in s:
            s = s.replace("đ", "d").replace("Đ", "D")
        if not s.isascii():  # other marks, letters of other scripts, symbols
            s = s.translate(_FOLD_TABLE).lower()
            return " ".join(_NON_ALNUM.sub(" ", s).split())
    return " ".join(s.encode("ascii").translate(_ASCII_FOLD).decode("ascii").split())


def fold(text: object) -> str:
    """Fold a header or value for matching: no case, diacritics, punctuation or extra spaces.

    ``đ`` is folded to ``d`` (it has no Unicode decomposition).  Non-breaking and other Unicode
    spaces count as spaces.  Cached: staff files repeat the same few values thousands of times.
    """
    return _fold_str(text if type(text) is str else str(text))


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


# --- Additions for the reader (read.py) --------------------------------------------------------

#: Headers the reader skips without a note (row numbers and the like).
IGNORED_HEADERS = ("STT", "TT", "Số TT", "Số thứ tự")

#: Some lists mark girls with an "x" in a "Nữ" column instead of a "Giới tính" column.
FEMALE_FLAG_HEADERS = ("Nữ", "HS nữ", "Học sinh nữ")
#: Headers that contain a known header but mean something else ("Nữ dân tộc" is not the
#: ethnicity); matched by folded containment and left out as "không dùng đến".
LOOKALIKE_HEADERS = ("Nữ dân tộc", "Dân tộc thiểu số", "DTTS", "Tên trường", "Lớp ghép",
                     "Trường cũ")
#: Some lists split the name in two columns ("Họ đệm" | "Tên"); they are joined into full_name.
NAME_PART_HEADERS = {
    "name_head": ("Họ đệm", "Họ và tên đệm", "Họ và đệm", "Họ, tên đệm"),
    "name_given": ("Tên",),
}

#: Abbreviations staff use for result labels (folded → label).  Full labels fold by themselves.
RESULT_ABBREVIATIONS = {
    "t": "Tốt", "k": "Khá", "d": "Đạt", "cd": "Chưa đạt", "g": "Giỏi", "tb": "Trung bình",
    "y": "Yếu", "kem": "Kém",
}
#: Labels that exist only on the old Circular 58/2011 scale; seeing one marks a pupil ``tt58``.
TT58_ONLY = {"Giỏi", "Trung bình", "Yếu", "Kém"}
#: Labels that exist only on the Circular 22/2021 scale.
TT22_ONLY = {"Đạt", "Chưa đạt"}
#: Circular 22/2021 reached grade 6 in 2021-2022 and one more grade each year after.
TT22_FIRST_YEAR = 2021

#: Common spellings of the ethnic groups around Bảo Lộc (folded → label); others are kept as
#: written.
ETHNICITY_LABELS = {
    "kinh": "Kinh", "k ho": "K'Ho", "kho": "K'Ho", "co ho": "K'Ho", "coho": "K'Ho",
    "ko ho": "K'Ho", "ma": "Mạ", "chau ma": "Châu Mạ", "tay": "Tày", "nung": "Nùng",
    "hoa": "Hoa", "muong": "Mường", "thai": "Thái", "dao": "Dao", "e de": "Ê Đê", "ede": "Ê Đê",
    "chu ru": "Chu Ru", "churu": "Chu Ru", "ra glai": "Ra Glai", "raglai": "Ra Glai",
    "h mong": "H'Mông", "hmong": "H'Mông", "mong": "H'Mông", "m nong": "M'Nông",
    "mnong": "M'Nông", "khmer": "Khmer", "cham": "Chăm", "san diu": "Sán Dìu",
    "san chay": "Sán Chay",
}

#: The intervention log kept by homeroom teachers and the counsellor (internal use only).
INTERVENTION_COLUMNS: tuple[Column, ...] = (
    Column("action_date", "Ngày", "date", ("Ngày thực hiện", "Ngày can thiệp", "Thời gian"),
           required=True),
    Column("pupil_id", "Mã học sinh", "text",
           ("Mã HS", "Mã định danh", "Mã định danh học sinh", "Mã định danh Bộ GD&ĐT"),
           required=True, personal=True),
    Column("action", "Việc đã làm", "text",
           ("Nội dung can thiệp", "Việc đã làm (Nội dung can thiệp)", "Biện pháp can thiệp",
            "Biện pháp hỗ trợ"), required=True),
    Column("staff", "Người thực hiện", "text", ("Người phụ trách", "Giáo viên thực hiện")),
    Column("result", "Kết quả", "text", ("Kết quả can thiệp", "Kết quả hỗ trợ")),
)

#: The first school year's month and day, and the last (1 August – 31 July).
YEAR_START = (8, 1)
YEAR_END = (7, 31)

_HEADER_SYNONYMS = (
    (re.compile(r"\bhoc ky\b"), "hk"),
    (re.compile(r"\bhk ?(ii|2)\b"), "hk2"),
    (re.compile(r"\bhk ?(i|1)\b"), "hk1"),
    (re.compile(r"\bca nam\b"), "cn"),
)


def header_key(text: object) -> str:
    """Fold a header and spell semesters one way ("Học kỳ I", "HKI", "HK 1" → "hk1")."""
    s = fold(text)
    for pattern, repl in _HEADER_SYNONYMS:
        s = pattern.sub(repl, s)
    return s


def intervention_column(name: str) -> Column:
    return next(c for c in INTERVENTION_COLUMNS if c.name == name)


# --- The tables of docs/data-format.md, generated from the contract above ----------------------

COLUMN_EXAMPLES = {
    "pupil_id": "2412345678", "full_name": "Nguyễn Thị Lan", "birth_date": "05/09/2012",
    "sex": "Nữ", "ethnicity": "K'Ho", "grade": "6", "class_name": "6A1",
    "entry_date": "14/10/2024", "poor": "x", "near_poor": "", "disability": "",
    "special_circumstances": "", "absences_s1": "3", "absences_s2": "0", "learning_s1": "Khá",
    "conduct_s1": "Tốt", "learning_year": "Tốt", "conduct_year": "Tốt", "outcome": "Lên lớp",
    "leave_date": "20/01/2025", "dropout_reason": "Hoàn cảnh gia đình khó khăn", "can_swim": "x",
    "action_date": "12/11/2024", "action": "Gặp phụ huynh, thăm gia đình",
    "staff": "GVCN 7A2", "result": "Học sinh đi học lại",
}

KIND_DESCRIPTIONS = {
    "text": "chữ",
    "date": "ngày: dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy, yyyy-mm-dd hoặc ô ngày của Excel",
    "int": "số nguyên từ 0 (số buổi nghỉ: 0–200)",
    "bool": "«x», «có», «1» = có; để trống, «không», «0» = không",
    "sex": "«Nam» hoặc «Nữ» (không phân biệt hoa thường, có thể không dấu)",
    "grade": "6, 7, 8 hoặc 9",
    "result": "TT22: Tốt, Khá, Đạt, Chưa đạt; TT58: Giỏi, Khá, Trung bình, Yếu, Kém "
              "(viết tắt: T, K, Đ, CĐ, G, TB, Y)",
    "conduct": "TT22: Tốt, Khá, Đạt, Chưa đạt; TT58: Tốt, Khá, Trung bình, Yếu",
    "outcome": "xem bảng «Kết quả cuối năm»",
    "money": "số tiền (đồng), ví dụ 15.500.000",
}


#: The files the reader opens (suffix → what it is); read.READABLE_SUFFIXES is the same list.
FILE_FORMATS: tuple[tuple[str, str], ...] = (
    (".xlsx", "Sổ làm việc Excel (Excel 2007 trở đi, LibreOffice «Excel 2007-365»)"),
    (".xlsm", "Sổ làm việc Excel có macro (macro không được chạy, chỉ đọc ô)"),
    (".xls", "Sổ làm việc Excel 97–2003 (phần mềm quản lý cũ, LibreOffice «Excel 97-2003»)"),
    (".ods", "Bảng tính OpenDocument (LibreOffice Calc)"),
    (".csv", "CSV: mã UTF-8, UTF-8 có BOM, Windows-1258 hoặc Windows-1252; dấu phân cách "
             "«,» «;» hoặc tab"),
)

#: The forms ``locson template`` writes (kind → file name with {year}, what it is for).
TEMPLATE_FORMS: dict[str, tuple[str, str]] = {
    "school": ("Mẫu số liệu nhà trường {year}.xlsx",
               "mọi nội dung của bảng «Số liệu nhà trường» đã ghi sẵn, cột «Giá trị» để điền "
               "(chỉ nhận số không âm hoặc Có/Không), hướng dẫn từng nội dung, số liệu năm "
               "trước (nền xám) để tham khảo"),
    "population": ("Mẫu số liệu điều tra phổ cập {year}.xlsx",
                   "như trên, cho các nội dung điều tra phổ cập"),
    "interventions": ("Mẫu nhật ký can thiệp {year}.xlsx",
                      "các cột của nhật ký can thiệp; ô «Ngày» chỉ nhận ngày trong năm học"),
    "pupils": ("Danh sách học sinh {year} - NỘI BỘ.xlsx",
               "khi cơ sở dữ liệu có năm học trước: học sinh dự kiến học tiếp (lên lớp, ở lại "
               "lớp, chưa hoàn thành chương trình) với mã, họ tên, ngày sinh, giới tính, dân "
               "tộc, khối dự kiến; các cột của năm học để trống, có danh sách chọn; trang thứ "
               "hai liệt kê học sinh năm trước không học tiếp để đối chiếu (không được nhập). "
               "Có họ tên học sinh: chỉ ghi trong data/ hoặc thư mục --out, không bao giờ trong "
               "outputs/"),
}


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _columns_table(columns: tuple[Column, ...]) -> list[str]:
    lines = ["| Tiêu đề cột | Tên khác được chấp nhận | Bắt buộc | Kiểu, giá trị | Ví dụ | "
             "Tên trong mã | Ghi chú |", "|---|---|---|---|---|---|---|"]
    for c in columns:
        variants = ", ".join(c.variants) or "—"
        example = COLUMN_EXAMPLES.get(c.name, "")
        lines.append("| " + " | ".join(_md_cell(x) for x in (
            f"**{c.header}**", variants, "có" if c.required else "không",
            KIND_DESCRIPTIONS[c.kind], f"`{example}`" if example else "(trống)", f"`{c.name}`",
            c.note or "")) + " |")
    return lines


def _items_table(items: tuple[Item, ...]) -> list[str]:
    lines = ["| Nội dung | Tên khác được chấp nhận | Kiểu | Tên trong mã |", "|---|---|---|---|"]
    kinds = {"int": "số nguyên từ 0", "bool": "«có» hoặc «không»", "money": KIND_DESCRIPTIONS[
        "money"]}
    for i in items:
        lines.append("| " + " | ".join(_md_cell(x) for x in (
            f"**{i.label}**", ", ".join(i.variants) or "—", kinds[i.kind], f"`{i.key}`")) + " |")
    return lines


def data_format_tables() -> str:
    """The generated part of docs/data-format.md (a test keeps the document in step)."""
    out: list[str] = ["### Định dạng tệp được nhận", "", "| Đuôi tệp | Loại tệp |", "|---|---|"]
    out += [f"| `{suffix}` | {_md_cell(what)} |" for suffix, what in FILE_FORMATS]
    out += ["", "Mọi định dạng qua cùng một bộ đọc và cùng các bước kiểm tra. Tệp được đặt mật "
                "khẩu, tệp hỏng hoặc tệp khác bị đổi đuôi được báo lỗi rõ ràng.", "",
            "### Mẫu nhập liệu — `locson template --year <năm học>`", "",
            "| Tệp | Nội dung |", "|---|---|"]
    out += [f"| {name.format(year='<năm học>')} | {_md_cell(what)} |"
            for name, what in TEMPLATE_FORMS.values()]
    out += ["", "### Danh sách học sinh — các cột", ""]
    out += _columns_table(PUPIL_COLUMNS)
    out += ["", f"Cột giới tính có thể thay bằng cột **{FEMALE_FLAG_HEADERS[0]}** (đánh «x» cho "
                "học sinh nữ; cũng nhận: " + ", ".join(FEMALE_FLAG_HEADERS[1:]) + ").",
            "Cột họ và tên có thể tách làm hai cột: **" + NAME_PART_HEADERS["name_head"][0]
            + "** (hoặc " + ", ".join(NAME_PART_HEADERS["name_head"][1:]) + ") và **"
            + NAME_PART_HEADERS["name_given"][0] + "**; hai phần được ghép lại.",
            "Các cột được bỏ qua không cần báo: " + ", ".join(IGNORED_HEADERS) + ".", "",
            "### Kết quả cuối năm — giá trị được chấp nhận", "",
            "| Ghi trong tệp | Cũng nhận | Tên trong mã |", "|---|---|---|"]
    for key, (label, variants) in OUTCOMES.items():
        out.append(f"| **{label}** | {', '.join(variants) or '—'} | `{key}` |")
    out += ["", f"### Số liệu nhà trường — bảng hai cột «{ITEM_HEADER[0]}» | "
                f"«{VALUE_HEADER[0]}»", "",
            f"Tiêu đề cột «{ITEM_HEADER[0]}» cũng nhận: {', '.join(ITEM_HEADER[1])}; "
            f"«{VALUE_HEADER[0]}» cũng nhận: {', '.join(VALUE_HEADER[1])}.", ""]
    out += _items_table(SCHOOL_ITEMS)
    out += ["", "### Số liệu điều tra phổ cập — cùng dạng hai cột", ""]
    out += _items_table(POPULATION_ITEMS)
    out += ["", "### Nhật ký can thiệp — các cột", ""]
    out += _columns_table(INTERVENTION_COLUMNS)
    out += ["", "### Các cột không bao giờ được lưu (dữ liệu cá nhân)", "",
            "| Tiêu đề cột có chứa | Loại thông tin |", "|---|---|"]
    for pattern, why in PERSONAL_COLUMNS_NOT_STORED:
        out.append(f"| {pattern} | {why} |")
    out += ["", *_whose_words()]
    return "\n".join(out) + "\n"


def _words(words: Iterable[str]) -> str:
    return ", ".join(f"«{w}»" for w in words)


def _whose_words() -> list[str]:
    """The words that make a heading someone else's data (read.whose_column), for the doc."""
    return [
        "### Từ làm cho một cột thành thông tin người thân hoặc số định danh — không lưu", "",
        "Một tiêu đề cột có một trong các từ dưới đây (đứng riêng thành từ, không phân biệt hoa "
        "thường) là cột dữ liệu cá nhân của người khác hoặc số định danh: không bao giờ được "
        "hiểu là cột của học sinh và không bao giờ được lưu; phần tóm tắt khi nhập ghi «không "
        "lưu (Nghị định 13/2023)». Ví dụ «Họ và tên bố», «Ngày sinh mẹ», «Dân tộc người giám "
        "hộ», «Mã định danh công dân».", "",
        "| Nhóm | Từ trong tiêu đề | Loại thông tin |", "|---|---|---|",
        f"| Người thân (có dấu) | {_md_cell(_words(RELATIVE_WORDS))} | {RELATIVE_REASON} |",
        f"| Người thân, cụm từ (có dấu) | {_md_cell(_words(RELATIVE_PHRASES))} | "
        f"{RELATIVE_REASON} |",
        f"| Người thân, gõ không dấu | {_md_cell(_words(RELATIVE_FOLDED))} | "
        f"{RELATIVE_REASON} |",
        "| Người thân, gõ không dấu, chỉ ở cuối tiêu đề hoặc trước một từ kể dưới bảng | "
        f"{_md_cell(_words(RELATIVE_FOLDED_GUARDED))} | {RELATIVE_REASON} |",
        "| Số định danh (viết ở đây không dấu; có dấu cũng vậy) | "
        f"{_md_cell(_words(CITIZEN_ID_FOLDED))} | {CITIZEN_ID_REASON} |",
        "",
        "Không dấu, «bo», «ong», «ba» cũng là «bỏ», «Bộ», «ống», «ba» (số ba), nên chỉ được tính "
        "khi là từ cuối của tiêu đề hoặc đứng trước một trong các từ "
        f"{_words(sorted(RELATIVE_FIELD_WORDS))} («Ho ten bo», «Bo - ngay sinh»); «di», «cau», "
        "«bac» không dấu không "
        "được tính («Ngày chuyển đi»). Mã học sinh của ngành (ví dụ «Mã định danh Bộ GD&ĐT») "
        "không phải số định danh công dân và vẫn được đọc.",
    ]


DOC_BEGIN = "<!-- BEGIN GENERATED FROM contract.py: python -m locson_analysis.contract -->"
DOC_END = "<!-- END GENERATED -->"


def update_data_format_doc(path: str) -> bool:
    """Rewrite the generated part of docs/data-format.md; True when it changed."""
    from pathlib import Path

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    new = f"{head}{DOC_BEGIN}\n{data_format_tables()}{DOC_END}{tail}"
    if new != text:
        p.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    import sys
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "data-format.md"
    changed = update_data_format_doc(str(doc))
    sys.stdout.write(f"{doc}: {'đã cập nhật' if changed else 'không đổi'}\n")
