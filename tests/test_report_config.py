"""The official-document settings (data/report.yaml): the shipped file, the date line, errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from locson_analysis import disclosure, report_config
from locson_analysis.errors import LocsonError
from locson_analysis.report_config import date_line, official_document

GOOD = """\
place: Lộc Sơn
signer: {title: HIỆU TRƯỞNG, name: Trần Văn A}
schools:
  LOCSON: {document_code: BC-THCSLS}
recipients:
  - until: 2024-2025
    managing_body: Phòng GD&ĐT thành phố Bảo Lộc
    to: [Phòng Giáo dục và Đào tạo thành phố Bảo Lộc]
    copies: [Như trên, "Lưu: VT"]
    confirmed: true
  - from: 2025-2026
    managing_body: Ủy ban nhân dân phường 1 Bảo Lộc
    to: [Ủy ban nhân dân phường 1 Bảo Lộc, Sở Giáo dục và Đào tạo tỉnh Lâm Đồng]
    copies: ["- Như trên;", "Lưu: VT."]
    confirmed: true
suppression: {min_count: 3}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "report.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_shipped_file_sends_to_the_pgd_up_to_2024_2025():
    for year in ("2019-2020", "2024-2025"):
        d = official_document("LOCSON", year, date(2025, 6, 30))
        assert d.managing_body == "PHÒNG GD&ĐT THÀNH PHỐ BẢO LỘC"
        assert d.to == ("Phòng Giáo dục và Đào tạo thành phố Bảo Lộc",)
        assert d.confirmed and d.notes == ()
    assert d.motto == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert d.tagline == "Độc lập - Tự do - Hạnh phúc"
    assert d.school == "TRƯỜNG THCS LỘC SƠN"
    assert d.document_number == "Số:      /BC-THCSLS"
    assert d.place_date == "Lộc Sơn, ngày 30 tháng 6 năm 2025"
    assert d.copies == ("- Như trên;", "- Lưu: VT.")
    assert d.signer_title == "HIỆU TRƯỞNG"
    assert d.to_line() == "Kính gửi: Phòng Giáo dục và Đào tạo thành phố Bảo Lộc."


def test_the_shipped_file_marks_later_recipients_as_not_confirmed():
    for year in ("2025-2026", "2031-2032"):
        d = official_document("LOCSON", year, date(2026, 12, 16))
        assert not d.confirmed
        assert "Sở Giáo dục và Đào tạo tỉnh Lâm Đồng" in d.to
        assert len(d.notes) == 1 and year in d.notes[0]
        assert "data/report.yaml" in d.notes[0] and "confirmed: true" in d.notes[0]
    assert d.to_line().startswith("Kính gửi:\n- ")
    assert report_config.suppression_threshold() == disclosure.DEFAULT_THRESHOLD == 5


@pytest.mark.parametrize(("day", "line"), [
    (date(2026, 2, 6), "Lộc Sơn, ngày 06 tháng 02 năm 2026"),
    (date(2026, 1, 15), "Lộc Sơn, ngày 15 tháng 01 năm 2026"),
    (date(2026, 3, 5), "Lộc Sơn, ngày 05 tháng 3 năm 2026"),
    (date(2026, 11, 20), "Lộc Sơn, ngày 20 tháng 11 năm 2026"),
])
def test_date_line_pads_days_below_10_and_months_1_and_2(day, line):
    assert date_line("Lộc Sơn", day) == line


def test_a_configured_file_is_followed(tmp_path):
    p = _write(tmp_path, GOOD)
    d = official_document("LOCSON", "2026-2027", date(2027, 6, 1), path=p)
    assert d.managing_body == "ỦY BAN NHÂN DÂN PHƯỜNG 1 BẢO LỘC"
    assert d.to == ("Ủy ban nhân dân phường 1 Bảo Lộc", "Sở Giáo dục và Đào tạo tỉnh Lâm Đồng")
    assert d.copies == ("- Như trên;", "- Lưu: VT.")  # punctuation written once, not twice
    assert d.confirmed and d.notes == ()
    assert d.signer_name == "Trần Văn A"
    assert report_config.suppression_threshold(p) == 3
    other = official_document("LOCPHAT", "2024-2025", date(2025, 6, 1), path=p)
    assert other.school == "TRƯỜNG THCS LỘC PHÁT"
    assert other.document_number == "Số:      /BC-LOCPHAT"


