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
# Sổ tay chỉ hiển thị báo cáo: mọi con số lấy từ gói `locson_analysis` (`store.load` →
# `indicators.compute_all` → `targets.evaluate` → `report_tables.build_report`), chữ, bảng và
# biểu đồ được dàn trang trong `locson_analysis/report_html.py`. Lệnh `locson report` dàn
# trang sẵn và truyền tệp qua tham số `report_file`; mở riêng trong JupyterLab (tham số để
# trống), sổ tay tự đọc cơ sở dữ liệu và dàn trang bằng đúng các hàm đó. Không thêm phép tính
# chỉ số vào đây; không in dòng nào theo từng học sinh. Ô này không xuất hiện trong báo cáo.

# %% tags=["parameters"]
school_year: str = ""  # Năm học báo cáo, ví dụ "2024-2025"; để trống là năm gần nhất đã kết thúc
db_path: str = ""  # Tệp cơ sở dữ liệu; để trống là data/locson.duckdb
targets_file: str = ""  # Tệp chỉ tiêu; để trống là data/targets.yaml
output_dir: str = ""  # Thư mục báo cáo (chỉ ghi lại để đối chiếu; sổ tay không ghi tệp)
mid_year: bool = False  # True: báo cáo giữa năm (sau học kỳ 1)
school_code: str = ""  # Mã trường, ví dụ "LOCSON"; để trống là trường mặc định
report_file: str = ""  # Báo cáo đã dàn trang do lệnh locson report ghi; để trống là sổ tay tự dựng

# %%
import warnings

warnings.filterwarnings("ignore")

from locson_analysis.report_view import open_report  # noqa: E402

# With report_file (locson report) this reads a JSON file: no pandas, no matplotlib here.
report = open_report(report_file, db_path=db_path, targets_file=targets_file,
                     school_year=school_year, mid_year=mid_year, school_code=school_code)
report.display()
