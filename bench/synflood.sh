#!/usr/bin/env bash
# SYN flood check of issue 8: a generated flood of bare SYNs from random
# source addresses and ports to one server ip:port (plus a trickle of
# ordinary connections) read by tcptrace at its default settings, under
# /usr/bin/time -v. Prints a Markdown report on stdout: peak RSS of the
# default text report and of -T jsonl, the head of the text report (its
# flows line counts the evictions; its findings name the flood), and the
# capture.flows block and syn_flood finding of the jsonl run. The target is
# a peak RSS under 300 MiB.
#
#   bench/synflood.sh                  # 5 M SYNs at 100 k/s
#   PACKETS=500000 bench/synflood.sh
#
# Environment: PACKETS (SYNs), RATE (SYNs per second), SEED, MEMCAP (KiB: a
# run whose RSS passes it is killed and reported so; default 8 GiB), TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKETS=${PACKETS:-5000000}
RATE=${RATE:-100000}
SEED=${SEED:-1}

. bench/lib.sh

log "building into $work"
build cmd/tcptrace
build tools/gencap

echo "## bench/synflood.sh"
echo
machine
echo "- command: \`PACKETS=$PACKETS RATE=$RATE SEED=$SEED bench/synflood.sh\`"
log "generating $PACKETS SYNs"
"$work/gencap" -mode synflood -packets "$PACKETS" -rate "$RATE" -seed "$SEED" -o "$work/syn.pcap" 2>"$work/gencap.txt"
echo "- capture: $(sed 's/^gencap: //' "$work/gencap.txt")"
echo
echo "| run | wall s | peak RSS | under 300 MiB |"
echo "|---|---:|---:|---|"

row() {
	if [ "$CAPPED" = 1 ]; then
		echo "| $1 | - | killed above $(mib "$MEMCAP") MiB | no |"
	elif [ "$STATUS" != 0 ]; then
		echo "| $1 | $WALL | failed (exit $STATUS) | - |"
		sed 's/^/    /' "$work/stderr.txt" | tail -n 5 >&2
	else
		echo "| $1 | $WALL | $(mib "$RSS") MiB | $(awk -v k="$RSS" 'BEGIN {print (k < 300*1024) ? "yes" : "no"}') |"
	fi
}

log "tcptrace (defaults: text report)"
timed "$work/report.txt" "$work/tcptrace" -q "$work/syn.pcap"
row "\`tcptrace syn.pcap\` (text)"
# The head of the text report: capture, flows (evictions), services, findings.
awk '/^#[0-9]+ /{exit} {print}' "$work/report.txt" >"$work/head.txt" || true
text_blocks=$(grep -c '^#[0-9]* ' "$work/report.txt" || true)
rm -f "$work/report.txt"

# -T jsonl: every record but the connections is kept.
log "tcptrace -T jsonl"
mkfifo "$work/out"
grep -v '"type":"connection"' <"$work/out" >"$work/records.json" &
greppid=$!
timed /dev/null "$work/tcptrace" -q -T jsonl -o "$work/out" "$work/syn.pcap"
wait "$greppid" || true
row "\`tcptrace -T jsonl syn.pcap\`"
jsonl_rss=$RSS jsonl_capped=$CAPPED

echo
echo "Head of the text report ($text_blocks connection blocks follow it):"
echo
echo '```'
cat "$work/head.txt"
echo '```'
if [ "$jsonl_capped" = 0 ] && [ -s "$work/records.json" ]; then
	flows=$(grep -o '"flows":{[^}]*}' "$work/records.json" || true)
	echo
	echo "capture.flows of the jsonl run: \`${flows#\"flows\":}\`"
	max=$(echo "$flows" | grep -o '"max_concurrent":[0-9]*' | cut -d: -f2)
	if [ -n "$max" ] && [ "$max" -gt 0 ]; then
		echo
		echo "Peak RSS per flow held at once: $(awk -v k="$jsonl_rss" -v n="$max" 'BEGIN {printf "%.0f", k*1024/n}') bytes ($max flows at most)."
	fi
	echo
	if grep -q '"kind":"syn_flood"' "$work/records.json"; then
		echo "The jsonl findings name the flood: \`$(grep -o '"kind":"syn_flood".*"explanation":"[^"]*"' "$work/records.json" | head -n 1 | sed 's/.*"explanation"://')\`"
	else
		echo "The jsonl findings do not name the flood."
	fi
fi
