"""Read and validate one school year's staff files into a :class:`YearData`.

``read_year`` is the whole import short of writing: it reads every file (one file or a
school-year folder), checks everything, and either returns canonical tables or raises
:class:`ImportProblems` with every problem of every file at once.  The store writes the result
in one transaction (``store.write_year``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import InvalidStateError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path

import pandas as pd

from . import contract as C
from . import read as R
from . import schools as S
from . import validate as V
from .dataset import SourceFile, YearData
from .errors import ImportProblems, Problem

PUPIL_FRAME_COLUMNS = [c.name for c in C.PUPIL_COLUMNS] + ["result_scale", "source_file",
                                                             "source_row"]
INTERVENTION_FRAME_COLUMNS = [c.name for c in C.INTERVENTION_COLUMNS] + ["source_file",
                                                                         "source_row"]
ITEM_FRAME_COLUMNS = ["item", "value", "source_file", "source_row"]


def _year_from_path(path: Path) -> str | None:
    for part in ([path.name] if path.is_dir() else [path.name, path.parent.name]):
        y = C.parse_school_year(part)
        if y:
            return y
    return None


@functools.lru_cache(maxsize=8)
def _empty(columns: tuple[C.Column, ...]) -> pd.DataFrame:
    return R.typed_frame(pd.DataFrame({c.name: pd.Series([], dtype=object) for c in columns}
                                      | {"source_file": pd.Series([], dtype=object),
                                         "source_row": pd.Series([], dtype=object)}), columns)


def _complete(df: pd.DataFrame, columns: tuple[C.Column, ...]) -> pd.DataFrame:
    """Add the canonical columns a table did not have, typed and empty."""
    blank = _empty(columns)
    for c in columns:
        if c.name not in df.columns:
            df[c.name] = pd.Series(pd.NA, index=df.index).astype(blank[c.name].dtype) \
                if len(df) else blank[c.name]
    return df


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if len(frames) == 1:
        return frames[0].reset_index(drop=True)
    return pd.concat(frames, ignore_index=True)


def _school_of(reads: list[R.FileRead], school_code: str | None,
               registry: dict[str, S.School] | None) -> tuple[str, list[Problem], list[str]]:
    """(school code, problems, notes): ``school_code`` if given, else the school the files'
    title rows name (it must be in data/schools.yaml), else the default school."""
    registry = registry if registry is not None else S.load_registry()
    named = {fr.name: S.school_in_titles(fr.title_texts, registry) for fr in reads}
    if school_code:
        others = sorted({t.text for ts in named.values() for t in ts
                         if t.code and t.code != school_code})
        notes = [f"Nhập cho mã trường {school_code} (theo --school) dù dòng tiêu đề của tệp ghi "
                 f"«{', '.join(others)}»."] if others else []
        return school_code, [], notes
    problems: list[Problem] = []
    for name, ts in named.items():
        for t in ts:
            if t.code is None:
                problems.append(Problem(name, f"dòng tiêu đề ghi «{t.text}» nhưng trường này "
                                              "chưa có trong danh sách trường data/schools.yaml; "
                                              "hãy thêm trường vào tệp đó (mã và tên trường) "
                                              "hoặc chỉ rõ mã trường khi nhập (--school MÃ)"))
    codes = {t.code for ts in named.values() for t in ts if t.code}
    if len(codes) > 1:
        by_code = {c: sorted(n for n, ts in named.items() if any(t.code == c for t in ts))
                   for c in sorted(codes)}
        listing = "; ".join(f"{S.school_name(c, registry)} ({c}): {', '.join(files)}"
                            for c, files in by_code.items())
        for name, ts in named.items():
            if any(t.code for t in ts):
                problems.append(Problem(name, "các tệp của một lần nhập ghi tên những trường "
                                              f"khác nhau ({listing}); mỗi lần nhập chỉ cho "
                                              "một trường"))
    if problems:
        return C.DEFAULT_SCHOOL, problems, []
    if codes:
        return codes.pop(), [], []
    return C.DEFAULT_SCHOOL, [], [
        f"Không thấy tên trường ở dòng tiêu đề của tệp: nhập cho trường mặc định "
        f"{S.school_name(C.DEFAULT_SCHOOL, registry)} ({C.DEFAULT_SCHOOL}). Nếu là trường "
        "khác, nhập lại với --school MÃ."]


def read_year(path: str | Path, school_year: str | None = None,
              school_code: str | None = None, today: date | None = None,
              registry: dict[str, S.School] | None = None) -> YearData:
    """Read and validate one school year from a file or a school-year folder.

    The school year comes from ``school_year``, else the folder or file name, else a title row
    ("DANH SÁCH HỌC SINH NĂM HỌC 2024-2025").  The school comes from ``school_code``, else the
    school named in the title rows ("TRƯỜNG THCS LỘC SƠN", looked up in ``registry``, by default
    data/schools.yaml), else ``contract.DEFAULT_SCHOOL`` (said in the notes).  Raises
    :class:`ImportProblems` listing every problem of every file; otherwise returns canonical
    tables ready for ``store.write_year``.
    """
    with R.no_cycle_collection(), R.batch_caches():
        batch = V.SchemaBatch()
        finish = _start_year(path, school_year, school_code, today, registry, batch)
        batch.run()
        return finish()


def _start_year(path: str | Path, school_year: str | None, school_code: str | None,
                today: date | None, registry: dict[str, S.School] | None,
                batch: V.SchemaBatch) -> Callable[[], YearData]:
    """:func:`read_year` up to its schema validations, which are added to ``batch`` (the
    caller runs it); returns the function that finishes the year once the batch has run.
    Raises :class:`ImportProblems` for what stops a year before its tables are read."""
    path = Path(path)
    today = today or date.today()
    problems: list = []  # Problem, or a list of them (see finish)
    notes: list[str] = []
    if not path.exists():
        raise ImportProblems([Problem(path.name or str(path),
                                      f"không tìm thấy tệp hoặc thư mục «{path}»")])
    if path.is_dir():
        files, skipped = R.list_input_files(path)
        notes += skipped
        if not files:
            raise ImportProblems([Problem(path.name, "thư mục không có tệp Excel (.xlsx, .xls), "
                                                     "bảng tính .ods hoặc CSV nào để nhập")])
    else:
        files = [path]
        if path.suffix.lower() not in R.READABLE_SUFFIXES:
            raise ImportProblems([Problem(path.name, "không phải tệp Excel (.xlsx, .xlsm, .xls), "
                                                     "bảng tính .ods hoặc CSV; hãy lưu lại từ "
                                                     "Excel dạng .xlsx")])

    reads = [R.read_file(f) for f in files]
    for fr in reads:
        problems += fr.problems
        notes += fr.notes

    # The school year: argument, else path, else title rows.
    from_path = _year_from_path(path)
    titles = sorted(set().union(*(fr.title_years for fr in reads))) if reads else []
    if school_year is not None:
        given = C.parse_school_year(school_year)
        if given is None or given != school_year.strip():
            raise ImportProblems([Problem(path.name, f"năm học «{school_year}» không đúng dạng; "
                                                     "cần dạng 2024-2025")])
        school_year = given
        if from_path and from_path != school_year:
            problems.append(Problem(path.name, f"tên thư mục/tệp ghi năm học {from_path} nhưng "
                                               f"đang nhập cho năm học {school_year}"))
    elif from_path:
        school_year = from_path
    elif len(titles) == 1:
        school_year = titles[0]
    else:
        what = ("các tiêu đề ghi nhiều năm học khác nhau: " + ", ".join(titles)) if titles else \
            "không tìm thấy năm học trong tên thư mục, tên tệp hay dòng tiêu đề"
        problems.append(Problem(path.name, f"không xác định được năm học ({what}); hãy đặt tên "
                                           "thư mục theo năm học, ví dụ 2024-2025, hoặc chỉ rõ "
                                           "năm học khi nhập"))
        raise ImportProblems(problems)
    for fr in reads:
        own = C.parse_school_year(fr.name)
        for y in sorted(fr.title_years | ({own} if own else set())):
            if y != school_year:
                problems.append(Problem(fr.name, f"tệp ghi năm học {y} nhưng đang nhập năm học "
                                                 f"{school_year}; kiểm tra lại đã chọn đúng tệp"))

    school_code, school_problems, school_notes = _school_of(reads, school_code, registry)
    problems += school_problems
    notes += school_notes

    headers: V.HeaderMap = {}
    bad: V.BadCells = set()
    by_kind: dict[str, list[R.Table]] = {"pupils": [], "items": [], "interventions": []}
    files_out: list[SourceFile] = []
    for fr in reads:
        for t in fr.tables:
            headers[(t.file, t.sheet)] = t.headers
            bad |= {(t.file, t.sheet, row, col) for row, col in t.bad_cells}
            by_kind[t.kind].append(t)
            kinds = [t.kind] if t.kind != "items" else sorted(set(t.frame["kind"]))
            for k in kinds:
                n = len(t.frame) if t.kind != "items" else int((t.frame["kind"] == k).sum())
                files_out.append(SourceFile(str(fr.path), k, fr.sha256, t.sheet or "", n))

    year = YearData(school_year=school_year, school_code=school_code, files=files_out)

    if by_kind["pupils"]:
        tables = by_kind["pupils"]
        miss, absent = V.missing_columns(
            [(t.file, t.sheet, set(t.frame.columns)) for t in tables], C.PUPIL_COLUMNS)
        problems += miss
        pupils = _complete(_concat([t.frame for t in tables]), C.PUPIL_COLUMNS)
        batch.add_result_scales(pupils, school_year)  # (its column "result_scale")
        problems.append(batch.add(V.PupilSchema, pupils, headers, bad, absent))
        problems.append(batch.add_pupil_checks(pupils, school_year, today, headers))
        year.pupils = pupils
        _, year_end = V.school_year_bounds(school_year)
        if (pupils["outcome"] == "in_progress").any() and pd.Timestamp(today) > year_end:
            notes.append(f"Lưu ý: năm học {school_year} đã kết thúc nhưng danh sách vẫn ghi "
                         "«Đang học» (danh sách giữa năm): các chỉ số cuối năm (lên lớp, hoàn "
                         "thành chương trình…) sẽ hiện «Chưa có số liệu» cho đến khi nhập danh "
                         "sách cuối năm.")
    if by_kind["items"]:
        items = _concat([t.frame for t in by_kind["items"]])
        problems.append(batch.add(V.ItemSchema, items, headers, bad))
        for kind in ("school", "population"):
            part = items[items["kind"] == kind]
            if len(part):
                problems += V.check_items(part, headers)
                setattr(year, kind, part)
    if by_kind["interventions"]:
        tables = by_kind["interventions"]
        miss, absent = V.missing_columns(
            [(t.file, t.sheet, set(t.frame.columns)) for t in tables], C.INTERVENTION_COLUMNS)
        problems += miss
        log = _complete(_concat([t.frame for t in tables]), C.INTERVENTION_COLUMNS)
        problems.append(batch.add(V.InterventionSchema, log, headers, bad, absent))
        ids = set(year.pupils["pupil_id"].dropna()) if year.pupils is not None else None
        problems += V.check_interventions(log, school_year, today, headers, ids)
        year.interventions = log

    def finish() -> YearData:
        # (a list in ``problems`` is a batch's slot: the schema problems, in their place)
        found = [q for p in problems for q in (p if isinstance(p, list) else [p])]
        if found:
            raise ImportProblems(_ordered(found))
        if not year.kinds():
            raise ImportProblems([Problem(path.name, "không có bảng dữ liệu nào để nhập")])
        year.pupils = _final(year.pupils, PUPIL_FRAME_COLUMNS)
        year.school = _final(year.school, ITEM_FRAME_COLUMNS)
        year.population = _final(year.population, ITEM_FRAME_COLUMNS)
        year.interventions = _final(year.interventions, INTERVENTION_FRAME_COLUMNS)
        year.notes = [f"Năm học {school_year}: đọc {len(reads)} tệp."] + notes
        return year

    return finish


def _final(df: pd.DataFrame | None, columns: list[str]) -> pd.DataFrame | None:
    if df is None:
        return None
    return df[columns].reset_index(drop=True)


def _ordered(problems: list[Problem]) -> list[Problem]:
    """File, sheet, row order, as a person works through them; duplicates dropped."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.file, p.sheet or "", p.row or 0))


