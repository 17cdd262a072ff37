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
#   title: Báo cáo nhóm trường — chỉ tiêu vì trẻ em
# ---

# %% [markdown] tags=["remove-cell"]
# # Báo cáo của cơ quan quản lý nhiều trường
#
# Sổ tay này lập báo cáo các chỉ tiêu của Kế hoạch hành động vì trẻ em cho một nhóm trường
# (mọi trường, một danh sách mã trường, hoặc một nhóm đặt tên trong `data/schools.yaml`).
# Cách dùng thông thường: `locson report --group [TÊN_NHÓM]`; lệnh đó chạy sổ tay này bằng
# papermill rồi xuất HTML không có mã lệnh vào `outputs/<nhóm>/<năm học>/`, kèm sổ tay đã chạy
# và tệp Excel. Mọi con số lấy từ gói (`locson_analysis.group`, `locson_analysis.group_report`);
# ô nào tính chỉ số ở đây là lỗi. Ô này không xuất hiện trong báo cáo.

# %% tags=["parameters"]
school_year: str = ""  # Năm học báo cáo, ví dụ "2024-2025"; để trống là năm gần nhất
mid_year: bool = False  # True: báo cáo giữa năm (năm học đang diễn ra)
db_path: str = ""  # Tệp cơ sở dữ liệu; để trống là data/locson.duckdb
schools: str = "all"  # "all", tên nhóm trong data/schools.yaml, hoặc mã trường "A,B,C"
recipient: str = ""  # Cơ quan nhận báo cáo («Kính gửi»); để trống là theo data/report.yaml
targets_file: str = ""  # Tệp chỉ tiêu; để trống là data/targets.yaml
schools_file: str = ""  # Danh sách trường và nhóm; để trống là data/schools.yaml
work_dir: str = ""  # Thư mục ghi tệp Excel; để trống là không ghi
stem: str = ""  # Tên tệp (không đuôi) của tệp Excel

# %% tags=["remove-cell"]
from pathlib import Path

import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import HTML, Markdown, display

from locson_analysis import config, group_report, present

db = Path(db_path) if db_path else config.DEFAULT_DB
year = school_year or group_report.default_year(db, mid_year)
report = group_report.build(db, year, schools, mid_year=mid_year, recipient=recipient or None,
                            targets_file=targets_file or None,
                            schools_file=schools_file or None)
if work_dir:
    group_report.write_workbook(report, Path(work_dir) / f"{stem or 'bao_cao_nhom'}.xlsx")
present.set_theme()
view = report.view

# %%
display(HTML(group_report.header_html(report)))
display(Markdown("\n\n".join(group_report.summary_sentences(report))))

# %% [markdown]
# ## 1. Chỉ tiêu của từng trường
#
# Mỗi ô ghi đánh giá của trường với chỉ tiêu (Đạt / Chưa đạt / Đang theo dõi / Chưa có số liệu)
# và giá trị của trường. Đánh giá theo đúng cách của báo cáo từng trường; trường có năm học
# đang diễn ra được «theo dõi», chưa đánh giá đạt hay chưa đạt.

# %%
display(HTML(group_report.show(report, "matrix")))

# %% [markdown]
# ## 2. Số liệu gộp của nhóm trường
#
# Tỷ lệ gộp = tổng tử số của các trường ÷ tổng mẫu số của các trường (không phải trung bình
# tỷ lệ các trường). Trường chưa có số liệu không được tính và được nêu tên trong ghi chú.

# %%
display(HTML(group_report.show(report, "pooled")))

# %% [markdown]
# ### Định nghĩa các chỉ số

# %%
display(HTML(group_report.show(report, "definitions")))

# %% [markdown]
# ## 3. Các trường so với chỉ tiêu
#
# Mỗi biểu đồ: một chấm cho mỗi trường có số liệu, đường đỏ là chỉ tiêu của giai đoạn.

# %%
for key in report.rate_targets:
    points = group_report.school_points(report, key)
    if points.empty:
        continue
    fig, ax = plt.subplots(figsize=(7.5, 1.0 + 0.2 * len(points)))
    sns.scatterplot(data=points, x="value", y="position", hue="status", s=40, ax=ax,
                    palette=group_report.STATUS_PALETTE)
    ax.axvline(points["threshold"].iloc[0], color=present.TARGET_COLOUR, linestyle="--")
    ax.set_yticks(points["position"], labels=points["school"])
    ax.set_ylim(len(points) - 0.5, -0.5)
    present.percent_axis(ax, axis="x", cap=1.0, digits=group_report.percent_digits(
        points[["value", "threshold"]].stack()))
    ax.set_xlabel(points["indicator_label"].iloc[0])
    ax.set_ylabel("")
    ax.legend(title="", loc="best", fontsize=8)
    display(HTML(present.chart_to_html(fig, group_report.chart_alt(report, key),
                                       group_report.chart_caption(report, key))))

# %% [markdown]
# ## 4. Xu hướng của số liệu gộp

# %%
for key in report.rate_targets:
    series = group_report.trend_points(report, key)
    if series["value"].isna().all():
        continue
    fig, ax = plt.subplots(figsize=(7.5, 2.6))
    sns.lineplot(data=series, x="school_year", y="value", marker="o", ax=ax,
                 color=present.LINE_COLOUR, label="Số liệu gộp")
    sns.lineplot(data=series, x="school_year", y="threshold", ax=ax, drawstyle="steps-mid",
                 color=present.TARGET_COLOUR, linestyle="--", label="Chỉ tiêu")
    present.percent_axis(ax, cap=1.0, digits=group_report.percent_digits(
        series[["value", "threshold"]].stack()))
    if series["direction"].eq("<").any():
        ax.set_ylim(bottom=0)
    ax.set_title(series["indicator_label"].iloc[0])
    ax.set_xlabel("")
    ax.set_ylabel("")
    fig.tight_layout()
    display(HTML(present.chart_to_html(
        fig, f"{series['indicator_label'].iloc[0]}: số liệu gộp qua các năm học")))

# %% [markdown]
# ## 5. Các trường xa chỉ tiêu nhất
#
# Tính bằng số học sinh (số trẻ, số nhà vệ sinh …) còn thiếu để trường đạt chỉ tiêu.

# %%
display(Markdown("\n\n".join(f"- {s}" for s in view.sentences["sentence"] if s)))
display(HTML(group_report.show(report, "furthest")))

# %% [markdown]
# ## 6. Công bằng giữa các nhóm học sinh (gộp các trường)
#
# Gộp các trường, một nhóm nhỏ ở từng trường có thể đủ lớn để nêu tỷ lệ. Ô có dưới ngưỡng
# học sinh hoặc trường hợp vẫn được ẩn (dấu «…»); nhóm dưới 10 học sinh không tính tỷ lệ.
# Báo cáo không nêu số liệu theo nhóm của từng trường.

# %%
display(HTML(group_report.show(report, "equity")))
display(Markdown(group_report.disclosure.suppression_note(view.threshold)))

# %% [markdown]
# ## 7. Tình hình gửi số liệu

# %%
display(Markdown("\n\n".join(f"- {s}" for s in view.completeness_sentences)))
display(HTML(group_report.show(report, "completeness")))

# %% [markdown]
# ### Phát hiện khi đối chiếu với năm học trước (số trường hợp theo trường)

# %%
if len(view.findings):
    display(HTML(group_report.show(report, "findings")))
else:
    display(Markdown("Không có phát hiện nào."))

# %%
display(HTML(group_report.closing_html(report)))
