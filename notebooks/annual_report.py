# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: jupytext,kernelspec,title,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   title: "B\xE1o c\xE1o n\u0103m h\u1ECDc g\u1EEDi Ph\xF2ng GD&\u0110T \u2014 Tr\u01B0\
#     \u1EDDng THCS L\u1ED9c S\u01A1n"
# ---

# %% [markdown] tags=["remove-cell"]
# # Báo cáo năm học gửi Phòng GD&ĐT thành phố Bảo Lộc
#
# Sổ tay này lập báo cáo thực hiện Kế hoạch hành động vì trẻ em của Trường THCS Lộc Sơn.
# Cách dùng thông thường: chạy lệnh `locson report` (hoặc `locson report --year 2024-2025`,
# `locson report --mid-year`); lệnh đó chạy sổ tay này bằng papermill rồi xuất tệp HTML
# không có mã lệnh vào `outputs/<năm học>/`.
#
# Sổ tay chỉ sắp xếp chữ, bảng và biểu đồ: mọi con số lấy từ gói `locson_analysis`
# (`store.load` → `indicators.compute_all` → `targets.evaluate`). Không thêm phép tính chỉ số
# vào đây; không in dòng nào theo từng học sinh. Ô này không xuất hiện trong báo cáo.

# %% tags=["parameters"]
school_year: str = ""  # Năm học báo cáo, ví dụ "2024-2025"; để trống là năm gần nhất đã kết thúc
db_path: str = ""  # Tệp cơ sở dữ liệu; để trống là data/locson.duckdb
targets_file: str = ""  # Tệp chỉ tiêu; để trống là data/targets.yaml
output_dir: str = ""  # Thư mục báo cáo (chỉ ghi lại để đối chiếu; sổ tay không ghi tệp)
mid_year: bool = False  # True: báo cáo giữa năm (sau học kỳ 1)
school_code: str = ""  # Mã trường, ví dụ "LOCSON"; để trống là trường mặc định
report_file: str = ""  # Báo cáo đã dựng sẵn do lệnh locson report ghi; để trống là sổ tay tự dựng

# %%
import warnings

warnings.filterwarnings("ignore")

from pathlib import Path  # noqa: E402

from IPython.display import HTML, display  # noqa: E402

from locson_analysis import config, schools  # noqa: E402
from locson_analysis import present as P  # noqa: E402
from locson_analysis import report_tables as RT  # noqa: E402

if report_file and Path(report_file).exists():  # `locson report` has built it already
    report = RT.load_report(report_file, school_year or None)
else:  # run stand-alone (JupyterLab): build the report from the database
    from locson_analysis import store

    db = Path(db_path) if db_path else config.DEFAULT_DB
    targets_path = Path(targets_file) if targets_file else config.TARGETS_FILE
    ds = store.load(db, with_names=False)  # no pupil's name is needed; the file is closed at once
    code = schools.choose_school(schools.codes_in(ds.pupils, ds.school, ds.population),
                                 school_code or None)
    year = RT.resolve_report_year(ds.for_school(code), school_year or None, mid_year)
    report = RT.build_report(ds, year, mid_year=mid_year, targets_file=targets_path,
                             school_code=code)
school_label = schools.school_name(report.school_code)


def show(html: str) -> None:
    display(HTML(html))


def heading(text: str, level: int = 2) -> None:
    show(f"<h{level}>{P.esc(text)}</h{level}>")


# %%
kind = "BÁO CÁO GIỮA NĂM HỌC" if report.mid_year else "BÁO CÁO NĂM HỌC"
sources = report.tables["sources"].shown
source_text = "; ".join(
    f"{r['Loại số liệu']}: {r['Tệp']} (nhập lúc {r['Thời điểm nhập']})"
    for _, r in sources.iterrows()) or "không có"
phase_text = f"giai đoạn {report.phase}" if report.phase else "chưa thuộc giai đoạn nào"
show(f"""
<div class="locson-titleblock">
<p style="margin:0">PHÒNG GD&amp;ĐT THÀNH PHỐ BẢO LỘC<br><b>{P.esc(school_label.upper())}</b></p>
<h1 style="text-align:center">{P.esc(kind)} {P.esc(report.school_year)}</h1>
<p style="text-align:center"><b>Thực hiện Kế hoạch triển khai Chương trình hành động quốc gia
vì trẻ em giai đoạn 2022–2030</b> ({P.esc(phase_text)})</p>
<p style="text-align:center">Kính gửi: Phòng Giáo dục và Đào tạo thành phố Bảo Lộc</p>
<p>Ngày lập báo cáo: {P.esc(report.made_on)}<br>
Loại báo cáo: {"giữa năm học (số liệu đến hết học kỳ I)" if report.mid_year else "cả năm học"}<br>
Số liệu dùng để lập báo cáo: {P.esc(source_text)}.</p>
</div>
""")
if report.mid_year:
    show(P.note_box("Đây là báo cáo giữa năm: năm học chưa kết thúc. Các tỷ lệ cuối năm (lên "
                    "lớp, ở lại lớp, hoàn thành chương trình THCS, phát triển toàn diện) chưa "
                    "có số liệu; số học sinh bỏ học và chuyển đi là số đến thời điểm nhập dữ "
                    "liệu.", kind="warn"))