# --- Several folders at once ---------------------------------------------------------------------


def _has_input_files(path: Path) -> bool:
    return any(p.is_file() and not p.name.startswith(("~$", "."))
               and p.suffix.lower() in R.READABLE_SUFFIXES for p in path.iterdir())


def _year_subfolders(path: Path) -> list[Path]:
    return sorted(d for d in path.iterdir() if d.is_dir() and C.parse_school_year(d.name))


def find_year_folders(path: str | Path) -> list[Path]:
    """What one path given to ``locson import`` stands for, as school-year folders (or files).

    A file, a folder named by a school year (``2024-2025``) or a folder holding staff files is
    itself one school year.  Otherwise a folder whose subfolders are named by school years (a
    school's folder, as ``data/raw`` for ``locson init``) stands for those subfolders, and a
    folder whose subfolders are such school folders (the PGD's folder of schools) for all of
    their school-year folders, school by school.  Anything else is returned as is, for
    :func:`read_year` to explain.
    """
    path = Path(path)
    if not path.is_dir() or C.parse_school_year(path.name) or _has_input_files(path):
        return [path]
    years = _year_subfolders(path)
    if years:
        return years
    nested = [y for d in sorted(p for p in path.iterdir() if p.is_dir())
              for y in _year_subfolders(d)]
    return nested or [path]


