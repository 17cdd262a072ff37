"""The report's data-driven text: the title and closing blocks and the sentences whose words
depend on the numbers.  Text that never changes lives in the notebook's markdown cells.

Each function returns an IPython display object (``Markdown`` or ``HTML``); the notebook shows
it with ``display(...)``.  ``*_text`` functions return the plain sentence (for tests, alt text).
"""

from __future__ import annotations

from IPython.display import HTML, Markdown

from .. import present as P
from . import tables as T
from .tables import Report


def _md(text: str) -> Markdown:
    return Markdown(P.esc(text))


def phase_text(report: Report) -> str:
    return f"giai đoạn {report.phase}" if report.phase else "chưa thuộc giai đoạn nào"


def sources_text(report: Report) -> str:
    """The data used, by kind and import date — never a file name."""
    sources = report.tables["sources"].shown
    return "; ".join(f"{r['Loại số liệu'].lower()} (nhập ngày {r['Ngày nhập']})"
                     for _, r in sources.iterrows()) or "không có"


def sample_banner(report: Report) -> HTML:
    """The first output of the report: on sample data, provenance.SAMPLE_MARK in a red band
    (the print banner of every page is added by the exporter); else nothing."""
    return HTML(sample_band(report.sample_mark) if report.is_sample else "")


def sample_band(mark: str) -> str:
    """The sample mark as a red band (class ``locson-sample``): what the executed notebook
    shows; the exported HTML hides it, its own banner (the exporter's) saying the same."""
    return (f'<div class="locson-sample" role="alert" style="border:2px solid #b71c1c;'
            f'background:#ffebee;color:#b71c1c;font-weight:bold;text-align:center;'
            f'padding:6px;margin-bottom:10px">{P.esc(mark)}</div>')


def analyst_notes(report: Report) -> list[str]:
    """What the analyst must check before sending (never part of the report): e.g. the
    recipient of the year not confirmed in data/report.yaml."""
    return list(getattr(report.official, "notes", ()) or ())


def analyst_warning(report: Report) -> HTML:
    """:func:`analyst_notes` in a warning box (for a ``remove-cell`` cell of the notebook)."""
    notes = analyst_notes(report)
    return HTML("".join(P.note_box("Dành cho người lập báo cáo (không có trong báo cáo): "
                                   + n, kind="warn") for n in notes))


def document_header(doc, title: str, subtitle_html: str = "", after_html: str = "") -> str:
    """The first block of an official document (Nghị định 30/2020/NĐ-CP), as HTML: the line
    of the managing body (if any) and the issuing body beside the national motto and tagline,
    the document number beside place and date, the title, ``subtitle_html``, «Kính gửi»,
    then ``after_html``.  ``doc``: a :class:`locson_analysis.report_config.OfficialDocument`
    (the school's report and the group report use the same layout)."""
    to = list(doc.to)
    if len(to) == 1:
        to_html = f"Kính gửi: {P.esc(to[0])}."
    else:
        items = "".join(f"<br>- {P.esc(t)}{'.' if i == len(to) - 1 else ';'}"
                        for i, t in enumerate(to))
        to_html = f"Kính gửi:{items}"
    above = f"{P.esc(doc.managing_body)}<br>" if doc.managing_body else ""
    return f"""<div class="locson-titleblock">
<table class="locson-header" style="width:100%;border:none;border-collapse:collapse">
<tr><td style="width:45%;text-align:center;vertical-align:top;border:none">
{above}<b>{P.esc(doc.school)}</b><br>
<span style="display:inline-block;border-top:1px solid #212121;width:40%"></span><br>
{P.esc(doc.document_number)}</td>
<td style="width:55%;text-align:center;vertical-align:top;border:none">
<b>{P.esc(doc.motto)}</b><br><b>{P.esc(doc.tagline)}</b><br>
<span style="display:inline-block;border-top:1px solid #212121;width:50%"></span><br>
<i>{P.esc(doc.place_date)}</i></td></tr></table>
<h1 style="text-align:center">{P.esc(title)}</h1>
{subtitle_html}
<p style="text-align:center">{to_html}</p>
{after_html}</div>"""


def document_closing(doc) -> str:
    """The last block of an official document, as HTML: «Nơi nhận» on the left, the signature
    (title, room to sign, name if known) on the right."""
    copies = "<br>".join(P.esc(c) for c in doc.copies)
    name = f"<br><br><br><br><b>{P.esc(doc.signer_name)}</b>" if doc.signer_name \
        else "<br><br><br><br>"
    return (f'<table class="locson-closing" style="width:100%;border:none;margin-top:24px">'
            f'<tr><td style="width:50%;text-align:left;vertical-align:top;border:none;'
            f'font-size:90%"><b><i>Nơi nhận:</i></b><br>{copies}</td>'
            f'<td style="width:50%;text-align:center;vertical-align:top;border:none">'
            f'<b>{P.esc(doc.signer_title)}</b><br><i>(Ký, ghi rõ họ tên và đóng dấu)</i>'
            f'{name}</td></tr></table>')


def title_block(report: Report) -> HTML:
    """The report's first block (:func:`document_header`): the title, the plan, «Kính gửi»;
    then the kind of report and the data used (by kind and date)."""
    kind = "BÁO CÁO GIỮA NĂM HỌC" if report.mid_year else "BÁO CÁO NĂM HỌC"
    kind_text = ("giữa năm học (số liệu đến hết học kỳ I)" if report.mid_year
                 else "cả năm học")
    out = document_header(
        report.official, f"{kind} {report.school_year}",
        '<p style="text-align:center"><b>Thực hiện Kế hoạch triển khai Chương trình hành động '
        f"quốc gia\nvì trẻ em giai đoạn 2022–2030</b> ({P.esc(phase_text(report))})</p>",
        f"""<p>Loại báo cáo: {kind_text}<br>
Số liệu dùng để lập báo cáo: {P.esc(sources_text(report))}.</p>
""")
    if report.mid_year:
        out += P.note_box("Đây là báo cáo giữa năm: năm học chưa kết thúc. Các chỉ tiêu ghi "
                          "«Đang theo dõi» với số liệu đến nay, chưa đánh giá đạt hay chưa đạt. "
                          "Các tỷ lệ cuối năm (lên lớp, ở lại lớp, hoàn thành chương trình THCS) "
                          "chưa có số liệu; số học sinh bỏ học và chuyển đi là số đến thời "
                          "điểm nhập dữ liệu; kết quả học kỳ I được so với học kỳ I năm học "
                          "trước.", kind="warn")
    return HTML(out)


def closing_block(report: Report) -> HTML:
    """The report's last block (:func:`document_closing`)."""
    return HTML(document_closing(report.official))


def completion(report: Report) -> Markdown:
    """targets.completion_sentence: the judged completion ratio, the other definitions when
    they disagree, the grade-9 dropouts and the non-completers the target allows."""
    from .. import targets

    if report.completion is None or report.completion_threshold is None:
        return Markdown("")
    return _md(targets.completion_sentence(report.completion, report.completion_threshold))


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
    return _md(T.parity_sentence(report.table, report.school_year, report.safe_table))


def gaps_intro(report: Report) -> Markdown:
    if report.tables["gaps"].data.empty:
        return _md("Không thiếu tệp nào, không có cảnh báo khi nhập và không có điểm bất thường "
                   "giữa các năm học.")
    return _md("Các điểm dưới đây chỉ ghi số lượng (danh sách từng học sinh là tài liệu nội bộ "
               "của nhà trường). Cột «Việc cần làm» nói cách bổ sung hoặc sửa số liệu trước khi "
               "lập lại báo cáo.")
