"""The group report end to end (issue 14): the notebook run by papermill and exported by
nbconvert on the crafted three-school database of ``test_group`` (AN every file; BINH without
its school-data file; CUONG with 2024-2025 in progress), its HTML and Excel workbook against
hand counts, ``locson report --group``, and a planted identifiable pupil that neither the
HTML nor the workbook may give away."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from locson_analysis import cli, disclosure, store
from locson_analysis.report import group as group_report
from tests.builders import pupil
from tests.test_group import SCHOOLS_YAML, Y1, _rows, _year
from tests.test_group import db as _db  # noqa: F401  (the crafted database fixture)
from tests.test_group import schools_file as _schools_file  # noqa: F401

db = _db
schools_file = _schools_file


def _text(html: str) -> str:
    body = re.sub(r"<style.*?</style>|<script.*?</script>|data:image/png;base64,[^\"]+", "",
                  html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).replace("&amp;", "&")


def _cells(path: Path) -> dict[str, list[list[object]]]:
    wb = load_workbook(path, read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb}


@pytest.fixture(scope="module")
def made(db: Path, schools_file: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> group_report.GroupReportPaths:
    out = tmp_path_factory.mktemp("out")
    return group_report.run_group_report(db, Y1, "ba-truong", schools_file=schools_file,
                                         out_dir=out)


def test_report_files_in_the_group_folder(made: group_report.GroupReportPaths) -> None:
    assert made.html.parent.parts[-2:] == ("ba-truong", Y1)
    for p in (made.html, made.notebook, made.xlsx):
        assert p.is_file(), p
    assert not [p for p in made.html.parent.iterdir() if p.name.startswith(".")]  # no tmp left


def test_html_is_offline_vietnamese_without_code(made: group_report.GroupReportPaths) -> None:
    html = made.html.read_text(encoding="utf-8")
    assert '<html lang="vi"' in html
    assert not re.findall(r'(?:src|href)="https?://', html)  # no outside request
    assert "import seaborn" not in html and "group_report.build" not in html
    assert "Traceback" not in html
    assert html.count("<img") >= 2 and 'alt="' in html


def test_html_shows_the_hand_counted_figures(made: group_report.GroupReportPaths) -> None:
    text = _text(made.html.read_text(encoding="utf-8"))
    for part in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Kính gửi:",
                 "Ba trường thử", "Báo cáo gồm 3 trường",
                 # matrix: AN's completion 19/20, BINH's no school sheet, CUONG followed
                 "Chưa đạt (95,0 %)", "Chưa có số liệu", "Đang theo dõi (4,76 %)",
                 # pooled completion 29/30 over AN and BINH, CUONG named
                 "96,7 % 29 30 2/3", "Chưa có số liệu của: Trường THCS Cường",
                 # pooled dropout 4/81 (CUONG's so far)
                 "4,94 % 4 81 3/3",
                 "5. Tỷ lệ học sinh bỏ học : 2 trường có học sinh bỏ học: 3 em.",
                 "1 trường chưa gửi số liệu nhà trường năm học 2024-2025: Trường THCS Bình.",
                 "Trường THCS An (1)", "Nơi nhận:"):
        assert part in text, part
    assert disclosure.HIDDEN_MARK in text
    assert "DỮ LIỆU MẪU" not in text  # the crafted database is not sample data
    assert "CUONG" not in text and "BINH" not in text  # schools named, never by their code


def test_html_summary_says_what_the_pool_covers(made: group_report.GroupReportPaths) -> None:
    """Every school has a figure; 5 of the 6 pooled rows hold CUONG's running year (followed),
    completion pools AN and BINH: 29/30 < 97,5 %."""
    text = _text(made.html.read_text(encoding="utf-8"))
    assert ("Số liệu gộp của cả 3 trường đạt 0/6 chỉ tiêu của giai đoạn (1 chỉ tiêu chưa đạt, "
            "5 chỉ tiêu đang theo dõi vì có trường chưa kết thúc năm học).") in text
    assert "Đây là báo cáo giữa năm" not in text and "chưa đưa vào các biểu đồ" not in text


def test_small_rates_have_two_decimals_everywhere(made: group_report.GroupReportPaths) -> None:
    """Dropout (tables.SMALL_RATE_KEYS) as the school report writes it, 4/81 = 4,94 %: in the
    pooled and the equity table, the dot plot's and the trend's alt text; the other rates with
    one decimal (AN's completion 19/20)."""
    html = made.html.read_text(encoding="utf-8")
    text = _text(html)
    assert "Dân tộc Kinh 4,94 % 4 81 3" in text  # equity, pooled over the three schools
    assert ("Tỷ lệ học sinh bỏ học, năm học 2024-2025: giá trị của 3 trường (từ 4,76 % đến "
            "5,00 %), chỉ tiêu &lt; 0,06 %; 2 trường chưa đạt, 1 trường đang theo dõi.") in html
    assert "(2023-2024: 0,00 %; 2024-2025: 4,94 %)" in html  # the trend's alt text
    assert "từ 95,0 % đến 100,0 %" in html and "4,9 %" not in text


def test_captions_when_every_school_meets_the_target(planted: tuple[Path, Path]) -> None:
    """Both schools of the planted database have 4/4 hygienic toilets and 20/20 children of
    11 in grade 6; BINH has its one dropout (1/25 ≥ 0,06 %), AN none.  Drawing one school of
    two: the caption says both met the target, not «the one furthest from it»."""
    db_path, sf = planted
    report = group_report.build(db_path, Y1, "hai", schools_file=sf)
    assert group_report.chart_caption(report, "toilets_hygienic_share", limit=1) == (
        "Tỷ lệ nhà vệ sinh học sinh đạt chuẩn hợp vệ sinh, năm học 2024-2025: cả 2 trường đạt "
        "chỉ tiêu; biểu đồ vẽ 1 trong 2 trường có số liệu (các trường cùng giá trị 100,0 %; "
        "đủ các trường trong tệp Excel, trang «Ma trận chỉ tiêu»). Đường đứt: chỉ tiêu.")
    assert group_report.chart_caption(report, "dropout_rate", limit=1) == (
        "Tỷ lệ học sinh bỏ học, năm học 2024-2025: 1 trường đạt, 1 trường chưa đạt; biểu đồ "
        "vẽ 1 trong 2 trường có số liệu (1 trường xa chỉ tiêu nhất, xa nhất ở trên cùng; đủ "
        "các trường trong tệp Excel, trang «Ma trận chỉ tiêu»). Đường đứt: chỉ tiêu.")
    assert group_report.chart_caption(report, "dropout_rate") == (
        "Tỷ lệ học sinh bỏ học, năm học 2024-2025: 1 trường đạt, 1 trường chưa đạt. Đường "
        "đứt: chỉ tiêu.")
    assert group_report.chart_alt(report, "dropout_rate") == (
        "Tỷ lệ học sinh bỏ học, năm học 2024-2025: giá trị của 2 trường (từ 0,00 % đến "
        "4,00 %), chỉ tiêu < 0,06 %; 1 trường đạt, 1 trường chưa đạt.")


def test_summary_names_the_schools_without_any_figure(db: Path, tmp_path: Path) -> None:
    """DUNG (in schools.yaml, no file in the database) beside AN: the pooled figures are AN's
    alone, and the summary says so, naming DUNG by its name."""
    f = tmp_path / "schools.yaml"
    f.write_text(SCHOOLS_YAML.replace("groups:", "  - code: DUNG\n    name: THCS Dũng\ngroups:")
                 , encoding="utf-8")
    report = group_report.build(db, Y1, ["AN", "DUNG"], schools_file=f)
    assert group_report.summary_sentences(report)[1:] == [
        "Số liệu gộp của 1/2 trường đạt 0/6 chỉ tiêu của giai đoạn (6 chỉ tiêu chưa đạt). Chi "
        "tiết từng trường ở bảng dưới.",
        "Chưa có số liệu của 1 trường: Trường THCS Dũng."]
    notes = " ".join(report.tables["pooled"]["Ghi chú"])
    assert "Chưa có số liệu của: Trường THCS Dũng" in notes and "DUNG" not in notes
    # DUNG sent no pupil list: nothing checked against last year, not «0 findings»
    done = report.tables["completeness"].set_index("Trường")["Phát hiện đối chiếu năm trước"]
    assert done.to_dict() == {"Trường THCS An": "1", "Trường THCS Dũng": "—"}


def test_summary_of_a_year_outside_the_plan_judges_nothing(db: Path, schools_file: Path,
                                                          tmp_path: Path) -> None:
    from locson_analysis import config

    plan = config.TARGETS_FILE.read_text(encoding="utf-8")
    later = tmp_path / "targets.yaml"  # the plan's second phase only (2025-2030)
    later.write_text(plan[:plan.index("  - name:")] + plan[plan.index("  - name:", plan.index(
        "  - name:") + 1):], encoding="utf-8")
    report = group_report.build(db, Y1, "ba-truong", schools_file=schools_file,
                                targets_file=later)
    assert group_report.summary_sentences(report)[1] == (
        "Năm học 2024-2025 nằm ngoài các giai đoạn của kế hoạch: số liệu gộp của cả 3 trường "
        "được ghi để so sánh, không đánh giá đạt hay chưa đạt. Chi tiết từng trường ở bảng "
        "dưới.")


def test_gender_parity_label_keeps_thcs_in_capitals(made: group_report.GroupReportPaths
                                                    ) -> None:
    text = _text(made.html.read_text(encoding="utf-8"))
    labels = {r[0] for r in _cells(made.xlsx)["Công bằng (gộp)"] if r and r[0]}
    assert "Chỉ số bình đẳng giới — tỷ lệ học sinh hoàn thành chương trình THCS (lớp 9)" \
        in labels  # (hidden on this small pool, so listed in the workbook only)
    assert "thcs" not in text and not any("thcs" in str(v) for v in labels)


@pytest.fixture(scope="module")
def made_mid(db: Path, schools_file: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> group_report.GroupReportPaths:
    out = tmp_path_factory.mktemp("mid")
    return group_report.run_group_report(db, Y1, "ba-truong", schools_file=schools_file,
                                         out_dir=out, mid_year=True)


def test_mid_year_report_judges_nothing_it_cannot(made_mid: group_report.GroupReportPaths
                                                  ) -> None:
    """CUONG's year is running: its targets with a value so far are followed, its completion
    has no data (as the pooled note says); the summary says the targets are followed and how
    many have figures; the mid-year paragraph; the trends stop at 2023-2024."""
    html = made_mid.html.read_text(encoding="utf-8")
    text = _text(html)
    assert ("Năm học chưa kết thúc: các chỉ tiêu đang được theo dõi, chưa đánh giá đạt hay chưa "
            "đạt. Đến nay 6/6 chỉ tiêu đã có số liệu gộp (số liệu gộp của cả 3 trường); 1 chỉ "
            "tiêu chỉ gồm các trường đã kết thúc năm học nên đã đánh giá được: 0 đạt, 1 chưa "
            "đạt.") in text
    assert "đạt 0/6" not in text
    assert "Đây là báo cáo giữa năm: năm học 2024-2025 chưa kết thúc." in text
    # the matrix row of CUONG: followed where it has a value, no data for completion
    row = text[text.index("Trường THCS Cường Đang theo dõi"):][:200]
    assert row.startswith("Trường THCS Cường Đang theo dõi (100,0 %) Đang theo dõi (100,0 %) "
                          "Đang theo dõi (100,0 %) Đang theo dõi (Có) Chưa có số liệu "
                          "Đang theo dõi (4,76 %)"), row
    assert "Năm học 2024-2025 chưa kết thúc nên chưa đưa vào các biểu đồ" in text
    assert "(2023-2024: 0,00 %); đường nét đứt màu đỏ là chỉ tiêu. Năm học 2024-2025 chưa " \
           "kết thúc: chưa đưa vào biểu đồ." in html
    assert "0 trường đạt" not in html and "1 trường đang theo dõi" in html


def test_issuer_and_recipients_come_from_group_recipients(
        made: group_report.GroupReportPaths) -> None:
    """data/report.yaml's «group_recipients» for 2024-2025 (the PGD, to the city and the
    province); its «confirmed: false» is for the analyst: printed and in the executed notebook,
    never in the report sent."""
    import nbformat

    text = _text(made.html.read_text(encoding="utf-8"))
    for part in ("ỦY BAN NHÂN DÂN THÀNH PHỐ BẢO LỘC PHÒNG GIÁO DỤC VÀ ĐÀO TẠO Số: /BC-PGDĐT",
                 "BÁO CÁO NĂM HỌC 2024-2025", "Bảo Lộc, ngày", "TRƯỞNG PHÒNG",
                 "Kính gửi: - Ủy ban nhân dân thành phố Bảo Lộc; - Sở Giáo dục và Đào tạo "
                 "tỉnh Lâm Đồng.", "- Như trên; - Lưu: VT."):
        assert part in text, part
    assert made.notes and "«group_recipients»" in made.notes[0]
    assert "group_recipients" not in text and "Cần kiểm tra" not in text
    nb = nbformat.read(made.notebook, as_version=4)
    shown = [o for c in nb.cells if c.cell_type == "code" and "remove-cell" in
             c.metadata.get("tags", []) for o in c.get("outputs", [])]
    assert any("«group_recipients»" in str(o.get("data", {})) for o in shown)


def test_header_without_group_recipients_uses_the_schools_entry_and_says_so(
        tmp_path: Path) -> None:
    from datetime import date

    from locson_analysis import config

    text = config.REPORT_CONFIG_FILE.read_text(encoding="utf-8")
    older = tmp_path / "report.yaml"
    older.write_text(text[:text.index("group_recipients:\n")] + "suppression:\n  min_count: 5\n",
                     encoding="utf-8")
    h = group_report.header(Y1, None, date(2025, 6, 1), older)
    assert h.school == "PHÒNG GD&ĐT THÀNH PHỐ BẢO LỘC"  # the schools' managing body
    assert h.to == ("Phòng Giáo dục và Đào tạo thành phố Bảo Lộc",)
    assert h.place_date.startswith("Lộc Sơn, ngày 01 tháng 6 năm 2025")
    assert len(h.notes) == 1 and "chưa có mục «group_recipients»" in h.notes[0]
    given = group_report.header(Y1, "Sở GD&ĐT tỉnh X", date(2025, 6, 1), older)
    assert given.to == ("Sở GD&ĐT tỉnh X",)


def test_notebook_is_thin_and_records_its_parameters(made: group_report.GroupReportPaths
                                                     ) -> None:
    import nbformat

    nb = nbformat.read(made.notebook, as_version=4)
    params = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert params and "ba-truong" in params[0].source
    src = Path("notebooks/group_report.py").read_text(encoding="utf-8")
    assert "sns.scatterplot" in src and "sns.lineplot" in src  # the charts are drawn in cells
    assert ".sum(" not in src and "groupby" not in src  # no cell computes a figure


def test_workbook_with_hand_counts_and_hidden_cells(made: group_report.GroupReportPaths
                                                    ) -> None:
    sheets = _cells(made.xlsx)
    assert list(sheets) == ["Ma trận chỉ tiêu", "Số liệu gộp", "Trường xa chỉ tiêu",
                            "Công bằng (gộp)", "Xu hướng gộp", "Đầy đủ số liệu",
                            "Đối chiếu năm trước"]
    pooled = sheets["Số liệu gộp"]
    head = next(i for i, r in enumerate(pooled) if r and r[0] == "Chỉ tiêu số")
    rows = {r[1]: r for r in pooled[head + 1:]}
    comp = rows["Tỷ lệ học sinh hoàn thành chương trình THCS (lớp 9)"]
    assert comp[3:7] == [29, 30, 2, 3] and comp[2] == pytest.approx(29 / 30)
    assert comp[8] == "Chưa đạt"
    equity = sheets["Công bằng (gộp)"]
    special = [r for r in equity if r and r[0] == "Tỷ lệ học sinh bỏ học"
               and r[2] == "Hoàn cảnh đặc biệt"]
    assert special and special[0][3:7] == [disclosure.HIDDEN_MARK] * 4
    assert any(r and str(r[0]).startswith("Dấu «…»") for r in equity)
    matrix = sheets["Ma trận chỉ tiêu"]
    assert not any("pupil" in str(c).lower() for r in matrix for c in r if c)


def _sheet(path: Path, name: str) -> tuple[list[str], list[list[object]]]:
    """The header and data rows of one sheet, each cell as openpyxl reads it (not read-only:
    formats and quote prefixes are kept)."""
    ws = load_workbook(path)[name]
    rows = list(ws.iter_rows())
    head = 1 + next(i for i, r in enumerate(rows) if all(c.value is None for c in r))
    return [c.value for c in rows[head]], [list(r) for r in rows[head + 1:]]


#: A text a spreadsheet shows as a number (what the workbook wrote as text before: «1»,
#: «98,9 %», «796/805», «06/12/2026»).
NUMBER_AS_TEXT = re.compile(r"[\d.,]+(?: ?%)?|\d+/\d+|\d{2}/\d{2}/\d{4}")


def test_workbook_numbers_are_numbers_with_the_reports_decimals(
        made: group_report.GroupReportPaths) -> None:
    """Counts are ints, rates fractions with the decimals the report shows (dropout 2), a
    fraction two numeric columns, the import date a date; the yes/no target reads Có/Không."""
    cols, rows = _sheet(made.xlsx, "Trường xa chỉ tiêu")
    assert cols[:10] == ["Chỉ tiêu số", "Chỉ tiêu", "Thứ tự", "Mã trường", "Trường", "Giá trị",
                         "Tử số", "Mẫu số", "Ngưỡng", "Còn thiếu"]
    by = {(r[1].value, r[3].value): {c: cell for c, cell in zip(cols, r, strict=True)}
          for r in rows}
    drop = by[("Tỷ lệ học sinh bỏ học", "AN")]  # AN: 2 of 40 pupils dropped out
    assert [drop[c].value for c in ("Chỉ tiêu số", "Thứ tự", "Tử số", "Mẫu số",
                                    "Còn thiếu")] == [5, 1, 2, 40, 2]
    assert drop["Giá trị"].value == pytest.approx(2 / 40)
    assert drop["Giá trị"].number_format == drop["Ngưỡng"].number_format == "0.00%"
    assert drop["Ngưỡng"].value == pytest.approx(0.0006)  # 0,06 %, not shown as 0,1 %
    assert by[("Tỷ lệ học sinh bỏ học", "BINH")]["Tử số"].value == 1  # BINH: 1 of 20
    comp = by[("Tỷ lệ học sinh hoàn thành chương trình THCS (lớp 9)", "AN")]  # 19/20
    assert (comp["Tử số"].value, comp["Mẫu số"].value) == (19, 20)
    assert comp["Giá trị"].number_format == "0.0%"
    psych = by[("Có dịch vụ hỗ trợ tâm lý", "AN")]  # AN has no service
    assert (psych["Giá trị"].value, psych["Ngưỡng"].value) == ("Không", "Có")
    for r in rows:
        for c in r:
            assert c.data_type != "s" or not NUMBER_AS_TEXT.fullmatch(c.value), c.coordinate

    cols, rows = _sheet(made.xlsx, "Đầy đủ số liệu")
    by = {r[0].value: {c: cell for c, cell in zip(cols, r, strict=True)} for r in rows}
    assert {k: v["Phát hiện đối chiếu năm trước"].value for k, v in by.items()} == {
        "AN": 1, "BINH": 0, "CUONG": 0}  # A03 missing the next year
    last = by["AN"]["Nhập lần cuối"]
    assert isinstance(last.value, datetime) and last.number_format == "dd/mm/yyyy"
    for r in rows:
        for c in r:
            assert c.data_type != "s" or not NUMBER_AS_TEXT.fullmatch(c.value), c.coordinate
    _, rows = _sheet(made.xlsx, "Đối chiếu năm trước")
    assert [r[5].value for r in rows] == [1]

    cols, rows = _sheet(made.xlsx, "Số liệu gộp")
    by = {r[1].value: {c: cell for c, cell in zip(cols, r, strict=True)} for r in rows}
    comp = by["Tỷ lệ học sinh hoàn thành chương trình THCS (lớp 9)"]
    assert (comp["Tử số"].value, comp["Mẫu số"].value) == (29, 30)
    assert all(isinstance(comp[c].value, int) for c in ("Tử số", "Mẫu số",
                                                        "Số trường có số liệu"))
    drop = by["Tỷ lệ học sinh bỏ học"]  # 4/81 pooled
    assert drop["Giá trị gộp"].value == pytest.approx(4 / 81)
    assert drop["Giá trị gộp"].number_format == "0.00%"
    assert by["Có dịch vụ hỗ trợ tâm lý"]["Giá trị gộp"].value in ("Có", "Không")
    cols, rows = _sheet(made.xlsx, "Ma trận chỉ tiêu")
    psych = {r[0].value: r[cols.index("Giá trị")].value for r in rows
             if r[3].value == "Có dịch vụ hỗ trợ tâm lý"}
    assert psych == {"AN": "Không", "BINH": None, "CUONG": "Có"}

    cols, rows = _sheet(made.xlsx, "Công bằng (gộp)")
    parity = [r for r in rows if r[1].value == "Bình đẳng giới"]
    assert parity and {r[2].value for r in parity} == {"Nữ so với nam"}
    kinh = [r for r in rows if r[0].value == "Tỷ lệ học sinh bỏ học" and r[2].value == "Kinh"]
    assert kinh[0][3].value == pytest.approx(4 / 81) and kinh[0][3].number_format == "0.00%"
    assert [kinh[0][i].value for i in (4, 5, 6)] == [4, 81, 3]
    # an index, not a %; on this small pool the complement rule hides most of them (issue 11)
    assert all(r[3].value == disclosure.HIDDEN_MARK or r[3].number_format == "#,##0.00"
               for r in parity)


def _risky_cells(path: Path) -> list[str]:
    """Every cell a spreadsheet could run as a formula (an assertion fails on any); returns the
    risky texts, each stored as text with the quote prefix."""
    from locson_analysis import safe_cells

    risky = []
    for ws in load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate}: {c.value!r}"
                if isinstance(c.value, str) and safe_cells.is_risky(c.value):
                    assert c.quotePrefix, f"{ws.title}!{c.coordinate}: {c.value!r}"
                    risky.append(c.value)
    return risky


def test_a_group_named_like_a_formula_stays_text(db: Path, tmp_path: Path) -> None:
    """A group's display name from the schools file reaches the workbook as text only: the
    parity rows say «Nữ so với nam» (as the HTML does), not the group's name."""
    from tests.test_safe_writing import PAYLOADS

    names = ["=1+1", *PAYLOADS]
    groups = "".join(f"  g{i}:\n    name: {json.dumps(n)}\n    schools: [AN, BINH, CUONG]\n"
                     for i, n in enumerate(names))
    sf = tmp_path / "schools.yaml"
    sf.write_text(SCHOOLS_YAML.split("groups:")[0] + "groups:\n" + groups, encoding="utf-8")
    for i, name in enumerate(names):
        report = group_report.build(db, Y1, f"g{i}", schools_file=sf)
        assert report.view.group.name == name.strip()  # (the schools file is stripped)
        path = group_report.write_workbook(report, tmp_path / f"g{i}.xlsx")
        assert _risky_cells(path) == []  # the name starts no cell
        _, rows = _sheet(path, "Công bằng (gộp)")
        assert {r[2].value for r in rows if r[1].value == "Bình đẳng giới"} == {"Nữ so với nam"}


def test_the_writer_guards_every_text_cell(db: Path, schools_file: Path, tmp_path: Path
                                           ) -> None:
    """Whatever text a sheet holds (a school's note, a check's description) is written as text:
    the writer itself passes every cell through :mod:`safe_cells`; numbers stay numbers."""
    import pandas as pd

    from tests.test_safe_writing import PAYLOADS

    report = group_report.build(db, Y1, "ba-truong", schools_file=schools_file)
    counts = report.sheets["Ma trận chỉ tiêu"].data["Tử số"].tolist()  # BINH's toilets: none
    assert None in counts and all(c is None or type(c) is int for c in counts)
    report.sheets["Đối chiếu năm trước"] = group_report.Sheet(
        pd.DataFrame({"Phát hiện": PAYLOADS, "Số trường hợp": range(len(PAYLOADS))}),
        {"Số trường hợp": "num"})
    path = group_report.write_workbook(report, tmp_path / "g.xlsx")
    assert len(_risky_cells(path)) == len(PAYLOADS) - 1  # (a lone CR is read back as LF)
    _, rows = _sheet(path, "Đối chiếu năm trước")
    assert [r[0].value for r in rows] == [p.replace("\r", "\n") for p in PAYLOADS]
    assert all(r[0].quotePrefix and r[0].data_type == "s" for r in rows)
    assert [r[1].value for r in rows] == list(range(len(PAYLOADS)))


def test_dot_plots_keep_long_school_names_inside_the_a4_width(db: Path, tmp_path: Path) -> None:
    """The dot plots name each school on the y axis: with a full official name the chart is
    laid out inside the A4 width (:data:`charts.A4_WIDTH_IN`), not widened past it."""
    import nbformat

    from locson_analysis.report import charts

    long = "Trường THCS Nguyễn Thị Minh Khai"
    (tmp_path / "schools.yaml").write_text(SCHOOLS_YAML.replace("name: THCS", f"name: {long}"),
                                           encoding="utf-8")
    made = group_report.run_group_report(db, Y1, "ba-truong", out_dir=tmp_path / "out",
                                         schools_file=tmp_path / "schools.yaml")
    nb = nbformat.read(made.notebook, as_version=4)
    dots = [o["metadata"]["image/png"] for c in nb.cells if c.cell_type == "code"
            and "sns.scatterplot" in c.source for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})]
    assert len(dots) >= 2
    assert max(d["width"] for d in dots) <= round(charts.A4_WIDTH_IN * charts.SCREEN_DPI), dots
    assert f"{long} Cường" in _text(made.html.read_text(encoding="utf-8"))


