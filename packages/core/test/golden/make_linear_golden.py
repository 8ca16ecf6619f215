"""Golden values for the TypeScript SGD and linear SVM baselines: scikit-learn 1.2's
SGDClassifier, SGDRegressor (shuffle=False: its plain SGD is then deterministic, and the
TypeScript arithmetic is the same) and LinearSVC (liblinear's dual coordinate descent; its
optimum, polished here, is what both must approach). Shuffled SGD cannot be reproduced bit for
bit, so its test accuracy and R² over seeds are recorded instead.

Usage: /usr/bin/python3 packages/core/test/golden/make_linear_golden.py
(writes linear.golden.json beside this script)."""
import json
import os
import warnings

import numpy as np
import sklearn
from scipy.optimize import minimize
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.svm import LinearSVC

warnings.simplefilter("ignore", ConvergenceWarning)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linear.golden.json")


def rows(a):
    return [[float(v) for v in r] for r in np.asarray(a, dtype=np.float64)]


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def standardise(X, ref):
    return (X - ref.mean(0)) / ref.std(0)


data = {}
X, y = make_classification(n_samples=300, n_features=5, n_informative=3, n_redundant=1, random_state=3)
X = standardise(X, X[:240])
data["binary"] = {"X": rows(X[:240]), "y": [int(v) for v in y[:240]], "test": rows(X[240:]), "testY": [int(v) for v in y[240:]]}
iris = load_iris()
order = np.random.default_rng(0).permutation(150)
Xi, yi = iris.data[order], iris.target[order]
Xi = standardise(Xi, Xi[:120])
data["iris"] = {"X": rows(Xi[:120]), "y": [int(v) for v in yi[:120]], "test": rows(Xi[120:]), "testY": [int(v) for v in yi[120:]]}
Xr, yr = make_regression(n_samples=200, n_features=4, noise=5.0, bias=3.0, random_state=1)
Xr = standardise(Xr, Xr[:160])
data["regression"] = {"X": rows(Xr[:160]), "y": flat(yr[:160]), "test": rows(Xr[160:]), "testY": flat(yr[160:])}
# A larger, noisier set for shuffled fits: accuracy over seeds.
Xb, yb = make_classification(n_samples=1500, n_features=8, n_informative=5, flip_y=0.02, class_sep=1.5, random_state=11)
Xb = standardise(Xb, Xb[:1000])
data["large"] = {"X": rows(Xb[:1000]), "y": [int(v) for v in yb[:1000]], "test": rows(Xb[1000:]), "testY": [int(v) for v in yb[1000:]]}
Xl, yl = make_regression(n_samples=1500, n_features=8, noise=20.0, random_state=12)
Xl = standardise(Xl, Xl[:1000])
data["largeRegression"] = {"X": rows(Xl[:1000]), "y": flat(yl[:1000]), "test": rows(Xl[1000:]), "testY": flat(yl[1000:])}
weights = np.random.default_rng(5).uniform(0.2, 3.0, 240)

sgd = []
for name, d, est, options, sw in [
    ("hinge, l2, optimal", "binary", "classifier", dict(), None),
    ("log_loss, l2, optimal", "binary", "classifier", dict(loss="log_loss"), None),
    ("modified_huber, elasticnet", "binary", "classifier", dict(loss="modified_huber", penalty="elasticnet", alpha=1e-3, l1_ratio=0.5), None),
    ("hinge, l1, strong alpha", "binary", "classifier", dict(penalty="l1", alpha=0.01), None),
    ("log_loss, invscaling, no intercept", "binary", "classifier", dict(loss="log_loss", learning_rate="invscaling", eta0=0.5, power_t=0.5, fit_intercept=False), None),
    ("hinge, constant, sample weights", "binary", "classifier", dict(learning_rate="constant", eta0=0.01, penalty=None), weights),
    ("squared_hinge, l2, tol None, 7 epochs", "binary", "classifier", dict(loss="squared_hinge", alpha=1e-3, tol=None, max_iter=7), None),
    ("perceptron", "binary", "classifier", dict(loss="perceptron", penalty=None, learning_rate="constant", eta0=1.0), None),
    ("iris one-vs-all, log_loss", "iris", "classifier", dict(loss="log_loss", alpha=1e-3), None),
    ("iris one-vs-all, hinge, elasticnet", "iris", "classifier", dict(penalty="elasticnet", alpha=1e-3), None),
    ("iris, adaptive", "iris", "classifier", dict(learning_rate="adaptive", eta0=0.1), None),
    ("regressor, defaults", "regression", "regressor", dict(), None),
    ("regressor, huber, l1", "regression", "regressor", dict(loss="huber", epsilon=1.0, penalty="l1", alpha=0.01, eta0=0.05), None),
    ("regressor, epsilon_insensitive, optimal", "regression", "regressor", dict(loss="epsilon_insensitive", epsilon=0.5, learning_rate="optimal", alpha=0.01), None),
    ("regressor, squared_epsilon_insensitive, elasticnet", "regression", "regressor", dict(loss="squared_epsilon_insensitive", penalty="elasticnet", l1_ratio=0.3), None),
]:
    D = data[d]
    X_, y_ = np.array(D["X"]), np.array(D["y"])
    Cls = SGDClassifier if est == "classifier" else SGDRegressor
    m = Cls(shuffle=False, random_state=0, **options).fit(X_, y_, sample_weight=sw)
    case = {
        "name": name, "estimator": est, "data": d,
        "options": {k: v for k, v in options.items()},
        "sampleWeight": None if sw is None else flat(sw),
        "coef": rows(np.atleast_2d(m.coef_)), "intercept": flat(m.intercept_), "nIter": int(m.n_iter_),
        "predict": [float(v) for v in m.predict(np.array(D["test"]))],
    }
    if est == "classifier":
        case["decision"] = flat(m.decision_function(np.array(D["test"])))
        if m.loss in ("log_loss", "modified_huber"):
            case["proba"] = rows(m.predict_proba(np.array(D["test"])))
    sgd.append(case)

