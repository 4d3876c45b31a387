#!/usr/bin/env bash
# Writes cmd/tcptrace/default.pgo, the CPU profile that go build (and go
# run, go install) uses to optimize tcptrace: since Go 1.21, -pgo=auto, the
# default, picks up default.pgo in the main package's directory. The
# profile is bench/run.sh's workload: its generated capture read with -T
# json, -T jsonl and -T text, one profile each, merged. Built with the
# profile, tcptrace took 4 to 7 % less CPU on that capture (README.md);
# the output is the same. Run it again when the per-packet path changes
# much: a stale profile only optimizes less.
#
#   bench/pgo.sh
#
# Environment: PACKETS, CONNS, CONCURRENT, SEED (the capture, as
# bench/run.sh), TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
mixed_defaults

# Profiled without the old profile, so that the new one does not depend on
# which profile the tree had.
log "building into $work"
build cmd/tcptrace -pgo=off
build tools/gencap
gen main "$PACKETS" "$CONNS"
for format in json jsonl text; do
	log "profiling -T $format"
	"$work/tcptrace" -q -T "$format" --cpuprofile "$work/$format.prof" "$work/main.pcap" >/dev/null
done
go tool pprof -proto "$work/json.prof" "$work/jsonl.prof" "$work/text.prof" >"$work/default.pgo"
mv "$work/default.pgo" cmd/tcptrace/default.pgo
log "wrote cmd/tcptrace/default.pgo ($(wc -c <cmd/tcptrace/default.pgo) bytes)"
