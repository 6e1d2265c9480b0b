"""Compares loom's permutation importance with scikit-learn's permutation_importance on the same
model, data and permutations (Debian's python3-sklearn 1.2). Run:

    LOOM_PERM_DUMP=/tmp/perm.json go test ./steps -run TestDumpForScikitLearn
    python3 scripts/check_permutation.py /tmp/perm.json

scikit-learn shuffles an index array cumulatively and reads each repeat's column from the
previous one; the random state handed to it here answers each shuffle with the index array
that makes the permuted column the one loom scored."""
import json
import sys

import numpy as np
from sklearn.inspection import _permutation_importance as pi
from sklearn.inspection import permutation_importance

d = json.load(open(sys.argv[1]))
X = np.array(d["x"], dtype=np.float32).reshape(-1, 3)
y = np.array(d["y"])
perms = [[np.array(p) for p in g] for g in d["perms"]]


class Linear:
    def fit(self, X, y):
        return self

    def predict(self, X):
        X = np.asarray(X, dtype=np.float64)
        return 3 * X[:, 0] + X[:, 1]


class Replay:
    """A random state whose shuffles reproduce loom's permutations of one column."""

    def __init__(self, col):
        self.col, self.r, self.applied = col, 0, np.arange(len(y))

    def shuffle(self, idx):
        want = perms[self.col][self.r]  # the column must become x[want]
        step = np.argsort(self.applied)[want]  # x[applied][step] = x[want]
        idx[:] = step
        self.applied, self.r = want, self.r + 1


calls = {"n": 0}
real = pi.check_random_state


def fake(seed):
    if isinstance(seed, (int, np.integer)):  # one per column, in column order
        calls["n"] += 1
        return Replay(calls["n"] - 1)
    return real(seed)


pi.check_random_state = fake
res = permutation_importance(Linear(), X, y, scoring="neg_mean_squared_error", n_repeats=d["repeats"], random_state=np.random.RandomState(0), n_jobs=1)
worst = 0.0
for j, name in enumerate(["x0", "x1", "x2"]):
    diff = abs(res.importances_mean[j] - d["means"][name])
    worst = max(worst, diff)
    print(f"{name}: scikit-learn {res.importances_mean[j]:.12f}, loom {d['means'][name]:.12f}, difference {diff:.2e}")
sys.exit(0 if worst < 1e-9 else 1)
