"""The original design's serving stack, for comparison: FastAPI + scikit-learn RandomForest.

Trains a RandomForestClassifier of the same size on the same feature matrix the retail24 model
was fitted on (bench writes it as JSON), and serves POST /v1/predict with the same raw-user JSON,
building the feature vector in Python from the same frozen spec (time of day, weekend, screen
group counts, top screens, other screens, purchase intent). Usage:
  python predict_fastapi.py <train.json> <port>
"""
import json
import sys
from datetime import datetime, timezone
from typing import List, Optional, Union

import numpy as np
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict
from sklearn.ensemble import RandomForestClassifier

train = json.load(open(sys.argv[1]))
spec = train["spec"]
X = np.array(train["X"], dtype=np.float64).reshape(train["rows"], train["cols"])
y = np.array(train["y"], dtype=np.int64)
model = RandomForestClassifier(n_estimators=train["nEstimators"], max_depth=train["maxDepth"], class_weight="balanced", random_state=42, n_jobs=1)
model.fit(X, y)
model.n_jobs = 1  # per-request scoring: threads cost more than they save for one row

names = spec["names"]
groups = list(spec["groups"].items())
weights = [spec["intentWeights"].get(g, 0.0) for g, _ in groups]
top = {s: i for i, s in enumerate(spec["topScreens"])}
width = len(names)
group_start = 5
top_start = group_start + len(groups)
other_col = top_start + len(spec["topScreens"])
intent_col = other_col + 1


class User(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: Union[str, int]
    first_open: Union[str, float]
    screen_list: Union[str, List[str]]
    age: Optional[int] = None
    numscreens: Optional[int] = None
    purchase_date: Optional[str] = None


def features(u: User) -> List[float]:
    row = [0.0] * width
    t = datetime.fromtimestamp(u.first_open / 1000, tz=timezone.utc) if isinstance(u.first_open, (int, float)) else datetime.fromisoformat(u.first_open).replace(tzinfo=timezone.utc)
    screens = [s.strip() for s in (u.screen_list.split(",") if isinstance(u.screen_list, str) else u.screen_list) if s.strip()]
    weekday = (t.weekday() + 1) % 7  # 0 = Sunday, as data/feature-row.ts
    row[0] = t.hour
    row[1] = weekday
    row[2] = 1.0 if weekday in (0, 6) else 0.0
    row[3] = u.age if u.age is not None else spec["ageFill"]
    row[4] = u.numscreens if u.numscreens is not None else len(screens)
    for s in screens:
        low = s.lower()
        for g, (_, pats) in enumerate(groups):
            if any(p in low for p in pats):
                row[group_start + g] += 1
        i = top.get(s)
        if i is None:
            row[other_col] += 1
        else:
            row[top_start + i] += 1
    row[intent_col] = sum(weights[g] * row[group_start + g] for g in range(len(groups)))
    return row


app = FastAPI()


@app.post("/v1/predict")
def predict(body: Union[User, List[User]]):
    users = body if isinstance(body, list) else [body]
    p = model.predict_proba(np.array([features(u) for u in users]))[:, 1]
    preds = [{"user_id": str(u.user_id), "probability": float(q), "decision": bool(q >= 0.5)} for u, q in zip(users, p)]
    return {"predictions": preds} if isinstance(body, list) else preds[0]


if __name__ == "__main__":
    print("listening", sys.argv[2], flush=True)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
