#!/usr/bin/env bash
# loom against PyTorch (Debian's python3-torch 1.13, OpenBLAS and oneDNN) on this machine, in
# one run, alternating round by round so that a change in the machine's speed hits both:
# sgemm at 128–2048 (GFLOP/s) on one thread and 2048² on two; training steps (samples/s, Adam)
# of the 28×28 CNN (conv32-pool-conv64-pool-dense128, batch 64) and of the 784-256-256-10 and
# 784-1024-1024-10 MLPs (batch 128), on one thread and on two. Prints loom's median, PyTorch's
# median and best, and loom over PyTorch's best. Run from the repository root; ROUNDS=3 by default.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/gemm.test" ./nn/internal/gemm
go test -c -o "$tmp/nn.test" ./nn

/usr/bin/python3 - "$tmp" "${ROUNDS:-3}" <<'PY'
import re, statistics, subprocess, sys, time
import torch
from torch import nn

tmp, rounds = sys.argv[1], int(sys.argv[2])

def loom_bench(binary, pattern, unit):
    out = subprocess.run([f'{tmp}/{binary}', '-test.run', 'XXX', '-test.bench', pattern, '-test.benchtime', '1s'],
                         capture_output=True, text=True, check=True).stdout
    res = {}
    for line in out.splitlines():
        f = line.split()
        if f and f[0].startswith('Benchmark') and unit in f:
            res[re.sub(r'-\d+$', '', f[0])] = float(f[f.index(unit) - 1])
    return res

def torch_sgemm(n):
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    reps = max(3, int(2e9 / (2 * n ** 3)))
    t = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b, out=c)
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9

def torch_step(model, x, batch):
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.Adam(model.parameters())
    loss = nn.CrossEntropyLoss()
    for _ in range(5):
        opt.zero_grad(); loss(model(x), y).backward(); opt.step()
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        opt.zero_grad(); loss(model(x), y).backward(); opt.step()
    return batch * reps / (time.perf_counter() - t)

def cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5 * 5 * 64, 128), nn.ReLU(), nn.Linear(128, 10))

def mlp(h):
    return nn.Sequential(nn.Linear(784, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 10))

# (label, loom binary, benchmark name, unit, PyTorch threads, PyTorch measurement)
cases = []
for n in [128, 256, 512, 1024, 2048]:
    cases.append((f'sgemm {n}², 1 thread (GFLOP/s)', 'gemm.test', f'BenchmarkSgemm/sq{n}/avx2', 'GFLOP/s', 1, lambda n=n: torch_sgemm(n)))
cases.append(('sgemm 2048², 2 threads (GFLOP/s)', 'gemm.test', 'BenchmarkSgemmSplit/sq2048/workers=2', 'GFLOP/s', 2, lambda: torch_sgemm(2048)))
for threads in [1, 2]:
    for name, make, x, batch in [('CNN28', cnn, (64, 1, 28, 28), 64), ('MLP784', lambda: mlp(256), (128, 784), 128),
                                 ('MLP1024', lambda: mlp(1024), (128, 784), 128)]:
        cases.append((f'step {name}, {threads} thread{"s" if threads > 1 else ""} (samples/s)', 'nn.test',
                      f'BenchmarkThreads/{name}/threads={threads}', 'samples/s', threads,
                      lambda make=make, x=x, batch=batch: torch_step(make(), torch.randn(*x), batch)))

loom = {c[0]: [] for c in cases}
peer = {c[0]: [] for c in cases}
for r in range(rounds):
    for binary in ['gemm.test', 'nn.test']:
        if binary == 'gemm.test':
            got = loom_bench(binary, '^BenchmarkSgemm(Split)?$/^sq(128|256|512|1024|2048)$/^(avx2|workers=2)$', 'GFLOP/s')
        else:
            got = loom_bench(binary, '^BenchmarkThreads$', 'samples/s')
        for c in cases:
            if c[1] == binary:
                loom[c[0]].append(got[c[2]])
    for c in cases:
        torch.set_num_threads(c[4])
        peer[c[0]].append(c[5]())
    print(f'round {r + 1} of {rounds} done', file=sys.stderr)

print(f'| | loom | PyTorch median / best | loom / PyTorch best |')
print(f'| --- | --- | --- | --- |')
for c in cases:
    l, p = statistics.median(loom[c[0]]), peer[c[0]]
    print(f'| {c[0]} | {l:,.0f} | {statistics.median(p):,.0f} / {max(p):,.0f} | {l / max(p):.2f} |')
PY
