#!/usr/bin/env bash
# Load test of loom serve with wrk (Debian's wrk): 1-row and 100-row JSON bodies of
# examples/breast-cancer at 4 and 16 connections, one wrk thread. Run from the repository root.
set -euo pipefail
tmp=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$tmp"' EXIT
go build -o "$tmp/loom" .
"$tmp/loom" export -f examples/breast-cancer/pipeline.yaml --format bundle -o "$tmp/bc.bundle"
for n in 1 100; do
	awk -F, -v n="$n" 'NR==1 {split($0, h, ","); next} NR<=n+1 {
		printf "%s{", (NR==2 ? "{\"records\": [" : ",")
		for (i = 1; i <= NF; i++) if (h[i] != "benign") printf "%s\"%s\": %s", (i>1 ? ", " : ""), h[i], $i
		printf "}"} END {print "]}"}' examples/breast-cancer/data/breast_cancer.csv >"$tmp/body$n.json"
done
cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open(os.getenv("BODY"), "r"); wrk.body = f:read("*a"); f:close()
LUA
"$tmp/loom" serve --model "$tmp/bc.bundle" --addr 127.0.0.1:18089 2>/dev/null &
server=$!
sleep 1
for c in 4 16; do
	for n in 1 100; do
		echo "== $c connections, $n-row body"
		BODY="$tmp/body$n.json" wrk -t1 -c"$c" -d8s --latency -s "$tmp/post.lua" http://127.0.0.1:18089/v1/predict |
			grep -E '50%|99%|Requests/sec|Non-2xx'
	done
done
