"""The report's data-driven text: the title and closing blocks and the sentences whose words
depend on the numbers.  Text that never changes lives in the notebook's markdown cells.

Each function returns an IPython display object (``Markdown`` or ``HTML``); the notebook shows
it with ``display(...)``.  ``*_text`` functions return the plain sentence (for tests, alt text).
"""

from __future__ import annotations

from IPython.display import HTML, Markdown

from .. import present as P
from ..schools import school_name
from . import tables as T
from .tables import Report

#: Who the report is sent to, and the closing lines (official-document layout).
RECIPIENT = "Phòng Giáo dục và Đào tạo thành phố Bảo Lộc"
MANAGING_OFFICE = "PHÒNG GD&ĐT THÀNH PHỐ BẢO LỘC"
SIGNATORY = "HIỆU TRƯỞNG"
RECEIVERS = ("Phòng GD&ĐT thành phố Bảo Lộc (báo cáo)", "Lưu: VT")


def _md(text: str) -> Markdown:
    return Markdown(P.esc(text))


def phase_text(report: Report) -> str:
    return f"giai đoạn {report.phase}" if report.phase else "chưa thuộc giai đoạn nào"


def sources_text(report: Report) -> str:
    sources = report.tables["sources"].shown
    return "; ".join(f"{r['Loại số liệu']}: {r['Tệp']} (nhập lúc {r['Thời điểm nhập']})"
                     for _, r in sources.iterrows()) or "không có"


def title_block(report: Report) -> HTML:
    """The report's first block: issuing school, title, recipient, date, kind, data used."""
    kind = "BÁO CÁO GIỮA NĂM HỌC" if report.mid_year else "BÁO CÁO NĂM HỌC"
    kind_text = ("giữa năm học (số liệu đến hết học kỳ I)" if report.mid_year
                 else "cả năm học")
    school = P.esc(school_name(report.school_code).upper())
    out = f"""<div class="locson-titleblock">
<p style="margin:0">{P.esc(MANAGING_OFFICE)}<br><b>{school}</b></p>
<h1 style="text-align:center">{P.esc(kind)} {P.esc(report.school_year)}</h1>
<p style="text-align:center"><b>Thực hiện Kế hoạch triển khai Chương trình hành động quốc gia
vì trẻ em giai đoạn 2022–2030</b> ({P.esc(phase_text(report))})</p>
<p style="text-align:center">Kính gửi: {P.esc(RECIPIENT)}</p>
<p>Ngày lập báo cáo: {P.esc(report.made_on)}<br>
Loại báo cáo: {kind_text}<br>
Số liệu dùng để lập báo cáo: {P.esc(sources_text(report))}.</p>
</div>"""
    if report.mid_year:
        out += P.note_box("Đây là báo cáo giữa năm: năm học chưa kết thúc. Các tỷ lệ cuối năm "
                          "(lên lớp, ở lại lớp, hoàn thành chương trình THCS, phát triển toàn "
                          "diện) chưa có số liệu; số học sinh bỏ học và chuyển đi là số đến thời "
                          "điểm nhập dữ liệu.", kind="warn")
    return HTML(out)


def closing_block(report: Report) -> HTML:
    """The report's last block: who receives it, the signature."""
    receivers = "<br>".join(f"- {P.esc(r)};" if i < len(RECEIVERS) - 1 else f"- {P.esc(r)}."
                            for i, r in enumerate(RECEIVERS))
    return HTML(f'<p style="margin-top:24px"><i>Nơi nhận:</i><br>{receivers}</p>'
                f'<p style="text-align:right;margin-right:40px"><b>{P.esc(SIGNATORY)}</b>'
                f'<br><br><br></p>')


def targets_text(report: Report) -> str:
    enrol = ("" if report.enrolment is None or P.is_missing(report.enrolment)
             else f" Đầu năm học có {P.fmt_num(report.enrolment)} học sinh.")
    if report.phase:
        return (f"Năm học {report.school_year} thuộc giai đoạn {report.phase} của kế hoạch. "
                "Các chỉ tiêu được ghi theo đúng số thứ tự của kế hoạch trong giai đoạn của năm "
                "học báo cáo. «Thay đổi» so sánh với năm học trước; với các tỷ lệ, thay đổi tính "
                "bằng điểm phần trăm." + enrol)
    return ("Năm học này nằm ngoài các giai đoạn của kế hoạch (2022–2025, 2025–2030): các chỉ "
            "số được ghi để so sánh, không đánh giá đạt hay chưa đạt." + enrol)


def targets_intro(report: Report) -> HTML | Markdown:
    text = targets_text(report)
    return _md(text) if report.phase else HTML(P.note_box(text))


def trends_intro(report: Report) -> Markdown:
    if not report.trends:
        return _md("Chưa có chỉ tiêu nào để vẽ xu hướng.")
    if report.mid_year:
        return _md(f"Năm học {report.school_year} chưa kết thúc nên chưa đưa vào các biểu đồ "
                   f"dưới đây; các biểu đồ dừng ở năm học gần nhất đã kết thúc.")
    return Markdown("")


def trend_heading(key: str) -> Markdown:
    return Markdown(f"### {P.esc(T.label_of(key))}")


def trend_sentence(report: Report, key: str) -> Markdown:
    return _md(T.trend_sentence(report.trends[key], key))


def can_draw(series) -> bool:
    """A trend chart needs at least two years with a value."""
    return int(series["value"].notna().sum()) >= 2


def parity(report: Report) -> Markdown:
    return _md(T.parity_sentence(report.table, report.school_year))


def gaps_intro(report: Report) -> Markdown:
    if report.tables["gaps"].data.empty:
        return _md("Không thiếu tệp nào, không có cảnh báo khi nhập và không có điểm bất thường "
                   "giữa các năm học.")
    return _md("Các điểm dưới đây chỉ ghi số lượng (danh sách từng học sinh là tài liệu nội bộ "
               "của nhà trường). Cột «Việc cần làm» nói cách bổ sung hoặc sửa số liệu trước khi "
               "lập lại báo cáo.")