def _label(folder: Path, problem: Problem) -> Problem:
    """The problem with its file named by its path, so that folders of a batch are told apart."""
    base = folder if folder.is_dir() else folder.parent
    if problem.file in (folder.name, str(folder)):
        return dataclasses.replace(problem, file=str(folder))
    return dataclasses.replace(problem, file=str(base / problem.file))


def _read_chunk(jobs: list[tuple]) -> list[tuple[str, object]]:
    """``read_year`` for each job (folder, year, school, today, registry), their schema
    validations run together (:class:`~locson_analysis.validate.SchemaBatch`); each result is
    ("ok", YearData) or ("problems", list of Problem) — returned rather than raised, so that
    they cross a process boundary intact."""
    with R.no_cycle_collection(), R.batch_caches():  # (many small objects, no cycles)
        return _read_chunk_now(jobs)


def _read_chunk_now(jobs: list[tuple]) -> list[tuple[str, object]]:
    batch = V.SchemaBatch()
    started: list[tuple[str, object]] = []
    for job in jobs:
        try:
            started.append(("ok", _start_year(*job, batch)))
        except ImportProblems as exc:
            started.append(("problems", exc.problems))
    batch.run()
    out: list[tuple[str, object]] = []
    for status, value in started:
        if status == "ok":
            try:
                value = value()
            except ImportProblems as exc:
                status, value = "problems", exc.problems
        out.append((status, value))
    return out


