"""Header matching that knows whose data a column holds (issue 12, point 1).

A heading naming a parent, guardian, grandparent or other relative, or a citizen's ID number,
is never mapped to a pupil column and never stored, in every order and spelling staff write
it; a name split in «Họ đệm» + «Tên» is joined only from the pupil's own columns."""

from __future__ import annotations

import os
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locson_analysis import contract as C
from locson_analysis import read as R

SETTINGS = settings(max_examples=int(os.environ.get("LOCSON_HYPOTHESIS_EXAMPLES", "200")),
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])
FILE_SETTINGS = settings(max_examples=int(os.environ.get("LOCSON_HYPOTHESIS_EXAMPLES", "25")),
                         deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: What a column says about the person (the pupil's own fields, as staff write them).
FIELDS = ["Họ và tên", "Họ tên", "Họ và tên đệm", "Tên", "Ngày sinh", "Ngày tháng năm sinh",
          "Năm sinh", "Dân tộc", "Nghề nghiệp", "Số điện thoại", "SĐT", "Mã định danh",
          "Mã định danh Bộ GD&ĐT", "Địa chỉ", "Họ đệm", "Mã HS", "Giới tính", "Lớp"]
RELATIVES = ["bố", "mẹ", "cha", "ông", "bà", "ông bà", "cha mẹ", "bố mẹ", "người giám hộ",
             "người đỡ đầu", "phụ huynh", "người nuôi dưỡng", "chủ hộ", "anh chị", "dì",
             "cậu", "bác"]
CITIZEN_IDS = ["Mã định danh công dân", "Số định danh cá nhân", "Số CCCD", "CCCD", "CMND",
               "Số căn cước", "Căn cước công dân", "Số CMND/CCCD", "Định danh cá nhân",
               "Số ĐDCN", "Số hộ chiếu", "Chứng minh nhân dân"]
AMBIGUOUS_UNMARKED = {"dì", "cậu", "bác"}
SEPARATORS = [" ", " - ", ": ", " (", "/", "\n", " – ", "  ", ", "]


def strip_marks(text: str) -> str:
    """The text typed without diacritics (đ → d)."""
    out = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in out if not unicodedata.combining(c))


SPELLINGS = {
    "as written": lambda s: s, "upper": str.upper, "lower": str.lower, "title": str.title,
    "no diacritics": strip_marks, "no diacritics, upper": lambda s: strip_marks(s).upper(),
    "decomposed (NFD)": lambda s: unicodedata.normalize("NFD", s),
    "full-width letters": lambda s: s.translate({i: i + 0xFEE0 for i in range(0x21, 0x7F)}),
}


@st.composite
def relative_heading(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(FIELDS))
    who = draw(st.sampled_from(RELATIVES))
    sep = draw(st.sampled_from(SEPARATORS))
    text = f"{field}{sep}{who}" if draw(st.booleans()) else f"{who}{sep}{field}"
    if sep == " (":
        text += ")"
    spellings = sorted(SPELLINGS)
    if who in AMBIGUOUS_UNMARKED:  # "di" is also "đi" (Ngày chuyển đi): only with its marks
        spellings = [s for s in spellings if "no diacritics" not in s]
    return SPELLINGS[draw(st.sampled_from(spellings))](text)


@st.composite
def citizen_heading(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(CITIZEN_IDS))
    if draw(st.booleans()):
        whose = draw(st.sampled_from(["học sinh", "HS", "của học sinh"]))
        text = f"{text}{draw(st.sampled_from(SEPARATORS))}{whose}"
    return SPELLINGS[draw(st.sampled_from(sorted(SPELLINGS)))](text)


@SETTINGS
@given(relative_heading(), st.sampled_from(R.TABLE_KINDS))
def test_a_relatives_heading_is_personal_in_every_order_and_spelling(heading: str,
                                                                     kind: str) -> None:
    m = R.MATCHERS[kind].match(heading)
    assert m is not None and m.status == "personal", (heading, m)
    assert m.reason == C.RELATIVE_REASON


@SETTINGS
@given(citizen_heading())
def test_a_citizen_id_heading_is_personal_never_the_pupil_id(heading: str) -> None:
    m = R.MATCHERS["pupils"].match(heading)
    assert m is not None and m.status == "personal", (heading, m)
    assert m.reason == C.CITIZEN_ID_REASON


PUPIL_HEADINGS = [h for c in C.PUPIL_COLUMNS for h in (c.header, *c.variants)] + [
    *C.FEMALE_FLAG_HEADERS, *(h for v in C.NAME_PART_HEADERS.values() for h in v),
    "Ngày bỏ học", "Lý do bỏ học", "Mã định danh Bộ GD&ĐT (trên CSDL ngành)",
    "Họ và tên học sinh (viết hoa)"]


@SETTINGS
@given(st.sampled_from(PUPIL_HEADINGS), st.sampled_from(sorted(SPELLINGS)))
def test_the_pupils_own_headings_are_never_taken_for_a_relatives(heading: str,
                                                                  spelling: str) -> None:
    written = SPELLINGS[spelling](heading)
    assert R.whose_column(written) is None, written
    m = R.MATCHERS["pupils"].match(written)
    assert m is not None and m.status != "personal", (written, m)


def test_the_cases_of_the_review_are_each_personal() -> None:
    for heading in ("Họ và tên bố", "Ngày sinh bố", "Dân tộc bố", "Mã định danh công dân",
                    "Họ tên ông bà", "Họ và tên người đỡ đầu", "Ho ten bo", "NGAY SINH ME"):
        assert R.MATCHERS["pupils"].match(heading).status == "personal", heading
    # The same letters without the relative are the pupil's: «bỏ học», «Bộ GD&ĐT».
    assert R.MATCHERS["pupils"].match("Ngay bo hoc").status != "personal"
    assert R.MATCHERS["pupils"].match("Ma dinh danh Bo GD&DT").name == "pupil_id"


PUPIL = {"Mã học sinh": "HS001", "Họ đệm": "Nguyễn Văn", "Tên": "An", "Ngày sinh":
         datetime(2012, 3, 5), "Giới tính": "Nam", "Dân tộc": "Kinh", "Lớp": "6A1",
         "Kết quả cuối năm": "Lên lớp"}
PARENT = {"Họ và tên bố": "Trần Văn Bố", "Ngày sinh bố": datetime(1980, 1, 1),
          "Dân tộc bố": "Tày", "Mã định danh công dân": "068080001234",
          "Họ tên ông bà": "Lê Thị Bà", "Họ và tên người đỡ đầu": "Phạm Văn Đỡ",
          "Họ tên mẹ": "Hồ Thị Mẹ"}


@FILE_SETTINGS
@given(st.permutations([*PUPIL, *PARENT]), st.booleans())
def test_a_parents_columns_are_never_read_as_the_pupils(order: list[str],
                                                        own_name: bool) -> None:
    """Real workbooks, columns in any order, the pupil's own name split («Họ đệm» + «Tên») or
    whole: the stored row holds the pupil's values only, each parent column is noted as not
    stored (Decree 13), never as "không dùng đến"."""
    values = {**PUPIL, **PARENT}
    headers = list(order)
    if own_name:
        headers = [h for h in headers if h not in ("Họ đệm", "Tên")] + ["Họ và tên"]
        values["Họ và tên"] = "Nguyễn Văn An"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    ws.append([values[h] for h in headers])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ds.xlsx"
        wb.save(path)
        fr = R.read_file(path)
    assert not fr.problems, fr.problems
    (table,) = fr.tables
    row = table.frame.iloc[0]
    assert row["full_name"] == "Nguyễn Văn An"
    assert row["pupil_id"] == "HS001"
    assert row["birth_date"] == datetime(2012, 3, 5)
    assert row["ethnicity"] == "Kinh"
    stored = {str(v) for v in table.frame.iloc[0].tolist()}
    for parent_value in PARENT.values():
        assert str(parent_value) not in stored
    notes = "\n".join(fr.notes)
    for heading in PARENT:
        assert f"cột «{heading}» {R.PERSONAL_NOTE}" in notes
        assert f"cột «{heading}» {R.UNUSED_NOTE}" not in notes


def test_split_names_are_joined_from_the_pupils_columns_not_a_lookalike(tmp_path: Path) -> None:
    """«Họ tên GVCN» contains "họ tên" but is not the pupil's: with «Họ đệm» + «Tên» present
    the full name is joined from those, and the teacher's column is noted as unused."""
    wb = openpyxl.Workbook()
    ws = wb.active
    headers = ["Mã học sinh", "Họ tên GVCN", "Họ đệm", "Tên", "Ngày sinh", "Giới tính",
               "Dân tộc", "Lớp", "Kết quả cuối năm"]
    ws.append(headers)
    ws.append(["HS001", "Võ Thị Giáo", "Nguyễn Văn", "An", datetime(2012, 3, 5), "Nam", "Kinh",
               "6A1", "Lên lớp"])
    path = tmp_path / "ds.xlsx"
    wb.save(path)
    fr = R.read_file(path)
    assert not fr.problems
    assert fr.tables[0].frame["full_name"].tolist() == ["Nguyễn Văn An"]
    assert any(f"cột «Họ tên GVCN» {R.UNUSED_NOTE} (họ tên học sinh ghép từ cột «Họ đệm» và "
               "«Tên»)" in n for n in fr.notes)
