#!/usr/bin/python3
"""Golden values for the Evaluator (evaluate.golden.test.ts), from scikit-learn 1.2.

Each case is a data set whose rows carry the model's scores as columns, so the test's model
simply returns them: what is checked is how `evaluate` reads outputs, decides labels and
assembles its report (metrics, per-class table, confusion matrix, curves, calibration bins),
against scikit-learn computing the same things from the same numbers.

Run with Debian's python3-sklearn:  /usr/bin/python3 packages/core/test/golden/make_evaluate_golden.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn import metrics as M
from sklearn.calibration import calibration_curve

OUT = os.path.join(os.path.dirname(__file__), "evaluate.golden.json")
rng = np.random.default_rng(20261124)


def fl(a):
    return [None if np.isnan(v) else float(v) for v in np.asarray(a, dtype=float).ravel()]


def calibration(y01, prob, bins=10):
    # calibration_curve drops empty bins; keep their place so the test can match bin by bin.
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], prob)
    counts = np.bincount(ids, minlength=bins)
    true, pred = calibration_curve(y01, prob, n_bins=bins, strategy="uniform")
    observed = np.full(bins, np.nan)
    mean = np.full(bins, np.nan)
    observed[counts > 0] = true
    mean[counts > 0] = pred
    ece = float(np.sum(counts[counts > 0] / len(prob) * np.abs(true - pred)))
    return {"count": counts.tolist(), "observed": fl(observed), "meanPredicted": fl(mean), "ece": ece}


def binary_case(name, n, positive_rate, noise, threshold=0.5, ties=False):
    y = (rng.random(n) < positive_rate).astype(int)
    score = 1 / (1 + np.exp(-(2.0 * (2 * y - 1) + rng.normal(0, noise, n))))
    if ties:
        score = np.round(score, 1)
    pred = (score >= threshold).astype(int)
    fpr, tpr, thr = M.roc_curve(y, score)
    prec, rec, pthr = M.precision_recall_curve(y, score)
    p, r, f, s = M.precision_recall_fscore_support(y, pred, labels=[0, 1], zero_division=0)
    return {
        "name": name,
        "task": "binary",
        "threshold": threshold,
        "rows": [{"score": float(v), "label": int(t)} for v, t in zip(score, y)],
        "metrics": {
            "accuracy": M.accuracy_score(y, pred),
            "balancedAccuracy": M.balanced_accuracy_score(y, pred),
            "precision": M.precision_score(y, pred, zero_division=0),
            "recall": M.recall_score(y, pred, zero_division=0),
            "f1": M.f1_score(y, pred, zero_division=0),
            "matthewsCorrcoef": M.matthews_corrcoef(y, pred),
            "rocAuc": M.roc_auc_score(y, score),
            "averagePrecision": M.average_precision_score(y, score),
            "logLoss": M.log_loss(y, score),
            "brierScore": M.brier_score_loss(y, score),
        },
        "perClass": {"precision": fl(p), "recall": fl(r), "f1": fl(f), "support": s.tolist()},
        "confusion": M.confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        "roc": [{"fpr": fl(fpr), "tpr": fl(tpr), "thresholds": fl(thr)}],
        "pr": [{"precision": fl(prec), "recall": fl(rec), "thresholds": fl(pthr)}],
        "calibration": calibration(y, score),
    }


def multiclass_case(name, n, k, noise):
    y = rng.integers(0, k, n)
    logits = rng.normal(0, noise, (n, k))
    logits[np.arange(n), y] += 1.5
    prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    pred = prob.argmax(axis=1)
    labels = list(range(k))
    p, r, f, s = M.precision_recall_fscore_support(y, pred, labels=labels, zero_division=0)
    top = prob.max(axis=1)
    curves_roc, curves_pr = [], []
    for c in labels:
        yc = (y == c).astype(int)
        fpr, tpr, thr = M.roc_curve(yc, prob[:, c])
        prec, rec, pthr = M.precision_recall_curve(yc, prob[:, c])
        curves_roc.append({"fpr": fl(fpr), "tpr": fl(tpr), "thresholds": fl(thr)})
        curves_pr.append({"precision": fl(prec), "recall": fl(rec), "thresholds": fl(pthr)})
    return {
        "name": name,
        "task": "multiclass",
        "rows": [{"p": [float(v) for v in row], "label": int(t)} for row, t in zip(prob, y)],
        "metrics": {
            "accuracy": M.accuracy_score(y, pred),
            "balancedAccuracy": M.balanced_accuracy_score(y, pred),
            "precision": M.precision_score(y, pred, average="macro", zero_division=0),
            "recall": M.recall_score(y, pred, average="macro", zero_division=0),
            "f1": M.f1_score(y, pred, average="macro", zero_division=0),
            "matthewsCorrcoef": M.matthews_corrcoef(y, pred),
            "cohenKappa": M.cohen_kappa_score(y, pred),
            "rocAuc": M.roc_auc_score(y, prob, multi_class="ovr"),
            "logLoss": M.log_loss(y, prob),
        },
        "perClass": {"precision": fl(p), "recall": fl(r), "f1": fl(f), "support": s.tolist()},
        "confusion": M.confusion_matrix(y, pred, labels=labels).tolist(),
        "roc": curves_roc,
        "pr": curves_pr,
        "calibration": calibration((pred == y).astype(int), top),
    }


def regression_case(name, n):
    x = rng.normal(0, 1, n)
    y = 3 * x + rng.normal(0, 0.5, n)
    estimate = 2.9 * x + 0.1
    r = y - estimate
    return {
        "name": name,
        "task": "regression",
        "rows": [{"estimate": float(e), "label": float(t)} for e, t in zip(estimate, y)],
        "metrics": {
            "meanSquaredError": M.mean_squared_error(y, estimate),
            "meanAbsoluteError": M.mean_absolute_error(y, estimate),
            "r2Score": M.r2_score(y, estimate),
        },
        "residuals": {"mean": float(r.mean()), "std": float(r.std()), "min": float(r.min()), "max": float(r.max())},
    }


cases = [
    binary_case("binary, 400 rows", 400, 0.3, 1.5),
    binary_case("binary, scores rounded to 0.1 (ties, edges)", 300, 0.4, 2.0, ties=True),
    binary_case("binary, threshold 0.3, rare positives", 1000, 0.05, 1.2, threshold=0.3),
    multiclass_case("multiclass, 3 classes", 300, 3, 1.0),
    multiclass_case("multiclass, 7 classes", 700, 7, 1.3),
    regression_case("regression, 250 rows", 250),
]


def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clean(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "cases": clean(cases)}, f, separators=(",", ":"))
print(f"wrote {OUT} ({len(cases)} cases) with scikit-learn {sklearn.__version__}")
