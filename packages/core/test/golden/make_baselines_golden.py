"""Golden values for the TypeScript baseline models: scikit-learn 1.2's LogisticRegression,
LinearRegression and Ridge fitted on the same data, run to a tight tolerance so its
coefficients are the optimum the TypeScript fit must reach.

Usage: /usr/bin/python3 packages/core/test/golden/make_baselines_golden.py
(writes baselines.golden.json beside this script)."""
import json
import os

import numpy as np
import sklearn
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "baselines.golden.json")
TIGHT = dict(tol=1e-12, max_iter=100000)


def rows(a):
    return [[float(v) for v in r] for r in np.asarray(a, dtype=np.float64)]


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


cases = []
data = {}


def polish(X, y, classes, C, fit_intercept, sample_weight, coef, intercept):
    """scikit-learn's lbfgs stops on a relative change of the objective, with gradients of 1e-7
    to 1e-5 left; the optimum its objective defines is polished here (BFGS to a gradient of
    1e-12 from its answer) so the TypeScript fit can be checked against it tightly. The
    intercepts of a multinomial fit are defined up to a shared constant: centred."""
    X = np.asarray(X, dtype=np.float64)
    t = np.array([list(classes).index(v) for v in y])
    sw = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    k = X.shape[1]
    K = 1 if len(classes) == 2 else len(classes)

    def f(th):
        W = th[:K * k].reshape(K, k)
        b = th[K * k:] if fit_intercept else np.zeros(K)
        Z = X @ W.T + b
        if K == 1:
            z = Z[:, 0]
            loss = np.logaddexp(0, z) - t * z
            R = (1 / (1 + np.exp(-z)) - t)[:, None]
        else:
            lse = logsumexp(Z, axis=1)
            loss = lse - Z[np.arange(len(t)), t]
            R = np.exp(Z - lse[:, None]) - np.eye(K)[t]
        R = R * sw[:, None]
        grad = np.concatenate([(R.T @ X + W / C).ravel(), R.sum(0) if fit_intercept else np.zeros(0)])
        return ((sw * loss).sum() + 0.5 * (W ** 2).sum() / C) / sw.sum(), grad / sw.sum()

    start = np.concatenate([np.ravel(coef), np.ravel(intercept) if fit_intercept else np.zeros(0)])
    r = minimize(f, start, jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 100000})
    W = r.x[:K * k].reshape(K, k)
    b = r.x[K * k:] if fit_intercept else np.zeros(K)
    if K > 1:
        b = b - b.mean()
    return {"coef": rows(W), "intercept": flat(b), "gradient": float(np.abs(f(r.x)[1]).max()),
            "sklearnGradient": float(np.abs(f(start)[1]).max())}


X, y = make_classification(n_samples=240, n_features=5, n_informative=3, n_redundant=1,
                           random_state=3)
Xtr, ytr, Xte = X[:200], y[:200], X[200:]
data["classification"] = {"X": rows(Xtr), "test": rows(Xte), "testLabels": [int(v) for v in y[200:]]}
for name, kwargs, weights in [
    ("binary", dict(C=1.0), None),
    ("binary, C 0.1, no intercept", dict(C=0.1, fit_intercept=False), None),
    ("binary, sample weights", dict(C=2.0), np.random.default_rng(5).uniform(0.2, 3.0, 200)),
]:
    clf = LogisticRegression(**kwargs, **TIGHT).fit(Xtr, ytr, sample_weight=weights)
    cases.append({
        "name": name, "model": "logistic", "options": {"C": kwargs["C"], "fitIntercept": kwargs.get("fit_intercept", True)},
        "data": "classification", "y": [int(v) for v in ytr],
        "sampleWeight": None if weights is None else flat(weights), "classes": [int(c) for c in clf.classes_],
        "coef": rows(clf.coef_), "intercept": flat(clf.intercept_),
        "proba": rows(clf.predict_proba(Xte)), "predict": [int(v) for v in clf.predict(Xte)],
        "score": float(clf.score(Xte, y[200:])),
        "optimum": polish(Xtr, ytr, clf.classes_, kwargs["C"], kwargs.get("fit_intercept", True), weights,
                          clf.coef_, clf.intercept_),
    })

