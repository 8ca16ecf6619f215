#!/usr/bin/python3
"""Golden values for the anomaly detectors (packages/core/src/anomaly/*.golden.test.ts).

Mahalanobis: a numpy reference written from the published definition (as Alibi Detect's
Mahalanobis outlier detector states it, not its code): mean and covariance (ddof 1) of the
reference rows, eigendecomposition, directions with eigenvalue <= 1e-6 dropped, score = the sum
of squared whitened projections of (x - mean); threshold = the (1 - fpr) quantile of validation
scores with 'higher' interpolation; p-value = (1 + #{validation scores >= s}) / (n + 1).

IsolationForest: scikit-learn 1.2's own scores (score_samples, negated so higher = more
anomalous) on the same data. The forest is random, so the TypeScript test checks the agreement
of rankings (Spearman) and the AUC on planted outliers, not equal values.

Data are written with 6 (Mahalanobis) or 4 (forest) decimals; every computation here uses those rounded values.
Run with Debian's python3-sklearn:  /usr/bin/python3 packages/core/test/golden/make_anomaly_golden.py
"""
import json
import os

import numpy as np
import sklearn
from scipy.stats import spearmanr
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

OUT = os.path.join(os.path.dirname(__file__), "anomaly.golden.json")
rng = np.random.default_rng(20261130)


def r6(a):
    return np.round(np.asarray(a, dtype=float), 6)


def mahalanobis_reference(ref, x, min_eigenvalue=1e-6):
    mean = ref.mean(axis=0)
    centred = ref - mean
    cov = centred.T @ centred / (len(ref) - 1)
    values, vectors = np.linalg.eigh(cov)
    keep = values > min_eigenvalue
    proj = vectors[:, keep] / np.sqrt(values[keep])
    z = (x - mean) @ proj
    return (z ** 2).sum(axis=1), int(keep.sum())


def higher_quantile(scores, q):
    return float(np.quantile(scores, q, method="higher"))


def p_values(val_scores, scores):
    return [(1 + int((val_scores >= s).sum())) / (len(val_scores) + 1) for s in scores]


out = {"sklearn": sklearn.__version__}

# Mahalanobis on correlated Gaussians with 5 features.
A = rng.normal(size=(5, 5))
cov = A @ A.T + 0.5 * np.eye(5)
ref = r6(rng.multivariate_normal([1.0, -2.0, 0.5, 3.0, 0.0], cov, size=400))
val = r6(rng.multivariate_normal([1.0, -2.0, 0.5, 3.0, 0.0], cov, size=200))
test = r6(np.vstack([rng.multivariate_normal([1.0, -2.0, 0.5, 3.0, 0.0], cov, size=20), rng.normal(0, 6, size=(10, 5))]))
scores, rank = mahalanobis_reference(ref, test)
val_scores, _ = mahalanobis_reference(ref, val)
out["mahalanobis"] = {
    "reference": ref.tolist(),
    "validation": val.tolist(),
    "test": test.tolist(),
    "scores": scores.tolist(),
    "rank": rank,
    "thresholds": {str(f): higher_quantile(val_scores, 1 - f) for f in (0.01, 0.05, 0.1)},
    "pValues": p_values(val_scores, scores),
}

# A singular case: the fourth column is the sum of the first two (one-hot style collinearity).
base = r6(rng.normal(size=(150, 3)))
sing = np.column_stack([base, base[:, 0] + base[:, 1]])
sing_test = r6(rng.normal(size=(8, 3)))
sing_test = np.column_stack([sing_test, sing_test[:, 0] + sing_test[:, 1] + np.array([0, 0, 0, 0, 0.5, -0.5, 1, 0])])
s_scores, s_rank = mahalanobis_reference(sing, sing_test)
out["singular"] = {"reference": sing.tolist(), "test": sing_test.tolist(), "scores": s_scores.tolist(), "rank": s_rank}

# Isolation forest: 10 correlated features, 800 training rows with 3% outliers drawn from a
# wider copy of the same distribution (hard to tell apart: the AUC is near 0.89, not 1), 400
# test rows with 10%. One forest of 100 trees is noisy (seed to seed, Spearman about 0.95 and
# AUC spread about 0.05), so the golden holds the mean over six seeds, at 100 and 500 trees.
def rows(n, outliers, d=10):
    mix = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    inl = rng.normal(size=(n - outliers, d)) @ mix
    outl = rng.normal(size=(outliers, d)) @ mix * 1.8 + rng.uniform(-1, 1, size=(outliers, d))
    X = np.vstack([inl, outl])
    y = np.r_[np.zeros(n - outliers), np.ones(outliers)]
    order = rng.permutation(n)
    return np.round(X[order], 4), y[order]


Xtr, _ = rows(800, 24)
Xte, yte = rows(400, 40)
forest = {"train": Xtr.tolist(), "test": Xte.tolist(), "testOutlier": yte.astype(int).tolist()}
for trees in (100, 500):
    scores = [-IsolationForest(n_estimators=trees, random_state=s).fit(Xtr).score_samples(Xte) for s in range(6)]
    forest[str(trees)] = {
        "meanScores": np.mean(scores, axis=0).tolist(),
        "aucs": [float(roc_auc_score(yte, s)) for s in scores],
        "spearmanBetweenSeeds": float(np.mean([spearmanr(scores[0], s).correlation for s in scores[1:]])),
    }
out["isolationForest"] = forest
with open(OUT, "w") as fh:
    json.dump(out, fh)
print("wrote", OUT, "rank", rank, "singular rank", s_rank, {k: v for k, v in forest.items() if k in ("100", "500")} and [(k, forest[k]["aucs"], forest[k]["spearmanBetweenSeeds"]) for k in ("100", "500")])
