"""Loads a loom model bundle into a torch.nn.Sequential and checks it against `loom predict`.

    loom export -f examples/breast-cancer/pipeline.yaml --format bundle -o bc.bundle
    loom predict --model bc.bundle --input DATA.csv > pred.csv
    python3 scripts/torch_load.py bc.bundle DATA.csv pred.csv

A bundle is a safetensors file: an 8-byte little-endian header length, a JSON header (tensor
name -> dtype, shape, data_offsets; "__metadata__" -> strings), then the tensor bytes. Debian's
PyTorch 1.13 has no safetensors reader, so this reads it with json and numpy. The network's
architecture is the metadata's loom_spec, the preprocessing the loom_bundle's transforms; this
script replays numeric impute, normalize, arithmetic derive, select and drop (what a numeric
pipeline has) and builds dense, activation, dropout and batchnorm layers.
"""
import csv
import json
import struct
import sys

import numpy as np
import torch


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__")
    tensors = {}
    for name, info in header.items():
        start, end = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        tensors[name] = torch.from_numpy(np.frombuffer(data[start:end], dtype=dtype).reshape(info["shape"]).copy())
    return tensors, meta


ACTIVATIONS = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh,
               "gelu": torch.nn.GELU, "softmax": lambda: torch.nn.Softmax(dim=1)}


def sequential(spec, tensors):
    modules, state = [], {}
    width = spec["inputs"]
    for i, layer in enumerate(spec["layers"]):
        kind, act = layer["type"], layer.get("activation", "")
        if kind == "dense":
            modules.append(torch.nn.Linear(width, layer["units"]))
            width = layer["units"]
        elif kind == "batchnorm":
            modules.append(torch.nn.BatchNorm1d(width, eps=layer.get("eps", 1e-5)))
        elif kind == "dropout":
            modules.append(torch.nn.Dropout(layer["rate"]))
        elif kind != "activation":
            sys.exit(f"layer {i} ({kind}): this script builds MLPs only")
        for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            if f"layers.{i}.{name}" in tensors:
                state[f"{len(modules) - 1}.{name}"] = tensors[f"layers.{i}.{name}"]
        if act == "leaky_relu":
            modules.append(torch.nn.LeakyReLU(layer.get("alpha", 0.01)))
        elif act in ACTIVATIONS:
            modules.append(ACTIVATIONS[act]())
    net = torch.nn.Sequential(*modules)
    net.load_state_dict(state, strict=True)
    return net.eval()


def features(info, path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = {}
    for field in info["fields"]:
        if field["kind"] != "numeric":
            sys.exit(f"column {field['name']} is categorical: this script replays numeric steps only")
        cols[field["name"]] = np.array([float(r[field["name"]]) if r[field["name"]] != "" else np.nan for r in rows])
    for t in info.get("transforms", []):
        op, col = t["op"], t.get("column")
        if op == "impute":
            cols[col] = np.where(np.isnan(cols[col]), float(t["fill"]), cols[col])
        elif op == "normalize":
            cols[col] = (cols[col] - t.get("center", 0.0)) / t["scale"]
        elif op == "derive":  # arithmetic reads the same in expr-lang and Python
            cols[col] = eval(t["expr"], {"__builtins__": {}}, dict(cols))
        elif op not in ("select", "drop"):
            sys.exit(f"transform {op}: this script replays impute, normalize, derive, select and drop only")
    return torch.tensor(np.stack([cols[c] for c in info["features"]], axis=1), dtype=torch.float32)


def main(bundle, data, predictions):
    tensors, meta = read_safetensors(bundle)
    info = json.loads(meta["loom_bundle"])
    net = sequential(json.loads(meta["loom_spec"]), tensors)
    with torch.no_grad():
        out = net(features(info, data)).numpy()
    if out.shape[1] == 1 and info.get("classes"):
        out = np.concatenate([1 - out, out], axis=1)
    with open(predictions, newline="") as f:
        rows = list(csv.DictReader(f))
    names = [f"prob_{c}" for c in info.get("classes", [])] or ["prediction"]
    want = np.array([[float(r[n]) for n in names] for r in rows])
    diff = np.abs(out - want).max()
    print(f"{len(rows)} rows: torch.nn.Sequential and loom predict differ by at most {diff:.2g}")
    if diff > 1e-5:
        sys.exit(1)


if __name__ == "__main__":
    main(*sys.argv[1:4])
