"""The internal early-warning run: list by class, changes since the last run, report files.

The top of the early warning (``warn_rules`` → ``warn_data`` → ``warn_model`` → ``warn``):

* :func:`build_run` — everything one run shows (flags by the rules of
  :mod:`locson_analysis.warn_rules`, the back-test and ranking of
  :mod:`locson_analysis.warn_model`, changes, interventions), no files written;
* :func:`prepare` — what the notebook calls: load and compute; only an **official** run
  (``official=True``, which only :func:`run_warning` — ``locson warn`` — passes) writes the Excel
  list (:func:`write_excel`) and the "lần trước" snapshot (:func:`write_snapshot`).  An
  interactive run of the notebook is an experiment: it writes nothing and never becomes the
  baseline of the next official run;
* :func:`run_warning` — runs the notebook and exports the internal report (HTML + Excel) to
  ``outputs/internal/<year>/``.

Everything here names children: results go to ``outputs/internal/`` only and are marked
"NỘI BỘ — không gửi ra ngoài trường".

The rule names (:func:`flag`, :func:`load_rules`, :class:`Rules`, :func:`reconcile`, …) are
re-exported from :mod:`locson_analysis.warn_rules` for callers of this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from . import config, safe_cells, warn_model
from .contract import DEFAULT_SCHOOL, OUTCOME_LABELS, previous_year
from .dataset import Dataset
from .errors import LocsonError
from .numbers import fmt_num
from .provenance import SAMPLE_MARK
from .warn_rules import (  # noqa: F401  (re-exported: the public names of the early warning)
    CHECK_LABELS,
    CONTEXT_LABELS,
    FLAG_COLUMNS,
    INTERNAL_MARK,
    LEFT,
    MISSING_MARK,
    NOT_PASSED,
    POINT_LABELS,
    RECONCILE_COLUMNS,
    RESULT_LEVEL,
    RULE_KEYS,
    RULE_LABELS,
    STAYING,
    Point,
    Rules,
    _prepared,
    flag,
    load_rules,
    reconcile,
    reconcile_counts,
    rule_inputs,
    rule_score,
)

# --------------------------------------------------------------------------------------------
# The internal run: list by class, changes since the last run, interventions, back-test
# --------------------------------------------------------------------------------------------

SNAPSHOT_NAME = "canh_bao_lan_truoc.csv"
SNAPSHOT_COLUMNS = ["school_code", "school_year", "point", "run_at", "class_name", "pupil_id",
                    "full_name", "score", "reasons"]
CHANGE_NEW = "Mới vào danh sách"
CHANGE_RESOLVED = "Không còn trong danh sách"
CHANGE_SAME = "Đã có ở lần trước"

#: Vietnamese headers of the list staff read (HTML and Excel).
LIST_HEADERS: dict[str, str] = {
    "class_name": "Lớp", "priority": "Thứ tự ưu tiên", "pupil_id": "Mã học sinh",
    "full_name": "Họ và tên", "score": "Điểm quy tắc", "reasons": "Lý do",
    "data_status": "Số liệu", "model_explanation": "Yếu tố chính (mô hình)",
    "context": "Hoàn cảnh (để định hướng hỗ trợ)", "last_action": "Can thiệp gần nhất",
    "change": "So với lần trước",
}


@dataclass
class WarningRun:
    """One run of the early warning: everything the internal report and the Excel list show.

    flags:          every pupil at school at the point (see :func:`flag`) plus ``priority``,
                    ``model_probability``/``model_explanation`` (when the model is used),
                    ``last_action``/``no_action`` and ``change``
    listed:         the pupils to look at (flagged or missing data), by class then priority
    changes:        new and resolved flags since the previous run
    earlier:        pupils flagged at the end of the previous year and what became of them
    reconciled:     records that do not add up across years (:func:`reconcile`)
    backtest:       the back-test (``warn_model.BacktestResult``) and ``backtest_text``
    teacher_text:   one sentence with numbers from the held-out years, or "too few cases"
    learned_from:   which schools' years the model learned from (None: no model)
    sample_data:    the data are the synthetic sample: figures demonstrate, prove nothing
    """

    school_year: str
    point: Point
    capacity: int
    run_at: pd.Timestamp
    ranking: Literal["model", "rules"]
    flags: pd.DataFrame
    listed: pd.DataFrame
    changes: pd.DataFrame
    previous_run: str | None
    earlier: pd.DataFrame
    reconciled: pd.DataFrame
    backtest: Any
    backtest_text: list[str]
    school_code: str = DEFAULT_SCHOOL
    teacher_text: str = ""
    learned_from: pd.DataFrame | None = None
    sample_data: bool = False

    def list_columns(self) -> list[str]:
        """The columns of the list staff read (explanations only when the model ranks)."""
        cols = [c for c in LIST_HEADERS if c in self.listed.columns]
        if self.ranking != "model":
            cols.remove("model_explanation")
        if not self.listed["change"].astype(bool).any():
            cols.remove("change")
        return cols

    def by_class(self) -> dict[str, pd.DataFrame]:
        """The listed pupils of each class, with Vietnamese headers (for homeroom teachers)."""
        cols = [c for c in self.list_columns() if c != "class_name"]
        return {str(k): g[cols].rename(columns=LIST_HEADERS).reset_index(drop=True)
                for k, g in self.listed.groupby("class_name", sort=True)}

    def headline(self) -> list[str]:
        """A few sentences for the top of the report (Vietnamese)."""
        n_all, n_listed = len(self.flags), len(self.listed)
        n_missing = int((self.listed["data_status"] == MISSING_MARK).sum())
        n_new = int((self.changes["change"] == CHANGE_NEW).sum()) if len(self.changes) else 0
        n_res = int((self.changes["change"] == CHANGE_RESOLVED).sum()) if len(
            self.changes) else 0
        no_action = int(self.listed["no_action"].sum()) if n_listed else 0
        out = [SAMPLE_MARK] if self.sample_data else []
        if self.teacher_text:
            out.append(self.teacher_text)
        if self.sample_data:
            out.append(SAMPLE_NOTE)
        out += [f"Năm học {self.school_year}, thời điểm {POINT_LABELS[self.point]}: "
               f"{fmt_num(n_listed)} trên {fmt_num(n_all)} học sinh đang học cần được quan "
               f"tâm ({fmt_num(n_listed - n_missing)} em chạm quy tắc cảnh báo, "
               f"{fmt_num(n_missing)} em thiếu số liệu cần kiểm tra)."]
        if self.previous_run:
            out.append(f"So với lần chạy trước ({self.previous_run}): {fmt_num(n_new)} em mới "
                       f"vào danh sách, {fmt_num(n_res)} em không còn trong danh sách.")
        else:
            out.append("Đây là lần chạy đầu tiên: chưa có danh sách trước để so sánh.")
        out.append(f"{fmt_num(no_action)} em trong danh sách chưa có ghi nhận can thiệp nào "
                   f"trong năm học này.")
        order = ("mô hình xếp hạng (đã kiểm chứng tốt hơn quy tắc và các cách đơn giản hơn)"
                 if self.ranking == "model"
                 else "điểm quy tắc")
        out.append(f"Thứ tự ưu tiên theo {order}; {self.capacity} em đầu là số em nhà trường "
                   f"có thể theo dõi sát.")
        if self.ranking == "model":
            learned = warn_model.learned_text(self.learned_from)
            if learned:
                out.append(learned)
        return out


SAMPLE_NOTE = ("Đây là số liệu mẫu (tổng hợp), không phải số liệu thật của trường: các con số "
               "kiểm chứng chỉ minh họa cách làm, không phải bằng chứng về độ chính xác của "
               "cảnh báo.")


def _fmt_date(value: object) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%d/%m/%Y")


def _actions(interventions: pd.DataFrame | None, school_year: str) -> pd.DataFrame:
    """The latest action of this school year for each pupil (text), from the staff log."""
    cols = ["school_code", "pupil_id", "last_action", "actions"]
    if interventions is None or interventions.empty:
        return pd.DataFrame(columns=cols)
    iv = interventions[interventions["school_year"] == school_year].copy()
    if iv.empty:
        return pd.DataFrame(columns=cols)
    iv["action_date"] = pd.to_datetime(iv["action_date"], errors="coerce")
    iv = iv.sort_values("action_date")
    rows = []
    for (school, pid), g in iv.groupby(["school_code", "pupil_id"], sort=False):
        r = g.iloc[-1]
        text = f"{_fmt_date(r['action_date'])}: {r['action']}"
        if isinstance(r.get("staff"), str) and r["staff"]:
            text += f" ({r['staff']})"
        if isinstance(r.get("result"), str) and r["result"]:
            text += f" — {r['result']}"
        rows.append({"school_code": school, "pupil_id": pid, "last_action": text,
                     "actions": len(g)})
    return pd.DataFrame(rows, columns=cols)


def read_previous(out_dir: str | Path, school_year: str) -> pd.DataFrame | None:
    """The flag list kept by the previous run (this year's folder, else last year's)."""
    base = Path(out_dir)
    for year in (school_year, previous_year(school_year)):
        path = base / year / SNAPSHOT_NAME
        if path.exists():
            return safe_cells.restore_frame(pd.read_csv(
                path, dtype={"pupil_id": str, "school_code": str, "class_name": str}))
    return None


def _changes(listed: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    cols = ["change", "class_name", "pupil_id", "full_name", "reasons"]
    if previous is None:
        return pd.DataFrame(columns=cols)
    before = set(zip(previous["school_code"], previous["pupil_id"], strict=True))
    now = set(zip(listed["school_code"], listed["pupil_id"], strict=True))
    new = listed[[k not in before for k in zip(listed["school_code"], listed["pupil_id"],
                                                strict=True)]]
    gone = previous[[k not in now for k in zip(previous["school_code"], previous["pupil_id"],
                                                strict=True)]]
    out = pd.concat([
        new.assign(change=CHANGE_NEW)[cols],
        gone.assign(change=CHANGE_RESOLVED,
                    reasons="trước đây: " + gone["reasons"].fillna("").astype(str))[cols],
    ], ignore_index=True)
    return out.sort_values(["change", "class_name", "pupil_id"], ignore_index=True)


def _earlier_flags(p: pd.DataFrame, school_year: str, rules: Rules,
                   interventions: pd.DataFrame | None) -> pd.DataFrame:
    """Pupils flagged at the end of last year, and what became of them this year."""
    cols = ["class_name", "pupil_id", "full_name", "reasons", "had_action", "now", "still_listed"]
    last = previous_year(school_year)
    if last not in set(p["school_year"]):
        return pd.DataFrame(columns=cols)
    before = flag(p, last, "end", rules)
    before = before[before["flagged"]]
    if before.empty:
        return pd.DataFrame(columns=cols)
    this = p[p["school_year"] == school_year].drop_duplicates(["school_code", "pupil_id"])
    this = this.set_index(["school_code", "pupil_id"])
    acted: set[tuple[str, str]] = set()
    if interventions is not None and len(interventions):
        iv = interventions[interventions["school_year"].isin([last, school_year])]
        acted = set(zip(iv["school_code"], iv["pupil_id"], strict=True))
    rows = []
    for _, r in before.iterrows():
        key = (r["school_code"], r["pupil_id"])
        if key in this.index:
            t = this.loc[key]
            outcome = t["outcome"]
            if outcome == "in_progress":
                now = f"đang học lớp {t['class_name']}"
            else:
                now = f"{OUTCOME_LABELS.get(outcome, outcome)} (lớp {t['class_name']})"
        else:
            now = "không có tên năm nay (cần xác minh)"
        rows.append({"class_name": r["class_name"], "pupil_id": r["pupil_id"],
                     "full_name": r["full_name"], "reasons": r["reasons"],
                     "had_action": key in acted, "now": now})
    out = pd.DataFrame(rows)
    out["still_listed"] = False
    return out.reindex(columns=cols)


def check_year(pupils: pd.DataFrame, school_year: str, point: Point) -> None:
    """A clear error when the year has no pupils, or has not ended for an end-of-year run."""
    if point not in ("mid", "end"):
        raise LocsonError(f"Thời điểm cảnh báo «{point}» không hợp lệ: chỉ dùng mid hoặc end.")
    year = pupils[pupils["school_year"] == school_year]
    if year.empty:
        raise LocsonError(f"Chưa có danh sách học sinh năm học {school_year} trong cơ sở dữ "
                          f"liệu. Hãy nhập dữ liệu năm học này trước.")
    if point == "end" and year["outcome"].eq("in_progress").any():
        raise LocsonError(f"Năm học {school_year} chưa kết thúc (còn học sinh «Đang học»), nên "
                          f"chưa có kết quả cả năm. Hãy chạy cảnh báo giữa năm: "
                          f"locson warn --year {school_year} --point mid.")


def target_school(pupils: pd.DataFrame, school_code: str | None = None) -> str:
    """The school whose pupils a run lists: ``school_code``, else the choice of
    :func:`locson_analysis.schools.choose_school` among the schools in ``pupils``."""
    from . import schools

    return schools.choose_school(schools.codes_in(pupils), school_code or None)


def build_run(ds: Dataset, school_year: str, point: Point, capacity: int = 30,
              rules: Rules | None = None, previous: pd.DataFrame | None = None,
              previous_label: str | None = None, seed: int = 0,
              school_code: str | None = None) -> WarningRun:
    """Everything one run shows, computed from the data (no files written).

    ``ds`` may hold several schools: the pupils of ``school_code`` (default:
    :func:`target_school`) are flagged and ranked; every school's earlier years teach the model.
    The rules, the back-test figures and the fairness checks are this school's.
    """
    rules = rules or load_rules()
    p_all = _prepared(ds.pupils)
    code = target_school(p_all, school_code)
    # As the school saw it then: later years (if any) play no part in this run.
    p_all = p_all[p_all["school_year"] <= school_year]
    p = p_all[p_all["school_code"] == code]
    p.attrs["warn_prepared"] = True
    check_year(p, school_year, point)
    flags = flag(p, school_year, point, rules)
    bt = warn_model.backtest(p_all, capacity=capacity, seed=seed, rules=rules, school_code=code)
    ranking: Literal["model", "rules"] = "rules"
    scored = None
    learned = bt.learned_from.get(point)
    if bt.use_model.get(point):
        scored = warn_model.score_year(p_all, school_year, point, rules, seed=seed,
                                       school_code=code)
        ranking = "model" if scored is not None else "rules"
        if scored is not None:
            learned = scored.attrs.get("learned_from", learned)
    if scored is not None:
        flags = flags.merge(scored, on=["school_code", "pupil_id"], how="left")
        order = flags["model_probability"].fillna(-1.0)
    else:
        flags["model_probability"] = math.nan
        flags["model_explanation"] = ""
        order = flags["score"]
    # Priority among the listed pupils (listed pupils come first after sorting).
    flags["_order"] = order
    flags = flags.sort_values(["listed", "_order", "score"], ascending=[False, False, False],
                              kind="stable", ignore_index=True)
    flags["priority"] = pd.array([i + 1 if listed else pd.NA
                                  for i, listed in enumerate(flags["listed"])], dtype="Int64")
    flags = flags.drop(columns="_order")
    acts = _actions(ds.interventions, school_year)
    flags = flags.merge(acts, on=["school_code", "pupil_id"], how="left")
    flags["no_action"] = flags["last_action"].isna()
    flags["last_action"] = flags["last_action"].fillna("chưa có")
    listed = flags[flags["listed"]].copy()
    changes = _changes(listed, previous)
    if previous is not None:
        before = set(zip(previous["school_code"], previous["pupil_id"], strict=True))
        listed["change"] = [CHANGE_SAME if k in before else CHANGE_NEW
                            for k in zip(listed["school_code"], listed["pupil_id"], strict=True)]
    else:
        listed["change"] = ""
    listed = listed.sort_values(["class_name", "priority"], ignore_index=True)
    earlier = _earlier_flags(p, school_year, rules, ds.interventions)
    if len(earlier):
        now_listed = set(listed["pupil_id"])
        earlier["still_listed"] = earlier["pupil_id"].isin(now_listed)
    return WarningRun(
        school_year=school_year, point=point, capacity=capacity,
        run_at=pd.Timestamp.now().floor("s"), ranking=ranking, flags=flags, listed=listed,
        changes=changes, previous_run=previous_label, earlier=earlier,
        reconciled=reconcile(p), backtest=bt, backtest_text=warn_model.describe(bt),
        school_code=code, teacher_text=warn_model.teacher_sentence(bt, point),
        learned_from=learned, sample_data=ds.is_sample)


def _snapshot(run: WarningRun) -> pd.DataFrame:
    s = run.listed.copy()
    s["point"] = run.point
    s["run_at"] = run.run_at.isoformat()
    return s[SNAPSHOT_COLUMNS]


def internal_dir(out_dir: str | Path, school_year: str) -> Path:
    """``out_dir/<year>``, refusing any folder outside an ``internal`` folder."""
    base = Path(out_dir).resolve()
    if "internal" not in base.parts:
        raise LocsonError(
            f"Danh sách học sinh có nguy cơ bỏ học là tài liệu NỘI BỘ: chỉ được ghi vào thư mục "
            f"outputs/internal (hoặc một thư mục con tên «internal»), không ghi vào {base}.")
    return base / school_year


def write_excel(run: WarningRun, path: str | Path) -> Path:
    """The counsellor's list: one sheet with a class column, a "NỘI BỘ" title on every sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    path = Path(path)
    wb = Workbook()
    title = INTERNAL_MARK
    sub = (f"Danh sách học sinh cần quan tâm (nguy cơ bỏ học) — năm học {run.school_year} — "
           f"{POINT_LABELS[run.point]} — lập ngày {run.run_at:%d/%m/%Y}")
    page_mark = f"{INTERNAL_MARK} — {SAMPLE_MARK}" if run.sample_data else INTERNAL_MARK
    sheets = [("Danh sách", run.listed, run.list_columns(), LIST_HEADERS)]
    change_headers = {"change": "Thay đổi", "class_name": "Lớp", "pupil_id": "Mã học sinh",
                      "full_name": "Họ và tên", "reasons": "Lý do"}
    sheets.append(("Thay đổi", run.changes, list(change_headers), change_headers))
    rec_headers = {"next_year": "Năm học", "check": "Loại", "class_name": "Lớp",
                   "pupil_id": "Mã học sinh", "full_name": "Họ và tên", "detail": "Chi tiết"}
    rec = run.reconciled.assign(check=run.reconciled["check"].map(CHECK_LABELS))
    sheets.append(("Đối chiếu số liệu", rec, list(rec_headers), rec_headers))
    for i, (name, df, keys, headers) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = name
        ws.append([title])
        ws["A1"].font = Font(bold=True, color="B71C1C", size=13)
        ws.append([sub])
        ws.append([SAMPLE_MARK] if run.sample_data else [])
        if run.sample_data:
            ws["A3"].font = Font(bold=True, color="B71C1C")
        ws.append([headers[k] for k in keys])
        for cell in ws[4]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="ECEFF1")
        for row in df[keys].itertuples(index=False):
            ws.append([None if (not isinstance(v, str) and pd.isna(v)) else
                       (float(v) if isinstance(v, float) else v) for v in row])
        ws.freeze_panes = "A5"
        for j, key in enumerate(keys, start=1):
            letter = ws.cell(row=4, column=j).column_letter
            ws.column_dimensions[letter].width = 60 if key in (
                "reasons", "detail", "model_explanation", "last_action") else 18
        for r in ws.iter_rows(min_row=5):
            for cell in r:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.oddHeader.center.text = page_mark
        ws.evenHeader.center.text = page_mark
    safe_cells.protect_workbook(wb)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def file_stem(school_year: str, point: Point) -> str:
    return f"canh_bao_{school_year}_{'giua_nam' if point == 'mid' else 'cuoi_nam'}"


