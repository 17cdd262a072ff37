"""Small-cell suppression as first written (row by row, the reader's solver run afresh on
every indicator each round): the former implementation of ``disclosure.suppress`` and
``disclosure.disclosed``, kept only as an independent reference that tests compare the
faster one with (like ``crossyear_reference``)."""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd

from locson_analysis.disclosure import (
    DEFAULT_THRESHOLD,
    FIELDS,
    LINKED,
    PARITY_PREFIX,
    SCHOOL_DIMENSION,
    Suppressed,
    suppression_note,
)


def _equations(block: pd.DataFrame) -> list[tuple[int, list[int]]]:
    """(total row, part rows) of one indicator of one school and year (row labels)."""
    from locson_analysis.indicators.equity import KINH, MINORITY

    school = block.index[block["dimension"] == SCHOOL_DIMENSION]
    out: list[tuple[int, list[int]]] = []
    if len(school) == 1:
        total = school[0]
        for dim, parts in block.groupby("dimension", sort=False).groups.items():
            if dim != SCHOOL_DIMENSION:
                out.append((total, list(parts)))
    minority = block.index[(block["dimension"] == "minority") & (block["group"] == MINORITY)]
    ethnic = block.index[(block["dimension"] == "ethnicity") & (block["group"] != KINH)]
    if len(minority) == 1 and len(ethnic):
        out.append((minority[0], list(ethnic)))
    return out


