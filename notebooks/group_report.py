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
#     display_name: Python (locson)
#     language: python
#     name: locson
#   title: "B\xE1o c\xE1o nh\xF3m tr\u01B0\u1EDDng \u2014 ch\u1EC9 ti\xEAu v\xEC tr\u1EBB\
#     \ em"
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
work_dir: str = ""  # Thư mục tạm của lệnh locson report (tệp Excel ghi vào đây); trống: không ghi
workbook_name: str = "bao_cao_nhom.xlsx"  # Tên tệp Excel các bảng của báo cáo

# %%
import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import HTML, Markdown, display

from locson_analysis import config
from locson_analysis.report import charts as C
from locson_analysis.report import group as G

C.set_theme()
db = db_path or config.DEFAULT_DB
report = G.build(db, school_year or G.default_year(db, mid_year), schools, mid_year=mid_year,
                 recipient=recipient or None, targets_file=targets_file or None,
                 schools_file=schools_file or None)
view = report.view  # the group's tables: matrix, pooled, furthest, equity, completeness …

# %% tags=["remove-cell"]
# For the analyst only (not in the report): what to check before sending, e.g. the recipient.
display(Markdown(G.analyst_notes(report)))

# %%
display(HTML(G.header_html(report)))
display(Markdown("\n\n".join(G.summary_sentences(report))))
display(HTML(G.mid_year_note(report)))  # a mid-year report: what it can and cannot say

# %% [markdown]
# ## 1. Chỉ tiêu của từng trường
#
# Mỗi ô ghi đánh giá của trường với chỉ tiêu (Đạt / Chưa đạt / Đang theo dõi / Chưa có số liệu)
# và giá trị của trường. Đánh giá theo đúng cách của báo cáo từng trường; trường có năm học
# đang diễn ra được «theo dõi», chưa đánh giá đạt hay chưa đạt. Trường chưa có số liệu của một
# chỉ tiêu ghi «Chưa có số liệu», kể cả giữa năm học.

# %%
display(HTML(G.show(report, "matrix")))

# %% [markdown]
# ## 2. Số liệu gộp của nhóm trường
#
# Tỷ lệ gộp = tổng tử số của các trường ÷ tổng mẫu số của các trường (không phải trung bình
# tỷ lệ các trường). Trường chưa có số liệu không được tính và được nêu tên trong ghi chú.

# %%
display(HTML(G.show(report, "pooled")))

# %% [markdown]
# ### Định nghĩa các chỉ số

# %%
display(HTML(G.show(report, "definitions")))

# %% [markdown]
# ## 3. Các trường so với chỉ tiêu
#
# Mỗi chấm là một trường có số liệu, đường đỏ là chỉ tiêu của giai đoạn. Khi nhóm có nhiều
# trường, biểu đồ chỉ vẽ một số trường, trường có giá trị kém nhất ở trên cùng; dòng trên mỗi
# biểu đồ nói vẽ bao nhiêu trường, tệp Excel có đủ các trường.

# %%
for key in report.rate_targets:
    points = G.school_points(report, key)
    if points.empty:
        continue
    display(Markdown(G.chart_caption(report, key)))
    fig, ax = plt.subplots(figsize=(C.A4_WIDTH_IN, 1.0 + 0.2 * len(points)))
    sns.scatterplot(data=points, x="value", y="position", hue="status", s=40, ax=ax,
                    palette=G.STATUS_PALETTE, zorder=3)
    ax.axvline(points["threshold"].iloc[0], color=C.TARGET_COLOUR, linestyle="--",
               label="Chỉ tiêu")
    ax.set_yticks(points["position"], labels=points["school"])
    ax.set_ylim(len(points) - 0.5, -0.5)
    ax.set_xlim(*C.rate_range([*points["value"], points["threshold"].iloc[0]]))
    ax.collections[0].set_clip_on(False)  # a dot on 0 % is seen whole
    C.percent_axis(ax, axis="x")
    ax.set_xlabel(points["indicator_label"].iloc[0])
    ax.set_ylabel("")
    # the legend above the dots, in one row: it hides none of them
    ax.legend(title="", loc="lower right", bbox_to_anchor=(1, 1.01), ncol=4, fontsize=8,
              frameon=False, borderaxespad=0)
    fig.tight_layout()  # the schools' names inside the A4 width: the chart is drawn once
    C.alt(fig, G.chart_alt(report, key))
    plt.show()

# %% [markdown]
# ## 4. Xu hướng của số liệu gộp
#
# Số liệu gộp của nhóm trường qua các năm học; đường nét đứt màu đỏ là chỉ tiêu của kế hoạch.

# %%
display(Markdown(G.trends_intro(report)))  # mid-year: the year in progress is not drawn
for key in report.rate_targets:
    series = G.trend_points(report, key)
    if series["value"].isna().all():
        continue
    fig, ax = plt.subplots()
    sns.lineplot(x=range(len(series)), y=series["value"], marker="o", markersize=7,
                 linewidth=2, color=C.LINE_COLOUR, label="Số liệu gộp", ax=ax)
    C.trend_look(ax, series, title=series["indicator_label"].iloc[0],
                 digits=G.digits(key), alt_text=G.trend_alt(report, key))
    plt.show()

# %% [markdown]
# ## 5. Các trường xa chỉ tiêu nhất
#
# Tính bằng số học sinh (số trẻ, số nhà vệ sinh …) còn thiếu để trường đạt chỉ tiêu.

# %%
display(Markdown(G.target_lines(report)))
display(HTML(G.show(report, "furthest")))

# %% [markdown]
# ## 6. Công bằng giữa các nhóm học sinh (gộp các trường)
#
# Gộp các trường, một nhóm nhỏ ở từng trường có thể đủ lớn để nêu tỷ lệ. Ô có số học sinh,
# số trường hợp, hoặc số em còn lại của nhóm dưới ngưỡng vẫn được ẩn (dấu «…», xem ghi chú
# dưới bảng); nhóm dưới 10 học sinh không tính tỷ lệ. Báo cáo không nêu số liệu theo nhóm của
# từng trường.

# %%
display(HTML(G.show(report, "equity")))
display(Markdown(G.suppression_text(report)))

# %% [markdown]
# ## 7. Tình hình gửi số liệu

# %%
display(Markdown("\n\n".join(f"- {s}" for s in view.completeness_sentences)))
display(HTML(G.show(report, "completeness")))

# %% [markdown]
# ### Phát hiện khi đối chiếu với năm học trước (số trường hợp theo trường)

# %%
if len(view.findings):
    display(HTML(G.show(report, "findings")))
else:
    display(Markdown("Không có phát hiện nào."))

# %%
display(HTML(G.closing_html(report)))

# %% tags=["remove-cell"]
# The report's tables in Excel, beside the HTML (only when run by `locson report --group`).
if work_dir:
    G.write_workbook(report, f"{work_dir}/{workbook_name}")
