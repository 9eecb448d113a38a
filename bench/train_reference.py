"""Reference engines for bench/train.ts: scikit-learn RandomForestClassifier and LightGBM (boosting_type="rf").

Run by bench/train.ts inside .tools/venv-bench (see bench/requirements.txt), one process per engine so
peak RSS is per engine. Data come as raw little-endian files written by bench/train.ts:
  <dir>/meta.json {"rows", "test_rows", "features"}, X_train.f64, y_train.u8, X_test.f64, y_test.u8
Prints one JSON object: fit_s, predict_1_ms, predict_10k_ms, roc_auc, peak_rss_mb, params.
"""
import argparse
import json
import math
import os
import resource
import time
import warnings

import numpy as np
from sklearn.metrics import roc_auc_score


def load(d):
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    n, m, k = meta["rows"], meta["test_rows"], meta["features"]
    X = np.fromfile(os.path.join(d, "X_train.f64"), dtype="<f8").reshape(n, k)
    y = np.fromfile(os.path.join(d, "y_train.u8"), dtype=np.uint8)
    Xt = np.fromfile(os.path.join(d, "X_test.f64"), dtype="<f8").reshape(m, k)
    yt = np.fromfile(os.path.join(d, "y_test.u8"), dtype=np.uint8)
    return X, y, Xt, yt


def make_model(engine, trees, depth, features, jobs, seed):
    if engine == "sklearn":
        from sklearn.ensemble import RandomForestClassifier
        params = dict(n_estimators=trees, max_depth=depth, max_features="sqrt", n_jobs=jobs, random_state=seed)
        return RandomForestClassifier(**params), params
    if engine == "lightgbm_rf":
        import lightgbm as lgb
        # Random-forest mode: bagging without replacement of ~63.2 % of rows (the expected share of
        # distinct rows in a bootstrap) and sqrt(d) features drawn per node, as RandomForest does per split.
        params = dict(boosting_type="rf", n_estimators=trees, max_depth=depth, num_leaves=min(2 ** depth, 131072),
                      subsample=0.632, subsample_freq=1, colsample_bynode=math.sqrt(features) / features,
                      min_child_samples=1, max_bin=255, n_jobs=jobs, random_state=seed, verbose=-1)
        return lgb.LGBMClassifier(**params), params
    raise SystemExit(f"unknown engine {engine!r}; expected sklearn or lightgbm_rf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--engine", required=True)
    ap.add_argument("--trees", type=int, default=200)
    ap.add_argument("--depth", type=int, default=12)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    # LightGBM's sklearn wrapper names columns itself and then warns about plain arrays at predict time
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    X, y, Xt, yt = load(a.data)
    model, params = make_model(a.engine, a.trees, a.depth, X.shape[1], a.jobs, a.seed)
    t0 = time.perf_counter()
    model.fit(X, y)
    fit_s = time.perf_counter() - t0
    p = model.predict_proba(Xt)[:, 1]
    one = Xt[:1]
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        model.predict_proba(one)
        times.append(time.perf_counter() - t0)
    batch = Xt[:10000]
    t0 = time.perf_counter()
    model.predict_proba(batch)
    predict_10k_ms = (time.perf_counter() - t0) * 1000
    print(json.dumps({
        "fit_s": fit_s,
        "predict_1_ms": float(np.median(times)) * 1000,
        "predict_10k_ms": predict_10k_ms,
        "roc_auc": float(roc_auc_score(yt, p)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "params": {k: v for k, v in params.items() if k != "verbose"},
    }))


if __name__ == "__main__":
    main()