def test_every_problem_of_a_bad_file_is_named_at_once(tmp_path):
    p = _write(tmp_path, """\
place: Lộc Sơn
sender: x
recipients:
  - until: 2024
    managing_body: Phòng GD&ĐT
    to: []
    copies: [Như trên, Lưu: VT]
    confirmed: yes please
  - from: 2023-2024
    managing_body: ""
    to: [Sở GD&ĐT]
    copies: [Như trên]
    confirmed: true
suppression: {min_count: 0}
""")
    with pytest.raises(LocsonError) as e:
        report_config.load_settings(p)
    msg = str(e.value)
    assert str(p) in msg
    for key in ("«sender»", "«recipients[1].until»", "«recipients[1].to»",
                "«recipients[1].copies[2]»", "«recipients[1].confirmed»",
                "«recipients[2].managing_body»", "«suppression.min_count»"):
        assert key in msg, key
    assert '"Lưu: VT"' in msg  # says how to write a line with a colon
    assert "có 7 lỗi" in msg


def test_overlapping_years_and_an_uncovered_year_are_errors(tmp_path):
    p = _write(tmp_path, GOOD.replace("from: 2025-2026", "from: 2024-2025"))
    with pytest.raises(LocsonError, match=r"«recipients\[1\]» và «recipients\[2\]»: cùng áp "
                                          r"dụng cho năm học 2024-2025;"):
        report_config.load_settings(p)
    p = _write(tmp_path, GOOD.replace("  - from: 2025-2026", "  - from: 2026-2027"))
    with pytest.raises(LocsonError, match="không có mục nào cho năm học 2025-2026"):
        official_document("LOCSON", "2025-2026", date(2026, 1, 1), path=p)


def test_a_missing_file_says_what_it_is(tmp_path):
    with pytest.raises(LocsonError, match="Không thấy tệp .*Kính gửi"):
        report_config.load_settings(tmp_path / "none.yaml")


# --- the group report's issuing office and recipients (group_recipients) -----------------------

GROUP = """\
group_recipients:
  - until: 2024-2025
    managing_body: Ủy ban nhân dân thành phố Bảo Lộc
    issuer: Phòng Giáo dục và Đào tạo
    document_code: BC-PGDĐT
    signer: {title: TRƯỞNG PHÒNG, name: Lê Văn B}
    place: Bảo Lộc
    to: [Ủy ban nhân dân thành phố Bảo Lộc]
    copies: [Như trên, "Lưu: VT"]
    confirmed: true
  - from: 2025-2026
    issuer: Sở Giáo dục và Đào tạo tỉnh Lâm Đồng
    to: [Ủy ban nhân dân tỉnh Lâm Đồng, Bộ Giáo dục và Đào tạo]
    copies: [Như trên, "Lưu: VT"]
    confirmed: false
"""


def test_group_recipients_are_read_by_year(tmp_path):
    s = report_config.load_settings(_write(tmp_path, GOOD + GROUP))
    early = report_config.group_recipients_for("2023-2024", s)
    assert early.issuer == "Phòng Giáo dục và Đào tạo"
    assert early.managing_body == "Ủy ban nhân dân thành phố Bảo Lộc"  # the line above it
    assert early.place == "Bảo Lộc" and early.to == ("Ủy ban nhân dân thành phố Bảo Lộc",)
    assert early.confirmed and early.document_code == "BC-PGDĐT"
    assert (early.signer_title, early.signer_name) == ("TRƯỞNG PHÒNG", "Lê Văn B")
    late = report_config.group_recipients_for("2026-2027", s)
    assert late.to == ("Ủy ban nhân dân tỉnh Lâm Đồng", "Bộ Giáo dục và Đào tạo")
    assert late.place == "" and not late.confirmed
    # a file without the section: None (the group report says it uses the schools' entry)
    assert report_config.group_recipients_for(
        "2024-2025", report_config.load_settings(_write(tmp_path, GOOD))) is None


