"""A ranking model on top of the warning rules, and a back-test whose protocol is fixed in advance.

Above :mod:`locson_analysis.warn_rules` and :mod:`locson_analysis.warn_data`; below the internal
run (:mod:`locson_analysis.warn`).  The protocol is ``docs/early-warning.md``:

* **Outcome.** Every figure is about the plan's outcome, ``dropout`` (dropped out, or did not
  come back without a recorded transfer or completion, within 12 months of the warning point).
  The model learns the training proxy ``proxy`` ("off track"), named as such wherever it shows.
* **Folds.** For each point, the years whose outcome is known are taken in order; each year *t*
  with at least :data:`MIN_EARLIER_YEARS` earlier years to learn from is a fold: methods are
  fitted on the years before *t* (every school in the data teaches) and rank year *t* of the
  school being evaluated, ``capacity`` pupils per school and year.
* **Held out.** The last ``evaluation.held_out_years`` years are held out: they are reported and
  never used for a choice.  The choice (model or rules; which single feature) uses the earlier
  folds only.
* **Methods, same point, same outcome, same capacity**: the rules (``rule_score``), the model,
  last year's list (the end-of-year rule score of the year before) and the single strongest
  feature alone (chosen on the training years).
* **Decision.** The model orders the list only if, on the selection folds, it found more
  dropouts in the top ``capacity`` than the rules *and* every baseline, with at least
  ``evaluation.min_events`` events behind that; and the held-out years hold at least
  ``min_events`` events to report on.  Otherwise the list is ordered by the rules and the
  report says why ("chưa đủ số ca để đánh giá" when the held-out years are too thin).  The
  held-out gate depends on the number of events only, never on who they are or how they were
  ranked.

Features are the rule inputs only (absences, results, fall, repeating, over-age, returned,
missing data) — never ethnicity, poverty, disability or sex.  The model is a standardised
logistic regression with balanced class weights; its probabilities are corrected back to the
training base rate (prior shift).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.preprocessing import StandardScaler

from .contract import next_year, previous_year
from .numbers import fmt_num, fmt_pct
from .warn_data import units
from .warn_rules import Point, Rules, _prepared, load_rules, reconcile

FEATURES = ("absences", "absences_missing", "learning_level", "conduct_level",
            "results_missing", "fall_levels", "repeating", "over_age_years", "returned")
BINARY = {"absences_missing", "results_missing", "repeating", "returned"}
#: Vietnamese wording of each feature for the per-pupil explanations.
FEATURE_LABELS = {
    "absences": "số buổi nghỉ",
    "absences_missing": "thiếu số buổi nghỉ",
    "learning_level": "kết quả học tập",
    "conduct_level": "kết quả rèn luyện",
    "results_missing": "thiếu kết quả học tập/rèn luyện",
    "fall_levels": "mức giảm kết quả so với kỳ trước",
    "repeating": "đã ở lại lớp",
    "over_age_years": "tuổi so với khối lớp",
    "returned": "đã nghỉ rồi quay lại",
}
METHODS = ("rules", "model", "last_year", "single_feature")
METHOD_LABELS = {"model": "Mô hình xếp hạng", "rules": "Quy tắc",
                 "last_year": "Danh sách năm trước", "single_feature": "Chỉ một đặc điểm"}
BASELINES = ("rules", "last_year", "single_feature")
PHASE_LABELS = {"selection": "Các năm dùng để chọn", "held_out": "Các năm giữ lại để kiểm tra"}
MIN_EARLIER_YEARS = 2
CALIBRATION_BINS = (0.0, 0.05, 0.1, 0.2, 0.4, 1.0)


# --------------------------------------------------------------------------------------------
# Features and the model
# --------------------------------------------------------------------------------------------

def feature_frame(x: pd.DataFrame) -> pd.DataFrame:
    """The model's features from rule inputs (NaN kept; imputed by the model)."""
    f = pd.DataFrame(index=x.index)
    f["absences"] = x["absences"].astype(float)
    f["absences_missing"] = x["absences"].isna().astype(float)
    f["learning_level"] = x["learning_level"].astype(float)
    f["conduct_level"] = x["conduct_level"].astype(float)
    f["results_missing"] = (x["learning_level"].isna() | x["conduct_level"].isna()).astype(float)
    f["fall_levels"] = x["fall_levels"].astype(float)
    f["repeating"] = x["repeat_year"].notna().astype(float)
    f["over_age_years"] = x["over_age_years"].astype(float).clip(lower=0)
    f["returned"] = x["returned_from"].notna().astype(float)
    return f[list(FEATURES)]


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------

