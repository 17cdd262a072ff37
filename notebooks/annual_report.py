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
#   title: "B\xE1o c\xE1o n\u0103m h\u1ECDc g\u1EEDi Ph\xF2ng GD&\u0110T \u2014 Tr\u01B0\
#     \u1EDDng THCS L\u1ED9c S\u01A1n"
# ---

# %% [markdown] tags=["remove-cell"]
# # Báo cáo năm học gửi Phòng GD&ĐT thành phố Bảo Lộc
#
# Sổ tay này **là** báo cáo: mỗi phần gồm một ô chữ (tiêu đề, lời giải thích cố định — sửa
# trực tiếp tại đây), một ô lệnh hiển thị bảng, biểu đồ và các câu phụ thuộc số liệu. Lệnh
# `locson report` chạy sổ tay bằng papermill rồi xuất HTML không có mã lệnh vào
# `outputs/<năm học>/`; mọi ô bạn thêm (biểu đồ seaborn, bảng, `Markdown(...)`) cũng có trong
# báo cáo. Thử bản đã sửa: `locson report --notebook đường/dẫn/bản_sao.ipynb`.
#
# Mọi con số lấy từ gói `locson_analysis` (`tables.load_report`: `store.load` →
# `indicators.compute_all` → `targets.evaluate`). Không tính chỉ số trong sổ tay; không in dòng
# nào theo từng học sinh. Các ô có nhãn `remove-cell` (như ô này) không có trong báo cáo.

# %% tags=["parameters"]
school_year: str = ""  # Năm học báo cáo, ví dụ "2024-2025"; để trống là năm gần nhất đã kết thúc
db_path: str = ""  # Tệp cơ sở dữ liệu; để trống là data/locson.duckdb
targets_file: str = ""  # Tệp chỉ tiêu; để trống là data/targets.yaml
mid_year: bool = False  # True: báo cáo giữa năm (sau học kỳ 1)
school_code: str = ""  # Mã trường, ví dụ "LOCSON"; để trống là trường mặc định
work_dir: str = ""  # Thư mục lệnh locson report ghi bảng tính Excel; để trống là không ghi
workbook_name: str = "bao_cao.xlsx"  # Tên tệp Excel các bảng của báo cáo

# %%
import matplotlib.pyplot as plt
import seaborn as sns
from IPython.display import Markdown, display  # noqa: F401 - Markdown(...) for added text

from locson_analysis.report import charts as C
from locson_analysis.report import tables as T
from locson_analysis.report import text as X

C.set_theme()
report = T.load_report(db_path, targets_file, school_year, mid_year, school_code)
table, evaluation = report.table, report.evaluation  # the indicator table; the year's targets

# %%
display(X.title_block(report))

# %% [markdown]
# ## 1. Kết quả thực hiện các chỉ tiêu của kế hoạch

# %%
display(X.targets_intro(report))
display(T.show(report, "targets"))

# %% [markdown]
# ## 2. Xu hướng từ năm học đầu tiên có số liệu
#
# Mỗi biểu đồ ghi kết quả của trường theo từng năm học; đường nét đứt màu đỏ là mục tiêu của
# kế hoạch trong từng giai đoạn (2022–2025, 2025–2030).

# %%
display(X.trends_intro(report))
for key, series in report.trends.items():
    display(X.trend_heading(key), X.trend_sentence(report, key))
    if not X.can_draw(series):
        continue
    fig, ax = plt.subplots()
    sns.lineplot(x=range(len(series)), y=series["value"], marker="o", markersize=7,
                 linewidth=2, color=C.LINE_COLOUR, label="Kết quả", ax=ax)
    C.trend_look(ax, series, title=T.label_of(key), percent=T.unit_of(key) == "rate",
                 digits=2 if key in T.SMALL_RATE_KEYS else 1,
                 alt_text=C.trend_alt(series, T.label_of(key),
                                      T.trend_sentence(series, key)))
    plt.show()

# %% [markdown]
# ## 3. Lên lớp, ở lại lớp, bỏ học và chuyển trường theo khối
#
# Mỗi ô ghi tỷ lệ và, trong ngoặc, số học sinh trên số học sinh dùng làm mẫu số. Lên lớp và ở
# lại lớp tính trên số học sinh cuối năm; bỏ học và chuyển đi tính trên số học sinh đầu năm.
# Chuyển trường không phải là bỏ học.

# %%
display(T.show(report, "flow"))

# %% [markdown]
# ## 4. Công bằng giữa các nhóm học sinh
#
# Kết quả theo giới tính, dân tộc, hộ nghèo, hộ cận nghèo, khuyết tật và hoàn cảnh đặc biệt. Số
# học sinh được ghi bên cạnh mỗi tỷ lệ: ở nhóm nhỏ, một em thay đổi cũng làm tỷ lệ thay đổi
# nhiều, nên không đọc tỷ lệ của nhóm nhỏ như một xu hướng.

# %%
display(T.show(report, "equity"), X.parity(report))

# %% [markdown]
# ## 5. Cơ sở vật chất và dịch vụ cho học sinh

# %%
display(T.show(report, "facilities"))

# %% [markdown]
# ## 6. Những điều số liệu chưa cho biết

# %%
display(X.gaps_intro(report))
if not report.tables["gaps"].data.empty:
    display(T.show(report, "gaps"))

# %% [markdown]
# ## Phụ lục 1. Định nghĩa các chỉ số
#
# Nguồn: MOET/GSO — cách tính của Bộ Giáo dục và Đào tạo và Tổng cục Thống kê; UNESCO UIS —
# Viện Thống kê UNESCO.

# %%
display(T.show(report, "definitions"))

# %% [markdown]
# ## Phụ lục 2. Dữ liệu dùng để lập báo cáo

# %%
display(T.show(report, "sources"), X.closing_block(report))

# %% tags=["remove-cell"]
# The report's tables in Excel, beside the HTML (only when run by `locson report`).
if work_dir:
    T.write_workbook(report, f"{work_dir}/{workbook_name}")
