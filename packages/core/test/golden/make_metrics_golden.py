#!/usr/bin/env python3
"""Golden values for Modelship's metric functions, from scikit-learn.

    apt-get install -y python3-sklearn      # Debian's scikit-learn 1.2
    /usr/bin/python3 packages/core/test/golden/make_metrics_golden.py

Writes metrics.golden.json: a list of cases, each naming a Modelship function, its arguments
and options (camelCase, as the TypeScript functions take them) and either the value
scikit-learn returns or {"error": "<exception type>"} where it raises. Seeded, so two runs
write the same file.
"""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn import metrics as M

warnings.simplefilter("ignore")
rng = np.random.default_rng(20261124)
cases = []

SNAKE = {"average": "average", "positiveLabel": "pos_label", "labels": "labels", "zeroDivision": "zero_division",
         "sampleWeight": "sample_weight", "normalize": "normalize", "adjusted": "adjusted", "weights": "weights",
         "multiClass": "multi_class", "dropIntermediate": "drop_intermediate", "squared": "squared"}


def py(v):
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return None if np.isnan(v) else v
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.ndarray):
        return [py(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [py(x) for x in v]
    if isinstance(v, dict):
        return {k: py(x) for k, x in v.items()}
    return v


def add(fn, sk, args, opts=None, extra=()):
    opts = opts or {}
    kwargs = {SNAKE[k]: (None if v == "none" and k == "average" else v) for k, v in opts.items()}
    if "sample_weight" in kwargs:
        kwargs["sample_weight"] = np.asarray(kwargs["sample_weight"])
    try:
        positional = [np.asarray(a) if isinstance(a, list) else a for a in args]
        # fbeta's beta and top_k's k are keyword-only in scikit-learn, positional in Modelship.
        if fn == "fbeta":
            kwargs["beta"] = extra[0]
        elif fn == "topKAccuracy":
            kwargs["k"] = extra[0]
        else:
            positional += list(extra)
        value = sk(*positional, **kwargs)
        if isinstance(value, tuple):
            value = {"fpr": value[0], "tpr": value[1], "thresholds": value[2]} if fn == "rocCurve" else \
                {"precision": value[0], "recall": value[1], "thresholds": value[2]}
        expected = py(value)
        # NaN is written as null; a plain float that is NaN is marked so the test can check it.
        if isinstance(value, float) and np.isnan(value):
            expected = {"nan": True}
    except (ValueError, TypeError) as e:
        expected = {"error": type(e).__name__, "message": str(e)[:200]}
    cases.append({"fn": fn, "args": py(list(args)), "extra": py(list(extra)), "opts": py(opts), "expected": expected})


def labels_binary(n, p=0.4):
    return (rng.random(n) < p).astype(int).tolist()


def labels_multi(n, k):
    return rng.integers(0, k, n).tolist()


# ---- set-wise classification metrics ----
for n in (7, 60, 250):
    yt, yp = labels_binary(n), labels_binary(n)
    w = rng.random(n).round(3).tolist()
    for fn, sk in (("precision", M.precision_score), ("recall", M.recall_score), ("f1", M.f1_score)):
        for avg in ("binary", "micro", "macro", "weighted", "none"):
            add(fn, sk, [yt, yp], {"average": avg})
        add(fn, sk, [yt, yp], {"sampleWeight": w})
        add(fn, sk, [yt, yp], {"positiveLabel": 0})
    add("fbeta", M.fbeta_score, [yt, yp], {"average": "binary"}, extra=(0.5,))
    add("fbeta", M.fbeta_score, [yt, yp], {"average": "macro", "sampleWeight": w}, extra=(2.0,))
    add("accuracy", M.accuracy_score, [yt, yp])
    add("accuracy", M.accuracy_score, [yt, yp], {"normalize": False, "sampleWeight": w})
    add("confusionMatrix", lambda a, b, **k: {"labels": sorted(set(a.tolist()) | set(b.tolist())), "matrix": M.confusion_matrix(a, b, **k)}, [yt, yp])
    add("matthewsCorrcoef", M.matthews_corrcoef, [yt, yp])
    add("matthewsCorrcoef", M.matthews_corrcoef, [yt, yp], {"sampleWeight": w})
    add("balancedAccuracy", M.balanced_accuracy_score, [yt, yp])
    add("balancedAccuracy", M.balanced_accuracy_score, [yt, yp], {"adjusted": True, "sampleWeight": w})
    add("cohenKappa", M.cohen_kappa_score, [yt, yp])

for n, k in ((30, 3), (200, 5)):
    yt, yp = labels_multi(n, k), labels_multi(n, k)
    yp = [t if rng.random() < 0.5 else p for t, p in zip(yt, yp)]
    w = rng.random(n).round(3).tolist()
    for fn, sk in (("precision", M.precision_score), ("recall", M.recall_score), ("f1", M.f1_score)):
        for avg in ("micro", "macro", "weighted", "none", "binary"):
            add(fn, sk, [yt, yp], {"average": avg})
        add(fn, sk, [yt, yp], {"average": "macro", "labels": [0, 2]})
        add(fn, sk, [yt, yp], {"average": "weighted", "sampleWeight": w})
    add("accuracy", M.accuracy_score, [yt, yp], {"sampleWeight": w})
    add("matthewsCorrcoef", M.matthews_corrcoef, [yt, yp])
    add("balancedAccuracy", M.balanced_accuracy_score, [yt, yp])
    add("balancedAccuracy", M.balanced_accuracy_score, [yt, yp], {"adjusted": True})
    for weights in (None, "linear", "quadratic"):
        add("cohenKappa", M.cohen_kappa_score, [yt, yp], {"weights": weights} if weights else {})
    add("cohenKappa", M.cohen_kappa_score, [yt, yp], {"sampleWeight": w})
    add("confusionMatrix", lambda a, b, **k: {"labels": sorted(set(a.tolist()) | set(b.tolist())), "matrix": M.confusion_matrix(a, b, **k)}, [yt, yp], {"sampleWeight": w})
    add("confusionMatrix", lambda a, b, **k: {"labels": k["labels"], "matrix": M.confusion_matrix(a, b, **k)}, [yt, yp], {"labels": [2, 0, 4]})

# string labels
yt = ["cat", "dog", "cat", "bird", "dog", "dog", "cat", "bird"]
yp = ["cat", "cat", "cat", "bird", "dog", "bird", "dog", "bird"]
for avg in ("micro", "macro", "weighted", "none"):
    add("f1", M.f1_score, [yt, yp], {"average": avg})
add("precision", M.precision_score, [yt, yp])  # binary on multiclass: error
add("accuracy", M.accuracy_score, [yt, yp])
add("matthewsCorrcoef", M.matthews_corrcoef, [yt, yp])
add("recall", M.recall_score, [["no", "yes", "yes", "no"], ["no", "yes", "no", "no"]], {"positiveLabel": "yes"})
add("recall", M.recall_score, [["no", "yes", "yes", "no"], ["no", "yes", "no", "no"]])  # pos_label=1 invalid

# degenerate
add("precision", M.precision_score, [[0, 0, 0, 0], [0, 0, 0, 0]])
add("precision", M.precision_score, [[0, 0, 0, 0], [0, 0, 0, 0]], {"zeroDivision": 1})
add("recall", M.recall_score, [[0, 0, 0, 0], [1, 0, 1, 0]])
add("f1", M.f1_score, [[0, 0, 0, 0], [0, 0, 0, 0]], {"zeroDivision": 1})
add("f1", M.f1_score, [[0, 1, 2, 0], [0, 1, 1, 0]], {"average": "macro", "zeroDivision": 1})
add("f1", M.f1_score, [[0, 1, 2, 0], [0, 1, 1, 0]], {"average": "none", "zeroDivision": 0})
add("precision", M.precision_score, [[0, 1, 2, 0], [0, 1, 1, 0]], {"average": "weighted", "labels": [3]})
add("matthewsCorrcoef", M.matthews_corrcoef, [[1, 1, 1], [1, 1, 1]])
add("balancedAccuracy", M.balanced_accuracy_score, [[0, 0, 1, 1], [0, 2, 1, 2]])
add("cohenKappa", M.cohen_kappa_score, [[1, 1, 1], [1, 1, 1]])
add("accuracy", M.accuracy_score, [[1, 2], [1, 2, 3]])
add("f1", M.f1_score, [[0.5, 1.0], [1.0, 0.0]])
add("confusionMatrix", lambda a, b, **k: M.confusion_matrix(a, b, **k), [[0, 1], [0, 1]], {"labels": [5, 6]})

# empty input: scikit-learn returns a value for some metrics and raises for others
for fn, sk, opts in (("accuracy", M.accuracy_score, {}), ("f1", M.f1_score, {}), ("precision", M.precision_score, {"average": "macro"}),
                     ("matthewsCorrcoef", M.matthews_corrcoef, {}), ("balancedAccuracy", M.balanced_accuracy_score, {}),
                     ("cohenKappa", M.cohen_kappa_score, {}), ("rocAuc", M.roc_auc_score, {}), ("logLoss", M.log_loss, {}),
                     ("meanSquaredError", M.mean_squared_error, {}), ("r2Score", M.r2_score, {}), ("meanAbsoluteError", M.mean_absolute_error, {})):
    add(fn, sk, [[], []], opts)

# ---- ranking: scores ----
def scores(n, ties=False):
    s = rng.random(n)
    if ties:
        s = np.round(s * 5) / 5
    return s.round(6).tolist()


for n, ties in ((10, False), (80, True), (400, False), (400, True)):
    yt = labels_binary(n)
    s = scores(n, ties)
    w = rng.random(n).round(3).tolist()
    add("rocAuc", M.roc_auc_score, [yt, s])
    add("rocAuc", M.roc_auc_score, [yt, s], {"sampleWeight": w})
    add("averagePrecision", M.average_precision_score, [yt, s])
    add("averagePrecision", M.average_precision_score, [yt, s], {"sampleWeight": w})
    add("rocCurve", M.roc_curve, [yt, s])
    add("rocCurve", M.roc_curve, [yt, s], {"dropIntermediate": False, "sampleWeight": w})
    add("precisionRecallCurve", M.precision_recall_curve, [yt, s])
    add("precisionRecallCurve", M.precision_recall_curve, [yt, s], {"sampleWeight": w})
    p = np.clip(np.asarray(s), 0, 1).tolist()
    add("logLoss", M.log_loss, [yt, p])
    add("logLoss", M.log_loss, [yt, p], {"sampleWeight": w, "normalize": False})
    add("brierScore", M.brier_score_loss, [yt, p])
    add("brierScore", M.brier_score_loss, [yt, p], {"sampleWeight": w})
    add("topKAccuracy", M.top_k_accuracy_score, [yt, p], extra=(1,))

add("rocAuc", M.roc_auc_score, [["neg", "pos", "pos", "neg"], [0.1, 0.8, 0.4, 0.35]])
add("rocAuc", M.roc_auc_score, [[1, 1, 1], [0.2, 0.3, 0.4]])  # one class: error
add("rocCurve", M.roc_curve, [["a", "b", "b"], [0.1, 0.5, 0.7]])  # pos_label unspecified: error
add("rocCurve", M.roc_curve, [["a", "b", "b"], [0.1, 0.5, 0.7]], {"positiveLabel": "b"})
add("rocCurve", M.roc_curve, [[0, 0, 0], [0.1, 0.5, 0.7]])  # no positives: nan tpr
add("averagePrecision", M.average_precision_score, [[0, 0, 0], [0.1, 0.5, 0.7]])
add("averagePrecision", M.average_precision_score, [[-1, 1, 1, -1], [0.1, 0.5, 0.7, 0.7]])
add("averagePrecision", M.average_precision_score, [[2, 3, 3], [0.1, 0.5, 0.7]])  # pos_label=1 invalid
add("precisionRecallCurve", M.precision_recall_curve, [[1, 1, 0, 1], [0.3, 0.3, 0.3, 0.3]])
add("brierScore", M.brier_score_loss, [[0, 1], [0.2, 1.2]])
add("logLoss", M.log_loss, [[1, 1, 1], [0.9, 0.8, 0.7]])  # one label: error
add("logLoss", M.log_loss, [[1, 1, 1], [0.9, 0.8, 0.7]], {"labels": [0, 1]})
add("logLoss", M.log_loss, [[0, 1, 1], [0.0, 1.0, 1.0]])  # clipping

# multiclass probabilities
for n, k in ((40, 3), (300, 4)):
    yt = labels_multi(n, k)
    raw = rng.random((n, k)) ** 2
    proba = (raw / raw.sum(axis=1, keepdims=True))
    proba = np.round(proba, 6)
    proba[:, -1] = 1 - proba[:, :-1].sum(axis=1)
    P = proba.tolist()
    w = rng.random(n).round(3).tolist()
    for mc in ("ovr", "ovo"):
        for avg in ("macro", "weighted"):
            add("rocAuc", M.roc_auc_score, [yt, P], {"multiClass": mc, "average": avg})
    add("rocAuc", M.roc_auc_score, [yt, P], {"multiClass": "ovr", "sampleWeight": w})
    add("rocAuc", M.roc_auc_score, [yt, P])  # multi_class='raise': error
    add("logLoss", M.log_loss, [yt, P])
    add("logLoss", M.log_loss, [yt, P], {"sampleWeight": w})
    for kk in (1, 2, 3):
        add("topKAccuracy", M.top_k_accuracy_score, [yt, P], extra=(kk,))
    add("topKAccuracy", M.top_k_accuracy_score, [yt, P], {"normalize": False, "sampleWeight": w}, extra=(2,))

# ---- regression ----
for n in (1, 5, 100):
    y = rng.normal(size=n).round(6).tolist()
    p = (np.asarray(y) + rng.normal(scale=0.5, size=n)).round(6).tolist()
    w = rng.random(n).round(3).tolist()
    add("meanSquaredError", M.mean_squared_error, [y, p])
    add("meanSquaredError", M.mean_squared_error, [y, p], {"squared": False, "sampleWeight": w})
    add("meanAbsoluteError", M.mean_absolute_error, [y, p])
    add("meanAbsoluteError", M.mean_absolute_error, [y, p], {"sampleWeight": w})
    add("r2Score", M.r2_score, [y, p])
    add("r2Score", M.r2_score, [y, p], {"sampleWeight": w})
add("r2Score", M.r2_score, [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]])
add("r2Score", M.r2_score, [[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]])
add("meanSquaredError", M.mean_squared_error, [[1.0, 2.0], [1.0]])

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics.golden.json")
with open(out, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "cases": cases}, f, separators=(",", ":"))
    f.write("\n")
print(f"{len(cases)} cases, scikit-learn {sklearn.__version__} -> {out}")