@dataclass
class RiskModel:
    """Standardised logistic regression (balanced) on the rule inputs, prior-corrected."""

    seed: int = 0
    medians: dict[str, float] = field(default_factory=dict)
    scaler: StandardScaler | None = None
    lr: LogisticRegression | None = None
    base_rate: float = math.nan

    def _matrix(self, f: pd.DataFrame) -> np.ndarray:
        filled = f.fillna(self.medians).fillna(0.0)
        return filled[list(FEATURES)].to_numpy(dtype=float)

    def fit(self, x: pd.DataFrame, y: pd.Series) -> RiskModel:
        f = feature_frame(x)
        self.medians = {c: float(f[c].median()) if f[c].notna().any() else 0.0 for c in f}
        self.scaler = StandardScaler().fit(self._matrix(f))
        self.lr = LogisticRegression(class_weight="balanced", max_iter=2000,
                                     random_state=self.seed)
        self.lr.fit(self.scaler.transform(self._matrix(f)), y.astype(int).to_numpy())
        self.base_rate = float(y.mean())
        return self

    def _z(self, x: pd.DataFrame) -> np.ndarray:
        assert self.scaler is not None
        return self.scaler.transform(self._matrix(feature_frame(x)))

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        """Probability of being off track, corrected from the balanced weighting."""
        assert self.lr is not None
        logit = self.lr.decision_function(self._z(x))
        # Balanced weights act as a 50 % prior; move it back to the training base rate.
        rate = min(max(self.base_rate, 1e-6), 1 - 1e-6)
        logit = logit + math.log(rate / (1 - rate))
        return 1.0 / (1.0 + np.exp(-logit))

    def coefficients(self) -> pd.DataFrame:
        assert self.lr is not None
        return pd.DataFrame({"feature": list(FEATURES),
                             "label": [FEATURE_LABELS[f] for f in FEATURES],
                             "coefficient": self.lr.coef_[0]})

    def explain(self, x: pd.DataFrame, top: int = 2) -> list[str]:
        """The ``top`` terms (coefficient × standardised value) that raise each pupil's risk."""
        assert self.lr is not None
        z = self._z(x)
        terms = z * self.lr.coef_[0]
        raw = feature_frame(x)
        out = []
        for i in range(len(x)):
            order = np.argsort(-terms[i])
            parts = []
            for j in order[:top]:
                if terms[i, j] <= 0.05:
                    break
                name = FEATURES[j]
                if name in BINARY:
                    value = raw.iloc[i, j]
                    text = FEATURE_LABELS[name] if value >= 0.5 else (
                        "không " + FEATURE_LABELS[name])
                else:
                    text = f"{FEATURE_LABELS[name]} {'cao' if z[i, j] > 0 else 'thấp'} hơn " \
                           f"trung bình"
                parts.append(f"{text} (+{fmt_num(terms[i, j], 1)})")
            out.append("; ".join(parts) if parts else "không có yếu tố nổi bật")
        return out


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------

def top_share(score: np.ndarray, k: int) -> np.ndarray:
    """Each row's share of a place in the top ``k``: 1 above the cut-off, 0 below, and the
    free places shared equally among the rows tied at the cut-off (no arbitrary tie-break)."""
    score = np.asarray(score, dtype=float)
    k = min(k, len(score))
    share = np.zeros(len(score))
    if k <= 0:
        return share
    cut = np.sort(score)[::-1][k - 1]
    above = score > cut
    tied = score == cut
    share[above] = 1.0
    share[tied] = (k - int(above.sum())) / int(tied.sum())
    return share


def hits_at(score: np.ndarray, y: np.ndarray, k: int) -> float:
    """Expected number of positives in the top ``k``, ties at the cut-off shared fairly."""
    return float((top_share(score, k) * np.asarray(y, dtype=float)).sum())


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion (honest with small numbers)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)  # exact 0 and 1 at the ends
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (lo, hi)


# --------------------------------------------------------------------------------------------
# Back-test
# --------------------------------------------------------------------------------------------

@dataclass
class BacktestResult:
    """Everything the internal report says about how well the warnings worked in the past.

    metrics:     point, phase ("selection" | "held_out"), school_year, method, outcome
                 ("dropout" | "proxy"), n, events, hits (expected, ties shared), recall_at_k,
                 precision_at_k, average_precision — one row per fold, method and outcome
    summary:     the same pooled over each phase's years (recall = hits / events), with a
                 bootstrap 95 % interval (``ci_low``, ``ci_high``) over the events
    folds:       point → {"selection": [years], "held_out": [years]}
    chosen:      point → "model" | "rules": the choice, made on the selection years only
    enough:      point → the held-out years hold at least ``rules.min_events`` dropouts
    use_model:   point → chosen == "model" and enough
    single_feature: point → the feature the single-feature baseline used (last fold)
    learned_from: point → which schools' years the model of the last fold learned from
    calibration: the model's proxy probabilities against the observed proxy
    fairness:    per school: share of events caught by group (Wilson interval)
    dropouts:    every dropout in the data and whether/how early it was flagged
    predictions: one row per test pupil (internal: pupil IDs)
    verdict:     point → the decision in Vietnamese
    """

    capacity: int
    seed: int
    rules: Rules
    school_code: str | None
    metrics: pd.DataFrame
    summary: pd.DataFrame
    folds: dict[str, dict[str, list[str]]]
    chosen: dict[str, str]
    enough: dict[str, bool]
    use_model: dict[str, bool]
    single_feature: dict[str, str]
    learned_from: dict[str, pd.DataFrame]
    calibration: pd.DataFrame
    fairness: pd.DataFrame
    dropouts: pd.DataFrame
    predictions: pd.DataFrame
    verdict: dict[str, str]
    coefficients: dict[str, pd.DataFrame] = field(default_factory=dict)


