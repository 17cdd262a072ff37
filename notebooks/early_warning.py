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
#   title: "N\u1ED8I B\u1ED8 \u2014 C\u1EA3nh b\xE1o s\u1EDBm h\u1ECDc sinh c\xF3 nguy\
#     \ c\u01A1 b\u1ECF h\u1ECDc \u2014 Tr\u01B0\u1EDDng THCS L\u1ED9c S\u01A1n"
# ---

# %% [markdown] tags=["remove-cell"]
# # Cảnh báo sớm học sinh có nguy cơ bỏ học (NỘI BỘ)
#
# Sổ tay này lập danh sách học sinh cần quan tâm theo Kế hoạch, mục III.2 ("phân loại học sinh
# có nguy cơ bỏ học để có biện pháp khắc phục kịp thời"). Cách dùng thông thường: chạy lệnh
# `locson warn --year 2025-2026 --point mid` (hoặc `--point end`); lệnh đó chạy sổ tay này bằng
# papermill rồi xuất tệp HTML không có mã lệnh và tệp Excel vào `outputs/internal/<năm học>/`.
#
# Chạy sổ tay bằng tay (Jupyter) là **chạy thử**: không ghi tệp nào, không thay danh sách
# chính thức và không thành "lần trước" của lần chạy `locson warn` tiếp theo. Chỉ lệnh
# `locson warn` (tham số `official = True`) mới ghi vào `outputs/internal/`.
#
# Tài liệu có tên học sinh: **không gửi ra ngoài trường**, không đưa vào git. Sổ tay chỉ gọi
# `locson_analysis.warn`; không thêm phép tính vào đây. Ô này không xuất hiện trong báo cáo.

# %% tags=["parameters"]
school_year: str = "2025-2026"  # Năm học, ví dụ "2025-2026"
point: str = "end"  # Thời điểm: "mid" (sau học kỳ 1) hoặc "end" (cuối năm)
capacity: int = 30  # Số học sinh nhà trường có thể theo dõi sát
db_path: str = ""  # Tệp cơ sở dữ liệu; để trống là data/locson.duckdb
output_dir: str = ""  # Thư mục nội bộ; để trống là outputs/internal
school_code: str = ""  # Mã trường được lập danh sách; để trống là trường mặc định
official: bool = False  # True chỉ khi lệnh locson warn chạy (ghi danh sách chính thức)

# %%
import warnings

warnings.filterwarnings("ignore")

from IPython.display import HTML, display  # noqa: E402

from locson_analysis import config, warn  # noqa: E402
from locson_analysis import present as P  # noqa: E402
from locson_analysis import warn_model as WM  # noqa: E402

run = warn.prepare(db_path or None, school_year, point, capacity,
                   output_dir or config.INTERNAL_OUTPUTS_DIR, school_code=school_code or None,
                   official=official)


def show(html: str) -> None:
    display(HTML(html))


show(f'<div class="locson-internal"><b>{warn.INTERNAL_MARK}</b></div>'
     f"<h1>Cảnh báo sớm học sinh có nguy cơ bỏ học</h1>"
     f"<p>Trường THCS Lộc Sơn — năm học {run.school_year} — "
     f"{warn.POINT_LABELS[run.point]} — lập ngày {P.fmt_date(run.run_at)}</p>")
show("".join(P.paragraph(s) for s in run.headline()))
if not official:
    show(P.note_box("Chạy thử: sổ tay này không ghi tệp nào và không thay danh sách chính thức. "
                    "Danh sách chính thức chỉ do lệnh locson warn lập.", kind="warn"))

# %% [markdown]
# ## Cách đọc danh sách
#
# Mỗi học sinh được xét theo các quy tắc trong tệp `data/warning_rules.yaml`: nghỉ học nhiều,
# kết quả học tập hoặc rèn luyện Chưa đạt, kết quả giảm so với kỳ trước, ở lại lớp, quá tuổi so
# với khối lớp, đã nghỉ rồi quay lại. **Điểm quy tắc** là tổng trọng số các quy tắc em chạm tới.
# Cột **Lý do** ghi rõ từng quy tắc kèm số liệu. Học sinh **thiếu số liệu** luôn có tên trong danh
# sách để giáo viên chủ nhiệm kiểm tra và bổ sung — thiếu số liệu không có nghĩa là an toàn.
# Cột **Hoàn cảnh** (hộ nghèo, cận nghèo, dân tộc, khuyết tật, hoàn cảnh đặc biệt) chỉ để định
# hướng cách hỗ trợ; hoàn cảnh **không** làm tăng điểm.
#
# Danh sách là gợi ý để thầy cô quan tâm sớm, không phải kết luận về học sinh.