def test_cli_group_report_with_codes(db: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # --out relative to the user's folder, not the notebook's
    rc = cli.main(["report", "--group", "AN,BINH", "--year", Y1, "--db", str(db),
                   "--out", "ra", "--recipient", "Sở Giáo dục và Đào tạo tỉnh X"])
    assert rc == 0
    out = capsys.readouterr().out
    html = tmp_path / "ra" / "AN-BINH" / Y1 / f"bao_cao_nhom_{Y1}.html"
    assert str(html) in out and html.is_file()
    assert (html.parent / f"bao_cao_nhom_{Y1}.xlsx").is_file()
    text = _text(html.read_text(encoding="utf-8"))
    assert "Kính gửi: Sở Giáo dục và Đào tạo tỉnh X." in text
    assert "Báo cáo gồm 2 trường" in text
    assert "Cần kiểm tra trước khi gửi: Cơ quan lập và nơi nhận báo cáo nhóm trường" in out


def test_cli_unknown_group_is_a_vietnamese_error(db: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rc = cli.main(["report", "--group", "khong-co", "--year", Y1, "--db", str(db),
                   "--out", str(tmp_path)])
    assert rc != 0
    err = capsys.readouterr().err
    assert "lỗi ở bước «đọc dữ liệu»: Không có nhóm trường «khong-co»" in err  # before the run
    assert not list(tmp_path.rglob("*.html"))
    rc = cli.main(["report", "--group", "AN,XYZ", "--year", Y1, "--db", str(db),
                   "--out", str(tmp_path)])
    assert rc != 0 and "Không có trường mã «XYZ»" in capsys.readouterr().err


def test_a_step_error_listing_problems_ends_each_sentence() -> None:
    from locson_analysis.report.runner import ReportStepError

    one = str(ReportStepError("đọc dữ liệu", "Tệp x thiếu mục a"))
    assert one.endswith("Tệp x thiếu mục a. Báo cáo cũ (nếu có) vẫn được giữ nguyên.")
    many = str(ReportStepError("đọc dữ liệu", "Tệp x có 2 lỗi:\n  - a\n  - b"))
    assert many.endswith("  - b.\nBáo cáo cũ (nếu có) vẫn được giữ nguyên.")


# --- privacy: one identifiable pupil -----------------------------------------------------------

PLANTED = {"pupil_id": "HSDB-7731", "full_name": "Nguyễn Thị Ẩn Danh",
           "birth_date": "2013-02-28"}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """AN: 30 pupils, none in special circumstances; BINH: 25 pupils, one girl — the only
    pupil in special circumstances of the group — drops out (BINH's only dropout)."""
    root = tmp_path_factory.mktemp("planted")
    path = root / "planted.duckdb"
    an = _rows(20, Y1, 6, "promoted", "A", 1) + _rows(10, Y1, 9, "completed", "A", 30)
    binh = (_rows(14, Y1, 6, "promoted", "B", 1) + _rows(10, Y1, 9, "completed", "B", 20)
            + [pupil(Y1, 6, "dropped_out", sex="F", special_circumstances=True,
                     dropout_reason="Hoàn cảnh gia đình", **PLANTED)])
    items = {"toilets": 4, "toilets_hygienic": 4, "psych_service": 1}
    pop = {"pop_age11": 20, "pop_age11_in_grade6": 20}
    store.write_years(path, [_year(Y1, "AN", an, items, pop), _year(Y1, "BINH", binh, items,
                                                                     pop)])
    f = root / "schools.yaml"
    f.write_text(SCHOOLS_YAML, encoding="utf-8")
    return path, f


def test_the_planted_pupil_cannot_be_found(planted: tuple[Path, Path], tmp_path: Path) -> None:
    db_path, sf = planted
    paths = group_report.run_group_report(db_path, Y1, "hai", schools_file=sf,
                                          out_dir=tmp_path)
    html = paths.html.read_text(encoding="utf-8")
    text = _text(html)
    sheets = _cells(paths.xlsx)
    cells = [c for rows in sheets.values() for r in rows for c in r if c is not None]
    everything = text + " " + " ".join(str(c) for c in cells)
    # no identifier of the pupil, anywhere
    for value in (*PLANTED.values(), "28/02/2013", "Hoàn cảnh gia đình"):
        assert value not in everything, value
    # the special-circumstances group (1 pupil, 1 dropout): hidden in the pooled equity table
    # of the HTML and of the workbook, with the cells that would give it back
    rows = [r for r in sheets["Công bằng (gộp)"] if r and r[2] == "Hoàn cảnh đặc biệt"]
    assert rows and all(r[3:7] == [disclosure.HIDDEN_MARK] * 4 for r in rows)
    others = [r for r in sheets["Công bằng (gộp)"] if r and r[0] == "Tỷ lệ học sinh bỏ học"
              and r[2] == "Không có hoàn cảnh đặc biệt"]
    assert others and disclosure.HIDDEN_MARK in others[0][4:6]  # 1 = total − others: hidden
    girls = [r for r in sheets["Công bằng (gộp)"] if r and r[0] == "Tỷ lệ học sinh bỏ học"
             and r[2] == "Nữ"]
    assert girls and girls[0][4] == disclosure.HIDDEN_MARK  # 1 girl dropped out: hidden
    # in the HTML a row with every figure hidden is left out, and the note says how many
    assert not re.search(r"Hoàn cảnh đặc biệt(?: …){4}", text)
    blank = sum(1 for r in sheets["Công bằng (gộp)"][1:] if r and len(r) > 6
                and r[3] == disclosure.HIDDEN_MARK
                and (r[2] == "Nữ so với nam" or r[4:6] == [disclosure.HIDDEN_MARK] * 2))
    assert blank and f"{blank} dòng có mọi số liệu bị ẩn không được liệt kê" in text
    # no note in either file names the group's size
    assert "n = 1" not in everything and "nữ 1/" not in everything


def test_sample_data_is_marked_in_the_html_and_the_workbook(tmp_path: Path,
                                                           schools_file: Path) -> None:
    from locson_analysis import provenance

    path = tmp_path / "mau.duckdb"
    rows = _rows(20, Y1, 6, "promoted", "A", 1) + _rows(10, Y1, 9, "completed", "A", 30)
    store.write_years(path, [_year(Y1, "AN", rows, {"toilets": 4, "toilets_hygienic": 4,
                                                    "psych_service": 1})],
                      origin=provenance.SAMPLE)
    paths = group_report.run_group_report(path, Y1, "AN", schools_file=schools_file,
                                          out_dir=tmp_path / "out")  # one school's code
    assert paths.html.parent.parts[-2:] == ("AN", Y1)
    assert provenance.SAMPLE_MARK_GROUP in _text(paths.html.read_text(encoding="utf-8"))
    sheets = _cells(paths.xlsx)
    assert all(rows[1][0] == provenance.SAMPLE_MARK_GROUP for rows in sheets.values())


def test_default_year_is_the_latest_ended_or_running(tmp_path: Path) -> None:
    """A running year with a dropout already recorded has not ended."""
    path = tmp_path / "y.duckdb"
    store.write_years(path, [
        _year("2023-2024", "AN", _rows(12, "2023-2024", 6, "promoted", "A", 1)),
        _year(Y1, "AN", _rows(11, Y1, 7, "in_progress", "A", 1)
              + _rows(1, Y1, 7, "dropped_out", "A", 12))])
    assert group_report.default_year(path) == "2023-2024"
    assert group_report.default_year(path, mid_year=True) == Y1


def test_definitions_are_text_columns_not_numbers(db: Path, schools_file: Path) -> None:
    """The definitions say in words what is counted: no column is kept on one line at the
    right (that squeezed «Định nghĩa» and ran the table off an A4 page)."""
    report = group_report.build(db, Y1, "ba-truong", schools_file=schools_file)
    table = group_report.show(report, "definitions")
    assert "Tử số" in table and "Mẫu số" in table
    assert "nowrap" not in table and "text-align:right" not in table.replace(" ", "")
    # a table of numbers keeps its numbers at the right
    assert "nowrap" in group_report.show(report, "pooled").replace(" ", "")
