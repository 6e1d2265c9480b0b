#!/usr/bin/env bash
# First runs and no-op reruns of an N-stage chain of shell commands (each stage cats the file
# the one before wrote and appends a line), loom against Snakemake (Debian's snakemake) in one
# run, alternating, and against the same commands run back to back by sh alone (the floor:
# what starting the processes costs on this machine). Run from the repository root:
#   scripts/first_run_vs_snakemake.sh [N...]      (default: 100 1000)
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/loom" .
rounds=${ROUNDS:-3}

chain() { # n dir: a loom manifest, a Snakefile and a plain script of the same chain
	local n=$1 d=$2
	rm -rf "$d" && mkdir -p "$d"
	{
		printf 'version: 1\nname: chain\nstages:\n'
		printf "  s0:\n    uses: shell\n    with: {run: 'echo 0 > f0.txt', outs: [f0.txt]}\n"
		for ((i = 1; i < n; i++)); do
			printf "  s%d:\n    uses: shell\n    needs: [s%d]\n    with: {run: 'cat f%d.txt > f%d.txt; echo %d >> f%d.txt', deps: [f%d.txt], outs: [f%d.txt]}\n" \
				$i $((i - 1)) $((i - 1)) $i $i $i $((i - 1)) $i
		done
	} >"$d/pipeline.yaml"
	{
		printf 'rule all:\n    input: "f%d.txt"\n' $((n - 1))
		printf 'rule s0:\n    output: "f0.txt"\n    shell: "echo 0 > f0.txt"\n'
		for ((i = 1; i < n; i++)); do
			printf 'rule s%d:\n    input: "f%d.txt"\n    output: "f%d.txt"\n    shell: "cat f%d.txt > f%d.txt; echo %d >> f%d.txt"\n' \
				$i $((i - 1)) $i $((i - 1)) $i $i $i
		done
	} >"$d/Snakefile"
	{
		echo 'echo 0 > f0.txt'
		for ((i = 1; i < n; i++)); do
			echo "sh -c 'cat f$((i - 1)).txt > f$i.txt; echo $i >> f$i.txt'"
		done
	} >"$d/plain.sh"
}

secs() { # command...: wall seconds
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}'
}

# Snakemake 7.21 builds its DAG recursively and stops at Python's default recursion limit on a
# chain of about 500 rules; the limit is raised as its documentation's error message suggests.
snakemake() {
	/usr/bin/python3 -c 'import sys; sys.setrecursionlimit(100000); sys.argv = ["snakemake"] + sys.argv[1:]; from snakemake import main; main()' "$@"
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)
for n in "${sizes[@]}"; do
	for ((r = 0; r < rounds; r++)); do
		chain "$n" "$tmp/loom-$n"
		chain "$n" "$tmp/snake-$n"
		chain "$n" "$tmp/plain-$n"
		echo "loom $(secs "$tmp/loom" run -f "$tmp/loom-$n/pipeline.yaml")" >>"$tmp/first-$n"
		echo "snakemake $(secs snakemake -c1 -d "$tmp/snake-$n" -s "$tmp/snake-$n/Snakefile")" >>"$tmp/first-$n"
		echo "plain $(secs sh -c "cd $tmp/plain-$n && sh plain.sh")" >>"$tmp/first-$n"
		sleep 1.1 # past the racy window, as a user's rerun is
		echo "loom $(secs "$tmp/loom" run -f "$tmp/loom-$n/pipeline.yaml")" >>"$tmp/noop-$n"
		echo "snakemake $(secs snakemake -c1 -d "$tmp/snake-$n" -s "$tmp/snake-$n/Snakefile")" >>"$tmp/noop-$n"
	done
	for what in first noop; do
		l=$(awk '$1 == "loom" {print $2}' "$tmp/$what-$n" | median)
		s=$(awk '$1 == "snakemake" {print $2}' "$tmp/$what-$n" | median)
		line="$n stages, $what run: loom ${l} s, Snakemake ${s} s, $(awk -v l="$l" -v s="$s" 'BEGIN {printf "%.1f", s / l}')x"
		if [ "$what" = first ]; then
			p=$(awk '$1 == "plain" {print $2}' "$tmp/$what-$n" | median)
			line="$line; the commands alone (sh) ${p} s"
		fi
		echo "$line"
	done
done
