"""Peer side of the trainer benchmarks: fits sklearn on the same rows and split the Node side
wrote (float32 X, uint8 y, JSON header), and prints one JSON line with fit time and test metrics.

usage: python3 train-sklearn.py <base path> hgb|lr|lr-scaled '<params as JSON>'
"""
import json
import sys
import time

try:
    import numpy as np
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss, roc_auc_score
except ImportError as e:  # the benchmark prints this and skips the comparison
    print(json.dumps({"skipped": f"sklearn is not available ({e})"}))
    sys.exit(0)

base, kind, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
head = json.load(open(base + ".json"))
n, f = head["n"], head["f"]
X = np.fromfile(base + ".X.f32", dtype=np.float32).reshape(n, f)
y = np.fromfile(base + ".y.u8", dtype=np.uint8)
(a, b), (_, _), (c, d) = head["split"]["train"], head["split"]["valid"], head["split"]["test"]

if kind == "hgb":
    model = HistGradientBoostingClassifier(**params)
elif kind == "lr-scaled":  # what an sklearn user does with features on different scales
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(**params))
else:
    model = LogisticRegression(**params)
t0, c0 = time.perf_counter(), time.process_time()
model.fit(X[a:b], y[a:b])
fit, cpu = time.perf_counter() - t0, time.process_time() - c0
t0 = time.perf_counter()
p = model.predict_proba(X[c:d])[:, 1]
predict = time.perf_counter() - t0
out = {
    "sklearn": sklearn.__version__,
    "fit_s": fit,
    "fit_cpu_s": cpu,
    "predict_s": predict,
    "auc": float(roc_auc_score(y[c:d], p)),
    "log_loss": float(log_loss(y[c:d], p)),
}
if kind == "hgb":
    out["iterations"] = int(model.n_iter_)
else:
    out["iterations"] = int(np.max(model[-1].n_iter_ if kind == "lr-scaled" else model.n_iter_))
print(json.dumps(out))
