#!/usr/bin/python3
"""Golden values for IsotonicRegression and CBPE (packages/core/src/anomaly/cbpe.golden.test.ts).

IsotonicRegression: scikit-learn 1.2's own (increasing, out_of_bounds='clip'), with ties and
sample weights, predicted on points inside and outside the training range.

CBPE (confidence-based performance estimation, as NannyML publishes it): written here in numpy
from the published algorithm, not from NannyML's code. A binary classifier's probabilities are
calibrated on a labelled reference with isotonic regression; for a chunk of unlabelled rows the
expected confusion matrix is TP = sum p [yhat=1], FP = sum (1-p) [yhat=1], FN = sum p [yhat=0],
TN = sum (1-p) [yhat=0] (p calibrated), giving accuracy, precision, recall and F1; ROC AUC is
the area under the expected ROC curve, rows ranked by the model's own score (ties grouped),
each row counting p as a positive and 1 - p as a negative. Sampling errors come from the
reference: accuracy std(correct)/sqrt(n); precision std(y | yhat=1)/sqrt(n * share(yhat=1));
recall std(yhat | y=1)/sqrt(n * share(y=1)); F1 std(TP among TP+FP+FN)/sqrt(n * share of those);
ROC AUC Hanley and McNeil's standard error at n * share(y=1) positives. Thresholds: the mean of
the realized metric over 10 reference chunks plus and minus 3 standard deviations (ddof 0),
clipped to [0, 1].

Data: covariate shift without concept shift: x ~ N(mu, 1) in 3 features, y ~ Bernoulli(sigmoid(w.x + b))
for every mu; the model is a deliberately miscalibrated score sigmoid(1.7 (w.x + b) + 0.3).
Run with Debian's python3-sklearn:  /usr/bin/python3 packages/core/test/golden/make_cbpe_golden.py
"""
import json
import math
import os

import numpy as np
import sklearn
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

OUT = os.path.join(os.path.dirname(__file__), "cbpe.golden.json")
rng = np.random.default_rng(20261130)
out = {"sklearn": sklearn.__version__}

# --- isotonic regression -------------------------------------------------------------------
x = np.round(rng.uniform(0, 10, size=120), 1)  # many ties
y = np.round(np.sin(x / 3) + 0.3 * rng.normal(size=120), 4)
w = np.round(rng.uniform(0.5, 2, size=120), 3)
grid = np.round(np.linspace(-1, 11, 61), 2)
iso = IsotonicRegression(out_of_bounds="clip").fit(x, y, sample_weight=w)
iso_unw = IsotonicRegression(out_of_bounds="clip").fit(x, y)
dec = IsotonicRegression(increasing=False, out_of_bounds="clip").fit(x, y)
out["isotonic"] = {
    "x": x.tolist(), "y": y.tolist(), "w": w.tolist(), "grid": grid.tolist(),
    "weighted": iso.predict(grid).tolist(),
    "unweighted": iso_unw.predict(grid).tolist(),
    "decreasing": dec.predict(grid).tolist(),
    "thresholdsX": iso.X_thresholds_.tolist(), "thresholdsY": iso.y_thresholds_.tolist(),
}

# --- CBPE ------------------------------------------------------------------------------------
W = np.array([1.2, -0.7, 0.5]); B = -0.2


def population(n, mu):
    X = rng.normal(mu, 1.0, size=(n, 3))
    z = X @ W + B
    yy = (rng.uniform(size=n) < 1 / (1 + np.exp(-z))).astype(int)
    score = 1 / (1 + np.exp(-(1.7 * z + 0.3)))
    return np.round(score, 8), yy


def expected_roc_auc(score, p):
    order = np.argsort(-score, kind="mergesort")
    s, q = score[order], p[order]
    P, N = q.sum(), (1 - q).sum()
    tpr, fpr = [0.0], [0.0]
    tp = fp = 0.0
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        tp += q[i:j + 1].sum(); fp += (1 - q[i:j + 1]).sum()
        tpr.append(tp / P); fpr.append(fp / N)
        i = j + 1
    return float(np.trapz(tpr, fpr))


def estimate(p, yhat):
    tp = float((p * (yhat == 1)).sum()); fp = float(((1 - p) * (yhat == 1)).sum())
    fn = float((p * (yhat == 0)).sum()); tn = float(((1 - p) * (yhat == 0)).sum())
    n = len(p)
    return {
        "accuracy": (tp + tn) / n,
        "precision": tp / (tp + fp),
        "recall": tp / (tp + fn),
        "f1": 2 * tp / (2 * tp + fp + fn),
    }