# %%
show("<h2>Danh sách theo lớp (dành cho giáo viên chủ nhiệm)</h2>")
classes = run.by_class()
if not classes:
    show(P.paragraph("Không có học sinh nào cần đưa vào danh sách ở thời điểm này."))
for class_name, table in classes.items():
    show(f"<h3>Lớp {P.esc(class_name)} — {P.fmt_num(len(table))} học sinh</h3>")
    show(P.table_html(table, formats={"Điểm quy tắc": "num", "Thứ tự ưu tiên": "num"}))

# %%
show("<h2>Thay đổi so với lần chạy trước</h2>")
if run.previous_run is None:
    show(P.paragraph("Đây là lần chạy đầu tiên của năm học: chưa có danh sách trước để so."))
elif run.changes.empty:
    show(P.paragraph(f"Không có thay đổi so với lần chạy trước ({run.previous_run})."))
else:
    show(P.paragraph(f"Lần chạy trước: {run.previous_run}."))
    show(P.table_html(run.changes.rename(columns={
        "change": "Thay đổi", "class_name": "Lớp", "pupil_id": "Mã học sinh",
        "full_name": "Họ và tên", "reasons": "Lý do"})))

# %%
show("<h2>Học sinh trong danh sách chưa có ghi nhận can thiệp</h2>")
no_action = run.listed[run.listed["no_action"]]
if no_action.empty:
    show(P.paragraph("Mọi học sinh trong danh sách đã có ít nhất một ghi nhận can thiệp "
                     "trong năm học này."))
else:
    show(P.note_box(f"{P.fmt_num(len(no_action))} học sinh chưa có việc làm nào được ghi vào "
                    f"nhật ký can thiệp năm học này. Đề nghị giáo viên chủ nhiệm và tư vấn viên "
                    f"liên hệ gia đình và ghi lại kết quả.", kind="warn"))
    show(P.table_html(no_action[["class_name", "pupil_id", "full_name", "reasons"]].rename(
        columns={"class_name": "Lớp", "pupil_id": "Mã học sinh", "full_name": "Họ và tên",
                 "reasons": "Lý do"})))

# %%
show("<h2>Học sinh được cảnh báo cuối năm học trước: nay ra sao?</h2>")
if run.earlier.empty:
    show(P.paragraph("Không có học sinh nào được cảnh báo cuối năm học trước (hoặc chưa có số "
                     "liệu năm học trước)."))
else:
    show(P.table_html(run.earlier.rename(columns={
        "class_name": "Lớp năm trước", "pupil_id": "Mã học sinh", "full_name": "Họ và tên",
        "reasons": "Lý do năm trước", "had_action": "Đã có can thiệp", "now": "Năm nay",
        "still_listed": "Vẫn trong danh sách"}),
        formats={"Đã có can thiệp": "bool", "Vẫn trong danh sách": "bool"}))

# %%
show("<h2>Hồ sơ cần đối chiếu giữa các năm</h2>")
if run.reconciled.empty:
    show(P.paragraph("Không phát hiện hồ sơ nào không khớp giữa các năm học."))
else:
    show(P.paragraph("Các trường hợp dưới đây cần giáo vụ xác minh (có thể là bỏ học không được "
                     "ghi nhận). Báo cáo gửi Phòng GD&ĐT chỉ ghi số lượng, không ghi tên."))
    show(P.table_html(run.reconciled.assign(
        check=run.reconciled["check"].map(warn.CHECK_LABELS))[
        ["next_year", "check", "class_name", "pupil_id", "full_name", "detail"]].rename(
        columns={"next_year": "Năm học", "check": "Loại", "class_name": "Lớp",
                 "pupil_id": "Mã học sinh", "full_name": "Họ và tên", "detail": "Chi tiết"})))

# %%
show("<h2>Cảnh báo có đáng tin không? Kiểm chứng trên các năm trước</h2>")
show(P.paragraph("Cách kiểm chứng được cố định trước khi xem kết quả (docs/early-warning.md): "
                 "kết cục là em bỏ học hoặc không trở lại trường trong vòng 12 tháng sau thời "
                 "điểm cảnh báo; mọi lựa chọn (mô hình hay quy tắc) chỉ dựa trên các năm cũ; các "
                 "năm gần nhất được giữ lại, chỉ để báo cáo. Trên số liệu mẫu (tổng hợp, "
                 "locson sample), các con số dưới đây chỉ minh họa cách làm, không phải bằng "
                 "chứng về độ chính xác của cảnh báo."))
show("".join(P.paragraph(s) for s in run.backtest_text))
bt = run.backtest
table = WM.summary_table(bt, run.point)
if table.empty:
    show(P.paragraph("Chưa đủ số liệu để kiểm chứng."))