METRIC_COLUMNS = ["point", "phase", "school_year", "method", "outcome", "n", "events", "hits",
                  "recall_at_k", "precision_at_k", "average_precision"]
SUMMARY_COLUMNS = ["point", "phase", "method", "outcome", "years", "n", "events", "hits",
                   "recall_at_k", "ci_low", "ci_high"]


def _last_year_scores(end_units: pd.DataFrame) -> pd.DataFrame:
    """Last year's list as a score: the end-of-year rule score of the year before."""
    cols = ["school_code", "pupil_id", "school_year", "last_year_score"]
    if end_units.empty:
        return pd.DataFrame(columns=cols)
    out = end_units[["school_code", "pupil_id", "school_year", "rule_score"]].copy()
    out["school_year"] = out["school_year"].map(next_year)
    return out.rename(columns={"rule_score": "last_year_score"}).drop_duplicates(
        ["school_code", "pupil_id", "school_year"])


def strongest_feature(train: pd.DataFrame) -> tuple[str, float]:
    """The one feature (and its direction, +1 or −1) that ranks the training years' proxy best
    by average precision; ``("absences", 1.0)`` when the proxy has only one class."""
    y = train["proxy"].to_numpy(dtype=float)
    if len(y) == 0 or y.min() == y.max():
        return "absences", 1.0
    f = feature_frame(train)
    best, best_ap = ("absences", 1.0), -1.0
    for name in FEATURES:
        v = f[name].fillna(f[name].median()).fillna(0.0).to_numpy(dtype=float)
        for sign in (1.0, -1.0):
            ap = average_precision_score(y, sign * v)
            if ap > best_ap + 1e-12:
                best, best_ap = (name, sign), ap
    return best


def single_feature_score(train: pd.DataFrame, test: pd.DataFrame,
                         feature: str, sign: float) -> np.ndarray:
    """``test``'s value of ``feature`` (missing: the training median), oriented by ``sign``."""
    median = feature_frame(train)[feature].median()
    v = feature_frame(test)[feature].fillna(median if pd.notna(median) else 0.0)
    return sign * v.to_numpy(dtype=float)


def _top_by_school(schools: pd.Series, score: np.ndarray, k: int) -> np.ndarray:
    """Top-``k`` shares within each school (each school ranks its own pupils)."""
    share = np.zeros(len(score))
    for idx in schools.reset_index(drop=True).groupby(schools.to_numpy()).indices.values():
        share[idx] = top_share(score[idx], k)
    return share


def _fold_metrics(test: pd.DataFrame, method: str, share: np.ndarray, score: np.ndarray,
                  point: str, phase: str, year: str) -> list[dict[str, Any]]:
    rows = []
    for outcome in ("dropout", "proxy"):
        y = test[outcome].to_numpy(dtype=float)
        known = ~np.isnan(y)
        yk, sk = y[known], share[known]
        events = int(yk.sum())
        hits = float((sk * yk).sum())
        slots = float(sk.sum())
        ap = (average_precision_score(yk, score[known]) if 0 < events < len(yk)
              else math.nan)
        rows.append({"point": point, "phase": phase, "school_year": year, "method": method,
                     "outcome": outcome, "n": int(known.sum()), "events": events, "hits": hits,
                     "recall_at_k": hits / events if events else math.nan,
                     "precision_at_k": hits / slots if slots else math.nan,
                     "average_precision": ap})
    return rows


def learned_from(train: pd.DataFrame) -> pd.DataFrame:
    """Which schools' years a model learned from (one row per school)."""
    cols = ["school_code", "years", "first_year", "last_year", "units"]
    if train.empty:
        return pd.DataFrame(columns=cols)
    g = train.groupby("school_code")["school_year"]
    out = pd.DataFrame({"years": g.nunique(), "first_year": g.min(), "last_year": g.max(),
                        "units": g.size()}).reset_index()
    return out[cols]