def realized(yy, yhat, score):
    return {
        "accuracy": float((yy == yhat).mean()),
        "precision": float(precision_score(yy, yhat)),
        "recall": float(recall_score(yy, yhat)),
        "f1": float(f1_score(yy, yhat)),
        "rocAuc": float(roc_auc_score(yy, score)),
    }


ref_score, ref_y = population(3000, 0.0)
ref_hat = (ref_score >= 0.5).astype(int)
cal = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(ref_score, ref_y)

# sampling-error components from the reference
correct = (ref_y == ref_hat).astype(float)
pos_pred = ref_y[ref_hat == 1].astype(float)
pos_true = ref_hat[ref_y == 1].astype(float)
tp_m = (ref_y == 1) & (ref_hat == 1); fp_m = (ref_y == 0) & (ref_hat == 1); fn_m = (ref_y == 1) & (ref_hat == 0)
f1_obs = tp_m[tp_m | fp_m | fn_m].astype(float)
ref_auc = roc_auc_score(ref_y, ref_score)
pi = ref_y.mean()
components = {
    "accuracy": [float(np.std(correct)), 1.0],
    "precision": [float(np.std(pos_pred)), float((ref_hat == 1).mean())],
    "recall": [float(np.std(pos_true)), float(pi)],
    "f1": [float(np.std(f1_obs)), float((tp_m | fp_m | fn_m).mean())],
}


def sampling_error(metric, n):
    if metric == "rocAuc":
        A = ref_auc; n1 = n * pi; n0 = n * (1 - pi)
        q1 = A / (2 - A); q2 = 2 * A * A / (1 + A)
        return math.sqrt((A * (1 - A) + (n1 - 1) * (q1 - A * A) + (n0 - 1) * (q2 - A * A)) / (n1 * n0))
    std, share = components[metric]
    return std / math.sqrt(n * share)


chunks = np.array_split(np.arange(3000), 10)
thresholds = {}
for m in ["accuracy", "precision", "recall", "f1", "rocAuc"]:
    vals = [realized(ref_y[c], ref_hat[c], ref_score[c])[m] for c in chunks]
    mean, sd = float(np.mean(vals)), float(np.std(vals))
    thresholds[m] = [max(0.0, mean - 3 * sd), min(1.0, mean + 3 * sd)]

analysis = []
for mu in [0.0, 0.5, 1.0, -1.0, 1.5]:
    score, yy = population(800, mu)
    yhat = (score >= 0.5).astype(int)
    p = cal.predict(score)
    est = estimate(p, yhat)
    est["rocAuc"] = expected_roc_auc(score, p)
    analysis.append({
        "mu": mu, "score": score.tolist(), "label": yy.tolist(),
        "estimated": est,
        "samplingError": {m: sampling_error(m, len(score)) for m in est},
        "realized": realized(yy, yhat, score),
    })
out["cbpe"] = {
    "reference": {"score": ref_score.tolist(), "label": ref_y.tolist()},
    "thresholds": thresholds,
    "components": components, "referenceRocAuc": float(ref_auc),
    "analysis": analysis,
}
with open(OUT, "w") as fh:
    json.dump(out, fh)
for a in analysis:
    print(a["mu"], {k: (round(a["estimated"][k], 3), round(a["realized"][k], 3), round(3 * a["samplingError"][k], 3)) for k in a["estimated"]})

# --- multiclass CBPE ------------------------------------------------------------------------
# Three classes; one isotonic calibrator per class (one against the rest), rows renormalised to
# sum to 1; accuracy = mean calibrated probability of the predicted class (the argmax of the raw
# scores); per class the expected confusion counts as in the binary case, macro-averaged;
# ROC AUC one against the rest per class, macro-averaged. Sampling errors per class as in the
# binary case, combined as sqrt(sum of squares) / K.
from sklearn.metrics import roc_auc_score as _auc