# %%
heading(f"1. Kết quả thực hiện các chỉ tiêu của kế hoạch ({phase_text})")
enrol = ("" if report.enrolment is None or P.is_missing(report.enrolment)
         else f" Đầu năm học có {P.fmt_num(report.enrolment)} học sinh.")
if report.phase:
    show(P.paragraph("Các chỉ tiêu được ghi theo đúng số thứ tự của kế hoạch trong giai đoạn "
                     "của năm học báo cáo. «Thay đổi» so sánh với năm học trước; với các tỷ lệ, "
                     "thay đổi tính bằng điểm phần trăm." + enrol))
else:
    show(P.note_box("Năm học này nằm ngoài các giai đoạn của kế hoạch (2022–2025, 2025–2030): "
                    "các chỉ số được ghi để so sánh, không đánh giá đạt hay chưa đạt." + enrol))
show(report.tables["targets"].to_html())

# %%
heading("2. Xu hướng từ năm học đầu tiên có số liệu")
if report.mid_year:
    show(P.paragraph(f"Năm học {report.school_year} chưa kết thúc nên chưa đưa vào các biểu đồ "
                     f"dưới đây; các biểu đồ dừng ở năm học gần nhất đã kết thúc."))
if not report.trends:
    show(P.paragraph("Chưa có chỉ tiêu nào để vẽ xu hướng."))
else:
    P.set_theme()  # matplotlib is imported here, when there is something to draw
for key, series in report.trends.items():
    label = RT.label_of(key)
    unit = "pct" if RT.unit_of(key) == "rate" else "count"
    digits = 2 if key in RT.SMALL_RATE_KEYS else 1
    sentence = RT.trend_sentence(series, key)
    heading(label, 3)
    show(P.paragraph(sentence))
    if series["value"].notna().sum() >= 2:
        fig = P.trend_chart(series["school_year"], series["value"], label, unit=unit,
                            thresholds=series["threshold"],
                            threshold_labels=series["target_label"], value_digits=digits,
                            target_label=report.target_labels.get(key, "Mục tiêu"))
        alt = (f"Biểu đồ đường: {label} theo năm học từ {series['school_year'].iloc[0]} đến "
               f"{series['school_year'].iloc[-1]}, đường nét đứt màu đỏ là mục tiêu. {sentence}")
        show(P.chart_to_html(fig, alt=alt))

# %%
heading("3. Lên lớp, ở lại lớp, bỏ học và chuyển trường theo khối")
show(P.paragraph("Mỗi ô ghi tỷ lệ và, trong ngoặc, số học sinh trên số học sinh dùng làm mẫu số. "
                 "Lên lớp và ở lại lớp tính trên số học sinh cuối năm; bỏ học và chuyển đi tính "
                 "trên số học sinh đầu năm. Chuyển trường không phải là bỏ học."))
show(report.tables["flow"].to_html())

# %%
heading("4. Công bằng giữa các nhóm học sinh")
show(P.paragraph("Kết quả theo giới tính, dân tộc, hộ nghèo, hộ cận nghèo, khuyết tật và hoàn "
                 "cảnh đặc biệt. Số học sinh được ghi bên cạnh mỗi tỷ lệ: ở nhóm nhỏ, một em "
                 "thay đổi cũng làm tỷ lệ thay đổi nhiều, nên không đọc tỷ lệ của nhóm nhỏ như "
                 "một xu hướng."))
show(report.tables["equity"].to_html())
parity = RT.parity_sentence(report.table, report.school_year)
if parity:
    show(P.paragraph(parity))

# %%
heading("5. Cơ sở vật chất và dịch vụ cho học sinh")
show(report.tables["facilities"].to_html())

# %%
heading("6. Những điều số liệu chưa cho biết")
gaps = report.tables["gaps"]
if gaps.data.empty:
    show(P.paragraph("Không thiếu tệp nào, không có cảnh báo khi nhập và không có điểm bất "
                     "thường giữa các năm học."))
else:
    show(P.paragraph("Các điểm dưới đây chỉ ghi số lượng (danh sách từng học sinh là tài liệu "
                     "nội bộ của nhà trường). Cột «Việc cần làm» nói cách bổ sung hoặc sửa số "
                     "liệu trước khi lập lại báo cáo."))
    show(gaps.to_html())

# %%
heading("Phụ lục 1. Định nghĩa các chỉ số")
show(P.paragraph("Nguồn: MOET/GSO — cách tính của Bộ Giáo dục và Đào tạo và Tổng cục Thống kê; "
                 "UNESCO UIS — Viện Thống kê UNESCO."))
show(report.tables["definitions"].to_html())
heading("Phụ lục 2. Dữ liệu dùng để lập báo cáo")
show(report.tables["sources"].to_html())
show("""<p style="margin-top:24px"><i>Nơi nhận:</i><br>- Phòng GD&amp;ĐT thành phố Bảo Lộc
(báo cáo);<br>- Lưu: VT.</p>
<p style="text-align:right;margin-right:40px"><b>HIỆU TRƯỞNG</b><br><br><br></p>""")