# Shuffled: scikit-learn's test accuracy / R² over 10 seeds.
shuffled = {}
for name, Cls, d, options in [
    ("log_loss", SGDClassifier, "large", dict(loss="log_loss")),
    ("hinge", SGDClassifier, "large", dict()),
    ("squared_error", SGDRegressor, "largeRegression", dict()),
]:
    D = data[d]
    scores = [Cls(random_state=s, **options).fit(np.array(D["X"]), np.array(D["y"])).score(np.array(D["test"]), np.array(D["testY"])) for s in range(10)]
    shuffled[name] = {"data": d, "options": options, "scores": scores}


def svc_objective(X, y, C, scaling, fit_intercept, sw):
    Xa = np.column_stack([X, np.full(len(X), scaling)]) if fit_intercept else X
    s = np.ones(len(y)) if sw is None else sw

    def f(w):
        m = np.maximum(0, 1 - y * (Xa @ w))
        return 0.5 * w @ w + C * np.sum(s * m * m), w - 2 * C * Xa.T @ (s * m * y)
    return f, Xa


svc = []
for name, d, options, sw in [
    ("binary, C 1", "binary", dict(), None),
    ("binary, C 0.05, intercept scaling 10", "binary", dict(C=0.05, intercept_scaling=10.0), None),
    ("binary, no intercept, sample weights", "binary", dict(fit_intercept=False), weights),
    ("iris one-vs-rest, C 0.5", "iris", dict(C=0.5), None),
]:
    D = data[d]
    X_, y_ = np.array(D["X"]), np.array(D["y"])
    m = LinearSVC(random_state=0, **options).fit(X_, y_, sample_weight=sw)
    C = options.get("C", 1.0)
    scaling = options.get("intercept_scaling", 1.0)
    fi = options.get("fit_intercept", True)
    classes = np.unique(y_)
    K = 1 if len(classes) == 2 else len(classes)
    opt_coef, opt_int, sk_obj, opt_obj = [], [], [], []
    for c in range(K):
        t = np.where(y_ == classes[1 if K == 1 else c], 1.0, -1.0)
        f, Xa = svc_objective(X_, t, C, scaling, fi, sw)
        w0 = np.concatenate([m.coef_[c], [m.intercept_[c] / scaling] if fi else []])
        r = minimize(f, w0, jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 100000})
        opt_coef.append(r.x[:X_.shape[1]])
        opt_int.append(r.x[-1] * scaling if fi else 0.0)
        sk_obj.append(float(f(w0)[0]))
        opt_obj.append(float(r.fun))
    svc.append({
        "name": name, "data": d, "options": options, "sampleWeight": None if sw is None else flat(sw),
        "classes": [int(v) for v in m.classes_], "coef": rows(m.coef_), "intercept": flat(m.intercept_),
        "decision": flat(m.decision_function(np.array(D["test"]))),
        "predict": [int(v) for v in m.predict(np.array(D["test"]))],
        "objective": sk_obj, "optimum": {"coef": rows(opt_coef), "intercept": flat(opt_int), "objective": opt_obj},
    })

with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "data": data, "sgd": sgd, "shuffled": shuffled, "svc": svc}, f)
    f.write("\n")
print(f"wrote {OUT}: {len(sgd)} SGD cases, {len(svc)} LinearSVC cases")