K = 3
WM = np.array([[1.5, -0.5], [-1.0, 1.2], [0.2, -0.9]]); BM = np.array([0.3, 0.0, -0.2])


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def mc_population(n, mu):
    X = rng.normal(mu, 1.0, size=(n, 2))
    z = X @ WM.T + BM
    p = softmax(z)
    u = rng.uniform(size=n)
    y = (u[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    score = np.round(softmax(1.6 * z + np.array([0.2, 0.0, -0.1])), 8)
    return score, y


def mc_calibrate(cals, score):
    c = np.column_stack([cals[k].predict(score[:, k]) for k in range(K)])
    s = c.sum(axis=1, keepdims=True)
    return np.where(s > 0, c / np.where(s > 0, s, 1), 1.0 / K)


def mc_estimate(score, c):
    yhat = score.argmax(axis=1)
    acc = float(c[np.arange(len(c)), yhat].mean())
    prec, rec, f1s, aucs = [], [], [], []
    for k in range(K):
        tp = float(c[yhat == k, k].sum()); fp = float((1 - c[yhat == k, k]).sum()); fn = float(c[yhat != k, k].sum())
        prec.append(tp / (tp + fp) if tp + fp > 0 else 0.0)
        rec.append(tp / (tp + fn) if tp + fn > 0 else 0.0)
        f1s.append(2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else 0.0)
        aucs.append(expected_roc_auc(score[:, k], c[:, k]))
    return {"accuracy": acc, "precision": float(np.mean(prec)), "recall": float(np.mean(rec)), "f1": float(np.mean(f1s)), "rocAuc": float(np.mean(aucs))}


def mc_realized(y, score):
    yhat = score.argmax(axis=1)
    out = {"accuracy": float((y == yhat).mean())}
    out["precision"] = float(precision_score(y, yhat, average="macro", labels=list(range(K)), zero_division=0))
    out["recall"] = float(recall_score(y, yhat, average="macro", labels=list(range(K)), zero_division=0))
    out["f1"] = float(f1_score(y, yhat, average="macro", labels=list(range(K)), zero_division=0))
    out["rocAuc"] = float(np.mean([_auc((y == k).astype(int), score[:, k]) for k in range(K)]))
    return out


mref_score, mref_y = mc_population(3000, 0.0)
mref_hat = mref_score.argmax(axis=1)
mcals = [IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(mref_score[:, k], (mref_y == k).astype(int)) for k in range(K)]
mn = len(mref_y)
mcomp = {"accuracy": [float(np.std((mref_y == mref_hat).astype(float)))], "precision": [], "recall": [], "f1": [], "rocAuc": []}
for k in range(K):
    pp = (mref_y[mref_hat == k] == k).astype(float)
    mcomp["precision"].append([float(np.std(pp)) if len(pp) else 0.0, float((mref_hat == k).mean())])
    pt = (mref_hat[mref_y == k] == k).astype(float)
    mcomp["recall"].append([float(np.std(pt)), float((mref_y == k).mean())])
    tpk = (mref_y == k) & (mref_hat == k); fpk = (mref_y != k) & (mref_hat == k); fnk = (mref_y == k) & (mref_hat != k)
    obs = tpk[tpk | fpk | fnk].astype(float)
    mcomp["f1"].append([float(np.std(obs)) if len(obs) else 0.0, float((tpk | fpk | fnk).mean())])
    mcomp["rocAuc"].append([float(_auc((mref_y == k).astype(int), mref_score[:, k])), float((mref_y == k).mean())])


def hanley(A, n1, n0):
    q1 = A / (2 - A); q2 = 2 * A * A / (1 + A)
    return math.sqrt((A * (1 - A) + (n1 - 1) * (q1 - A * A) + (n0 - 1) * (q2 - A * A)) / (n1 * n0))


def mc_sampling_error(metric, n):
    if metric == "accuracy":
        return mcomp["accuracy"][0] / math.sqrt(n)
    if metric == "rocAuc":
        ses = [hanley(A, n * pi, n * (1 - pi)) for A, pi in mcomp["rocAuc"]]
    else:
        ses = [sd / math.sqrt(n * share) if share > 0 else 0.0 for sd, share in mcomp[metric]]
    return math.sqrt(sum(s * s for s in ses)) / K


mthresholds = {}
mchunks = np.array_split(np.arange(mn), 10)
for m in ["accuracy", "precision", "recall", "f1", "rocAuc"]:
    vals = [mc_realized(mref_y[c], mref_score[c])[m] for c in mchunks]
    mean, sd = float(np.mean(vals)), float(np.std(vals))
    mthresholds[m] = [max(0.0, mean - 3 * sd), min(1.0, mean + 3 * sd)]
manalysis = []
for mu in [0.0, 0.7, -0.8]:
    score, y = mc_population(900, mu)
    c = mc_calibrate(mcals, score)
    est = mc_estimate(score, c)
    manalysis.append({"mu": mu, "score": score.tolist(), "label": y.tolist(), "estimated": est,
                      "samplingError": {m: mc_sampling_error(m, len(y)) for m in est}, "realized": mc_realized(y, score)})
out["multiclass"] = {"reference": {"score": mref_score.tolist(), "label": mref_y.tolist()}, "thresholds": mthresholds, "analysis": manalysis}
with open(OUT, "w") as fh:
    json.dump(out, fh)
for a in manalysis:
    print("multiclass", a["mu"], {k: (round(a["estimated"][k], 3), round(a["realized"][k], 3), round(3 * a["samplingError"][k], 3)) for k in a["estimated"]})