def backtest(pupils: pd.DataFrame, capacity: int = 30, seed: int = 0,
             rules: Rules | None = None, points: tuple[Point, ...] = ("mid", "end"),
             school_code: str | None = None) -> BacktestResult:
    """The back-test of the protocol (module docstring): folds, choice, held-out figures.

    ``pupils`` may hold several schools: all of them teach the model; ``school_code`` is the
    school whose pupils are ranked and counted (None: every school, each ranked separately,
    figures pooled).  Same inputs and seed give the same numbers.
    """
    rules = rules or load_rules()
    pupils = _prepared(pupils)
    all_units = {pt: units(pupils, pt, rules) for pt in set(points) | {"end"}}
    last = _last_year_scores(all_units["end"])
    metric_rows: list[dict[str, Any]] = []
    preds: list[pd.DataFrame] = []
    coefs: dict[str, pd.DataFrame] = {}
    folds: dict[str, dict[str, list[str]]] = {}
    single: dict[str, str] = {}
    taught: dict[str, pd.DataFrame] = {}
    for point in points:
        folds[point] = {"selection": [], "held_out": []}
        u = all_units[point]
        if u.empty:
            continue
        u = u.merge(last, on=["school_code", "pupil_id", "school_year"], how="left")
        u["last_year_score"] = u["last_year_score"].fillna(0.0)
        target = u if school_code is None else u[u["school_code"] == school_code]
        eval_years = sorted(target.loc[target["dropout"].notna(), "school_year"].unique())
        held = set(eval_years[-rules.held_out_years:])
        teach = u[u["proxy"].notna()]
        for t in eval_years:
            train = teach[teach["school_year"] < t]
            if train["school_year"].nunique() < MIN_EARLIER_YEARS:
                continue
            phase = "held_out" if t in held else "selection"
            folds[point][phase].append(t)
            test = target[(target["school_year"] == t)
                          & target["dropout"].notna()].reset_index(drop=True)
            feature, sign = strongest_feature(train)
            single[point] = feature
            scores = {"rules": test["rule_score"].to_numpy(dtype=float),
                      "last_year": test["last_year_score"].to_numpy(dtype=float),
                      "single_feature": single_feature_score(train, test, feature, sign)}
            if train["proxy"].nunique() == 2:
                model = RiskModel(seed=seed).fit(train, train["proxy"].astype(int))
                scores["model"] = model.predict(test)
                test["prob_model"] = scores["model"]
                coefs[point] = model.coefficients()
                taught[point] = learned_from(train)
            for method in METHODS:
                if method not in scores:
                    continue
                share = _top_by_school(test["school_code"], scores[method], capacity)
                test[f"score_{method}"] = scores[method]
                test[f"top_{method}"] = share
                metric_rows += _fold_metrics(test, method, share, scores[method], point,
                                             phase, t)
            preds.append(test.assign(phase=phase, single_feature=feature))
    metrics = pd.DataFrame(metric_rows, columns=METRIC_COLUMNS)
    predictions = pd.concat(preds, ignore_index=True) if preds else pd.DataFrame()
    summary = _summary(metrics, predictions, rules.bootstrap_samples, seed)
    chosen, enough, use_model, verdict = {}, {}, {}, {}
    for point in points:
        chosen[point], why = choose(summary, point, rules)
        held_events = _events(summary, point, "held_out")
        enough[point] = held_events >= rules.min_events
        use_model[point] = chosen[point] == "model" and enough[point]
        verdict[point] = _verdict(point, why, summary, rules, capacity, enough[point],
                                  held_events, folds[point])
    target_pupils = pupils if school_code is None else pupils[pupils["school_code"] == school_code]
    return BacktestResult(
        capacity=capacity, seed=seed, rules=rules, school_code=school_code, metrics=metrics,
        summary=summary, folds=folds, chosen=chosen, enough=enough, use_model=use_model,
        single_feature=single, learned_from=taught, calibration=_calibration(predictions),
        fairness=_fairness(predictions, rules),
        dropouts=_dropouts(target_pupils, all_units, predictions, rules),
        predictions=predictions, verdict=verdict, coefficients=coefs)


def bootstrap_recall(caught: np.ndarray, samples: int, seed: int) -> tuple[float, float]:
    """95 % percentile interval of the recall, resampling the events with replacement.

    ``caught``: each event's share of a place in the top ``capacity`` (0–1)."""
    caught = np.asarray(caught, dtype=float)
    if len(caught) == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = caught[rng.integers(0, len(caught), size=(samples, len(caught)))].mean(axis=1)
    return (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))


def _summary(metrics: pd.DataFrame, pred: pd.DataFrame, samples: int,
             seed: int) -> pd.DataFrame:
    if metrics.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    s = metrics.groupby(["point", "phase", "method", "outcome"], as_index=False).agg(
        years=("school_year", "nunique"), n=("n", "sum"), events=("events", "sum"),
        hits=("hits", "sum"))
    s["recall_at_k"] = [h / e if e else math.nan for h, e in zip(s["hits"], s["events"],
                                                                  strict=True)]
    lows, highs = [], []
    for r in s.itertuples():
        part = pred[(pred["point"] == r.point) & (pred["phase"] == r.phase)]
        col = f"top_{r.method}"
        if col not in part:
            lows.append(math.nan)
            highs.append(math.nan)
            continue
        y = part[r.outcome]
        lo, hi = bootstrap_recall(part.loc[y == 1, col].to_numpy(dtype=float), samples, seed)
        lows.append(lo)
        highs.append(hi)
    s["ci_low"], s["ci_high"] = lows, highs
    return s[SUMMARY_COLUMNS]


def _row(summary: pd.DataFrame, point: str, phase: str, method: str,
         outcome: str = "dropout") -> pd.Series | None:
    s = summary[(summary["point"] == point) & (summary["phase"] == phase)
                & (summary["method"] == method) & (summary["outcome"] == outcome)]
    return None if s.empty else s.iloc[0]


def _events(summary: pd.DataFrame, point: str, phase: str) -> int:
    r = _row(summary, point, phase, "rules")
    return 0 if r is None else int(r["events"])