def test_group_recipients_problems_are_named_with_the_others(tmp_path):
    bad = GROUP.replace("issuer: Sở", "issuing: Sở").replace(
        "from: 2025-2026", "from: 2024-2025").replace("name: Lê Văn B}", "name: B, seal: x}")
    with pytest.raises(LocsonError) as e:
        report_config.load_settings(_write(tmp_path, GOOD + bad))
    msg = str(e.value)
    for part in ("«group_recipients[2].issuing»: không dùng đến",
                 "«group_recipients[2].issuer»: cần một dòng chữ",
                 "«group_recipients[1].signer.seal»: không dùng đến",
                 "«group_recipients[1]» và «group_recipients[2]»"):
        assert part in msg, part
    # «place» belongs to group entries only
    with pytest.raises(LocsonError, match=r"«recipients\[1\].place»: không dùng đến \(mục "
                                          r"này chỉ dùng trong «group_recipients»\)"):
        report_config.load_settings(_write(tmp_path, GOOD.replace(
            "    confirmed: true\n", "    confirmed: true\n    place: X\n", 1)))
    uncovered = _write(tmp_path, GOOD + GROUP.replace("until: 2024-2025", "until: 2023-2024"))
    with pytest.raises(LocsonError, match="«group_recipients»: không có mục nào cho năm học "
                                          "2024-2025"):
        report_config.group_recipients_for("2024-2025", report_config.load_settings(uncovered))


def test_the_shipped_file_has_unconfirmed_group_recipients_for_every_year():
    s = report_config.load_settings()
    for year in ("2022-2023", "2024-2025", "2025-2026", "2030-2031"):
        r = report_config.group_recipients_for(year, s)
        assert r is not None and r.to and not r.confirmed, year


def test_group_document_lays_out_the_office_report(tmp_path):
    p = _write(tmp_path, GOOD + GROUP)
    d = report_config.group_document("2024-2025", date(2025, 6, 3), path=p)
    assert d.managing_body == "ỦY BAN NHÂN DÂN THÀNH PHỐ BẢO LỘC"
    assert d.school == "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"  # the issuing office
    assert d.document_number == "Số:      /BC-PGDĐT"
    assert d.place_date == "Bảo Lộc, ngày 03 tháng 6 năm 2025"
    assert d.to == ("Ủy ban nhân dân thành phố Bảo Lộc",)
    assert d.copies == ("- Như trên;", "- Lưu: VT.")
    assert (d.signer_title, d.signer_name, d.notes) == ("TRƯỞNG PHÒNG", "Lê Văn B", ())
    later = report_config.group_document("2025-2026", date(2026, 1, 5), "UBND tỉnh X", path=p)
    assert later.to == ("UBND tỉnh X",) and later.managing_body == ""
    assert later.place_date.startswith("Lộc Sơn, ngày 05 tháng 01 năm 2026")  # file's place
    assert later.signer_title == "THỦ TRƯỞNG CƠ QUAN" and later.document_number.endswith("/BC")
    assert len(later.notes) == 1 and "«group_recipients»" in later.notes[0]
    stand_in = report_config.group_document("2025-2026", date(2026, 1, 5),
                                            path=_write(tmp_path, GOOD))
    assert stand_in.school == "ỦY BAN NHÂN DÂN PHƯỜNG 1 BẢO LỘC"  # the schools' managing body
    assert "chưa có mục «group_recipients»" in stand_in.notes[0]


def test_a_dict_where_a_line_is_expected_gets_the_right_hint(tmp_path):
    with pytest.raises(LocsonError) as e:
        report_config.load_settings(_write(tmp_path, "place: {a: 1}\n" + GOOD.split("\n", 1)[1]))
    assert "«place»: cần một dòng chữ, nhận được {'a': 1}" in str(e.value)
    assert "Lưu: VT" not in str(e.value)
