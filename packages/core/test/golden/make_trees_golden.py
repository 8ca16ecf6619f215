"""Golden values for the TypeScript trees: scikit-learn 1.2's DecisionTreeClassifier and
DecisionTreeRegressor on data without tied split candidates (their `tree_` arrays and
predictions), and RandomForestClassifier's test accuracy over ten seeds on three data sets.

"Without tied split candidates" is checked, not assumed: scikit-learn visits the features in
a random order and keeps the first best split, so a tie would show as a different tree for a
different random_state; every case is fitted with five and must give one tree.

Features are float32 values (scikit-learn casts to float32; the JSON holds them exactly).

Usage: /usr/bin/python3 packages/core/test/golden/make_trees_golden.py
(writes trees.golden.json beside this script)."""
import json
import os

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_wine, make_classification, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trees.golden.json")


def rows(a):
    return [[float(v) for v in r] for r in np.asarray(a, dtype=np.float32)]


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


data = {}
cases = []

rng = np.random.RandomState(7)
X, y = make_classification(n_samples=600, n_features=6, n_informative=4, n_redundant=0, random_state=1)
X = X.astype(np.float32)
data["binary"] = {"X": rows(X[:400]), "test": rows(X[400:]), "y": [int(v) for v in y[:400]]}
X3, y3 = make_classification(n_samples=600, n_features=5, n_informative=4, n_redundant=0, n_classes=3,
                             n_clusters_per_class=1, random_state=2)
X3 = X3.astype(np.float32)
names = np.array(["ant", "bee", "cat"])
data["three"] = {"X": rows(X3[:400]), "test": rows(X3[400:]), "y": [str(v) for v in names[y3[:400]]]}
Xr, yr = make_regression(n_samples=500, n_features=5, n_informative=4, noise=5.0, random_state=3)
Xr = Xr.astype(np.float32)
data["regression"] = {"X": rows(Xr[:350]), "test": rows(Xr[350:]), "y": flat(yr[:350])}
weights = [float(v) for v in np.round(rng.uniform(0.5, 2.0, size=400), 3)]


def tree_arrays(t):
    return {
        "left": [int(v) for v in t.children_left],
        "right": [int(v) for v in t.children_right],
        "feature": [int(v) for v in t.feature],
        "threshold": flat(t.threshold),
        "value": flat(t.value),
        "impurity": flat(t.impurity),
        "nNodeSamples": [int(v) for v in t.n_node_samples],
        "weightedNNodeSamples": flat(t.weighted_n_node_samples),
    }


def add(name, estimator, kind, d, params, sample_weight=None):
    Xd = np.array(data[d]["X"], dtype=np.float32)
    yd = np.array(data[d]["y"])
    test = np.array(data[d]["test"], dtype=np.float32)
    fitted = [estimator(random_state=s, **params).fit(Xd, yd, sample_weight=sample_weight) for s in range(5)]
    arrays = [tree_arrays(f.tree_) for f in fitted]
    structure = [{k: a[k] for k in ("left", "right", "feature", "threshold", "nNodeSamples")} for a in arrays]
    if any(a != structure[0] for a in structure[1:]):
        raise SystemExit(f"{name}: tied split candidates (the tree depends on random_state)")
    m = fitted[0]
    case = {"name": name, "kind": kind, "data": d, "params": params, "sampleWeight": sample_weight,
            "tree": arrays[0], "predict": [v.item() for v in m.predict(test)]}
    if kind == "classifier":
        case["classes"] = [v.item() for v in m.classes_]
        case["proba"] = [flat(r) for r in m.predict_proba(test)]
    cases.append(case)


add("gini, depth 4, binary", DecisionTreeClassifier, "classifier", "binary", {"max_depth": 4})
add("gini, unlimited depth, min_impurity_decrease 0.005", DecisionTreeClassifier, "classifier", "binary",
    {"min_impurity_decrease": 0.005})
add("gini, sample weights, min_samples_leaf 5", DecisionTreeClassifier, "classifier", "binary",
    {"min_impurity_decrease": 0.002, "min_samples_leaf": 5}, weights)
add("gini, three string classes, min_impurity_decrease 0.01", DecisionTreeClassifier, "classifier", "three",
    {"min_impurity_decrease": 0.01})
add("entropy, three string classes, depth 3", DecisionTreeClassifier, "classifier", "three",
    {"criterion": "entropy", "max_depth": 3})
add("gini, depth 6, min_samples_split 40", DecisionTreeClassifier, "classifier", "binary",
    {"max_depth": 6, "min_samples_split": 40})
add("squared error, min_samples_leaf 6", DecisionTreeRegressor, "regressor", "regression", {"min_samples_leaf": 6})
add("squared error, min_samples_leaf 6, sample weights", DecisionTreeRegressor, "regressor", "regression",
    {"min_samples_leaf": 6}, weights[:350])

# Forests: test accuracy over ten seeds (scikit-learn's RNG cannot be reproduced, so the
# TypeScript forest is compared on the distribution, not tree by tree).
forests = []
for name, (Xf, yf) in {
    "breast cancer": load_breast_cancer(return_X_y=True),
    "wine": load_wine(return_X_y=True),
    "make_classification": make_classification(n_samples=1000, n_features=20, n_informative=8,
                                               n_redundant=4, n_classes=3, random_state=5),
}.items():
    Xf = Xf.astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(Xf, yf, test_size=0.3, random_state=0, stratify=yf)
    acc = [float((RandomForestClassifier(n_estimators=50, random_state=s).fit(xtr, ytr).predict(xte) == yte).mean())
           for s in range(10)]
    data["forest " + name] = {"X": rows(xtr), "test": rows(xte), "y": [int(v) for v in ytr],
                              "testLabels": [int(v) for v in yte]}
    forests.append({"name": name, "data": "forest " + name, "nEstimators": 50, "accuracy": acc})

with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "data": data, "cases": cases, "forests": forests}, f)
    f.write("\n")