labels = np.array(["legit", "fraud"])[ytr]
clf = LogisticRegression(**TIGHT).fit(Xtr, labels)
cases.append({
    "name": "binary, string labels", "model": "logistic", "options": {"C": 1.0, "fitIntercept": True},
    "data": "classification", "y": [str(v) for v in labels], "sampleWeight": None,
    "classes": [str(c) for c in clf.classes_], "coef": rows(clf.coef_), "intercept": flat(clf.intercept_),
    "proba": rows(clf.predict_proba(Xte)), "predict": [str(v) for v in clf.predict(Xte)],
    "optimum": polish(Xtr, labels, clf.classes_, 1.0, True, None, clf.coef_, clf.intercept_),
})

iris = load_iris()
order = np.random.default_rng(0).permutation(150)
Xi, yi = iris.data[order], iris.target[order]
clf = LogisticRegression(**TIGHT).fit(Xi[:120], yi[:120])
data["iris"] = {"X": rows(Xi[:120]), "test": rows(Xi[120:]), "testLabels": [int(v) for v in yi[120:]]}
cases.append({
    "name": "iris, multinomial", "model": "logistic", "options": {"C": 1.0, "fitIntercept": True},
    "data": "iris", "y": [int(v) for v in yi[:120]], "sampleWeight": None,
    "classes": [int(c) for c in clf.classes_], "coef": rows(clf.coef_), "intercept": flat(clf.intercept_),
    "proba": rows(clf.predict_proba(Xi[120:])), "predict": [int(v) for v in clf.predict(Xi[120:])],
    "score": float(clf.score(Xi[120:], yi[120:])),
    "optimum": polish(Xi[:120], yi[:120], clf.classes_, 1.0, True, None, clf.coef_, clf.intercept_),
})

Xr, yr = make_regression(n_samples=160, n_features=4, noise=5.0, bias=3.0, random_state=1)
Xrt, yrt, Xrte = Xr[:140], yr[:140], Xr[140:]
w = np.random.default_rng(9).uniform(0.5, 2.0, 140)
data["regression"] = {"X": rows(Xrt), "test": rows(Xrte)}
for name, reg, alpha, fit_intercept, weights in [
    ("least squares", LinearRegression(), 0.0, True, None),
    ("least squares, no intercept", LinearRegression(fit_intercept=False), 0.0, False, None),
    ("ridge 1.0", Ridge(alpha=1.0, solver="cholesky"), 1.0, True, None),
    ("ridge 10, sample weights", Ridge(alpha=10.0, solver="cholesky"), 10.0, True, w),
]:
    reg.fit(Xrt, yrt, sample_weight=weights)
    cases.append({
        "name": name, "model": "linear", "options": {"alpha": alpha, "fitIntercept": fit_intercept},
        "data": "regression", "y": flat(yrt), "sampleWeight": None if weights is None else flat(weights),
        "coef": [flat(reg.coef_)], "intercept": [float(reg.intercept_)],
        "predict": flat(reg.predict(Xrte)),
    })

# Collinear features: LinearRegression's lstsq gives the minimum-norm coefficients.
Xc = np.column_stack([Xrt[:, 0], 2 * Xrt[:, 0], Xrt[:, 1]])
data["collinear"] = {"X": rows(Xc), "test": rows(np.column_stack([Xrte[:, 0], 2 * Xrte[:, 0], Xrte[:, 1]]))}
reg = LinearRegression().fit(Xc, yrt)
cases.append({
    "name": "least squares, collinear", "model": "linear", "options": {"alpha": 0.0, "fitIntercept": True},
    "data": "collinear", "y": flat(yrt), "sampleWeight": None, "coef": [flat(reg.coef_)],
    "intercept": [float(reg.intercept_)], "predict": flat(reg.predict(data["collinear"]["test"])),
})

with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "data": data, "cases": cases}, f)
    f.write("\n")
print(f"wrote {OUT}: {len(cases)} cases")
