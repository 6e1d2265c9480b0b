#!/usr/bin/env bash
# loom's matrix kernel and training steps against PyTorch (Debian's python3-torch, OpenBLAS) in
# one run, both on one thread: sgemm at 128–2048 (GFLOP/s), a training step of the 28×28 CNN
# (conv32-pool-conv64-pool-dense128, batch 64, Adam) and of the 784-256-256-10 MLP (batch 128),
# in samples/s. Run from the repository root.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go test ./nn/internal/gemm -run XXX -bench 'Sgemm/sq(128|256|512|1024|2048)/avx2' -count 3 |
	awk '/^Benchmark/ {split($1, p, "/"); sub("sq", "", p[2]); v[p[2]] = v[p[2]] " " $5}
	     END {for (n in v) print "loom sgemm", n, v[n]}' >"$tmp/loom.txt"
go test ./nn -run XXX -bench 'StepCNN28|StepMLP784' -count 3 |
	awk '/^Benchmark/ {for (i = 1; i < NF; i++) if ($(i+1) == "samples/s") s[$1] = s[$1] " " $i}
	     END {for (b in s) print "loom step", b, s[b]}' >>"$tmp/loom.txt"

/usr/bin/python3 - "$tmp/loom.txt" <<'PY'
import statistics, sys, time
import torch
from torch import nn

torch.set_num_threads(1)
loom = {}
for line in open(sys.argv[1]):
    f = line.split()
    loom[(f[1], f[2])] = statistics.median(float(x) for x in f[3:])

def sgemm(n):
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    best = []
    for _ in range(3):
        reps = max(3, int(1e9 / (2 * n ** 3)))
        t = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        best.append(2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9)
    return statistics.median(best)

print('sgemm, one thread (GFLOP/s): loom, PyTorch, ratio')
for n in [128, 256, 512, 1024, 2048]:
    t = sgemm(n)
    l = loom[('sgemm', str(n))]
    print(f'  {n:5d}  {l:7.1f}  {t:7.1f}  {l / t:.2f}x')

def step(model, x, y, batch):
    opt = torch.optim.Adam(model.parameters())
    loss = nn.CrossEntropyLoss()
    for _ in range(5):
        opt.zero_grad(); loss(model(x), y).backward(); opt.step()
    rates = []
    for _ in range(3):
        reps = 20
        t = time.perf_counter()
        for _ in range(reps):
            opt.zero_grad(); loss(model(x), y).backward(); opt.step()
        rates.append(batch * reps / (time.perf_counter() - t))
    return statistics.median(rates)

cnn = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5 * 5 * 64, 128), nn.ReLU(), nn.Linear(128, 10))
mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
print('training step, one thread (samples/s): loom, PyTorch, ratio')
for name, model, x, batch in [('BenchmarkStepCNN28-2', cnn, torch.randn(64, 1, 28, 28), 64),
                              ('BenchmarkStepMLP784-2', mlp, torch.randn(128, 784), 128)]:
    t = step(model, x, torch.randint(0, 10, (batch,)), batch)
    l = loom[('step', name)]
    print(f'  {name[9:-2]:12s} {l:9.0f} {t:9.0f}  {l / t:.2f}x')
PY
