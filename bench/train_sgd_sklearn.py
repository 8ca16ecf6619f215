"""One round of the train-sgd benchmark on scikit-learn's side: one epoch (max_iter=1,
tol=None) of SGDClassifier (log_loss, hinge) and SGDRegressor on the data bench/train-sgd.ts
wrote, CPU time (process_time) around fit. Prints JSON {name: {seconds, score}}.

Usage: /usr/bin/python3 bench/train_sgd_sklearn.py DIR N K"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor

warnings.simplefilter("ignore", ConvergenceWarning)
d, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.fromfile(f"{d}/X.f64", dtype=np.float64).reshape(n, k)
yc = np.fromfile(f"{d}/yc.f64", dtype=np.float64).astype(np.int64)
yr = np.fromfile(f"{d}/yr.f64", dtype=np.float64)
out = {}
for name, make, y in [
    ("SGDClassifier log_loss", lambda: SGDClassifier(loss="log_loss", max_iter=1, tol=None, random_state=0), yc),
    ("SGDClassifier hinge", lambda: SGDClassifier(max_iter=1, tol=None, random_state=0), yc),
    ("SGDRegressor squared_error", lambda: SGDRegressor(max_iter=1, tol=None, random_state=0), yr),
]:
    m = make()
    t0 = time.process_time()
    m.fit(X, y)
    out[name] = {"seconds": time.process_time() - t0, "score": float(m.score(X, y))}
print(json.dumps(out))
