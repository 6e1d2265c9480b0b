"""Checks ONNX models that `loom export --format onnx` wrote, with the onnx package's own checker
(full_check: types and shapes inferred through every node), and that the metadata a user reads
is there. Usage: python3 scripts/check_onnx.py MODEL.onnx...  (Debian's python3-onnx)."""
import sys

import onnx

for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta.get("loom.features"), f"{path}: no loom.features"
    assert [i.name for i in model.graph.input] == ["features"], f"{path}: inputs {model.graph.input}"
    out = [o.name for o in model.graph.output]
    assert out in (["probabilities"], ["prediction"]), f"{path}: outputs {out}"
    assert model.opset_import[0].version >= 13
    print(f"{path}: ok, opset {model.opset_import[0].version}, {len(model.graph.node)} nodes, "
          f"{len(meta['loom.features'].split(','))} input columns, output {out[0]}")