#: Read folders in parallel only from this many folders on (below it, starting the worker
#: processes costs more than it saves); with the "spawn" start method (Windows, macOS) every
#: worker imports pandas and pandera again, so many more folders are needed.
PARALLEL_MIN_FOLDERS = {"fork": 4, "spawn": 40, "forkserver": 40}
#: Chunks of folders per worker process (a few, so that a slow chunk does not hold up the end).
CHUNKS_PER_WORKER = 3


def default_workers() -> int:
    """Worker processes for reading folders: one per core available to this process that
    other programs are not keeping busy (the 1-minute load average), at least one.

    Reading in parallel costs more processor time in all (starting the workers, copying their
    memory pages on write, sending the tables back); it pays only on cores that are free.  On
    the shared 2-core development machine, with two cores' worth of other work running, two
    workers were slower than one (bench/README.md).

    The first task of load is not counted as another program's: it is this import itself
    once it runs (or the step before it in the same job), and an idle virtual machine can
    show a load of about 1 on its own.  Measured on that machine, idle at a load of 1,0: a
    province batch (750 CSV folders) read in 12,1–12,5 s with one worker and 9,5–11,2 s with
    two.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every platform)
        cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # (Windows has no load average)
        busy = 0.0
    others = max(0.0, busy - 1.0)
    return max(1, min(cores, int(cores - others + 0.5)))


def _map_folders(jobs: list[tuple], workers: int) -> list[tuple[str, object]]:
    """:func:`_read_chunk` over ``jobs``, results in order; when that pays, in ``workers``
    processes: this one and ``workers - 1`` forked ones, sharing contiguous chunks of folders
    (this process takes, from the end, every chunk no worker has started)."""
    method = "fork" if "fork" in mp.get_all_start_methods() else mp.get_start_method()
    if workers <= 1 or len(jobs) < PARALLEL_MIN_FOLDERS.get(method, 40):
        return _read_chunk(jobs)
    workers = min(workers, len(jobs))
    n = min(len(jobs), workers * CHUNKS_PER_WORKER)
    bounds = [round(i * len(jobs) / n) for i in range(n + 1)]
    chunks = [jobs[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    V.warm_up()  # once here, not once per forked worker
    # Objects that exist now go to the collector's permanent generation: a forked worker's
    # collections then leave them alone instead of writing to (and so copying) every page.
    gc.freeze()
    try:
        with _quiet_pool_races(), ProcessPoolExecutor(max_workers=workers - 1,
                                 mp_context=mp.get_context(method)) as pool:
            futures = [pool.submit(_read_chunk, c) for c in chunks]
            mine: dict[int, list[tuple[str, object]]] = {}
            for k in range(len(chunks) - 1, -1, -1):
                if futures[k].cancel():  # not started by a worker: read it here
                    mine[k] = _read_chunk(chunks[k])
            for k, f in enumerate(futures):
                if k not in mine:
                    try:
                        mine[k] = f.result()
                    except BrokenProcessPool:
                        # A worker died (killed, out of memory, a reader that aborted): every
                        # chunk it had not finished is read again, folder by folder, each in a
                        # process of its own, so that the file that kills a reader is named
                        # and the other folders' problems are still listed.
                        mine[k] = [_read_alone(job, method) for job in chunks[k]]
            return [r for k in range(len(chunks)) for r in mine[k]]
    finally:
        gc.unfreeze()


def _file_read_dies(path: Path) -> None:
    """Read one file (the target of a process of its own: its exit code says how it ended)."""
    R.read_file(path)


def _read_alone(job: tuple, method: str) -> tuple[str, object]:
    """:func:`_read_chunk` of one folder in a process of its own; when that process dies too,
    each of its files is read alone and those whose reading kills the process are problems."""
    ctx = mp.get_context(method)
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        try:
            return pool.submit(_read_chunk, [job]).result()[0]
        except BrokenProcessPool:
            pass
    folder = Path(job[0])
    files = R.list_input_files(folder)[0] if folder.is_dir() else [folder]
    problems = []
    for f in files:
        proc = ctx.Process(target=_file_read_dies, args=(f,))
        proc.start()
        proc.join()
        if proc.exitcode != 0:
            problems.append(Problem(f.name, _died(proc.exitcode)))
    if not problems:  # (each file alone is read: the folder as a whole is the problem)
        problems.append(Problem(folder.name, _died(None) + " khi đọc cả thư mục"))
    return "problems", problems


@contextlib.contextmanager
def _quiet_pool_races() -> Iterator[None]:
    """When a worker dies, the pool's manager thread may set an exception on a future this
    process has just cancelled (to read it here) and fail with ``InvalidStateError`` — a race
    in ``concurrent.futures`` that changes nothing; its English traceback is not shown."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if not isinstance(args.exc_value, InvalidStateError):
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


