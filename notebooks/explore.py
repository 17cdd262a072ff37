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
#   title: "Kh\xE1m ph\xE1 s\u1ED1 li\u1EC7u \u2014 Tr\u01B0\u1EDDng THCS L\u1ED9c S\u01A1\
#     n"
# ---

# %% [markdown]
# # Khám phá số liệu của Trường THCS Lộc Sơn
#
# Sổ tay dành cho người phụ trách thống kê: xem các chỉ số theo năm học, khối, lớp và nhóm học
# sinh, vẽ biểu đồ, và thử một câu hỏi mới bằng gói `locson_analysis`.
#
# **Về khóa cơ sở dữ liệu.** `store.load` mở tệp DuckDB ở chế độ chỉ đọc, chép những gì cần
# sang pandas rồi đóng tệp ngay (chưa tới một giây). Sổ tay không giữ kết nối, nên trong lúc sổ
# tay đang mở vẫn chạy được `locson import`. Muốn thấy dữ liệu vừa nhập, chạy lại ô «Đọc dữ
# liệu». Đừng mở kết nối ghi (`duckdb.connect(...)`) từ sổ tay: khi đó lệnh nhập sẽ báo cơ sở
# dữ liệu đang bận.
#
# **Về dữ liệu cá nhân.** Không in danh sách học sinh (họ tên, mã học sinh, ngày sinh) ra
# sổ tay này; kết quả của ô lệnh bị xóa trước khi đưa vào git, nhưng chúng vẫn nằm trong tệp
# trên máy cho đến lúc đó. Danh sách học sinh có nguy cơ bỏ học **không** ở đây: đó là tài liệu
# nội bộ, lập bằng `locson warn` (sổ tay `early_warning.ipynb`), ghi vào `outputs/internal/`.
#
# Mọi chỉ số có một định nghĩa duy nhất trong `locson_analysis/indicators/` (xem
# `docs/indicators.md`). Sổ tay này chỉ gọi chúng; nếu một câu hỏi mới trở thành câu hỏi
# thường xuyên, hãy đưa phép tính vào gói (kèm định nghĩa và kiểm thử), đừng chép ô lệnh.

# %% tags=["parameters"]
db_path: str = ""  # Tệp cơ sở dữ liệu; để trống là data/locson.duckdb
school_year: str = ""  # Năm học muốn xem kỹ, ví dụ "2024-2025"; để trống là năm gần nhất
class_name: str = ""  # Lớp muốn xem, ví dụ "9A1"; để trống là lớp đầu tiên của khối 9
school_code: str = ""  # Mã trường muốn xem, ví dụ "LOCSON"; để trống là trường mặc định

# %% [markdown]
# ## Đọc dữ liệu

# %%
import warnings

warnings.filterwarnings("ignore")

from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from IPython.display import HTML, display  # noqa: E402

from locson_analysis import config, district, indicators, schools, store  # noqa: E402
from locson_analysis import present as P  # noqa: E402
from locson_analysis.dataset import Dataset  # noqa: E402
from locson_analysis.report import charts as C  # noqa: E402
from locson_analysis.report import tables as RT  # noqa: E402

C.set_theme()
db = Path(db_path) if db_path else config.DEFAULT_DB
all_schools = store.load(db)  # read-only copy; the file is closed again when this returns
school_codes = schools.codes_in(all_schools.pupils, all_schools.school, all_schools.population)
code = schools.choose_school(school_codes, school_code or None)
ds = all_schools.for_school(code)  # one school; the district view below uses all_schools
table = indicators.compute_all(ds)  # every indicator, every year, every group
year = RT.resolve_report_year(ds, school_year or None)
display(HTML(P.table_html(
    store.summary(db).rename(columns={"school_code": "Mã trường", "school_year": "Năm học",
                                      "pupils": "Số học sinh", "classes": "Số lớp",
                                      "kinds": "Các tệp đã nhập"}),
    formats={"Số học sinh": "num", "Số lớp": "num"})))
running = ", ".join(RT.in_progress_years(ds)) or "không có"
print(f"Trường: {schools.school_name(code)} ({code}).")
print(f"Năm học xem kỹ: {year}. Năm đang diễn ra: {running}.")

# %% [markdown]
# ## Bảng chỉ số: một dòng cho mỗi chỉ số, năm học, nhóm
#
# Các cột: `school_year`, `indicator` (khóa, xem `indicators.INDICATORS`), `dimension`
# (toàn trường, khối, giới tính, dân tộc, …), `group` (nhãn tiếng Việt), `value` (tỷ lệ dạng
# phân số: 0,975 = 97,5 %), `numerator`, `denominator`, `note`.

