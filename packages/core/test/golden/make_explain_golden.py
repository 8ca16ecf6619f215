#!/usr/bin/python3
"""Golden values for explain, permutationImportance and partialDependence (explain.golden.test.ts).

Shapley values are computed by brute force: every coalition S of the M features, the
interventional value function v(S) = link(mean over the background of f(x_S, b_rest)), and
phi_j = sum over S not containing j of |S|! (M-|S|-1)! / M! (v(S+j) - v(S)). No shap needed.
With a weighted background (the "weights" of a case) the mean is the weighted mean.

shap.kmeans is rebuilt as shap writes it (scikit-learn KMeans(n_clusters=k, random_state=0),
centroid coordinates snapped to the nearest data value of their column, cluster sizes as
weights) on well-separated blobs, so the clusters do not depend on the k-means starts.

Permutation importance and partial dependence come from scikit-learn 1.2 itself, on estimators
with fixed weights (the TypeScript test rebuilds the same functions). The row orders scikit-learn
used are replayed here (one RandomState seed reused per column, shuffles applied cumulatively)
and written out, so the test can hand them to permutationImportance and compare to 1e-9.

Run with Debian's python3-sklearn:  /usr/bin/python3 packages/core/test/golden/make_explain_golden.py
"""
import itertools
import json
import math
import os

import numpy as np
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.inspection import partial_dependence, permutation_importance

OUT = os.path.join(os.path.dirname(__file__), "explain.golden.json")
rng = np.random.default_rng(20261130)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# The models, as the test writes them in TypeScript.
W_LIN = [0.7, -1.3, 0.25, 2.0, -0.5]
B_LIN = 0.1
W_LOG = [1.2, -0.8, 0.5, 0.0, 1.5, -2.0]
B_LOG = -0.3


def f_linear(X):
    return X @ np.array(W_LIN) + B_LIN


def f_logistic(X):
    return sigmoid(X @ np.array(W_LOG) + B_LOG)


def f_interaction(X):
    # third-order terms: a game of pairwise interactions only would not tell kernel weights apart
    return X[:, 0] * X[:, 1] * X[:, 2] + np.sin(X[:, 3]) * X[:, 4] + np.maximum(np.maximum(X[:, 5], X[:, 6]), X[:, 7]) + X[:, 6] ** 2 - X[:, 7]


MODELS = {"linear": f_linear, "logistic": f_logistic, "interaction": f_interaction}


def logit(p):
    return math.log(p / (1.0 - p))


def value(f, x, background, mask, link, weights=None):
    Z = background.copy()
    Z[:, mask] = x[mask]
    # a weighted background (shap.kmeans' cluster sizes): the value is the weighted mean
    m = float(np.average(f(Z), weights=weights))
    return logit(m) if link == "logit" else m


def brute_shapley(f, x, background, link, weights=None):
    M = x.shape[0]
    v = {}
    for bits in range(1 << M):
        mask = np.array([(bits >> j) & 1 == 1 for j in range(M)])
        v[bits] = value(f, x, background, mask, link, weights)
    phi = np.zeros(M)
    for j in range(M):
        for bits in range(1 << M):
            if bits >> j & 1:
                continue
            s = bin(bits).count("1")
            w = math.factorial(s) * math.factorial(M - s - 1) / math.factorial(M)
            phi[j] += w * (v[bits | (1 << j)] - v[bits])
    return v[0], v[(1 << M) - 1], phi


def shap_case(name, model, M, link, n_rows=4, n_background=10, constant=None, weighted=False):
    f = MODELS[model]
    X = np.round(rng.normal(size=(n_rows, M)), 6)
    B = np.round(rng.normal(size=(n_background, M)), 6)
    # weights as shap.kmeans gives them: cluster sizes (any positive numbers; they are normalised)
    W = rng.integers(1, 20, size=n_background).astype(float) if weighted else None
    if constant is not None:
        # A feature constant over the background and equal to the row's value: it must get 0.
        B[:, constant] = 0.5
        X[0, constant] = 0.5
    values = []
    base = None
    for x in X:
        base, full, phi = brute_shapley(f, x, B, link, W)
        assert abs(phi.sum() - (full - base)) < 1e-12
        values.append(phi.tolist())
    out = {
        "name": name,
        "model": model,
        "link": link,
        "features": [f"x{j}" for j in range(M)],
        "rows": X.tolist(),
        "background": B.tolist(),
        "baseValue": base,
        "values": values,
    }
    if W is not None:
        out["weights"] = W.tolist()
    return out