class _State:
    """Hidden flags of one school-year block, per (row label, field)."""

    def __init__(self, df: pd.DataFrame, threshold: int) -> None:
        self.df = df
        self.k = threshold
        self.hidden: dict[tuple[int, str], str] = {}  # → "primary" / "complementary"
        self.eqs: dict[str, list[tuple[int, list[int]]]] = {
            ind: _equations(b) for ind, b in df.groupby("indicator", sort=False)}
        # the only group of a dimension is the whole school: it repeats the public school row
        self.alone = {ps[0] for eqs in self.eqs.values() for t, ps in eqs
                      if len(ps) == 1 and df.at[t, "dimension"] == SCHOOL_DIMENSION}

    def known(self, i: int, field: str) -> bool:
        return not pd.isna(self.df.at[i, field])

    def hide(self, i: int, field: str, why: str) -> bool:
        if (i, field) in self.hidden or not self.known(i, field):
            return False
        if self.df.at[i, "dimension"] == SCHOOL_DIMENSION or i in self.alone:
            return False
        self.hidden[(i, field)] = why
        return True

    def primary(self) -> None:
        df = self.df
        groups = df[df["dimension"] != SCHOOL_DIMENSION]
        size = groups["denominator"].where(groups["denominator"].notna(), groups["numerator"])
        size = size.groupby([groups["dimension"], groups["group"]], sort=False).max()
        small = {key for key, n in size.items() if 0 < n < self.k}
        for i, r in self.df.iterrows():
            if r["dimension"] == SCHOOL_DIMENSION:
                continue
            if (r["dimension"], r["group"]) in small:  # a group of fewer than k pupils: all
                self.hide(i, "denominator", "primary")
                self.hide(i, "numerator", "primary")
                continue
            num, den = r["numerator"], r["denominator"]
            if not pd.isna(den) and 0 < den < self.k:
                self.hide(i, "denominator", "primary")
                self.hide(i, "numerator", "primary")
            if not pd.isna(num) and 0 < num < self.k:
                self.hide(i, "numerator", "primary")
            if not (pd.isna(num) or pd.isna(den)) and 0 < den - num < self.k:
                self.hide(i, "numerator", "primary")  # the pupils without the event

    def _size(self, i: int) -> tuple:
        den, num = self.df.at[i, "denominator"], self.df.at[i, "numerator"]
        pupils = den if not pd.isna(den) else num
        return (np.inf if pd.isna(pupils) else pupils, np.inf if pd.isna(num) else num,
                str(self.df.at[i, "group"]))

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
        df = self.df
        keys = set()
        for (i, f) in self.hidden:  # hidden populations: (dimension, group, size)
            if f == "denominator":
                keys.add((df.at[i, "dimension"], df.at[i, "group"], df.at[i, f]))
            elif pd.isna(df.at[i, "denominator"]):
                keys.add((df.at[i, "dimension"], df.at[i, "group"], df.at[i, f]))
        for i, r in df.iterrows():
            if pd.isna(r["denominator"]):  # a count: the population itself
                if (r["dimension"], r["group"], r["numerator"]) in keys:
                    changed |= self.hide(i, "numerator", "complementary")
            elif (r["dimension"], r["group"], r["denominator"]) in keys:
                changed |= self.hide(i, "denominator", "complementary")
        counts = [j for (j, f) in self.hidden if f == "numerator"]
        for i, r in df.iterrows():  # what a hidden count leaves of its population
            if pd.isna(r["denominator"]) or (i, "numerator") in self.hidden:
                continue
            for j in counts:
                if (df.at[j, "dimension"] == r["dimension"]
                        and df.at[j, "group"] == r["group"]
                        and df.at[j, "denominator"] == r["denominator"]
                        and df.at[j, "denominator"] - df.at[j, "numerator"] == r["numerator"]):
                    changed |= self.hide(i, "numerator", "complementary")
                    break
        by_cell = {(r["indicator"], r["dimension"], r["group"]): i for i, r in df.iterrows()}
        for (i, f) in list(self.hidden):  # Kinh is a row of both minority and ethnicity
            r = df.loc[i]
            twin = {"minority": "ethnicity", "ethnicity": "minority"}.get(r["dimension"])
            j = by_cell.get((r["indicator"], twin, r["group"])) if twin else None
            if j is not None:
                changed |= self.hide(j, f, "complementary")
        for (i, f) in list(self.hidden):
            if f != "numerator":
                continue
            r = df.loc[i]
            for other in LINKED.get(r["indicator"], ()):
                j = by_cell.get((other, r["dimension"], r["group"]))
                if j is not None:
                    changed |= self.hide(j, "numerator", "complementary")
        return changed

    def fix_disclosed(self, whole: bool = False) -> bool:
        """Hide one more sibling of each pinned figure (``whole``: every sibling)."""
        changed = False
        for ind, i, field in _pinned(self.df, self.hidden, self.eqs):
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
            totals_only: bool = False) -> list[tuple[str, int, str]]:
    """Hidden figures a reader can pin down from the visible ones: (indicator, row, field).

    Figures the school rows alone pin (a school total of 0: every group 0) are left out
    unless ``totals_only`` (used to find them).
    """
    out: list[tuple[str, int, str]] = []
    for ind, field in product(eqs, FIELDS):
        rows = [(t, ps) for t, ps in eqs[ind]]
        var = sorted({i for t, ps in rows for i in (t, *ps) if (i, field) in hidden})
        if not var:
            continue
        pos = {i: n for n, i in enumerate(var)}
        a, b = [], []
        for t, ps in rows:
            if not all((i, field) in hidden or not pd.isna(df.at[i, field]) for i in (t, *ps)):
                continue  # a part without a figure: the equation tells nothing exact
            coef = np.zeros(len(var))
            rhs = 0.0
            for i, sign in [(t, -1.0), *[(p, 1.0) for p in ps]]:
                if (i, field) in hidden:
                    coef[pos[i]] += sign
                else:
                    rhs -= sign * float(df.at[i, field])
            if coef.any():
                a.append(coef)
                b.append(rhs)
        lo = np.zeros(len(var))
        hi = np.full(len(var), np.inf)
        for i in var:  # events ≤ pupils when the pupils are shown
            other = "denominator" if field == "numerator" else "numerator"
            v = df.at[i, other]
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
            pinned |= {i for i in var if hi[pos[i]] - lo[pos[i]] < 0.5}
        if pinned and not totals_only:
            # what the school rows alone pin (every group hidden) is not a leak of the table
            rows_all = [i for t, ps in eqs[ind] for i in (t, *ps)
                        if df.at[i, "dimension"] != SCHOOL_DIMENSION]
            everything = {**hidden, **{(i, field): "" for i in rows_all}}
            base = _pinned(df, everything, {ind: eqs[ind]}, totals_only=True)
            pinned -= {i for _, i, f in base if f == field}
        out += [(ind, i, field) for i in sorted(pinned)]
    return out


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
        for ind, i, field in _pinned(block, st.hidden, st.eqs):
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
