"""The Python stack on the table bench/evaluate-large.ts evaluates: pandas read_csv, the model's
arithmetic in numpy (fraud.onnx is a logistic regression: sigmoid(X @ W + B) in float32), then
scikit-learn's ten binary metrics and the ROC and precision-recall curves. Needs Debian's
python3-pandas (apt-get install -y python3-pandas) beside numpy, onnx and scikit-learn; run with
/usr/bin/python3. Prints JSON: seconds per step and the metric values."""
import json
import sys
import time

import numpy as np
import onnx
import pandas as pd
from onnx import numpy_helper
from sklearn import metrics

csv, model = sys.argv[1], sys.argv[2]
weights = {t.name: numpy_helper.to_array(t) for t in onnx.load(model).graph.initializer}
W, B = weights["W"].astype(np.float32), weights["B"].astype(np.float32)

t0 = time.perf_counter()
frame = pd.read_csv(csv)
t1 = time.perf_counter()
X = frame[[f"f{j}" for j in range(12)]].to_numpy(dtype=np.float32)
y = frame["label"].to_numpy()
z = X @ W + B
p = (1 / (1 + np.exp(-z))).reshape(-1).astype(np.float32).astype(np.float64)
t2 = time.perf_counter()
pred = (p >= 0.5).astype(np.int64)
values = {
    "accuracy": metrics.accuracy_score(y, pred),
    "balancedAccuracy": metrics.balanced_accuracy_score(y, pred),
    "precision": metrics.precision_score(y, pred),
    "recall": metrics.recall_score(y, pred),
    "f1": metrics.f1_score(y, pred),
    "matthewsCorrcoef": metrics.matthews_corrcoef(y, pred),
    "rocAuc": metrics.roc_auc_score(y, p),
    "averagePrecision": metrics.average_precision_score(y, p),
    "logLoss": metrics.log_loss(y, p),
    "brierScore": metrics.brier_score_loss(y, p),
}
metrics.roc_curve(y, p)
metrics.precision_recall_curve(y, p)
t3 = time.perf_counter()
print(json.dumps({"read": t1 - t0, "predict": t2 - t1, "metrics": t3 - t2, "total": t3 - t0,
                  "values": {k: float(v) for k, v in values.items()}}))