# %%
registry = pd.DataFrame(
    [{"Khóa": k, "Chỉ số": i.label_vi, "Đơn vị": i.unit, "Nguồn": i.source}
     for k, i in indicators.INDICATORS.items()])
display(HTML(P.table_html(registry.head(15))))

# %% [markdown]
# ## Ví dụ 1 — một chỉ số qua các năm (toàn trường)

# %%
def school_series(key: str) -> pd.DataFrame:
    rows = table[(table["indicator"] == key) & (table["dimension"] == "school")]
    return rows[["school_year", "value", "numerator", "denominator", "note"]].sort_values(
        "school_year")


dropout = school_series("dropout_rate")
display(HTML(P.table_html(
    dropout.rename(columns={"school_year": "Năm học", "value": "Tỷ lệ bỏ học",
                            "numerator": "Số bỏ học", "denominator": "Số HS đầu năm",
                            "note": "Ghi chú"}),
    formats={"Tỷ lệ bỏ học": "pct2", "Số bỏ học": "num", "Số HS đầu năm": "num"})))

# %% [markdown]
# ## Ví dụ 2 — theo khối, một năm học

# %%
keys = ["enrolment_start", "promotion_rate", "repetition_rate", "dropout_rate",
        "transfer_out_rate"]
by_grade = table[(table["school_year"] == year) & (table["dimension"] == "grade")
                 & table["indicator"].isin(keys)]
wide = by_grade.pivot_table(index="group", columns="indicator", values="value",
                            aggfunc="first")[keys]
wide.columns = [RT.label_of(k) for k in keys]
display(HTML(P.table_html(
    wide.reset_index().rename(columns={"group": "Khối"}),
    formats={RT.label_of(k): RT.format_name(k) for k in keys})))

# %% [markdown]
# ## Ví dụ 3 — theo lớp
#
# Bảng chỉ số không chia theo lớp. Để xem một lớp, lọc `Dataset` rồi gọi lại đúng định nghĩa
# của gói: cùng một phép tính, áp cho một nhóm nhỏ hơn. Chỉ dùng cách này cho các chỉ số trong
# năm (lên lớp, ở lại lớp, bỏ học, chuyển đi); các chỉ số theo khóa học cần học sinh của các
# năm trước.

# %%
def for_pupils(mask: pd.Series) -> Dataset:
    """The same Dataset restricted to some pupil rows (school sheets unchanged)."""
    return Dataset(ds.pupils[mask].reset_index(drop=True), ds.school, ds.population,
                   ds.imports, ds.checks, ds.interventions)


this_year = ds.pupils["school_year"] == year
classes = sorted(ds.pupils.loc[this_year, "class_name"].dropna().unique())
chosen = class_name or next((c for c in classes if str(c).startswith("9")), classes[0])
one_class = indicators.compute_all(for_pupils(this_year & (ds.pupils["class_name"] == chosen)),
                                   school_year=year)
one_class = one_class[(one_class["dimension"] == "school") & one_class["indicator"].isin(keys)]
print(f"Lớp {chosen}, năm học {year}:")
for _, r in one_class.iterrows():
    counts = ("" if P.is_missing(r["denominator"])
              else f" ({P.fmt_num(r['numerator'])}/{P.fmt_num(r['denominator'])})")
    print(f"  {RT.label_of(r['indicator'])}: {RT.fmt_value(r['value'], r['indicator'])}{counts}")

# %% [markdown]
# ## Ví dụ 4 — theo nhóm học sinh (công bằng)
#
# Luôn đọc tỷ lệ cùng số học sinh: ở nhóm nhỏ (ghi chú «Nhóm nhỏ»), một em thay đổi làm tỷ lệ
# thay đổi nhiều.

# %%
equity = table[(table["school_year"] == year) & (table["indicator"] == "promotion_rate")
               & ~table["dimension"].isin(["school", "grade"])]
dimension_labels = dict(RT.EQUITY_DIMENSIONS)
equity = equity.assign(dimension=equity["dimension"].map(dimension_labels))
display(HTML(P.table_html(
    equity[["dimension", "group", "value", "numerator", "denominator", "note"]].rename(
        columns={"dimension": "Chiều", "group": "Nhóm", "value": "Tỷ lệ lên lớp",
                 "numerator": "Số lên lớp", "denominator": "Số HS cuối năm", "note": "Ghi chú"}),
    formats={"Tỷ lệ lên lớp": "pct", "Số lên lớp": "num", "Số HS cuối năm": "num"})))

