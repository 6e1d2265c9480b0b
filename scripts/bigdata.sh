#!/usr/bin/env bash
# Large data: a CSV of 1,000,000 rows × 20 numeric columns and a label (192 MB), a full run
# (dataset, split + zscore, a 2-layer MLP for 1 epoch, evaluate) with GNU time's wall time and
# peak RSS, the dataset stage's read throughput against pandas.read_csv of the same file
# (Debian's python3-pandas), the size of .loom, a CSV with one 20 MB cell, and a ragged row
# near the start of a 1 GB file. Run from the repository root; it needs /usr/bin/time.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/loom" .
cd "$tmp"
/usr/bin/python3 - <<'PY'
import random
random.seed(1)
with open('big.csv', 'w') as f:
    f.write(','.join(f'x{i}' for i in range(20)) + ',y\n')
    for _ in range(1_000_000):
        xs = [random.gauss(0, 1) for _ in range(20)]
        f.write(','.join('%.6f' % x for x in xs) + ',%d\n' % (xs[0] + 0.5 * xs[1] - xs[2] > 0))
PY
size=$(stat -c %s big.csv)
cat >pipeline.yaml <<'YAML'
version: 1
name: big
stages:
  load: {uses: dataset, with: {path: big.csv, target: y}}
  prep: {uses: preprocess, needs: [load], with: {steps: [{split: {test: 0.2, seed: 1}}, {normalize: zscore}]}}
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 32, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  train: {uses: train, needs: [prep, build], with: {epochs: 1, batch_size: 256, seed: 1}}
  score: {uses: evaluate, needs: [prep, train], with: {metrics: [accuracy]}}
YAML
peak() { grep -E 'Elapsed|Maximum resident' "$1" | sed 's/^\s*//' | tr '\n' ' '; echo; }

echo "== full run, 1M x 20 ($((size / 1000000)) MB)"
/usr/bin/time -v -o time.txt ./loom run >run.out 2>&1
peak time.txt
grep -E '│ score' run.out || true
echo ".loom: $(du -sm .loom | cut -f1) MB"

echo "== dataset stage alone vs pandas.read_csv, 3 rounds each"
for round in 1 2 3; do
	rm -rf .loom
	start=$(date +%s.%N)
	./loom run load >/dev/null 2>&1
	end=$(date +%s.%N)
	/usr/bin/python3 -c "print('loom dataset stage: %.2f s, %.0f MB/s' % ($end - $start, $size / 1e6 / ($end - $start)))"
	/usr/bin/python3 - "$size" <<'PY'
import sys, time
import pandas as pd
t = time.perf_counter()
pd.read_csv('big.csv')
t = time.perf_counter() - t
print('pandas.read_csv:    %.2f s, %.0f MB/s' % (t, int(sys.argv[1]) / 1e6 / t))
PY
done

echo "== a CSV with one 20 MB cell"
mkdir cell && cd cell
/usr/bin/python3 -c "
with open('cell.csv', 'w') as f:
    f.write('a,text,y\n')
    for i in range(100): f.write(f'{i},short{i % 5},{i % 2}\n')
    f.write('7,' + 'x' * 20_000_000 + ',1\n')"
printf 'version: 1\nname: cell\nstages:\n  load: {uses: dataset, with: {path: cell.csv, target: y}}\n' >pipeline.yaml
/usr/bin/time -v -o time.txt ../loom run >/dev/null 2>&1
peak time.txt
cd ..

echo "== a 1 GB file with a ragged row on its third line (loom digests the file first, as every input)"
mkdir ragged && cd ragged
{ echo 'a,b,y'; echo '1,2,0'; echo '1,2'; yes '1,2,1' | head -n 166000000 || true; } >ragged.csv
printf 'version: 1\nname: ragged\nstages:\n  load: {uses: dataset, with: {path: ragged.csv, target: y}}\n' >pipeline.yaml
/usr/bin/time -v -o time.txt ../loom run >out.txt 2>&1 || true
grep -o 'ragged.csv:3[^│]*' out.txt | head -1 || true
peak time.txt
