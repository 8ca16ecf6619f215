"""Golden values for the pipeline's hash and bucketize transforms: scikit-learn 1.2's
murmurhash3_32, FeatureHasher (input_type='string') and KBinsDiscretizer on the same values.

Usage: /usr/bin/python3 packages/core/test/golden/make_hashing_golden.py
(writes hashing.golden.json beside this script)."""
import json
import os
import warnings

import numpy as np
import sklearn
from sklearn.feature_extraction import FeatureHasher
from sklearn.preprocessing import KBinsDiscretizer
from sklearn.utils import murmurhash3_32

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hashing.golden.json")
STRINGS = ["", "a", "ab", "abc", "abcd", "FR", "Paris", "café", "Zürich", "東京", "🙂", "hello world", "12", "true",
           "a much longer category value that spans several blocks"]

hashes = {s: int(murmurhash3_32(s, seed=0)) for s in STRINGS}
hashers = []
for buckets, alternate in [(8, True), (1024, True), (16, False)]:
    m = FeatureHasher(n_features=buckets, input_type="string", alternate_sign=alternate).transform(
        [[s] for s in STRINGS]).toarray()
    hashers.append({"buckets": buckets, "alternateSign": alternate, "rows": [[float(v) for v in r] for r in m]})

rng = np.random.default_rng(4)
values = np.round(rng.normal(10, 3, 200), 1)
values[:40] = 7.0  # a heavy repeat: quantile bins collapse and are dropped
test = [-100.0, 0.0, 7.0, 7.05, 9.99, 10.0, 12.3, 100.0] + [float(v) for v in values[40:60]]
bins = []
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for strategy in ["uniform", "quantile"]:
        for n in [4, 7, 12]:
            k = KBinsDiscretizer(n_bins=n, encode="ordinal", strategy=strategy, subsample=None).fit(values[:, None])
            bins.append({"strategy": strategy, "bins": n, "edges": [float(e) for e in k.bin_edges_[0]],
                         "test": [float(v) for v in k.transform(np.array(test)[:, None])[:, 0]]})
    const = KBinsDiscretizer(n_bins=3, encode="ordinal", strategy="quantile", subsample=None).fit(np.full((10, 1), 2.5))
    constant = {"edges": [float(e) for e in const.bin_edges_[0]], "test": [float(v) for v in const.transform(np.array([[1.0], [2.5], [9.0]]))[:, 0]]}

with open(OUT, "w") as f:
    json.dump({"sklearn": sklearn.__version__, "strings": STRINGS, "murmur3": hashes, "hashers": hashers,
               "values": [float(v) for v in values], "test": test, "bins": bins,
               "constant": {"edges": ["-inf" if np.isneginf(e) else "inf" if np.isposinf(e) else e for e in constant["edges"]],
                            "test": constant["test"]}}, f, ensure_ascii=False)
    f.write("\n")
print(f"wrote {OUT}")