# %% [markdown]
# ## Biểu đồ
#
# Theo chủ đề chung (`report.charts.set_theme`): trục tỷ lệ ghi phần trăm có dấu phẩy thập phân,
# trục số lượng bắt đầu từ 0.

# %%
dropout_series = dropout.reset_index(drop=True)
fig, ax = plt.subplots()
sns.lineplot(x=range(len(dropout_series)), y=dropout_series["value"], marker="o",
             color=C.LINE_COLOUR, label="Kết quả", ax=ax)
C.trend_look(ax, dropout_series.assign(threshold=float("nan"), target_label=None, phase=None),
             title="Tỷ lệ học sinh bỏ học", digits=2,
             alt_text="Tỷ lệ học sinh bỏ học theo năm học")
plt.show()

# %%
grade_rates = table[(table["indicator"] == "repetition_rate") & (table["dimension"] == "grade")
                    & table["value"].notna()]
fig, ax = plt.subplots(figsize=(C.A4_WIDTH_IN, 3.4))
sns.lineplot(data=grade_rates, x="school_year", y="value", hue="group", marker="o", ax=ax)
ax.set_ylim(bottom=0)
C.percent_axis(ax)
ax.set_title("Tỷ lệ học sinh ở lại lớp theo khối", loc="left")
ax.set_xlabel("Năm học")
ax.set_ylabel("")
ax.legend(title="", frameon=False)
fig.autofmt_xdate()
C.alt(fig, "Tỷ lệ học sinh ở lại lớp theo khối, các năm học")
plt.show()

# %% [markdown]
# ## Một câu hỏi mới
#
# Ví dụ: *học sinh nghỉ nhiều buổi ở học kỳ I có hay ở lại lớp hơn không?* Thử trước bằng số
# đếm (không in tên, không in mã học sinh). Nếu câu trả lời đáng theo dõi hằng năm, hãy viết nó
# thành một chỉ số trong `locson_analysis/indicators/` (có định nghĩa, nguồn, kiểm thử) để báo
# cáo và lệnh `locson indicators` cùng dùng.

# %%
finished = ds.pupils[(ds.pupils["school_year"] == year)
                     & ds.pupils["outcome"].isin(["promoted", "repeating", "completed",
                                                  "not_completed"])]
bands = pd.cut(finished["absences_s1"].astype("float"), [-1, 5, 15, 30, 1000],
               labels=["0–5 buổi", "6–15 buổi", "16–30 buổi", "trên 30 buổi"])
counts = pd.crosstab(bands, finished["outcome"].map(
    {"promoted": "Lên lớp", "completed": "Lên lớp", "repeating": "Ở lại lớp",
     "not_completed": "Ở lại lớp"}), dropna=False)
counts.index.name = "Số buổi nghỉ HK I"
display(HTML(P.table_html(counts.reset_index(), formats={c: "num" for c in counts.columns})))

# %% [markdown]
# ## Lưu chuyển theo phương pháp UNESCO (khóa học tái tạo)
#
# `flows.aggregate_from_pupils` đếm học sinh đầu năm, học sinh lưu ban và học sinh hoàn thành
# theo khối; `flows.flow_rates` tính tỷ lệ lên lớp, lưu ban, bỏ học theo cách của UNESCO;
# `flows.reconstructed_cohort` cho 1.000 học sinh vào lớp 6 đi qua các khối với các tỷ lệ đó.

# %%
from locson_analysis import flows  # noqa: E402
from locson_analysis.errors import LocsonError  # noqa: E402

aggregate = flows.aggregate_from_pupils(ds.pupils)
rates = flows.flow_rates(aggregate)
# The method assumes no pupils arrive mid-course; where transfers in push a rate above 100 %
# for a base year, the package says so and we look at the year before.
for base_year in sorted(rates["school_year"].unique(), reverse=True):
    base = rates[rates["school_year"] == base_year]
    try:
        cohort = flows.reconstructed_cohort(base)
    except LocsonError as problem:
        print(f"Năm gốc {base_year}: không dựng được mô hình — {str(problem).splitlines()[0]}")
        continue
    print(f"Năm gốc {base_year}: trong 1.000 học sinh vào lớp 6, "
          f"{P.fmt_num(cohort.graduates)} em hoàn thành lớp 9, {P.fmt_num(cohort.dropouts)} em "
          f"bỏ học; hệ số hiệu quả {P.fmt_pct(cohort.efficiency)}.")
    break

