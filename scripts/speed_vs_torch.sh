#!/usr/bin/env bash
# loom against PyTorch (Debian's python3-torch 1.13 on OpenBLAS and oneDNN) on this machine,
# in one run, alternating round by round so that a change in the machine's speed hits both:
# sgemm at 128–2048 (GFLOP/s) on one thread and 2048² on two; training steps (samples/s, Adam)
# of the 28×28 CNN (conv32-pool-conv64-pool-dense128, batch 64) and of the 784-256-256-10 and
# 784-1024-1024-10 MLPs (batch 128), on one thread and on two. PyTorch runs in a process per
# thread count with OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set as well as
# torch.set_num_threads: Debian's OpenBLAS ignores the last and takes every core otherwise.
# Prints loom's median, PyTorch's median and best, and loom over PyTorch's best; then loom's
# 2-thread over 1-thread step, round by round.
# Run from the repository root; ROUNDS=3 by default.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/gemm.test" ./nn/internal/gemm
go test -c -o "$tmp/nn.test" ./nn

cat >"$tmp/peer.py" <<'PY'
import json, sys, time
import torch
from torch import nn

threads = int(sys.argv[1])
torch.set_num_threads(threads)

def sgemm(n):
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    reps = max(3, int(2e9 / (2 * n ** 3)))
    t = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b, out=c)
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9

def step(model, shape, batch):
    x, y = torch.randn(*shape), torch.randint(0, 10, (batch,))
    opt = torch.optim.Adam(model.parameters())
    loss = nn.CrossEntropyLoss()
    for _ in range(5):
        opt.zero_grad(); loss(model(x), y).backward(); opt.step()
    reps = 20
    t = time.perf_counter()
    for _ in range(reps):
        opt.zero_grad(); loss(model(x), y).backward(); opt.step()
    return batch * reps / (time.perf_counter() - t)

def mlp(h):
    return nn.Sequential(nn.Linear(784, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 10))

cnn = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5 * 5 * 64, 128), nn.ReLU(), nn.Linear(128, 10))
res = {f'sgemm{n}': sgemm(n) for n in ([128, 256, 512, 1024, 2048] if threads == 1 else [2048])}
res['CNN28'] = step(cnn, (64, 1, 28, 28), 64)
res['MLP784'] = step(mlp(256), (128, 784), 128)
res['MLP1024'] = step(mlp(1024), (128, 784), 128)
print(json.dumps(res))
PY

/usr/bin/python3 - "$tmp" "${ROUNDS:-3}" <<'PY'
import json, os, re, statistics, subprocess, sys

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

def peer(threads):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run(['/usr/bin/python3', f'{tmp}/peer.py', str(threads)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)

# (label, loom benchmark, PyTorch threads, PyTorch key)
cases = [(f'sgemm {n}², 1 thread (GFLOP/s)', f'BenchmarkSgemm/sq{n}/avx2', 1, f'sgemm{n}') for n in [128, 256, 512, 1024, 2048]]
cases.append(('sgemm 2048², 2 threads (GFLOP/s)', 'BenchmarkSgemmSplit/sq2048/workers=2', 2, 'sgemm2048'))
for threads in [1, 2]:
    for name in ['CNN28', 'MLP784', 'MLP1024']:
        cases.append((f'step {name}, {threads} thread{"s" if threads > 1 else ""} (samples/s)',
                      f'BenchmarkThreads/{name}/threads={threads}', threads, name))

loom = {c[0]: [] for c in cases}
torch = {c[0]: [] for c in cases}
for r in range(rounds):
    got = loom_bench('gemm.test', '^BenchmarkSgemm(Split)?$/^sq(128|256|512|1024|2048)$/^(avx2|workers=2)$', 'GFLOP/s')
    got.update(loom_bench('nn.test', '^BenchmarkThreads$', 'samples/s'))
    p = {1: peer(1), 2: peer(2)}
    for label, bench, threads, key in cases:
        loom[label].append(got[bench])
        torch[label].append(p[threads][key])
    print(f'round {r + 1} of {rounds} done', file=sys.stderr)

print('| | loom | PyTorch median / best | loom / PyTorch best |')
print('| --- | --- | --- | --- |')
for label, *_ in cases:
    l, p = statistics.median(loom[label]), torch[label]
    print(f'| {label} | {l:,.0f} | {statistics.median(p):,.0f} / {max(p):,.0f} | {l / max(p):.2f} |')
# loom's own scaling, round by round: the VM's two CPUs are sometimes close (sharing a cache)
# and sometimes far apart, which the ratio shows more than anything loom does.
print()
for name in ['CNN28', 'MLP784', 'MLP1024']:
    one, two = loom[f'step {name}, 1 thread (samples/s)'], loom[f'step {name}, 2 threads (samples/s)']
    ratios = sorted(b / a for a, b in zip(one, two))
    print(f'loom {name}, 2 threads over 1: median {statistics.median(ratios):.2f}, rounds ' +
          ' '.join(f'{x:.2f}' for x in ratios))
PY