else:
    show(P.table_html(table, formats=WM.SUMMARY_TABLE_FORMATS))
    show(P.paragraph(f"Tỉ lệ phát hiện: trong số em thật sự bỏ học (hoặc không trở lại trường), "
                     f"bao nhiêu em nằm trong {run.capacity} em xếp đầu mỗi năm. Khoảng tin cậy "
                     f"95 % (lấy mẫu lại các ca) rộng khi số ca ít. Cột «Tìm ra» có thể lẻ "
                     f"(0,5 em): khi nhiều em bằng điểm nhau ở ranh giới danh sách, mỗi em được "
                     f"tính một phần chỗ (như bốc thăm công bằng); câu cho giáo viên ở trên làm "
                     f"tròn thành số em. Các dòng «chệch hướng» dùng "
                     f"nhãn thay thế để huấn luyện mô hình, không phải bỏ học."))

# %%
show("<h3>Từng trường hợp bỏ học: có được cảnh báo kịp thời không?</h3>")
if bt.dropouts.empty:
    show(P.paragraph("Không có trường hợp bỏ học nào trong số liệu."))
else:
    show(P.paragraph("Cảnh báo theo quy tắc (điểm đạt ngưỡng) ở cuối năm học trước và ở giữa "
                     "năm học bỏ học; cột mô hình cho biết em có nằm trong nhóm được mô hình xếp "
                     "đầu cuối năm học trước không (— khi chưa đủ năm để huấn luyện)."))
    show(P.table_html(bt.dropouts[["dropout_year", "class_name", "pupil_id", "kind",
                                   "flagged_end_before", "model_top_end_before", "flagged_mid",
                                   "earliest"]].rename(
        columns={"dropout_year": "Năm học bỏ học", "class_name": "Lớp", "pupil_id": "Mã học sinh",
                 "kind": "Trường hợp", "flagged_end_before": "Cảnh báo cuối năm trước",
                 "model_top_end_before": "Mô hình xếp đầu cuối năm trước",
                 "flagged_mid": "Cảnh báo giữa năm", "earliest": "Cảnh báo sớm nhất"}),
        formats={"Cảnh báo cuối năm trước": "bool", "Cảnh báo giữa năm": "bool",
                 "Mô hình xếp đầu cuối năm trước": "bool"}))

# %%
show("<h3>Cảnh báo có công bằng giữa các nhóm không?</h3>")
if bt.fairness.empty:
    show(P.paragraph("Chưa đủ số liệu để so sánh giữa các nhóm."))
else:
    show(P.paragraph("Tỉ lệ các ca được cảnh báo, theo nhóm, tính riêng cho trường này — trên "
                     "kết cục thật (bỏ học) và trên nhãn thay thế «chệch hướng». Khoảng tin "
                     "cậy 95 % (Wilson) rộng khi số em ít: khi đó khác biệt giữa các nhóm "
                     "chưa nói lên điều gì chắc chắn."))
    fair = bt.fairness[bt.fairness["point"] == run.point].assign(
        method=lambda d: d["method"].map(WM.METHOD_LABELS),
        outcome=lambda d: d["outcome"].map(WM.OUTCOME_SHORT))
    show(P.table_html(fair[["outcome", "method", "group", "events", "caught", "recall",
                            "ci_low", "ci_high", "note"]].rename(columns={
        "outcome": "Kết cục", "method": "Cách cảnh báo", "group": "Nhóm", "events": "Số ca",
        "caught": "Được cảnh báo", "recall": "Tỉ lệ", "ci_low": "Từ", "ci_high": "Đến",
        "note": "Ghi chú"}),
        formats={"Tỉ lệ": "pct", "Từ": "pct", "Đến": "pct", "Số ca": "num",
                 "Được cảnh báo": "num1"}))

# %%
show("<h3>Xác suất dự báo của mô hình so với thực tế (nhãn thay thế «chệch hướng»)</h3>")
cal = bt.calibration[bt.calibration["point"] == run.point]
if cal.empty:
    show(P.paragraph("Chưa đủ số liệu."))
else:
    show(P.table_html(cal.assign(method=cal["method"].map(WM.METHOD_LABELS))[
        ["method", "bin", "n", "mean_predicted", "observed", "ci_low", "ci_high"]].rename(
        columns={"method": "Cách xếp hạng", "bin": "Khoảng xác suất", "n": "Số lượt học sinh",
                 "mean_predicted": "Dự báo trung bình", "observed": "Thực tế",
                 "ci_low": "Từ", "ci_high": "Đến"}),
        formats={"Dự báo trung bình": "pct", "Thực tế": "pct", "Từ": "pct", "Đến": "pct",
                 "Số lượt học sinh": "num"}))
show(f'<div class="locson-internal"><b>{warn.INTERNAL_MARK}</b></div>')
