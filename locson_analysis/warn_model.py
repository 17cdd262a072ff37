"""A ranking model on top of the warning rules, and an honest, time-ordered back-test.

Dropout at one school is rare (a few a year, falling to none), far too rare to learn from.  The
model therefore learns the broader outcome **off track** — dropped out (recorded, or vanished
without a recorded outcome), repeated or did not complete, learning result Chưa đạt (old scale
Yếu/Kém) for the year, or missed more than ``off_track.absence_share`` of the sessions:

* for a flag at the **end** of year *y*: off track during year *y + 1*;
* for a flag at **mid**-year *y* (after semester 1): off track by the end of year *y*
  (absences counted over semester 2 only, since semester 1 is what the flag already sees).

Features are the rule inputs only (absences, results, fall, repeating, over-age, returned,
missing data) — never ethnicity, poverty, disability or sex.  The model is a standardised
logistic regression with balanced class weights; its probabilities are corrected back to the
training base rate (prior shift), so the Brier score is fair.

:func:`backtest` trains on the years before *t* and scores year *t*, for every *t* with at least
two earlier labelled years, and compares the model with the rules alone and with "flagged last
year".  The model is used only if it beats the rules on average (higher PR-AUC **and** a
recall within the top ``capacity`` pupils no lower); otherwise the report says so and ranks by
the rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss
from sklearn.preprocessing import StandardScaler

from .contract import next_year, previous_year
from .numbers import fmt_num, fmt_pct
from .warn import (
    NOT_PASSED,
    STAYING,
    Point,
    Rules,
    _prepared,
    load_rules,
    reconcile,
    rule_inputs,
    rule_score,
)

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
METHOD_LABELS = {"model": "Mô hình xếp hạng", "rules": "Quy tắc",
                 "last_year": "Danh sách năm trước"}
MIN_EARLIER_YEARS = 2
CALIBRATION_BINS = (0.0, 0.05, 0.1, 0.2, 0.4, 1.0)


# --------------------------------------------------------------------------------------------
# Units: one row per pupil, year and point, with features and the off-track label
# --------------------------------------------------------------------------------------------

def _off_track(rows: pd.DataFrame, rules: Rules, rest_of_year: bool = False) -> pd.Series:
    """1.0/0.0 for a finished year's records; NaN when unknown (in progress, transferred).

    ``rest_of_year`` (the mid-year label) counts semester-2 absences only, against the
    semester's sessions: semester-1 absences are what the mid-year flag already sees, so
    counting them again would make the label partly a copy of a feature.
    """
    if rest_of_year:
        absences, sessions = rows["absences_s2"], rules.sessions("mid")
    else:
        absences, sessions = rows["absences_s1"] + rows["absences_s2"], rules.sessions("end")
    off = (rows["outcome"].isin({"dropped_out", "repeating", "not_completed"})
           | rows["learning_year"].isin(NOT_PASSED)
           | (absences > rules.off_track_absence_share * sessions).fillna(False))
    label = off.astype(float)
    if rows["outcome"].eq("in_progress").any():
        # A year in progress: nothing is known yet (counting only the dropouts already
        # recorded would make every pupil of that year look off track).
        return pd.Series(math.nan, index=rows.index)
    unknown = rows["outcome"].eq("transferred_out") | rows["outcome"].isna()
    return label.mask(unknown)


def units(pupils: pd.DataFrame, point: Point, rules: Rules | None = None) -> pd.DataFrame:
    """Rule inputs, rule score and label for every year present, at ``point``.

    ``label`` is NaN where the outcome is not known yet (the year after has no data, is in
    progress, or the pupil transferred out).  ``dropout`` marks the units whose off-track
    outcome was a dropout (recorded, or a hidden one: absent next year although promoted,
    repeating or not completed).
    """
    rules = rules or load_rules()
    p = _prepared(pupils)
    years = sorted(p["school_year"].dropna().unique())
    frames = []
    for year in years:
        x = rule_inputs(p, year, point, rules)
        if x.empty:
            continue
        x["rule_score"] = rule_score(x, point, rules)
        if point == "mid":
            own = p[p["school_year"] == year].drop_duplicates(["school_code", "pupil_id"])
            key = x[["school_code", "pupil_id"]].merge(own, on=["school_code", "pupil_id"],
                                                        how="left")
            x["label"] = _off_track(key, rules, rest_of_year=True).to_numpy()
            x["dropout"] = key["outcome"].eq("dropped_out").to_numpy()
        else:
            nxt = next_year(year)
            later = p[p["school_year"] == nxt].drop_duplicates(["school_code", "pupil_id"])
            if later.empty or later["outcome"].eq("in_progress").any():
                x["label"], x["dropout"] = math.nan, False
            else:
                key = x[["school_code", "pupil_id", "outcome"]].merge(
                    later, on=["school_code", "pupil_id"], how="left", suffixes=("_now", ""),
                    indicator=True)
                label = _off_track(key, rules)
                hidden = key["_merge"].eq("left_only") & key["outcome_now"].isin(STAYING)
                label = label.mask(key["_merge"].eq("left_only"), math.nan)
                label = label.mask(hidden, 1.0)
                x["label"] = label.to_numpy()
                x["dropout"] = (hidden | key["outcome"].eq("dropped_out")).to_numpy()
        frames.append(x)
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    out["dropout"] = out["dropout"].astype(bool)
    return out


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


def _single_score_calibrator(score: pd.Series, y: pd.Series, seed: int):
    """Probability from one score (rules, last year) fitted on the training years."""
    s = score.to_numpy(dtype=float).reshape(-1, 1)
    if y.nunique() < 2:
        rate = float(y.mean())
        return lambda new: np.full(len(new), rate)
    lr = LogisticRegression(max_iter=1000, random_state=seed).fit(s, y.astype(int))
    return lambda new: lr.predict_proba(np.asarray(new, dtype=float).reshape(-1, 1))[:, 1]


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------

def hits_at(score: np.ndarray, y: np.ndarray, k: int) -> float:
    """Expected number of positives in the top ``k``, ties at the cut-off shared fairly."""
    k = min(k, len(score))
    if k <= 0:
        return 0.0
    order = np.sort(score)[::-1]
    cut = order[k - 1]
    above = score > cut
    tied = score == cut
    slots = k - int(above.sum())
    return float(y[above].sum() + slots * y[tied].sum() / tied.sum())


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


def _metrics(score: np.ndarray, prob: np.ndarray, y: np.ndarray, k: int) -> dict[str, float]:
    pos = int(y.sum())
    k_eff = min(k, len(y))
    hit = hits_at(score, y, k)
    return {
        "n": len(y), "positives": pos,
        "recall_at_k": hit / pos if pos else math.nan,
        "precision_at_k": hit / k_eff if k_eff else math.nan,
        "average_precision": average_precision_score(y, score) if 0 < pos < len(y) else math.nan,
        "brier": brier_score_loss(y, prob) if len(y) else math.nan,
    }


# --------------------------------------------------------------------------------------------
# Back-test
# --------------------------------------------------------------------------------------------

@dataclass
class BacktestResult:
    """Everything the internal report says about how well the warnings worked in the past.

    metrics:     point, school_year, method, n, positives, recall_at_k, precision_at_k,
                 average_precision (PR-AUC), brier
    summary:     the mean of each metric over the test years, by point and method
    calibration: point, method, bin, n, mean_predicted, observed, ci_low, ci_high
    fairness:    point, method, dimension, group, positives, caught, recall, ci_low, ci_high, note
    dropouts:    every dropout in the data and whether/how early it was flagged
    predictions: one row per test pupil (internal: pupil IDs)
    use_model:   point → True when the model beat the rules (criterion in the module docstring)
    verdict:     point → the decision in Vietnamese
    """

    capacity: int
    seed: int
    rules: Rules
    metrics: pd.DataFrame
    summary: pd.DataFrame
    calibration: pd.DataFrame
    fairness: pd.DataFrame
    dropouts: pd.DataFrame
    predictions: pd.DataFrame
    use_model: dict[str, bool]
    verdict: dict[str, str]
    coefficients: dict[str, pd.DataFrame]


def _last_year_scores(pupils: pd.DataFrame, rules: Rules,
                      end_units: pd.DataFrame | None = None) -> pd.DataFrame:
    end = end_units if end_units is not None else units(pupils, "end", rules)
    if end.empty:
        return pd.DataFrame(columns=["school_code", "pupil_id", "school_year", "last_year_score"])
    out = end[["school_code", "pupil_id", "school_year", "rule_score"]].copy()
    out["school_year"] = out["school_year"].map(next_year)
    return out.rename(columns={"rule_score": "last_year_score"})


def backtest(pupils: pd.DataFrame, capacity: int = 30, seed: int = 0,
             rules: Rules | None = None,
             points: tuple[Point, ...] = ("mid", "end")) -> BacktestResult:
    """Time-ordered back-test of the model, the rules alone and "flagged last year".

    For each point and each year *t* with labels and at least two earlier labelled years:
    train on the years before *t*, score *t*, and measure recall and precision within the top
    ``capacity`` pupils, PR-AUC (average precision) and the Brier score.  Same inputs and seed
    give the same numbers.
    """
    rules = rules or load_rules()
    pupils = _prepared(pupils)
    all_units = {pt: units(pupils, pt, rules) for pt in set(points) | {"end"}}
    last = _last_year_scores(pupils, rules, all_units["end"])
    metric_rows, preds, coefs = [], [], {}
    for point in points:
        u = all_units[point]
        if u.empty:
            continue
        u = u.merge(last, on=["school_code", "pupil_id", "school_year"], how="left")
        u["last_year_score"] = u["last_year_score"].fillna(0.0)
        labelled = u[u["label"].notna()]
        years = sorted(labelled["school_year"].unique())
        for i, t in enumerate(years):
            if i < MIN_EARLIER_YEARS:
                continue
            train = labelled[labelled["school_year"] < t]
            test = labelled[labelled["school_year"] == t].reset_index(drop=True)
            y_train, y = train["label"].astype(int), test["label"].to_numpy(dtype=int)
            scores: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            if y_train.nunique() == 2:
                model = RiskModel(seed=seed).fit(train, y_train)
                p_model = model.predict(test)
                scores["model"] = (p_model, p_model)
                coefs[point] = model.coefficients()
            cal = _single_score_calibrator(train["rule_score"], y_train, seed)
            scores["rules"] = (test["rule_score"].to_numpy(float), cal(test["rule_score"]))
            cal_last = _single_score_calibrator(train["last_year_score"], y_train, seed)
            scores["last_year"] = (test["last_year_score"].to_numpy(float),
                                   cal_last(test["last_year_score"]))
            for method, (score, prob) in scores.items():
                metric_rows.append({"point": point, "school_year": t, "method": method,
                                    **_metrics(score, prob, y, capacity)})
                test[f"score_{method}"] = score
                test[f"prob_{method}"] = prob
                test[f"top_{method}"] = _top_mask(score, capacity)
            preds.append(test)
    metrics = pd.DataFrame(metric_rows, columns=[
        "point", "school_year", "method", "n", "positives", "recall_at_k", "precision_at_k",
        "average_precision", "brier"])
    predictions = pd.concat(preds, ignore_index=True) if preds else pd.DataFrame()
    summary = _summary(metrics)
    use_model, verdict = {}, {}
    for point in points:
        use_model[point], verdict[point] = _decide(summary, point, capacity)
    return BacktestResult(
        capacity=capacity, seed=seed, rules=rules, metrics=metrics, summary=summary,
        calibration=_calibration(predictions), fairness=_fairness(predictions, rules),
        dropouts=_dropouts(pupils, all_units, predictions, rules),
        predictions=predictions, use_model=use_model, verdict=verdict, coefficients=coefs)


def _top_mask(score: np.ndarray, k: int) -> np.ndarray:
    """The top ``k`` by score; ties at the cut-off broken by position (stable, reproducible)."""
    order = np.argsort(-score, kind="stable")
    mask = np.zeros(len(score), dtype=bool)
    mask[order[:k]] = True
    return mask


def _summary(metrics: pd.DataFrame) -> pd.DataFrame:
    if metrics.empty:
        return pd.DataFrame(columns=["point", "method", "years", "n", "positives", "recall_at_k",
                                     "precision_at_k", "average_precision", "brier"])
    return metrics.groupby(["point", "method"], as_index=False).agg(
        years=("school_year", "nunique"), n=("n", "sum"), positives=("positives", "sum"),
        recall_at_k=("recall_at_k", "mean"), precision_at_k=("precision_at_k", "mean"),
        average_precision=("average_precision", "mean"), brier=("brier", "mean"))


def _decide(summary: pd.DataFrame, point: str, capacity: int) -> tuple[bool, str]:
    when = "giữa năm" if point == "mid" else "cuối năm"
    s = summary[summary["point"] == point].set_index("method")
    if "rules" not in s.index:
        return False, (f"Cảnh báo {when}: chưa đủ số liệu để kiểm chứng (cần ít nhất "
                       f"{MIN_EARLIER_YEARS} năm học trước năm kiểm tra); dùng quy tắc.")
    if "model" not in s.index:
        return False, (f"Cảnh báo {when}: chưa huấn luyện được mô hình (các năm trước không có "
                       f"đủ cả học sinh chệch hướng và không chệch hướng); dùng quy tắc.")
    m, r = s.loc["model"], s.loc["rules"]
    better_ap = m["average_precision"] > r["average_precision"]
    not_worse_recall = m["recall_at_k"] >= r["recall_at_k"]
    numbers = (f"PR-AUC trung bình {fmt_num(m['average_precision'], 2)} so với "
               f"{fmt_num(r['average_precision'], 2)}; trong {capacity} em xếp đầu, phát hiện "
               f"{fmt_pct(m['recall_at_k'])} so với {fmt_pct(r['recall_at_k'])}")
    if better_ap and not_worse_recall:
        return True, (f"Cảnh báo {when}: mô hình xếp hạng tốt hơn quy tắc khi kiểm chứng trên "
                      f"{int(m['years'])} năm học ({numbers}). Danh sách được sắp xếp theo mô "
                      f"hình; lý do vẫn là các quy tắc.")
    return False, (f"Cảnh báo {when}: mô hình xếp hạng KHÔNG tốt hơn quy tắc khi kiểm chứng trên "
                   f"{int(m['years'])} năm học ({numbers}). Nhà trường dùng quy tắc để sắp xếp "
                   f"danh sách.")


def _calibration(pred: pd.DataFrame) -> pd.DataFrame:
    cols = ["point", "method", "bin", "n", "mean_predicted", "observed", "ci_low", "ci_high"]
    if pred.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    edges = list(CALIBRATION_BINS)
    for point, g in pred.groupby("point"):
        for method in METHOD_LABELS:
            col = f"prob_{method}"
            if col not in g or g[col].isna().all():
                continue
            d = g[g[col].notna()]
            bins = pd.cut(d[col], edges, include_lowest=True, labels=False)
            for b, part in d.groupby(bins):
                lo, hi = wilson(part["label"].sum(), len(part))
                left, right = edges[int(b)], edges[int(b) + 1]
                rows.append({"point": point, "method": method,
                             "bin": f"{fmt_pct(left, 0)}–{fmt_pct(right, 0)}", "n": len(part),
                             "mean_predicted": part[col].mean(),
                             "observed": part["label"].mean(), "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=cols)


def _fairness(pred: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    cols = ["point", "method", "dimension", "group", "positives", "caught", "recall", "ci_low",
            "ci_high", "note"]
    if pred.empty:
        return pd.DataFrame(columns=cols)
    pos = pred[pred["label"] == 1].copy()
    pos["caught_rules"] = pos["rule_score"] >= rules.flag_min_score
    if "top_model" in pos:
        pos["caught_model"] = pos["top_model"].fillna(False).astype(bool)
    groups = {
        "sex": pos["sex"].map({"M": "Nam", "F": "Nữ"}),
        "minority": pos["minority"].map({True: "Dân tộc thiểu số", False: "Kinh"}),
        "poor": pos["poor"].map({True: "Hộ nghèo", False: "Không thuộc hộ nghèo"}),
    }
    rows = []
    for point, g in pos.groupby("point"):
        for method in ("rules", "model"):
            col = f"caught_{method}"
            if col not in g or (method == "model" and g["prob_model"].isna().all()):
                continue
            for dim, labels in groups.items():
                lab = labels.loc[g.index]
                for group in sorted(lab.dropna().unique()):
                    part = g[lab == group]
                    n, caught = len(part), int(part[col].sum())
                    lo, hi = wilson(caught, n)
                    note = "rất ít trường hợp: chỉ để tham khảo" if n < 10 else ""
                    rows.append({"point": point, "method": method, "dimension": dim,
                                 "group": group, "positives": n, "caught": caught,
                                 "recall": caught / n if n else math.nan, "ci_low": lo,
                                 "ci_high": hi, "note": note})
    return pd.DataFrame(rows, columns=cols)


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
        m_top = None if mp is None or "top_model" not in mp or pd.isna(mp.get("prob_model")) \
            else bool(mp["top_model"])
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
# Scoring the current year, and the words for a vice-principal
# --------------------------------------------------------------------------------------------

def score_year(pupils: pd.DataFrame, school_year: str, point: Point,
               rules: Rules | None = None, seed: int = 0) -> pd.DataFrame | None:
    """Model probability and explanation for each pupil of ``school_year`` at ``point``.

    Trained on every earlier labelled unit; None when there is not enough to train on.
    """
    rules = rules or load_rules()
    u = units(pupils, point, rules)
    if u.empty:
        return None
    train = u[(u["school_year"] < school_year) & u["label"].notna()]
    if train["label"].nunique() < 2 or train["school_year"].nunique() < MIN_EARLIER_YEARS:
        return None
    model = RiskModel(seed=seed).fit(train, train["label"].astype(int))
    x = u[u["school_year"] == school_year].reset_index(drop=True)
    if x.empty:
        return None
    return pd.DataFrame({"school_code": x["school_code"], "pupil_id": x["pupil_id"],
                         "model_probability": model.predict(x),
                         "model_explanation": model.explain(x)})


def describe(result: BacktestResult) -> list[str]:
    """The back-test in sentences a vice-principal can read (Vietnamese)."""
    out: list[str] = []
    k = result.capacity
    for point, verdict in result.verdict.items():
        when = "giữa năm (sau học kỳ 1)" if point == "mid" else "cuối năm"
        target = ("đến cuối năm học đó" if point == "mid" else "trong năm học sau")
        s = result.summary[result.summary["point"] == point].set_index("method")
        m = result.metrics[result.metrics["point"] == point]
        if "rules" in s.index:
            years = sorted(m["school_year"].unique())
            r = s.loc["rules"]
            line = (f"Cảnh báo {when}: kiểm chứng trên {len(years)} năm học ({', '.join(years)})"
                    f", mỗi năm chỉ dùng số liệu các năm trước. Có tổng cộng "
                    f"{fmt_num(r['positives'])} trường hợp chệch hướng {target} (bỏ học, ở lại "
                    f"lớp, học tập Chưa đạt hoặc nghỉ quá "
                    f"{fmt_pct(result.rules.off_track_absence_share, 0)} số buổi"
                    f"{' học kỳ 2' if point == 'mid' else ''}) trong "
                    f"{fmt_num(r['n'])} lượt học sinh. Trong {k} em xếp đầu danh sách mỗi năm, "
                    f"quy tắc tìm ra trung bình {fmt_pct(r['recall_at_k'])} các em này")
            extra = [f"{METHOD_LABELS[x].lower()}: {fmt_pct(s.loc[x, 'recall_at_k'])}"
                     for x in ("model", "last_year") if x in s.index]
            line += (" (" + "; ".join(extra) + ")." if extra else ".")
            out.append(line)
        out.append(verdict)
        out.extend(_caveats(s, when))
    d = result.dropouts
    if len(d):
        seen = int(d["flagged_end_before"].fillna(False).astype(bool).sum()
                   + (~d["flagged_end_before"].fillna(False).astype(bool)
                      & d["flagged_mid"].fillna(False).astype(bool)).sum())
        out.append(f"Trong {fmt_num(len(d))} trường hợp bỏ học (kể cả không có tên năm sau) có "
                   f"trong số liệu, {fmt_num(seen)} em đã được cảnh báo trước khi nghỉ. Số trường "
                   f"hợp rất ít nên các tỉ lệ trên chỉ mang tính tham khảo.")
    else:
        out.append("Không có trường hợp bỏ học nào trong số liệu để đối chiếu.")
    return out


def _caveats(s: pd.DataFrame, when: str) -> list[str]:
    """Honest remarks: small margins, and a simpler list doing as well."""
    if "rules" not in s.index or "model" not in s.index:
        return []
    out = []
    gap = abs(s.loc["model", "recall_at_k"] - s.loc["rules", "recall_at_k"])
    if gap < 0.05:
        out.append(f"Lưu ý ({when}): chênh lệch giữa mô hình và quy tắc nhỏ (dưới 5 điểm %), "
                   f"có thể chỉ do ngẫu nhiên.")
    if "last_year" in s.index:
        best = max(s.loc["model", "recall_at_k"], s.loc["rules", "recall_at_k"])
        if s.loc["last_year", "recall_at_k"] >= best:
            out.append(f"Lưu ý ({when}): chỉ cần xem lại danh sách năm trước cũng tìm ra nhiều "
                       f"em chệch hướng như vậy; cả quy tắc và mô hình đều còn yếu, cần thầy cô "
                       f"bổ sung hiểu biết của mình về từng em.")
    return out


def result_dict(result: BacktestResult) -> dict[str, Any]:
    """The headline numbers (for logs and the final report)."""
    return {"summary": result.summary.to_dict("records"), "use_model": result.use_model}
