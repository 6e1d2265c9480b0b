# PyTorch 1.13 CPU figures for BenchmarkConv2D and BenchmarkLSTM64 (nn/bench_test.go), one
# thread. Not part of the build or tests: run by hand with Debian's python3-torch,
#   /usr/bin/python3 nn/testdata/bench_torch.py
import time
import torch

torch.set_num_threads(1)
torch.manual_seed(0)


def bench(name, rows, fn, seconds=2.0):
    for _ in range(20):
        fn()
    best = float("inf")
    for _ in range(5):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            fn()
            n += 1
        best = min(best, (time.perf_counter() - start) / n)
    print(f"{name}: {best * 1e6:.0f} us/op, {rows / best:.0f} samples/s")


conv = torch.nn.Conv2d(1, 16, 3, padding=1)
xc = torch.randn(64, 1, 8, 8, requires_grad=True)
dc = torch.randn(64, 16, 8, 8)


def conv_step():
    conv.zero_grad(set_to_none=True)
    xc.grad = None
    conv(xc).backward(dc)


lstm = torch.nn.LSTM(64, 64, batch_first=True)
xl = torch.randn(32, 32, 64, requires_grad=True)
dl = torch.randn(32, 64)


def lstm_step():
    lstm.zero_grad(set_to_none=True)
    xl.grad = None
    out, _ = lstm(xl)
    out[:, -1].backward(dl)


bench("Conv2D 64x8x8x1, 16 3x3 filters, fwd+bwd", 64, conv_step)
bench("LSTM(64) 32 steps x 64 features, batch 32, fwd+bwd", 32, lstm_step)
