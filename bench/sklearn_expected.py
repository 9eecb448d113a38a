"""Expected metric values for test/unit/ml/metrics.test.ts, computed by scikit-learn.

Run: .tools/venv-bench/bin/python bench/sklearn_expected.py
The vectors are built from integer formulas so the TypeScript test rebuilds them exactly.
"""
import json

import numpy as np
from sklearn.metrics import (average_precision_score, brier_score_loss, confusion_matrix, f1_score,
                             log_loss, precision_recall_curve, precision_score, recall_score,
                             roc_auc_score, roc_curve)

# Small hand-written vector with ties across both classes.
SMALL_Y = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0]
SMALL_P = [0.9, 0.8, 0.8, 0.7, 0.6, 0.6, 0.55, 0.5, 0.4, 0.4, 0.35, 0.3, 0.3, 0.2, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05]


def formula_vectors(n=200):
    """p_i in [0.01, 0.99] with many ties; y_i correlated with p_i through a second integer sequence."""
    p = [(1 + (i * 37) % 99) / 100 for i in range(n)]
    y = [1 if p[i] + ((i * 29) % 17) / 17 * 0.6 > 0.8 else 0 for i in range(n)]
    return y, p


def report(y, p, threshold=0.5):
    y = np.asarray(y)
    p = np.asarray(p, dtype=np.float64)
    pred = (p >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    fpr, tpr, _ = roc_curve(y, p, drop_intermediate=False)
    prec, rec, _ = precision_recall_curve(y, p)
    return {
        "roc_auc": roc_auc_score(y, p),
        "average_precision": average_precision_score(y, p),
        "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn),
        "precision": precision_score(y, pred, zero_division=0),
        "recall": recall_score(y, pred, zero_division=0),
        "f1": f1_score(y, pred, zero_division=0),
        "brier": brier_score_loss(y, p),
        "log_loss": log_loss(y, p),
        "roc_points": len(fpr),
        "roc_fpr_tpr_sum": float(np.sum(fpr) + np.sum(tpr)),
        # sklearn appends (precision 1, recall 0); our curve does not, so drop it before summing
        "pr_points": len(prec) - 1,
        "pr_precision_sum": float(np.sum(prec[:-1])),
        "pr_recall_sum": float(np.sum(rec[:-1])),
    }


if __name__ == "__main__":
    fy, fp_ = formula_vectors()
    print(json.dumps({"small": report(SMALL_Y, SMALL_P), "formula": report(fy, fp_)}, indent=2))