# %% [markdown]
# ## Toàn thành phố — các trường đặt cạnh nhau
#
# Phòng GD&ĐT nhập dữ liệu của nhiều trường vào **một** cơ sở dữ liệu: mỗi trường một mã
# (`data/schools.yaml`), lệnh `locson import <thư mục năm học>` nhận ra trường từ dòng tiêu đề
# của tệp («TRƯỜNG THCS LỘC SƠN»), hoặc chỉ rõ bằng `--school MÃ`. Bảng dưới đặt các trường
# cạnh nhau cho các tỷ lệ chính của năm học, kèm tử số, mẫu số, chỉ tiêu của kế hoạch, và dòng
# **gộp toàn thành phố**: tổng tử số ÷ tổng mẫu số của mọi trường (không phải trung bình tỷ lệ
# các trường; xem `docs/indicators.md`). Số liệu lấy từ `district.side_by_side`.

# %%
if len(school_codes) < 2:
    print(f"Cơ sở dữ liệu này chỉ có một trường ({', '.join(school_codes) or 'chưa có'}): chưa có "
          "gì để so sánh giữa các trường. Phòng GD&ĐT nhập tệp của từng trường vào cùng một cơ "
          "sở dữ liệu, ví dụ: locson import du_lieu/LOCPHAT/2024-2025 --db pgd.duckdb (trường "
          "được nhận ra từ dòng tiêu đề của tệp), rồi chạy lại sổ tay này với db_path là tệp "
          "đó. Bảng dưới chỉ có trường này và dòng gộp (trùng với trường).")
district_year = year if year in all_schools.years() else all_schools.years()[-1]
side = district.side_by_side(all_schools, district_year)
shown = side.assign(value_text=[RT.fmt_value(v, k) for v, k in zip(side["value"],
                                                                    side["indicator"])],
                    target_text=[RT.fmt_threshold(t, d, k) for t, d, k in
                                 zip(side["threshold"], side["direction"], side["indicator"])])
display(HTML(P.table_html(
    shown[["indicator_label", "school", "value_text", "numerator", "denominator",
           "target_text", "status"]].rename(columns={
        "indicator_label": "Chỉ số", "school": "Trường", "value_text": "Giá trị",
        "numerator": "Tử số", "denominator": "Mẫu số", "target_text": "Chỉ tiêu",
        "status": "Đánh giá"}),
    formats={"Tử số": "num", "Mẫu số": "num"},
    caption=f"Các trường và toàn thành phố, năm học {district_year}")))

# %%
district_keys = list(district.DISTRICT_KEYS)
fig, axes = plt.subplots(len(district_keys), 1, figsize=(C.A4_WIDTH_IN, 1.2 + 0.45 * len(side)))
for ax, key in zip(axes, district_keys):
    part = side[side["indicator"] == key]
    sns.barplot(data=part, y="school", x="value", hue="pooled", dodge=False, ax=ax,
                palette={False: "#4c72b0", True: "#c44e52"}, legend=False)
    threshold = part["threshold"].dropna()
    top = max(part["value"].max(skipna=True) if part["value"].notna().any() else 0,
              threshold.max() if len(threshold) else 0)
    title = RT.label_of(key)
    if len(threshold):
        ax.axvline(threshold.iloc[0], color="black", linestyle="--", linewidth=1)
        target = RT.fmt_threshold(threshold.iloc[0], part["direction"].iloc[0], key)
        title += f" — chỉ tiêu {target} (đường đứt)"
    for bar, (_, r) in zip(ax.patches, part.iterrows()):
        if not P.is_missing(r["denominator"]):
            ax.annotate(f" {P.fmt_num(r['numerator'])}/{P.fmt_num(r['denominator'])}",
                        (bar.get_width(), bar.get_y() + bar.get_height() / 2),
                        va="center", fontsize=8)
    ax.set_xlim(0, min(1.0, max(top * 1.25, 0.005)) if key == "dropout_rate" else 1.0)
    C.percent_axis(ax, axis="x")
    ax.set_title(title, loc="left", fontsize=10)
    ax.set_xlabel("")
    ax.set_ylabel("")
fig.tight_layout()
C.alt(fig, f"Các tỷ lệ chính của từng trường và toàn thành phố, năm học {district_year}")
plt.show()
