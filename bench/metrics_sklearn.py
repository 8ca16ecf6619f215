"""Times scikit-learn on the data bench/metrics-vs-sklearn.ts wrote; prints JSON seconds
(wall and CPU, median of three).

Run with Debian's /usr/bin/python3 (numpy, scikit-learn). Each value is a list of numbers the
TypeScript side compares with its own: the metric, or a curve's length and sums.
"""
import json
import sys
import time

import numpy as np
from sklearn import metrics

directory, n = sys.argv[1], int(sys.argv[2])
y = np.fromfile(f"{directory}/y.u8", dtype=np.uint8).astype(np.int64)
s = np.fromfile(f"{directory}/s.f64", dtype=np.float64)
p = np.fromfile(f"{directory}/p.u8", dtype=np.uint8).astype(np.int64)
prob = np.fromfile(f"{directory}/prob.f64", dtype=np.float64)
assert len(y) == n


def curve_summary(c):
    precision, recall, _ = c
    return [len(precision), float(precision.sum()), float(recall.sum())]


def aa_probe():
    """A/A: the same numpy sort twice; its ratio shows how steady the host is."""
    return np.sort(s)


out = {}
for name, fn, summary in (
    ("aaFirst", aa_probe, lambda v: [float(v[0])]),
    ("rocAuc", lambda: metrics.roc_auc_score(y, s), lambda v: [float(v)]),
    ("averagePrecision", lambda: metrics.average_precision_score(y, s), lambda v: [float(v)]),
    ("f1", lambda: metrics.f1_score(y, p), lambda v: [float(v)]),
    ("logLoss", lambda: metrics.log_loss(y, prob), lambda v: [float(v)]),
    ("confusionMatrix", lambda: metrics.confusion_matrix(y, p), lambda v: [float(x) for x in v.ravel()]),
    ("precisionRecallCurve", lambda: metrics.precision_recall_curve(y, s), curve_summary),
    ("aaSecond", aa_probe, lambda v: [float(v[0])]),
):
    times, cpus, value = [], [], None
    for _ in range(3):
        c0 = time.process_time()
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    out[name] = {"seconds": sorted(times)[1], "cpu": sorted(cpus)[1], "value": summary(value)}
print(json.dumps(out))