def choose(summary: pd.DataFrame, point: str, rules: Rules) -> tuple[str, str]:
    """``("model" | "rules", why)`` from the selection folds only (never the held-out years).

    ``why``: "no_folds", "no_model", "too_few" (fewer than ``rules.min_events`` dropouts in the
    selection years), "better" or "not_better".
    """
    sel = summary[(summary["point"] == point) & (summary["phase"] == "selection")
                  & (summary["outcome"] == "dropout")].set_index("method")
    if "rules" not in sel.index:
        return "rules", "no_folds"
    if "model" not in sel.index:
        return "rules", "no_model"
    if int(sel.loc["rules", "events"]) < rules.min_events:
        return "rules", "too_few"
    best = max(sel.loc[b, "recall_at_k"] for b in BASELINES if b in sel.index)
    if sel.loc["model", "recall_at_k"] > best:
        return "model", "better"
    return "rules", "not_better"


def _verdict(point: str, why: str, summary: pd.DataFrame, rules: Rules, capacity: int,
             enough: bool, held_events: int, folds: dict[str, list[str]]) -> str:
    when = "giữa năm" if point == "mid" else "cuối năm"
    sel_years = ", ".join(folds["selection"]) or "không có"
    if why == "no_folds":
        text = (f"Cảnh báo {when}: chưa có năm học nào để chọn (cần ít nhất {MIN_EARLIER_YEARS} "
                f"năm học trước năm kiểm tra và kết cục đã biết); dùng quy tắc.")
    elif why == "no_model":
        text = (f"Cảnh báo {when}: chưa huấn luyện được mô hình (các năm trước không có đủ cả "
                f"học sinh chệch hướng và không chệch hướng); dùng quy tắc.")
    elif why == "too_few":
        text = (f"Cảnh báo {when}: các năm dùng để chọn ({sel_years}) chỉ có "
                f"{fmt_num(_events(summary, point, 'selection'))} em bỏ học hoặc không trở lại "
                f"trường — dưới {rules.min_events} ca, không đủ để chọn mô hình; dùng quy tắc.")
    else:
        sel = {m: _row(summary, point, "selection", m) for m in METHODS}
        parts = [f"{METHOD_LABELS[m].lower()} {fmt_pct(r['recall_at_k'])}"
                 for m, r in sel.items() if r is not None]
        figures = (f"trong {capacity} em xếp đầu mỗi năm, các năm {sel_years} "
                   f"({fmt_num(_events(summary, point, 'selection'))} ca): " + "; ".join(parts))
        if why == "better":
            text = (f"Cảnh báo {when}: mô hình tìm ra nhiều em bỏ học hơn quy tắc và mọi cách "
                    f"đơn giản hơn ở các năm dùng để chọn ({figures}).")
        else:
            text = (f"Cảnh báo {when}: mô hình KHÔNG tìm ra nhiều em bỏ học hơn mọi cách đơn giản "
                    f"hơn ở các năm dùng để chọn ({figures}); dùng quy tắc.")
    if why == "better":
        if enough:
            text += " Danh sách được sắp xếp theo mô hình; lý do vẫn là các quy tắc."
        else:
            text += (f" Nhưng các năm giữ lại để kiểm tra chỉ có {fmt_num(held_events)} ca "
                     f"(cần ít nhất {rules.min_events}): chưa đủ số ca để đánh giá, nên danh "
                     f"sách được sắp xếp theo quy tắc.")
    return text