def write_snapshot(run: WarningRun, path: str | Path) -> Path:
    """The "lần trước" file: the listed pupils, read by the next official run to show changes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_cells.write_csv(_snapshot(run), path, index=False, encoding="utf-8")
    return path


def prepare(db_path: str | Path | None, school_year: str, point: Point, capacity: int = 30,
            output_dir: str | Path = config.INTERNAL_OUTPUTS_DIR,
            rules_path: str | Path | None = None, seed: int = 0,
            school_code: str | None = None, official: bool = False) -> WarningRun:
    """What the notebook calls: load and compute; an official run also writes its files.

    Every school of the database is loaded (their earlier years may teach the model);
    ``school_code`` is the school listed (default: :func:`target_school`).  The previous
    official run's list (``<output_dir>/<year>/canh_bao_lan_truoc.csv``, or last year's) is
    read so the report shows what changed.

    ``official=True`` (passed only by :func:`run_warning`, i.e. ``locson warn``) writes the Excel
    list and replaces the "lần trước" snapshot.  Otherwise — the notebook run by hand — nothing
    is written: an experiment never becomes the baseline of the next official run.
    """
    from . import store

    year_dir = internal_dir(output_dir, school_year)
    rules = load_rules(rules_path)
    ds = store.load(db_path, with_names=True)
    previous = read_previous(output_dir, school_year)
    label = None
    if previous is not None and len(previous):
        when = pd.Timestamp(previous["run_at"].iloc[0])
        label = (f"{when:%d/%m/%Y %H:%M}, năm học {previous['school_year'].iloc[0]}, "
                 f"{POINT_LABELS.get(str(previous['point'].iloc[0]), '')}")
    elif previous is not None:
        label = "danh sách trống"
    run = build_run(ds, school_year, point, capacity, rules, previous, label, seed,
                    school_code=school_code or None)
    if official:
        write_excel(run, year_dir / f"{file_stem(school_year, point)}.xlsx")
        write_snapshot(run, year_dir / SNAPSHOT_NAME)
    return run


WARNING_NOTEBOOK = config.NOTEBOOKS_DIR / "early_warning.ipynb"
_PRINT_CSS = """<style type="text/css">
.locson-internal { border: 2px solid #b71c1c; color: #b71c1c; background: #ffebee;
  font-weight: bold; text-align: center; padding: 6px; margin: 8px 0 14px 0; }
