"""Small-cell suppression: no child can be found from a table that leaves the school.

Input: the tidy indicator table (``indicators.compute_all``: ``school_code, school_year,
indicator, dimension, group, value, numerator, denominator, note``) — the shape the report's
equity and flow tables are built from.  :func:`suppress` returns the same rows with every cell
that counts fewer than ``threshold`` pupils or events — or leaves fewer than ``threshold``
pupils of its group out — hidden (value, numerator and/or denominator set to NaN and
flagged), plus the complementary cells needed so that a hidden cell cannot be recovered from
the school total or from its sibling rows.

The rules, per school and year and per indicator:

1. **Primary**: a group row (any dimension but ``school``) whose numerator (events, or the
   count of a count indicator) is 1 … ``threshold``−1, or whose denominator (pupils) is
   1 … ``threshold``−1 (then the numerator is hidden too); a rate's numerator whose
   complement, denominator − numerator (the pupils without the event: 26 − 25 = 1 minority
   pupil who did not complete), is 1 … ``threshold``−1 — for a rate near 100 % that
   complement is the rare, telling event, and with the pupils shown the numerator gives it
   back; and every row of a group whose largest population (denominator or count, over all
   indicators) is 1 … ``threshold``−1 — a group of fewer pupils shows nothing at all.  Zero
   events are not primary: they name no child; nor is a zero complement (26/26, every
   pupil completed), for the same reason — it says the same of every pupil of a group of at
   least ``threshold``.  Both can still be hidden as complementary cells (rule 2).  Only the
   numerator goes: the complement is then unknown exactly as far as the numerator is (the
   pupils are shown), so rules 2–4 protect both.  The school row is never hidden (it is
   the figure the targets judge), nor the only group of a dimension (it is the school row
   again).
2. **Complementary**: the groups of a dimension add up to the school row (sex, ethnic group,
   grade, poverty, …), and the ethnic groups other than Kinh add up to the «Dân tộc thiểu số»
   row.  An equation with exactly one hidden part gets a second one (the sibling with the
   fewest pupils, then the fewest events; the same choice for every indicator, so shared
   denominators are hidden alike).  Numerators and denominators are handled separately.
3. **Linked cells**: a denominator hidden in one row is hidden wherever the same population
   appears (same dimension, group and size, including the enrolment count of that group); a
   hidden dropout or transfer-out count hides the group's end-of-year enrolment
   (:data:`LINKED`), since start − end would give it back — which is why a rate over the
   end-of-year pupils (promotion, repetition, «phát triển toàn diện») can show its events
   with its pupils hidden; a hidden count hides any other indicator's count over the same
   population (same dimension, group and denominator) that equals what the hidden count
   leaves of it (denominator − numerator: promoted = pupils − repeating gives a hidden
   repetition count back, and the other way round); the Kinh row of «Dân tộc» and of
   «Từng dân tộc» is one figure, hidden in both or neither; a hidden sex cell hides the
   indicator's gender parity index (from it and the enrolment by sex the counts follow).
4. **Check**: :func:`disclosed` plays the reader: from every visible figure it solves the
   equations (exact linear algebra, and bounds 0 ≤ events ≤ pupils) and lists any hidden
   figure it can pin down (a complement d − n is pinned exactly when its hidden parts are:
   the equations of numerators and of denominators are separate, so checking both checks
   it); :func:`suppress` hides further siblings until that list is empty.
   What the school rows alone give away (a school total of 0 says every group had 0) is not
   counted: hiding group cells cannot protect it, and the school row is always shown.

The threshold comes from ``data/report.yaml`` (``suppression.min_count``, default
:data:`DEFAULT_THRESHOLD` = 5), see :func:`locson_analysis.report_config.suppression_threshold`.
Pure functions over DataFrames; nothing is read or written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from .numbers import fmt_num

#: Cells counting fewer than this many pupils or events, or leaving fewer than this many
#: pupils of their group out, are hidden, unless configured.
DEFAULT_THRESHOLD = 5
#: What a hidden cell shows.
HIDDEN_MARK = "…"
#: The row that names the whole school (never hidden).
SCHOOL_DIMENSION = "school"
#: A hidden count of these hides the same group's count of the linked indicators.
LINKED: dict[str, tuple[str, ...]] = {
    "dropout_rate": ("enrolment_end",),
    "transfer_out_rate": ("enrolment_end",),
    "dropouts_midyear_arrivals": ("enrolment_end",),
}
#: Gender parity indices are ``gender_parity_index_<indicator>``.
PARITY_PREFIX = "gender_parity_index_"
#: Extra flag columns :func:`suppress` adds.
FLAG_COLUMNS = ("suppressed", "hidden_value", "hidden_numerator", "hidden_denominator",
                "suppression")
FIELDS = ("numerator", "denominator")


def suppression_note(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The Vietnamese note printed under a table with hidden cells."""
    k = fmt_num(threshold)
    return (f"Dấu «{HIDDEN_MARK}»: số liệu được ẩn vì nhóm có dưới {k} học sinh, hoặc số "
            f"trường hợp dưới {k}, hoặc số học sinh còn lại của nhóm (không thuộc trường hợp "
            f"đó, ví dụ số em chưa hoàn thành) dưới {k}, để không ai nhận ra được từng em; "
            "một số ô khác cùng nhóm cũng được ẩn để không thể tính ngược lại ô đã ẩn từ số "
            "toàn trường hay từ các dòng còn lại. Số liệu toàn trường không bị ẩn.")