class FixedClassifier(ClassifierMixin, BaseEstimator):
    """The logistic model with fixed weights, as scikit-learn sees a fitted classifier."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = f_logistic(np.asarray(X, dtype=float))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.5).astype(int)


class FixedRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, fn="interaction"):
        self.fn = fn

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def predict(self, X):
        return MODELS[self.fn](np.asarray(X, dtype=float))


def recorded_orders(seed, n, repeats):
    """The row orders permutation_importance uses for every column (its RandomState protocol)."""
    random_seed = np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1)
    rs = np.random.RandomState(random_seed)
    idx = np.arange(n)
    orders = []
    for _ in range(repeats):
        rs.shuffle(idx)
        orders.append(idx.tolist())
    return orders


def importance_case(name, estimator, X, y, scoring, metric, repeats, seed):
    estimator.fit(X, y)
    r = permutation_importance(estimator, X, y, scoring=scoring, n_repeats=repeats, random_state=seed)
    orders = recorded_orders(seed, X.shape[0], repeats)
    # The replay must give scikit-learn's numbers, or the recorded orders are not the ones it used.
    scorer = sklearn.metrics.get_scorer(scoring)
    base = scorer(estimator, X, y)
    for j in range(X.shape[1]):
        Xp = X.copy()
        for rep, order in enumerate(orders):
            Xp[:, j] = Xp[order, j]
            assert abs((base - scorer(estimator, Xp, y)) - r.importances[j, rep]) < 1e-12
    return {
        "name": name,
        "metric": metric,
        "features": [f"x{j}" for j in range(X.shape[1])],
        "rows": X.tolist(),
        "labels": y.tolist(),
        "orders": orders,
        "importances": r.importances.tolist(),
        "mean": r.importances_mean.tolist(),
        "std": r.importances_std.tolist(),
    }


def pd_case(name, estimator, X, feature, grid_resolution, percentiles):
    estimator.fit(X, None)
    r = partial_dependence(
        estimator,
        X,
        [feature],
        grid_resolution=grid_resolution,
        percentiles=percentiles,
        kind="both",
        method="brute",
    )
    return {
        "name": name,
        "model": "logistic" if isinstance(estimator, FixedClassifier) else estimator.fn,
        "feature": f"x{feature}",
        "features": [f"x{j}" for j in range(X.shape[1])],
        "gridResolution": grid_resolution,
        "percentiles": list(percentiles),
        "rows": X.tolist(),
        "grid": r["values"][0].tolist(),
        "average": r["average"][0].tolist(),
        "individual": r["individual"][0].tolist(),
    }


shap_cases = [
    shap_case("linear M=5 with a constant background feature", "linear", 5, "identity", constant=4),
    shap_case("logistic M=6, identity link", "logistic", 6, "identity"),
    shap_case("logistic M=6, logit link", "logistic", 6, "logit"),
    shap_case("interaction M=8, x7 constant for row 0", "interaction", 8, "identity", n_rows=3, n_background=6, constant=7),
]

Xc = np.round(rng.normal(size=(60, 6)), 6)
yc = (rng.uniform(size=60) < f_logistic(Xc)).astype(int)
Xr = np.round(rng.normal(size=(50, 8)), 6)
yr = f_interaction(Xr) + np.round(rng.normal(scale=0.3, size=50), 6)

importance_cases = [
    importance_case("logistic rocAuc", FixedClassifier(), Xc, yc, "roc_auc", "rocAuc", 5, 7),
    importance_case("logistic accuracy", FixedClassifier(), Xc, yc, "accuracy", "accuracy", 4, 11),
    importance_case("logistic logLoss", FixedClassifier(), Xc, yc, "neg_log_loss", "logLoss", 3, 3),
    importance_case("interaction r2", FixedRegressor(), Xr, yr, "r2", "r2Score", 5, 0),
    importance_case(
        "interaction meanSquaredError", FixedRegressor(), Xr, yr, "neg_mean_squared_error", "meanSquaredError", 2, 5
    ),
]

Xp = Xr.copy()
Xp[:, 5] = rng.integers(0, 5, size=50)  # few unique values: the grid is those values
pd_cases = [
    pd_case("interaction x0, 30 points", FixedRegressor(), Xp, 0, 30, (0.05, 0.95)),
    pd_case("interaction x3, 7 points, 10-90%", FixedRegressor(), Xp, 3, 7, (0.1, 0.9)),
    pd_case("interaction x5, unique values", FixedRegressor(), Xp, 5, 100, (0.05, 0.95)),
    pd_case("logistic x4, 20 points", FixedClassifier(), Xc, 4, 20, (0.05, 0.95)),
]

# Drawn after every case above, so their random draws (and values) stay as they were.
shap_cases += [
    shap_case("weighted background: linear M=5", "linear", 5, "identity", weighted=True),
    shap_case("weighted background: logistic M=6, logit link", "logistic", 6, "logit", weighted=True),
    shap_case("weighted background: interaction M=8", "interaction", 8, "identity", n_rows=2, n_background=7, weighted=True),
]


def kmeans_case(name, centers, per_cluster, k, spread):
    """shap.kmeans(X, k) as shap writes it: scikit-learn KMeans(n_clusters=k, random_state=0), each
    centroid coordinate snapped to the nearest value of that column in X (round_values=True), and
    the cluster sizes as weights. The blobs are far apart, so any k-means finds the same clusters."""
    from sklearn.cluster import KMeans

    X = np.concatenate([np.round(c + rng.normal(scale=spread, size=(n, len(c))), 6) for c, n in zip(centers, per_cluster)])
    X = X[rng.permutation(len(X))]
    km = KMeans(n_clusters=k, random_state=0, n_init=10).fit(X)
    C = km.cluster_centers_.copy()
    means = C.copy()
    for i in range(k):
        for j in range(X.shape[1]):
            ind = np.argmin(np.abs(X[:, j] - C[i, j]))
            C[i, j] = X[ind, j]
    weights = np.bincount(km.labels_, minlength=k).astype(float)
    return {
        "name": name,
        "k": k,
        "features": [f"x{j}" for j in range(X.shape[1])],
        "rows": X.tolist(),
        "means": means.tolist(),
        "centroids": C.tolist(),
        "weights": weights.tolist(),
    }


kmeans_cases = [
    kmeans_case("3 blobs in 4 dimensions", [[0, 0, 0, 0], [10, 10, -10, 0], [-10, 5, 10, 20]], [30, 12, 21], 3, 1.0),
    kmeans_case("5 blobs in 2 dimensions", [[0, 0], [20, 0], [0, 20], [20, 20], [-20, -20]], [9, 14, 3, 25, 7], 5, 0.8),
]

with open(OUT, "w") as fh:
    json.dump(
        {
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
            "shapley": shap_cases,
            "kmeans": kmeans_cases,
            "permutationImportance": importance_cases,
            "partialDependence": pd_cases,
        },
        fh,
        indent=1,
    )
    fh.write("\n")
print("wrote", OUT)