.locson-internal-fixed { display: none; }
@media print {
  .locson-internal-fixed { display: block; position: fixed; top: 0; left: 0; right: 0;
    text-align: center; font-weight: bold; color: #b71c1c; background: #fff;
    border-bottom: 1px solid #b71c1c; padding: 2px 0; font-size: 10pt; }
  body.jp-Notebook { padding-top: 10mm; }
  @page { margin-top: 20mm; }
}
</style>
"""


def _mark_internal(html: str, sample: bool = False) -> str:
    """Add the "NỘI BỘ" header fixed on every printed page (with the sample mark on sample
    data), and the on-screen mark at the top unless the notebook already shows it (once, not
    twice)."""
    head = _PRINT_CSS
    html = html.replace("</head>", head + "</head>", 1)
    fixed = f"{INTERNAL_MARK} — {SAMPLE_MARK}" if sample else INTERNAL_MARK
    banner = f'<div class="locson-internal-fixed">{fixed}</div>'
    if 'class="locson-internal"' not in html:  # the notebook shows its own on-screen mark
        banner += f'<div class="locson-internal">{INTERNAL_MARK}</div>'
    if "<main>" in html:
        html = html.replace("<main>", "<main>" + banner, 1)
    else:
        idx = html.index(">", html.index("<body")) + 1
        html = html[:idx] + banner + html[idx:]
    return html


def run_warning(school_year: str, point: Point = "end", db: str | Path | None = None,
                out_dir: str | Path = config.INTERNAL_OUTPUTS_DIR,
                capacity: int = 30, school_code: str | None = None) -> list[Path]:
    """Run the early-warning notebook and export the internal report.

    Writes to ``out_dir/<year>/`` (which must lie under an ``internal`` folder): the HTML
    report (code hidden, "NỘI BỘ — không gửi ra ngoài trường" on every page), the Excel list
    for the counsellor, the executed notebook (audit copy; it holds names, so it stays here)
    and the small flag snapshot used to show changes next time.  Returns
    ``[html, xlsx, executed notebook]``.  ``school_code``: the school (default: Lộc Sơn, or the
    database's only school); another school of a database holding several writes to
    ``out_dir/<school>/<year>/``.
    """
    import tempfile

    from . import schools, store

    db = Path(db) if db else config.DEFAULT_DB
    internal_dir(out_dir, school_year)  # refuse a folder outside "internal" before anything
    ds = store.load(db)  # only to choose the school and check the year: no names needed
    codes = schools.codes_in(ds.pupils, ds.school, ds.population)
    code = schools.choose_school(codes, school_code or None)
    if len(codes) > 1 and code != DEFAULT_SCHOOL:
        out_dir = config.inside(out_dir, Path(out_dir) / code)
    year_dir = internal_dir(out_dir, school_year)
    check_year(ds.for_school(code).pupils, school_year, point)  # fail fast, before the notebook
    from . import run as runner  # papermill and nbconvert load slowly: only when needed
    year_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(school_year, point)
    html_path, xlsx_path = year_dir / f"{stem}.html", year_dir / f"{stem}.xlsx"
    nb_path = year_dir / f"{stem}.ipynb"
    params = {"school_year": school_year, "point": point, "capacity": int(capacity),
              "db_path": str(db.resolve()), "output_dir": str(Path(out_dir).resolve()),
              "school_code": code, "official": True}
    with tempfile.TemporaryDirectory(dir=year_dir, prefix=".tmp_") as tmp:
        executed = Path(tmp) / f"{stem}.ipynb"
        runner.execute_notebook(WARNING_NOTEBOOK, executed, params)
        title = (f"{INTERNAL_MARK} — Cảnh báo sớm nguy cơ bỏ học — năm học {school_year} "
                 f"({POINT_LABELS[point]})")
        tmp_html = Path(tmp) / f"{stem}.html"
        try:
            runner.export_html(executed, tmp_html, title)
        except LocsonError:
            raise
        except Exception as exc:
            raise LocsonError(f"Không xuất được HTML cảnh báo sớm: {exc}") from exc
        tmp_html.write_text(_mark_internal(tmp_html.read_text(encoding="utf-8"),
                                           sample=ds.is_sample), encoding="utf-8")
        tmp_html.replace(html_path)
        executed.replace(nb_path)
    return [html_path, xlsx_path, nb_path]