@dataclass
class Suppressed:
    """What :func:`suppress` returns."""

    table: pd.DataFrame  # the input rows; hidden figures are NaN, flags in FLAG_COLUMNS
    threshold: int
    note: str  # suppression_note(threshold) when anything is hidden, else ""
    hidden: int  # number of rows with something hidden
    #: hidden figures a reader could still work out (expected empty; see :func:`disclosed`)
    unprotected: list[tuple]


def _equations(block: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """(total row, part rows) of one indicator of one school and year (row labels)."""
    return _equations_of(list(block.index), block["dimension"].tolist(),
                         block["group"].tolist())


def _equations_of(labels: list, dims: list, groups: list) -> list[tuple[int, list[int]]]:
    """:func:`_equations` over plain lists (row labels, dimensions, groups of one indicator)."""
    from .indicators.equity import KINH, MINORITY

    school = [i for i, d in zip(labels, dims, strict=True) if d == SCHOOL_DIMENSION]
    out: list[tuple[int, list[int]]] = []
    if len(school) == 1:
        total = school[0]
        by_dim: dict[object, list[int]] = {}  # in order of first appearance, like groupby
        for i, d in zip(labels, dims, strict=True):
            if d != SCHOOL_DIMENSION and not pd.isna(d):
                by_dim.setdefault(d, []).append(i)
        out += [(total, parts) for parts in by_dim.values()]
    minority = [i for i, d, g in zip(labels, dims, groups, strict=True)
                if d == "minority" and g == MINORITY]
    ethnic = [i for i, d, g in zip(labels, dims, groups, strict=True)
              if d == "ethnicity" and g != KINH]
    if len(minority) == 1 and len(ethnic):
        out.append((minority[0], ethnic))
    return out


def _equations_by_indicator(df: pd.DataFrame) -> dict[str, list[tuple[int, list[int]]]]:
    """:func:`_equations` of every indicator of one school-year block, in order of appearance."""
    rows: dict[str, tuple[list, list, list]] = {}
    for i, ind, d, g in zip(df.index, df["indicator"], df["dimension"], df["group"],
                            strict=True):
        if pd.isna(ind):  # groupby leaves rows without an indicator out
            continue
        r = rows.setdefault(ind, ([], [], []))
        r[0].append(i)
        r[1].append(d)
        r[2].append(g)
    return {ind: _equations_of(*r) for ind, r in rows.items()}


class _State:
    """Hidden flags of one school-year block, per (row label, field)."""

    def __init__(self, df: pd.DataFrame, threshold: int) -> None:
        self.df = df
        self.k = threshold
        self.hidden: dict[tuple[int, str], str] = {}  # → "primary" / "complementary"
        # plain per-row lookups (the frame is never changed while suppressing)
        self.labels = list(df.index)
        self.ind = dict(zip(self.labels, df["indicator"].tolist(), strict=True))
        self.dim = dict(zip(self.labels, df["dimension"].tolist(), strict=True))
        self.grp = dict(zip(self.labels, df["group"].tolist(), strict=True))
        self.val = {f: dict(zip(self.labels, df[f].tolist(), strict=True)) for f in FIELDS}
        self.eqs: dict[str, list[tuple[int, list[int]]]] = _equations_by_indicator(df)
        # the only group of a dimension is the whole school: it repeats the public school row
        self.alone = {ps[0] for eqs in self.eqs.values() for t, ps in eqs
                      if len(ps) == 1 and self.dim[t] == SCHOOL_DIMENSION}
        self.by_cell = {(self.ind[i], self.dim[i], self.grp[i]): i for i in self.labels}
        self.sizes: dict[int, tuple] = {}
        self.cache: dict = {}  # _pinned per (indicator, field) and hidden cells of its rows

    def known(self, i: int, field: str) -> bool:
        return not pd.isna(self.val[field][i])

    def hide(self, i: int, field: str, why: str) -> bool:
        if (i, field) in self.hidden or not self.known(i, field):
            return False
        if self.dim[i] == SCHOOL_DIMENSION or i in self.alone:
            return False
        self.hidden[(i, field)] = why
        return True

    def primary(self) -> None:
        df = self.df
        groups = df[df["dimension"] != SCHOOL_DIMENSION]
        size = groups["denominator"].where(groups["denominator"].notna(), groups["numerator"])
        size = size.groupby([groups["dimension"], groups["group"]], sort=False).max()
        small = {key for key, n in size.items() if 0 < n < self.k}
        nums, dens = self.val["numerator"], self.val["denominator"]
        for i in self.labels:
            if self.dim[i] == SCHOOL_DIMENSION:
                continue
            if (self.dim[i], self.grp[i]) in small:  # a group of fewer than k pupils: all
                self.hide(i, "denominator", "primary")
                self.hide(i, "numerator", "primary")
                continue
            num, den = nums[i], dens[i]
            if not pd.isna(den) and 0 < den < self.k:
                self.hide(i, "denominator", "primary")
                self.hide(i, "numerator", "primary")
            if not pd.isna(num) and 0 < num < self.k:
                self.hide(i, "numerator", "primary")
            elif not pd.isna(num) and not pd.isna(den) and 0 < den - num < self.k:
                # the pupils without the event: the count the shown pupils give back
                self.hide(i, "numerator", "primary")

    def _size(self, i: int) -> tuple:
        got = self.sizes.get(i)
        if got is None:
            den, num = self.val["denominator"][i], self.val["numerator"][i]
            pupils = den if not pd.isna(den) else num
            got = (np.inf if pd.isna(pupils) else pupils, np.inf if pd.isna(num) else num,
                   str(self.grp[i]))
            self.sizes[i] = got
        return got

    def complement(self) -> bool:
        changed = False
        for eqs in self.eqs.values():
            for total, parts in eqs:
                for field in FIELDS:
                    if not self.known(total, field) or (total, field) in self.hidden:
                        continue
                    hid = [p for p in parts if (p, field) in self.hidden]
                    if len(hid) != 1:
                        continue
                    free = sorted((p for p in parts if (p, field) not in self.hidden
                                   and self.known(p, field)), key=self._size)
                    if free:
                        changed |= self.hide(free[0], field, "complementary")
        return changed

    def link(self) -> bool:
        changed = False
        dim, grp, val = self.dim, self.grp, self.val
        nums, dens = val["numerator"], val["denominator"]
        keys = set()
        for (i, f) in self.hidden:  # hidden populations: (dimension, group, size)
            if f == "denominator":
                keys.add((dim[i], grp[i], val[f][i]))
            elif pd.isna(dens[i]):
                keys.add((dim[i], grp[i], val[f][i]))
        for i in self.labels:
            if pd.isna(dens[i]):  # a count: the population itself
                if (dim[i], grp[i], nums[i]) in keys:
                    changed |= self.hide(i, "numerator", "complementary")
            elif (dim[i], grp[i], dens[i]) in keys:
                changed |= self.hide(i, "denominator", "complementary")
        # a hidden count of a population, and what it leaves of that population, are one
        # figure apart: another count of the same population equal to that remainder gives
        # it back (promoted = pupils − repeaters); events and population alike
        rest = {(dim[i], grp[i], dens[i], dens[i] - nums[i]) for (i, f) in self.hidden
                if f == "numerator" and not pd.isna(dens[i])}
        if rest:
            for i in self.labels:
                if not pd.isna(dens[i]) and (dim[i], grp[i], dens[i], nums[i]) in rest:
                    changed |= self.hide(i, "numerator", "complementary")
        by_cell = self.by_cell
        for (i, f) in list(self.hidden):  # Kinh is a row of both minority and ethnicity
            twin = {"minority": "ethnicity", "ethnicity": "minority"}.get(dim[i])
            j = by_cell.get((self.ind[i], twin, grp[i])) if twin else None
            if j is not None:
                changed |= self.hide(j, f, "complementary")
        for (i, f) in list(self.hidden):
            if f != "numerator":
                continue
            for other in LINKED.get(self.ind[i], ()):
                j = by_cell.get((other, dim[i], grp[i]))
                if j is not None:
                    changed |= self.hide(j, "numerator", "complementary")
        return changed

    def pinned(self) -> list[tuple[str, int, str]]:
        """:func:`_pinned` of the block with the current hidden cells."""
        return _pinned(self.df, self.hidden, self.eqs, cols=self.val, dims=self.dim,
                       cache=self.cache)

    def fix_disclosed(self, whole: bool = False) -> bool:
        """Hide one more sibling of each pinned figure (``whole``: every sibling)."""
        changed = False
        for ind, i, field in self.pinned():
            for total, parts in self.eqs.get(ind, []):
                if i not in parts and i != total:
                    continue
                free = sorted((p for p in parts if (p, field) not in self.hidden
                               and self.known(p, field)), key=self._size)
                for p in free if whole else free[:1]:
                    changed |= self.hide(p, field, "complementary")
                if changed and not whole:
                    break
            if not changed and whole:  # pinned through another equation: widen there
                for total, parts in self.eqs.get(ind, []):
                    if any((p, field) in self.hidden for p in (total, *parts)):
                        free = sorted((p for p in parts if (p, field) not in self.hidden
                                       and self.known(p, field)), key=self._size)
                        changed |= bool(free) and self.hide(free[0], field, "complementary")
        return changed


def _pinned(df: pd.DataFrame, hidden: dict[tuple[int, str], str],
            eqs: dict[str, list[tuple[int, list[int]]]],
            totals_only: bool = False, *, cols: dict[str, dict] | None = None,
            dims: dict | None = None, cache: dict | None = None) -> list[tuple[str, int, str]]:
    """Hidden figures a reader can pin down from the visible ones: (indicator, row, field).

    Figures the school rows alone pin (a school total of 0: every group 0) are left out
    unless ``totals_only`` (used to find them).  ``cols``/``dims``: the numerator and
    denominator columns and the dimension column as dicts by row label (built from ``df``
    when None); ``cache``: a dict kept between calls on the same block — an indicator's
    answer depends only on the hidden cells of its own rows.
    """
    if cols is None:
        cols = {f: df[f].to_dict() for f in FIELDS}
    if dims is None:
        dims = df["dimension"].to_dict()
    out: list[tuple[str, int, str]] = []
    for ind, field in product(eqs, FIELDS):
        key = None
        if cache is not None:
            rows_ind = {i for t, ps in eqs[ind] for i in (t, *ps)}
            key = (ind, field, totals_only,
                   frozenset(c for c in hidden if c[0] in rows_ind))
            if key in cache:
                out += [(ind, i, field) for i in cache[key]]
                continue
        got = _pinned_one(eqs[ind], field, hidden, cols, dims, totals_only, cache)
        if key is not None:
            cache[key] = got
        out += [(ind, i, field) for i in got]
    return out


def _pinned_one(rows: list[tuple[int, list[int]]], field: str,
                hidden: dict[tuple[int, str], str], cols: dict[str, dict], dims: dict,
                totals_only: bool, cache: dict | None) -> list[int]:
    """The rows of one indicator whose ``field`` :func:`_pinned` pins, sorted."""
    vals = cols[field]
    var = sorted({i for t, ps in rows for i in (t, *ps) if (i, field) in hidden})
    if not var:
        return []
    pos = {i: n for n, i in enumerate(var)}
    a, b = [], []
    for t, ps in rows:
        if not all((i, field) in hidden or not pd.isna(vals[i]) for i in (t, *ps)):
            continue  # a part without a figure: the equation tells nothing exact
        coef = np.zeros(len(var))
        rhs = 0.0
        for i, sign in [(t, -1.0), *[(p, 1.0) for p in ps]]:
            if (i, field) in hidden:
                coef[pos[i]] += sign
            else:
                rhs -= sign * float(vals[i])
        if coef.any():
            a.append(coef)
            b.append(rhs)
    other = "denominator" if field == "numerator" else "numerator"
    lo = np.zeros(len(var))
    hi = np.full(len(var), np.inf)
    for i in var:  # events ≤ pupils when the pupils are shown
        v = cols[other][i]
        if (i, other) not in hidden and not pd.isna(v):
            if field == "numerator":
                hi[pos[i]] = float(v)
            else:
                lo[pos[i]] = float(v)
    pinned = set()
    if a:
        m = np.array(a)
        rank = np.linalg.matrix_rank(m)
        for i in var:
            e = np.zeros(len(var))
            e[pos[i]] = 1.0
            if np.linalg.matrix_rank(np.vstack([m, e])) == rank:
                pinned.add(i)
        for _ in range(len(var) + 2):  # bounds propagation over each equation
            before = (lo.copy(), hi.copy())
            for coef, rhs in zip(a, b, strict=True):
                idx = np.flatnonzero(coef)
                for j in idx:
                    rest = [k for k in idx if k != j]
                    # coef[j]*x_j = rhs - Σ coef[k] x_k
                    smin = sum(min(coef[k] * lo[k], coef[k] * hi[k]) for k in rest)
                    smax = sum(max(coef[k] * lo[k], coef[k] * hi[k]) for k in rest)
                    bounds = sorted([(rhs - smax) / coef[j], (rhs - smin) / coef[j]])
                    lo[j] = max(lo[j], bounds[0])
                    hi[j] = min(hi[j], bounds[1])
            if np.array_equal(before[0], lo) and np.array_equal(before[1], hi):
                break  # a round that changes nothing: every later round is the same
        pinned |= {i for i in var if hi[pos[i]] - lo[pos[i]] < 0.5}
    if pinned and not totals_only:
        # what the school rows alone pin (every group hidden) is not a leak of the table
        rows_all = [i for t, ps in rows for i in (t, *ps)
                    if dims[i] != SCHOOL_DIMENSION]
        everything = {**hidden, **{(i, field): "" for i in rows_all}}
        base = None
        if cache is not None:
            rows_ind = {i for t, ps in rows for i in (t, *ps)}
            key = ("base", tuple(t for t, _ in rows), field,
                   frozenset(c for c in everything if c[0] in rows_ind))
            base = cache.get(key)
        if base is None:
            base = _pinned_one(rows, field, everything, cols, dims, True, None)
            if cache is not None:
                cache[key] = base
        pinned -= set(base)
    return sorted(pinned)


def disclosed(table: pd.DataFrame) -> list[tuple]:
    """Hidden figures of a suppressed table a reader can still work out exactly, as
    (school_code, school_year, indicator, dimension, group, field) — empty when safe.

    Works from the suppressed table alone (its NaNs and flags); the figures it pins are
    compared with nothing: the check is whether they are determined, not what they are.
    """
    out = []
    for _, block in table.groupby(["school_code", "school_year"], sort=False):
        hidden = {(i, f): "" for i in block.index for f in FIELDS
                  if bool(block.at[i, f"hidden_{f}"])}
        eqs = {ind: _equations(b) for ind, b in block.groupby("indicator", sort=False)}
        for ind, i, field in _pinned(block, hidden, eqs):
            r = block.loc[i]
            out.append((r["school_code"], r["school_year"], ind, r["dimension"], r["group"],
                        field))
    return out


def suppress(table: pd.DataFrame, threshold: int | None = None) -> Suppressed:
    """Hide small cells of a tidy indicator table, with complementary cells (module doc).

    ``threshold`` None: :data:`DEFAULT_THRESHOLD`.  The input is not changed.  The result has
    the same rows in the same order; ``value`` is hidden whenever its numerator or
    denominator is; ``suppression`` is "primary", "complementary" or "".
    """
    k = DEFAULT_THRESHOLD if threshold is None else int(threshold)
    if k < 1:
        raise ValueError("threshold must be at least 1")
    df = table.copy()
    for c in ("numerator", "denominator", "value"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    hidden_all: dict[tuple[int, str], str] = {}
    unprotected: list[tuple] = []
    for _, block in df.groupby(["school_code", "school_year"], sort=False):
        st = _State(block, k)
        st.primary()
        for _ in range(200):
            changed = st.complement()
            changed |= st.link()
            if not changed:
                changed = st.fix_disclosed() or st.fix_disclosed(whole=True)
            if not changed:
                break
        for ind, i, field in st.pinned():
            r = block.loc[i]
            unprotected.append((r["school_code"], r["school_year"], ind, r["dimension"],
                                r["group"], field))
        hidden_all.update(st.hidden)
    df["hidden_numerator"] = [(i, "numerator") in hidden_all for i in df.index]
    df["hidden_denominator"] = [(i, "denominator") in hidden_all for i in df.index]
    df["hidden_value"] = df["hidden_numerator"] | df["hidden_denominator"]
    # a gender parity index follows from the sex cells and the enrolment by sex
    sex_hidden = df.loc[(df["dimension"] == "sex") & df["hidden_value"],
                        ["school_code", "school_year", "indicator"]]
    keys = {(s, y, PARITY_PREFIX + ind) for s, y, ind in sex_hidden.itertuples(index=False)}
    parity = [(s, y, ind) in keys for s, y, ind in
              df[["school_code", "school_year", "indicator"]].itertuples(index=False)]
    df.loc[parity, "hidden_value"] = True
    df["suppressed"] = df["hidden_value"]
    why = {i: w for (i, _), w in hidden_all.items() if w == "primary"}
    df["suppression"] = ["primary" if i in why else ("complementary" if s else "")
                         for i, s in zip(df.index, df["suppressed"], strict=True)]
    df.loc[df["hidden_numerator"], "numerator"] = np.nan
    df.loc[df["hidden_denominator"], "denominator"] = np.nan
    df.loc[df["hidden_value"], "value"] = np.nan
    n = int(df["suppressed"].sum())
    return Suppressed(df, k, suppression_note(k) if n else "", n, unprotected)


def shown(value: object, hidden: bool, fmt: object = None) -> str:
    """The text of one cell: :data:`HIDDEN_MARK` when hidden, else ``fmt(value)``
    (``fmt`` None: :func:`numbers.fmt_num`)."""
    if hidden:
        return HIDDEN_MARK
    return (fmt or fmt_num)(value)  # type: ignore[operator]
