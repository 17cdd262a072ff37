"""The annual report as HTML fragments: every word, table and chart the PGD reads, in order.

:func:`render` lays out a built :class:`report_tables.Report` (it computes nothing) as
sections of HTML — the title block, sections 1 to 6 and the appendices — with the tables of
``report_tables`` and the trend charts drawn as inline SVG by :mod:`svgchart`.  The notebook
``annual_report.ipynb`` only displays them (:mod:`report_view`): ``locson report`` renders them
here, in its own process while the notebook's kernel starts, and hands them to the notebook as a
JSON file (:func:`save`); run on its own in JupyterLab, the notebook renders them itself with
the same function.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import present as P
from . import report_tables as RT
from . import svgchart
from .report_view import FORMAT
from .schools import school_name


def heading(text: str, level: int = 2) -> str:
    return f"<h{level}>{P.esc(text)}</h{level}>"


def phase_text(report: RT.Report) -> str:
    return f"giai đoạn {report.phase}" if report.phase else "chưa thuộc giai đoạn nào"


def title_section(report: RT.Report) -> str:
    kind = "BÁO CÁO GIỮA NĂM HỌC" if report.mid_year else "BÁO CÁO NĂM HỌC"
    school_label = school_name(report.school_code)
    sources = report.tables["sources"].shown
    source_text = "; ".join(
        f"{r['Loại số liệu']}: {r['Tệp']} (nhập lúc {r['Thời điểm nhập']})"
        for _, r in sources.iterrows()) or "không có"
    kind_text = ("giữa năm học (số liệu đến hết học kỳ I)" if report.mid_year
                 else "cả năm học")
    out = f"""
<div class="locson-titleblock">
<p style="margin:0">PHÒNG GD&amp;ĐT THÀNH PHỐ BẢO LỘC<br><b>{P.esc(school_label.upper())}</b></p>
<h1 style="text-align:center">{P.esc(kind)} {P.esc(report.school_year)}</h1>
<p style="text-align:center"><b>Thực hiện Kế hoạch triển khai Chương trình hành động quốc gia
vì trẻ em giai đoạn 2022–2030</b> ({P.esc(phase_text(report))})</p>
<p style="text-align:center">Kính gửi: Phòng Giáo dục và Đào tạo thành phố Bảo Lộc</p>
<p>Ngày lập báo cáo: {P.esc(report.made_on)}<br>
Loại báo cáo: {kind_text}<br>
Số liệu dùng để lập báo cáo: {P.esc(source_text)}.</p>
</div>
"""
    if report.mid_year:
        out += P.note_box("Đây là báo cáo giữa năm: năm học chưa kết thúc. Các tỷ lệ cuối năm "
                          "(lên lớp, ở lại lớp, hoàn thành chương trình THCS, phát triển toàn "
                          "diện) chưa có số liệu; số học sinh bỏ học và chuyển đi là số đến thời "
                          "điểm nhập dữ liệu.", kind="warn")
    return out


def targets_section(report: RT.Report) -> str:
    out = heading(f"1. Kết quả thực hiện các chỉ tiêu của kế hoạch ({phase_text(report)})")
    enrol = ("" if report.enrolment is None or P.is_missing(report.enrolment)
             else f" Đầu năm học có {P.fmt_num(report.enrolment)} học sinh.")
    if report.phase:
        out += P.paragraph("Các chỉ tiêu được ghi theo đúng số thứ tự của kế hoạch trong giai "
                           "đoạn của năm học báo cáo. «Thay đổi» so sánh với năm học trước; với "
                           "các tỷ lệ, thay đổi tính bằng điểm phần trăm." + enrol)
    else:
        out += P.note_box("Năm học này nằm ngoài các giai đoạn của kế hoạch (2022–2025, "
                          "2025–2030): các chỉ số được ghi để so sánh, không đánh giá đạt hay "
                          "chưa đạt." + enrol)
    return out + report.tables["targets"].to_html()


def trend_chart(report: RT.Report, key: str, sentence: str) -> str:
    """The chart of one target's indicator by school year, with its alt text."""
    series = report.trends[key]
    label = RT.label_of(key)
    alt = (f"Biểu đồ đường: {label} theo năm học từ {series['school_year'].iloc[0]} đến "
           f"{series['school_year'].iloc[-1]}, đường nét đứt màu đỏ là mục tiêu. {sentence}")
    return svgchart.line_chart(
        series["school_year"].tolist(), series["value"].tolist(), label, alt=alt,
        unit="pct" if RT.unit_of(key) == "rate" else "count",
        thresholds=series["threshold"].tolist(), threshold_labels=series["target_label"].tolist(),
        value_digits=2 if key in RT.SMALL_RATE_KEYS else 1,
        target_label=report.target_labels.get(key, "Mục tiêu"))