def _died(code: int | None) -> str:
    how = f" (mã thoát {code})" if code else ""
    return (f"chương trình đọc tệp bị dừng đột ngột{how} — tệp có thể quá lớn, hỏng hoặc được "
            "tạo cố ý để làm hỏng chương trình đọc; hãy mở tệp bằng Excel, kiểm tra, xoá "
            "các ô và trang tính thừa rồi lưu lại; các thư mục khác vẫn được kiểm tra")


def read_years(paths: Iterable[str | Path], school_year: str | None = None,
               school_code: str | Sequence[str | None] | None = None, today: date | None = None,
               registry: dict[str, S.School] | None = None,
               workers: int | None = None) -> list[YearData]:
    """Read and validate several school years — one per school-year folder or file — for one
    import: the paths given to ``locson import``, each expanded by :func:`find_year_folders`.

    Returns the years in the order of the paths (a folder's school years in name order), or
    raises :class:`ImportProblems` listing every problem of every folder at once (files named
    by their path), including the same school year of the same school found twice.  With
    several folders they are read in ``workers`` processes (default: one per core,
    :func:`default_workers`); the result is the same as reading them one by one.
    ``school_year`` and ``school_code`` apply to every folder, as for :func:`read_year`;
    ``school_code`` may also be a list, one code (or None) per path.
    """
    paths = list(paths)
    codes = [school_code] * len(paths) if school_code is None or isinstance(school_code, str) \
        else list(school_code)
    if len(codes) != len(paths):
        raise ValueError("school_code: one code per path")
    folders: list[Path] = []
    code_of: list[str | None] = []
    for p, code in zip(paths, codes, strict=True):
        for f in find_year_folders(p):
            if f not in folders:
                folders.append(f)
                code_of.append(code)
    if not folders:
        raise ImportProblems([Problem("?", "không có tệp hoặc thư mục nào để nhập")])
    today = today or date.today()
    registry = registry if registry is not None else S.load_registry()
    if len(folders) == 1:
        return [read_year(folders[0], school_year, code_of[0], today, registry)]
    results = _map_folders([(f, school_year, c, today, registry)
                            for f, c in zip(folders, code_of, strict=True)],
                           default_workers() if workers is None else workers)
    problems: list[Problem] = []
    years: list[YearData] = []
    first_of: dict[tuple[str, str], Path] = {}
    for folder, (status, value) in zip(folders, results, strict=True):
        if status == "problems":
            problems += [_label(folder, p) for p in value]
            continue
        year: YearData = value
        key = (year.school_code, year.school_year)
        if key in first_of:
            problems.append(Problem(
                str(folder), f"năm học {year.school_year} của {S.school_name(key[0], registry)} "
                             f"(mã {key[0]}) đã có ở «{first_of[key]}» trong cùng lần nhập "
                             "này; mỗi năm học của một trường chỉ nhập một lần (các tệp của "
                             "một năm học để chung một thư mục)"))
            continue
        first_of[key] = folder
        years.append(year)
    if problems:
        raise ImportProblems(problems)
    return years
