#!/usr/bin/python3
"""Golden values for pipeline transforms (pipeline/pipeline.test.ts), from scikit-learn 1.2:
SimpleImputer, StandardScaler, MinMaxScaler, RobustScaler and OneHotEncoder fitted on the same
records, their learned statistics and transformed test rows.

Run with Debian's python3-sklearn:  /usr/bin/python3 packages/core/test/golden/make_pipeline_golden.py
"""
import json
import os

import numpy as np
import sklearn
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, RobustScaler, StandardScaler

OUT = os.path.join(os.path.dirname(__file__), "pipeline.golden.json")
rng = np.random.default_rng(5)
n = 60
amount = np.round(rng.gamma(2.0, 50.0, n), 2)
amount[[3, 17, 40]] = np.nan
age = rng.integers(18, 80, n).astype(float)
flat = np.full(n, 7.0)
country = rng.choice(["FR", "DE", "ES", "IT"], n, p=[0.4, 0.3, 0.2, 0.1])
records = [{"amount": None if np.isnan(a) else float(a), "age": float(g), "flat": float(f), "country": str(c)}
           for a, g, f, c in zip(amount, age, flat, country)]
test = [{"amount": 120.5, "age": 41.0, "flat": 7.0, "country": "FR"},
        {"amount": None, "age": 18.0, "flat": 3.0, "country": "PT"},
        {"amount": 1000.0, "age": 95.0, "flat": 7.0, "country": "IT"}]


def col(rows, k):
    return np.array([[np.nan if r[k] is None else r[k]] for r in rows], dtype=float)


out = {"sklearn": sklearn.__version__, "records": records, "test": test}
for strategy in ["mean", "median", "most_frequent"]:
    out[f"impute_{strategy}"] = float(SimpleImputer(strategy=strategy).fit(col(records, "amount")).statistics_[0])
chain = make_pipeline(SimpleImputer(strategy="median"), StandardScaler()).fit(col(records, "amount"))
out["amount_median_standardize"] = {"mean": float(chain[1].mean_[0]), "scale": float(chain[1].scale_[0]),
                                    "test": chain.transform(col(test, "amount")).ravel().tolist()}
mm = MinMaxScaler(feature_range=(-1, 1)).fit(col(records, "age"))
out["age_minmax"] = {"test": mm.transform(col(test, "age")).ravel().tolist()}
rb = RobustScaler().fit(col(records, "age"))
out["age_robust"] = {"center": float(rb.center_[0]), "scale": float(rb.scale_[0]), "test": rb.transform(col(test, "age")).ravel().tolist()}
st = StandardScaler().fit(col(records, "flat"))
out["flat_standardize"] = {"scale": float(st.scale_[0]), "test": st.transform(col(test, "flat")).ravel().tolist()}
mmf = MinMaxScaler().fit(col(records, "flat"))
out["flat_minmax"] = {"test": mmf.transform(col(test, "flat")).ravel().tolist()}
oh = OneHotEncoder(handle_unknown="ignore").fit(np.array([[r["country"]] for r in records]))
out["country_onehot"] = {"categories": oh.categories_[0].tolist(),
                         "test": oh.transform(np.array([[r["country"]] for r in test])).toarray().tolist()}
with open(OUT, "w") as f:
    json.dump(out, f, indent=1)
print(f"wrote {OUT} with scikit-learn {sklearn.__version__}")
