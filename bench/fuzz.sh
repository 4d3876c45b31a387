#!/usr/bin/env bash
# Runs every fuzz target in the module, one after another, for a bounded time
# each (default 10m), at low priority, and prints one summary line per target.
#
#   bench/fuzz.sh [fuzztime] [logdir]
#
# FUZZ_PARALLEL sets go test's -parallel (fuzzing workers; default 1, for a
# machine whose cores are shared).
#
# A crash leaves its input under the package's testdata/fuzz/<Target>/ (go
# test's own behaviour) and the script goes on with the next target.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-10m}
logdir=${2:-$(mktemp -d)}
mkdir -p "$logdir"
echo "fuzz logs in $logdir" >&2

targets() {
	grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
		sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$file" | while read -r name; do
			echo "$(dirname "$file") $name"
		done
	done
}

status=0
for entry in $(targets | tr ' ' ':'); do
	pkg=${entry%%:*} name=${entry##*:}
	base=${pkg#./}
	log="$logdir/${base//\//_}.$name.log"
	if nice -n 10 go test -run='^$' -fuzz="^${name}\$" -fuzztime="$fuzztime" -timeout=0 -parallel="${FUZZ_PARALLEL:-1}" "$pkg" >"$log" 2>&1; then
		result=ok
	else
		result=FAIL status=1
	fi
	# The last progress line carries the totals: elapsed, execs, new interesting.
	last=$(grep -E '^fuzz: elapsed' "$log" | tail -1 || true)
	echo "$pkg $name $result ${last#fuzz: }"
done
exit $status
