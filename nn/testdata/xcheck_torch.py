# Loads the networks TestExportForPyTorch writes into PyTorch 1.13 modules (strict
# load_state_dict) and prints the largest difference from loom's predictions:
#   mkdir -p /tmp/xc && LOOM_XCHECK_DIR=/tmp/xc go test ./nn -run TestExportForPyTorch
#   /usr/bin/python3 nn/testdata/xcheck_torch.py /tmp/xc
import sys
import json, struct
import numpy as np
import torch
torch.set_num_threads(1)
D = sys.argv[1]

def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8+n])
    data = b[8+n:]
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        dt = np.float32 if v["dtype"] == "F32" else np.int64
        out[k] = torch.from_numpy(np.frombuffer(data[s:e], dtype=dt).reshape(v["shape"]).copy())
    return out

def sub(sd, prefix):
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}

# a: image model
sd = load(D + "/image.safetensors"); d = json.load(open(D + "/image.json"))
x = torch.tensor(d["x"]).view(3, 4, 4, 1).permute(0, 3, 1, 2)
c1 = torch.nn.Conv2d(1, 3, 3, padding=1); c1.load_state_dict(sub(sd, "layers.1."))
c2 = torch.nn.Conv2d(3, 2, (2, 3), stride=(1, 2)); c2.load_state_dict(sub(sd, "layers.2."))
lin = torch.nn.Linear(2 * 2 * 1, 2); lin.load_state_dict(sub(sd, "layers.5."))
with torch.no_grad():
    h = torch.relu(c1(x))
    # TF-style same for kernel (2,3) stride (1,2) on 4x4: out 4x2; pad rows 1 (bottom), cols total max((2-1)*2+3-4,0)=1 -> right 1
    h = torch.nn.functional.pad(h, (0, 1, 0, 1))
    h = c2(h)
    h = torch.nn.functional.max_pool2d(h, 2)
    h = h.permute(0, 2, 3, 1).reshape(3, -1)
    y = lin(h)
print("image: max |loom - torch|", (y.flatten() - torch.tensor(d["y"])).abs().max().item())

# b: sequence model
sd = load(D + "/sequence.safetensors"); d = json.load(open(D + "/sequence.json"))
x = torch.tensor(d["x"]).view(3, 5, 4)
lstm = torch.nn.LSTM(4, 6, batch_first=True); lstm.load_state_dict(sub(sd, "layers.1."))
gru = torch.nn.GRU(6, 5, batch_first=True); gru.load_state_dict(sub(sd, "layers.2."))
rnn = torch.nn.RNN(5, 4, batch_first=True); rnn.load_state_dict(sub(sd, "layers.3."))
tr = torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, batch_first=True); tr.load_state_dict(sub(sd, "layers.4."))
mha = torch.nn.MultiheadAttention(4, 2, batch_first=True); mha.load_state_dict(sub(sd, "layers.5."))
ln = torch.nn.LayerNorm(4); ln.load_state_dict(sub(sd, "layers.6."))
lin = torch.nn.Linear(4, 1); lin.load_state_dict(sub(sd, "layers.8."))
tr.eval(); mha.eval()
with torch.no_grad():
    h, _ = lstm(x); h, _ = gru(h); h, _ = rnn(h)
    h = tr(h)
    mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    h, _ = mha(h, h, h, attn_mask=mask, need_weights=False)
    h = ln(h).mean(dim=1)
    y = lin(h)
print("sequence: max |loom - torch|", (y.flatten() - torch.tensor(d["y"])).abs().max().item())