def trends_section(report: RT.Report) -> str:
    out = heading("2. Xu hướng từ năm học đầu tiên có số liệu")
    if report.mid_year:
        out += P.paragraph(f"Năm học {report.school_year} chưa kết thúc nên chưa đưa vào các biểu "
                           f"đồ dưới đây; các biểu đồ dừng ở năm học gần nhất đã kết thúc.")
    if not report.trends:
        out += P.paragraph("Chưa có chỉ tiêu nào để vẽ xu hướng.")
    for key, series in report.trends.items():
        sentence = RT.trend_sentence(series, key)
        out += heading(RT.label_of(key), 3) + P.paragraph(sentence)
        if series["value"].notna().sum() >= 2:
            out += trend_chart(report, key, sentence)
    return out


def flow_section(report: RT.Report) -> str:
    return (heading("3. Lên lớp, ở lại lớp, bỏ học và chuyển trường theo khối")
            + P.paragraph("Mỗi ô ghi tỷ lệ và, trong ngoặc, số học sinh trên số học sinh dùng "
                          "làm mẫu số. Lên lớp và ở lại lớp tính trên số học sinh cuối năm; bỏ "
                          "học và chuyển đi tính trên số học sinh đầu năm. Chuyển trường không "
                          "phải là bỏ học.")
            + report.tables["flow"].to_html())


def equity_section(report: RT.Report) -> str:
    out = (heading("4. Công bằng giữa các nhóm học sinh")
           + P.paragraph("Kết quả theo giới tính, dân tộc, hộ nghèo, hộ cận nghèo, khuyết tật và "
                         "hoàn cảnh đặc biệt. Số học sinh được ghi bên cạnh mỗi tỷ lệ: ở nhóm "
                         "nhỏ, một em thay đổi cũng làm tỷ lệ thay đổi nhiều, nên không đọc tỷ lệ "
                         "của nhóm nhỏ như một xu hướng.")
           + report.tables["equity"].to_html())
    parity = RT.parity_sentence(report.table, report.school_year)
    return out + (P.paragraph(parity) if parity else "")


def facilities_section(report: RT.Report) -> str:
    return (heading("5. Cơ sở vật chất và dịch vụ cho học sinh")
            + report.tables["facilities"].to_html())


def gaps_section(report: RT.Report) -> str:
    out = heading("6. Những điều số liệu chưa cho biết")
    gaps = report.tables["gaps"]
    if gaps.data.empty:
        return out + P.paragraph("Không thiếu tệp nào, không có cảnh báo khi nhập và không có "
                                 "điểm bất thường giữa các năm học.")
    return (out + P.paragraph("Các điểm dưới đây chỉ ghi số lượng (danh sách từng học sinh là "
                              "tài liệu nội bộ của nhà trường). Cột «Việc cần làm» nói cách bổ "
                              "sung hoặc sửa số liệu trước khi lập lại báo cáo.")
            + gaps.to_html())


def appendix_section(report: RT.Report) -> str:
    return (heading("Phụ lục 1. Định nghĩa các chỉ số")
            + P.paragraph("Nguồn: MOET/GSO — cách tính của Bộ Giáo dục và Đào tạo và Tổng cục "
                          "Thống kê; UNESCO UIS — Viện Thống kê UNESCO.")
            + report.tables["definitions"].to_html()
            + heading("Phụ lục 2. Dữ liệu dùng để lập báo cáo")
            + report.tables["sources"].to_html()
            + """<p style="margin-top:24px"><i>Nơi nhận:</i><br>- Phòng GD&amp;ĐT thành phố Bảo Lộc
(báo cáo);<br>- Lưu: VT.</p>
<p style="text-align:right;margin-right:40px"><b>HIỆU TRƯỞNG</b><br><br><br></p>""")


SECTIONS = (("title", title_section), ("targets", targets_section), ("trends", trends_section),
            ("flow", flow_section), ("equity", equity_section),
            ("facilities", facilities_section), ("gaps", gaps_section),
            ("appendix", appendix_section))


def render(report: RT.Report) -> dict:
    """The report as JSON-able data: what it is for, and its sections' HTML in order."""
    return {"format": FORMAT, "school_year": report.school_year,
            "school_code": report.school_code, "mid_year": bool(report.mid_year),
            "title": report.title,
            "sections": [{"key": key, "html": make(report)} for key, make in SECTIONS]}


def save(rendered: dict, path: Path | str) -> Path:
    """Write :func:`render`'s result as JSON for the notebook (:func:`report_view.load`)."""
    path = Path(path)
    path.write_text(json.dumps(rendered, ensure_ascii=False), encoding="utf-8")
    return path