def _calibration(pred: pd.DataFrame) -> pd.DataFrame:
    """The model's probabilities of the training proxy against the observed proxy."""
    cols = ["point", "method", "outcome", "bin", "n", "mean_predicted", "observed", "ci_low",
            "ci_high"]
    if pred.empty or "prob_model" not in pred:
        return pd.DataFrame(columns=cols)
    rows = []
    edges = list(CALIBRATION_BINS)
    for point, g in pred.groupby("point"):
        d = g[g["prob_model"].notna() & g["proxy"].notna()]
        bins = pd.cut(d["prob_model"], edges, include_lowest=True, labels=False)
        for b, part in d.groupby(bins):
            lo, hi = wilson(part["proxy"].sum(), len(part))
            left, right = edges[int(b)], edges[int(b) + 1]
            rows.append({"point": point, "method": "model", "outcome": "proxy",
                         "bin": f"{fmt_pct(left, 0)}–{fmt_pct(right, 0)}", "n": len(part),
                         "mean_predicted": part["prob_model"].mean(),
                         "observed": part["proxy"].mean(), "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=cols)


FAIRNESS_COLUMNS = ["school_code", "point", "outcome", "method", "dimension", "group", "events",
                    "caught", "recall", "ci_low", "ci_high", "note"]


def _fairness(pred: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Per school: the share of events caught in each group (rules: flagged; model: in the top
    ``capacity``), on the plan's outcome and on the proxy, with a Wilson interval."""
    if pred.empty:
        return pd.DataFrame(columns=FAIRNESS_COLUMNS)
    rows = []
    for outcome in ("dropout", "proxy"):
        pos = pred[pred[outcome] == 1].copy()
        if pos.empty:
            continue
        pos["caught_rules"] = (pos["rule_score"] >= rules.flag_min_score).astype(float)
        if "top_model" in pos:
            pos["caught_model"] = pos["top_model"].astype(float)
        groups = {
            "sex": pos["sex"].map({"M": "Nam", "F": "Nữ"}),
            "minority": pos["minority"].map({True: "Dân tộc thiểu số", False: "Kinh"}),
            "poor": pos["poor"].map({True: "Hộ nghèo", False: "Không thuộc hộ nghèo"}),
        }
        for (school, point), g in pos.groupby(["school_code", "point"]):
            for method in ("rules", "model"):
                col = f"caught_{method}"
                if col not in g or g[col].isna().all():
                    continue
                for dim, labels in groups.items():
                    lab = labels.loc[g.index]
                    for group in sorted(lab.dropna().unique()):
                        part = g[lab == group]
                        n, caught = len(part), float(part[col].sum())
                        lo, hi = wilson(caught, n)
                        note = "rất ít trường hợp: chỉ để tham khảo" if n < 10 else ""
                        rows.append({"school_code": school, "point": point, "outcome": outcome,
                                     "method": method, "dimension": dim, "group": group,
                                     "events": n, "caught": caught,
                                     "recall": caught / n if n else math.nan, "ci_low": lo,
                                     "ci_high": hi, "note": note})
    return pd.DataFrame(rows, columns=FAIRNESS_COLUMNS)


def _dropouts(pupils: pd.DataFrame, all_units: dict[str, pd.DataFrame], pred: pd.DataFrame,
              rules: Rules) -> pd.DataFrame:
    """Every dropout (recorded or hidden) and whether the warnings saw it coming."""
    cols = ["school_code", "dropout_year", "pupil_id", "class_name", "kind",
            "flagged_end_before", "score_end_before", "model_top_end_before", "flagged_mid",
            "score_mid", "earliest"]
    p = _prepared(pupils)
    cases = []
    for _, r in p[p["outcome"] == "dropped_out"].iterrows():
        cases.append({"school_code": r["school_code"], "dropout_year": r["school_year"],
                      "pupil_id": r["pupil_id"], "class_name": r["class_name"],
                      "kind": "Bỏ học (có ghi nhận)",
                      "end_year": previous_year(r["school_year"]), "mid_year": r["school_year"]})
    hidden = reconcile(pupils)
    for _, r in hidden[hidden["check"] == "missing_next_year"].iterrows():
        cases.append({"school_code": r["school_code"], "dropout_year": r["next_year"],
                      "pupil_id": r["pupil_id"], "class_name": r["class_name"],
                      "kind": "Không có tên năm sau (có thể bỏ học không ghi nhận)",
                      "end_year": r["school_year"], "mid_year": None})
    if not cases:
        return pd.DataFrame(columns=cols)

    wanted = {c["pupil_id"] for c in cases}

    def index(frame: pd.DataFrame) -> dict[tuple[str, str, str], dict[str, Any]]:
        if frame is None or frame.empty:
            return {}
        keyed = frame[frame["pupil_id"].isin(wanted)].drop_duplicates(
            ["school_code", "school_year", "pupil_id"])
        return {(r["school_code"], r["school_year"], r["pupil_id"]): r
                for r in keyed.to_dict("records")}

    end_idx, mid_idx = index(all_units["end"]), index(all_units.get("mid", pd.DataFrame()))

    def lookup(idx: dict, school: str, year: str | None, pid: str) -> dict[str, Any] | None:
        return None if year is None else idx.get((school, year, pid))

    end_pred = index(pred[pred["point"] == "end"] if not pred.empty else pred)
    rows = []
    for c in cases:
        end = lookup(end_idx, c["school_code"], c["end_year"], c["pupil_id"])
        mid = lookup(mid_idx, c["school_code"], c["mid_year"], c["pupil_id"])
        mp = lookup(end_pred, c["school_code"], c["end_year"], c["pupil_id"])
        f_end = None if end is None else bool(end["rule_score"] >= rules.flag_min_score)
        f_mid = None if mid is None else bool(mid["rule_score"] >= rules.flag_min_score)
        m_top = None if mp is None or "top_model" not in mp or pd.isna(mp.get("top_model")) \
            else bool(mp["top_model"] >= 0.5)
        if f_end:
            earliest = f"cuối năm học {c['end_year']} (trước khi bỏ học)"
        elif f_mid:
            earliest = f"giữa năm học {c['mid_year']} (sau học kỳ 1)"
        elif end is None and mid is None:
            earliest = "không có số liệu trước khi nghỉ (học sinh mới hoặc nghỉ trước HK1)"
        else:
            earliest = "không được cảnh báo trước"
        rows.append({**{k: c[k] for k in ("school_code", "dropout_year", "pupil_id",
                                          "class_name", "kind")},
                     "flagged_end_before": f_end,
                     "score_end_before": None if end is None else end["rule_score"],
                     "model_top_end_before": m_top, "flagged_mid": f_mid,
                     "score_mid": None if mid is None else mid["rule_score"],
                     "earliest": earliest})
    return pd.DataFrame(rows, columns=cols).sort_values(
        ["dropout_year", "class_name", "pupil_id"], ignore_index=True)


# --------------------------------------------------------------------------------------------
# Scoring the current year, and the words for teachers and a vice-principal
# --------------------------------------------------------------------------------------------

def score_year(pupils: pd.DataFrame, school_year: str, point: Point,
               rules: Rules | None = None, seed: int = 0,
               school_code: str | None = None) -> pd.DataFrame | None:
    """Model probability (of the training proxy) and explanation for each pupil of
    ``school_year`` at ``point`` (of ``school_code`` only, when given).

    Trained on every earlier year with a known proxy, of every school in ``pupils``; the
    frame's ``attrs["learned_from"]`` says which schools' years.  None when there is not
    enough to train on.
    """
    rules = rules or load_rules()
    u = units(pupils, point, rules)
    if u.empty:
        return None
    train = u[(u["school_year"] < school_year) & u["proxy"].notna()]
    if train["proxy"].nunique() < 2 or train["school_year"].nunique() < MIN_EARLIER_YEARS:
        return None
    model = RiskModel(seed=seed).fit(train, train["proxy"].astype(int))
    x = u[u["school_year"] == school_year]
    if school_code is not None:
        x = x[x["school_code"] == school_code]
    x = x.reset_index(drop=True)
    if x.empty:
        return None
    out = pd.DataFrame({"school_code": x["school_code"], "pupil_id": x["pupil_id"],
                        "model_probability": model.predict(x),
                        "model_explanation": model.explain(x)})
    out.attrs["learned_from"] = learned_from(train)
    return out


def _when(point: str) -> str:
    return "giữa năm (sau học kỳ 1)" if point == "mid" else "cuối năm"


#: Said after a number of pupils that ties at the cut-off made fractional (see about_pupils).
TIES_NOTE = ("một số em bằng điểm nhau ở ranh giới danh sách nên số em được tính trung bình "
             "rồi làm tròn")


def about_pupils(x: float) -> str:
    """A number of pupils for teachers.  Ties at the top-``k`` cut-off share its places
    (:func:`top_share`), so the expected number found can be fractional (0,1 em); the figure
    stays exact in the tables and is said here in whole pupils: a whole number as it is,
    otherwise «khoảng N» rounded half up, and «chưa tới 1» below one."""
    x = float(x)
    if x.is_integer():
        return fmt_num(x)
    if x < 0.5:
        return "chưa tới 1"
    return f"khoảng {fmt_num(x)}"


def teacher_sentence(result: BacktestResult, point: str) -> str:
    """One sentence with numbers for teachers: what the held-out years showed, or that there
    are too few cases to say (Vietnamese)."""
    held = result.folds.get(point, {}).get("held_out", [])
    k = result.capacity
    if not held:
        return (f"Chưa có năm học nào đủ số liệu để kiểm chứng cảnh báo {_when(point)}: chưa đủ "
                f"số ca để đánh giá, nên danh sách được xếp theo quy tắc.")
    method = "model" if result.use_model.get(point) else "rules"
    r = _row(result.summary, point, "held_out", method)
    events = 0 if r is None else int(r["events"])
    years = f"{len(held)} năm học gần nhất ({', '.join(held)})"
    if events < result.rules.min_events or r is None:
        return (f"Trong {years} chỉ có {fmt_num(events)} em bỏ học hoặc không trở lại trường "
                f"trong vòng 12 tháng sau thời điểm cảnh báo {_when(point)}: chưa đủ số ca để "
                f"đánh giá (cần ít nhất {result.rules.min_events}), nên danh sách được xếp theo "
                f"quy tắc.")
    by = "mô hình" if method == "model" else "quy tắc"
    ties = "" if float(r["hits"]).is_integer() else f" ({TIES_NOTE})"
    return (f"Trong {years}, {k} em đầu danh sách mỗi năm (xếp theo {by}, cảnh báo "
            f"{_when(point)}) có {about_pupils(r['hits'])} trong {fmt_num(events)} em sau đó "
            f"bỏ học hoặc không trở lại trường trong vòng 12 tháng{ties}.")


def learned_text(frame: pd.DataFrame | None) -> str:
    """"Mô hình học từ số liệu của: …" from :func:`learned_from` ("" when there is none)."""
    if frame is None or frame.empty:
        return ""
    parts = [f"{r.school_code} ({r.first_year} đến {r.last_year}, {fmt_num(r.years)} năm)"
             for r in frame.itertuples()]
    return "Mô hình học từ số liệu của: " + "; ".join(parts) + "."


def describe(result: BacktestResult) -> list[str]:
    """The back-test in sentences a vice-principal can read (Vietnamese)."""
    out: list[str] = []
    k = result.capacity
    for point, verdict in result.verdict.items():
        f = result.folds.get(point, {"selection": [], "held_out": []})
        chosen_years = ", ".join(f["selection"]) or "không có"
        out.append(f"Cảnh báo {_when(point)}: kết cục được đánh giá là học sinh "
                   f"{OUTCOME_TEXT}. Các năm dùng để chọn: {chosen_years}"
                   f"; các năm giữ lại để kiểm tra (không dùng cho lựa chọn nào): "
                   f"{', '.join(f['held_out']) or 'không có'}.")
        parts = []
        fractional = False
        for m in METHODS:
            r = _row(result.summary, point, "held_out", m)
            if r is None or not r["events"]:
                continue
            label = METHOD_LABELS[m].lower()
            if m == "single_feature" and point in result.single_feature:
                label += f" ({FEATURE_LABELS[result.single_feature[point]]})"
            parts.append(f"{label}: {about_pupils(r['hits'])}/{fmt_num(r['events'])} em "
                         f"({fmt_pct(r['recall_at_k'])}, khoảng tin cậy "
                         f"{fmt_pct(r['ci_low'])}–{fmt_pct(r['ci_high'])})")
            fractional = fractional or not float(r["hits"]).is_integer()
        if parts:
            out.append(f"Ở các năm giữ lại, trong {k} em xếp đầu mỗi năm: " + "; ".join(parts)
                       + (f" ({TIES_NOTE}; tỉ lệ tính trên số chưa làm tròn)." if fractional
                          else "."))
        proxy = _row(result.summary, point, "held_out", "rules", "proxy")
        model_proxy = _row(result.summary, point, "held_out", "model", "proxy")
        if proxy is not None and proxy["events"]:
            line = (f"Để đối chiếu, trên nhãn thay thế «chệch hướng» (chỉ dùng để huấn luyện mô "
                    f"hình, không phải bỏ học; {fmt_num(proxy['events'])} em): quy tắc "
                    f"{fmt_pct(proxy['recall_at_k'])}")
            if model_proxy is not None:
                line += f", mô hình {fmt_pct(model_proxy['recall_at_k'])}"
            out.append(line + ".")
        out.append(verdict)
        learned = learned_text(result.learned_from.get(point))
        if learned:
            out.append(learned)
    d = result.dropouts
    if len(d):
        seen = int(d["flagged_end_before"].fillna(False).astype(bool).sum()
                   + (~d["flagged_end_before"].fillna(False).astype(bool)
                      & d["flagged_mid"].fillna(False).astype(bool)).sum())
        out.append(f"Trong {fmt_num(len(d))} trường hợp bỏ học (kể cả không có tên năm sau) có "
                   f"trong số liệu, {fmt_num(seen)} em đã được quy tắc cảnh báo trước khi nghỉ.")
    else:
        out.append("Không có trường hợp bỏ học nào trong số liệu để đối chiếu.")
    return out


OUTCOME_TEXT = "bỏ học (có ghi nhận) hoặc không trở lại năm sau mà không có ghi nhận chuyển " \
               "trường hay hoàn thành, trong vòng 12 tháng sau thời điểm cảnh báo"


def result_dict(result: BacktestResult) -> dict[str, Any]:
    """The headline numbers (for logs and the final report)."""
    return {"summary": result.summary.to_dict("records"), "chosen": result.chosen,
            "enough": result.enough, "use_model": result.use_model}


OUTCOME_SHORT = {"dropout": "Bỏ học / không trở lại (kết cục thật)",
                 "proxy": "Chệch hướng (nhãn thay thế)"}
SUMMARY_TABLE_FORMATS = {"Số ca": "num", "Số lượt học sinh": "num", "Tìm ra": "num1",
                         "Tỉ lệ phát hiện": "pct", "Từ": "pct", "Đến": "pct"}


def summary_table(result: BacktestResult, point: str) -> pd.DataFrame:
    """The back-test figures of ``point`` with Vietnamese headers: held-out years first, the
    plan's outcome before the proxy (arranges :attr:`BacktestResult.summary`, computes
    nothing)."""
    s = result.summary[result.summary["point"] == point].copy()
    if s.empty:
        return pd.DataFrame()
    folds = result.folds.get(point, {})
    s["_phase"] = s["phase"].map({"held_out": 0, "selection": 1})
    s["_outcome"] = s["outcome"].map({"dropout": 0, "proxy": 1})
    s["_method"] = s["method"].map({m: i for i, m in enumerate(METHODS)})
    s = s.sort_values(["_phase", "_outcome", "_method"], ignore_index=True)
    method = s["method"].map(METHOD_LABELS)
    if point in result.single_feature:
        method = method.mask(s["method"].eq("single_feature"),
                             f"Chỉ một đặc điểm ({FEATURE_LABELS[result.single_feature[point]]})")
    return pd.DataFrame({
        "Giai đoạn": s["phase"].map(PHASE_LABELS),
        "Năm học": s["phase"].map(lambda ph: ", ".join(folds.get(ph, []))),
        "Kết cục": s["outcome"].map(OUTCOME_SHORT),
        "Cách xếp hạng": method,
        "Số lượt học sinh": s["n"], "Số ca": s["events"], "Tìm ra": s["hits"],
        "Tỉ lệ phát hiện": s["recall_at_k"], "Từ": s["ci_low"], "Đến": s["ci_high"],
    })
