#!/usr/bin/env bash
# Benchmark of issue 7: tcptrace against Ostermann's tcptrace, tshark and the
# gopacket floor on one large synthetic capture, then the linearity and
# memory checks. Prints a Markdown report on stdout (progress on stderr).
#
#   bench/run.sh                       # 2 M packets, 100 k connections, 2000 open at once
#   PACKETS=200000 CONNS=10000 bench/run.sh
#
# Environment: PACKETS, CONNS, CONCURRENT, SEED (the capture), RUNS (rounds:
# runs per command; the median is reported), CHECKS=0 to skip the linearity
# and memory checks, MEMSNAP (snaplen of the memory check's captures, so the
# 10x capture stays small on disk; packets are what it is about), MEMCAP
# (KiB: a run whose RSS passes it is killed and reported so), TMPDIR.
# Needs /usr/bin/time; Ostermann's tcptrace (/usr/bin/tcptrace) and tshark
# are timed when installed (Debian: apt-get install tcptrace tshark).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
mixed_defaults
RUNS=${RUNS:-3}
CHECKS=${CHECKS:-1}
MEMSNAP=${MEMSNAP:-128}

log "building into $work"
build cmd/tcptrace
build tools/gencap
build bench/floor

# measure_once CMD...: runs CMD once with stdout to /dev/null and sets WALL,
# CPU and RSS, or all to "over" if it passed MEMCAP. Any other failure
# aborts the benchmark.
measure_once() {
	timed /dev/null "$@"
	if [ "$CAPPED" = 1 ]; then
		log "killed above MEMCAP ($(mib "$MEMCAP") MiB): $*"
		WALL=over CPU=over RSS=over
		return
	fi
	if [ "$STATUS" != 0 ]; then
		log "failed ($STATUS): $*"
		cat "$work/stderr.txt" "$work/time.txt" >&2
		exit 1
	fi
}

# median VALUES...: the middle value (the upper one of an even count);
# least VALUES...: the smallest.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
least() { printf '%s\n' "$@" | sort -n | head -n 1; }

# measure_rounds "CMD" ...: runs each command (one string each, split on
# spaces) $RUNS times with measure_once, in rounds: each round runs every
# command once, in order, so that a change in the shared machine's load
# falls on all of them alike instead of on whichever ran while it lasted.
# Sets the arrays WALLS, CPUS and RSSS to each command's medians and
# CPUMINS to its least CPU time, or its entries to "over" if a run of it
# passed MEMCAP (it is not run again).
measure_rounds() {
	local cmds=("$@") i j
	local over=() w=() c=() r=()
	for ((j = 0; j < ${#cmds[@]}; j++)); do
		over[j]=0 w[j]="" c[j]="" r[j]=""
	done
	for ((i = 0; i < RUNS; i++)); do
		for ((j = 0; j < ${#cmds[@]}; j++)); do
			if [ "${over[j]}" = 1 ]; then continue; fi
			# shellcheck disable=SC2086 # the command is split on purpose
			measure_once ${cmds[j]}
			if [ "$WALL" = over ]; then over[j]=1; else w[j]+=" $WALL" c[j]+=" $CPU" r[j]+=" $RSS"; fi
		done
	done
	WALLS=() CPUS=() RSSS=() CPUMINS=()
	for ((j = 0; j < ${#cmds[@]}; j++)); do
		if [ "${over[j]}" = 1 ]; then
			WALLS[j]=over CPUS[j]=over RSSS[j]=over CPUMINS[j]=over
		else
			# shellcheck disable=SC2086 # the lists are split on purpose
			WALLS[j]=$(median ${w[j]}) CPUS[j]=$(median ${c[j]}) RSSS[j]=$(median ${r[j]}) CPUMINS[j]=$(least ${c[j]})
		fi
	done
}

# cell formats a measured value for the table.
cell() {
	if [ "$1" = over ]; then
		echo "killed above $(mib "$MEMCAP") MiB"
	else
		"${@:2}"
	fi
}

echo "## bench/run.sh"
echo
machine
echo "- command: \`PACKETS=$PACKETS CONNS=$CONNS CONCURRENT=$CONCURRENT SEED=$SEED RUNS=$RUNS MEMSNAP=$MEMSNAP bench/run.sh\`"
echo
gen main "$PACKETS" "$CONNS"
size=$(stat -c %s "$work/main.pcap")

# name|command: the rows of the table, ours first.
rows=(
	"tcptrace -T json (full analysis)|$work/tcptrace -q -T json $work/main.pcap"
	"tcptrace -T jsonl|$work/tcptrace -q -T jsonl $work/main.pcap"
	"tcptrace -T text|$work/tcptrace -q -T text $work/main.pcap"
	"floor: pcapgo + DecodingLayerParser + flow map|$work/floor $work/main.pcap"
	"pcapgo read only|$work/floor -read $work/main.pcap"
)
if [ -x /usr/bin/tcptrace ]; then
	rows+=("Ostermann's tcptrace -n|/usr/bin/tcptrace -n $work/main.pcap")
	rows+=("Ostermann's tcptrace -n -l|/usr/bin/tcptrace -n -l $work/main.pcap")
fi
if command -v tshark >/dev/null; then
	rows+=("tshark -q -z conv,tcp|tshark -q -z conv,tcp -r $work/main.pcap")
fi

declare -A wall cpu rss
names=() cmds=()
for row in "${rows[@]}"; do
	names+=("${row%%|*}") cmds+=("${row#*|}")
done
log "timing: ${#cmds[@]} commands, $RUNS rounds"
measure_rounds "${cmds[@]}"
for j in "${!names[@]}"; do
	wall[${names[j]}]=${WALLS[j]} cpu[${names[j]}]=${CPUS[j]} rss[${names[j]}]=${RSSS[j]}
done

echo "### Throughput: $PACKETS packets, $CONNS connections, $CONCURRENT open at once ($((size / 1048576)) MiB)"
echo
echo "Median of $RUNS runs, in rounds (each round runs every command once, so a change in the"
echo "machine's load falls on all alike), output to /dev/null; CPU is user + system time and peak"
echo "RSS is from /usr/bin/time -v. The last two columns divide the other command's wall time by"
echo "tcptrace's (above 1: tcptrace is faster); on a shared machine compare the CPU column as well."
echo
echo "| command | wall s | CPU s | packets/s | peak RSS | vs tcptrace -T json | vs tcptrace -T jsonl |"
echo "|---|---:|---:|---:|---:|---:|---:|"
json="tcptrace -T json (full analysis)" jsonl="tcptrace -T jsonl"
for name in "${names[@]}"; do
	w=${wall[$name]} r=${rss[$name]}
	if [ "$w" = over ]; then
		echo "| $name | - | - | - | killed above $(mib "$MEMCAP") MiB | - | - |"
		continue
	fi
	c1=- c2=-
	if [ "${wall[$json]}" != over ] && [ "$name" != "$json" ]; then c1="$(ratio "$w" "${wall[$json]}")"; fi
	if [ "${wall[$jsonl]}" != over ] && [ "$name" != "$jsonl" ]; then c2="$(ratio "$w" "${wall[$jsonl]}")"; fi
	echo "| $name | $w | ${cpu[$name]} | $(pps "$PACKETS" "$w") M | $(mib "$r") MiB | $c1 | $c2 |"
done
if [ "${rss[$json]}" != over ]; then
	echo
	held=$("$work/tcptrace" -q -T jsonl "$work/main.pcap" | tail -n 1 | grep -o '"max_concurrent":[0-9]*' | cut -d: -f2)
	echo "Peak RSS of tcptrace -T json per connection: $(awk -v k="${rss[$json]}" -v c="$CONNS" 'BEGIN {printf "%.1f", k/c}') KiB over all $CONNS connections;"
	echo "$(awk -v k="${rss[$json]}" -v c="$held" 'BEGIN {printf "%.1f", k/c}') KiB per connection held at once ($held at most, in -T jsonl: open ones, and ended ones"
	echo "waiting out their 2 s of quiet), the runtime's and the findings engine's fixed budgets included."
fi

if [ "$CHECKS" = 0 ]; then
	exit 0
fi

# Linearity: twice the packets (and connections, same concurrency) should
# take twice the time, within 10%.
gen double $((2 * PACKETS)) $((2 * CONNS))
echo
echo "### Linearity: N and 2N packets (2N connections, same concurrency)"
echo
echo "$RUNS runs each, N and 2N run alternately: ratios of the median wall and CPU times (user +"
echo "system), and of the least CPU times. Another tenant's load only ever adds time, and moved a"
echo "run's CPU by up to 20 % here, so the least of a few runs is the closest to the work itself;"
echo "it is the one judged."
echo
echo "| format | N = $PACKETS: wall s | 2N: wall s | ratio | N: CPU s | 2N: CPU s | CPU ratio | N: least CPU s | 2N: least CPU s | ratio | 2 +/- 10% |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for format in json jsonl; do
	log "timing: linearity -T $format"
	measure_rounds "$work/tcptrace -q -T $format $work/main.pcap" "$work/tcptrace -q -T $format $work/double.pcap"
	w1=${WALLS[0]} c1=${CPUS[0]} w2=${WALLS[1]} c2=${CPUS[1]} m1=${CPUMINS[0]} m2=${CPUMINS[1]}
	if [ "$w1" = over ] || [ "$w2" = over ]; then
		echo "| -T $format | $(cell "$w1" echo "$w1") | $(cell "$w2" echo "$w2") | - | - | - | - | - | - | - | - |"
		continue
	fi
	lin=$(ratio "$w2" "$w1") clin=$(ratio "$c2" "$c1") mlin=$(ratio "$m2" "$m1")
	echo "| -T $format | $w1 | $w2 | $lin | $c1 | $c2 | $clin | $m1 | $m2 | $mlin | $(awk -v r="$mlin" 'BEGIN {print (r >= 1.8 && r <= 2.2) ? "yes" : "no"}') |"
done
rm -f "$work/double.pcap" "$work/main.pcap"

# Memory: ten times the packets and connections with the same concurrency
# should peak at the same RSS within 10%. The captures are cut at MEMSNAP
# bytes a frame (tcptrace counts the truncation and reads on).
gen mem1 "$PACKETS" "$CONNS" -snaplen "$MEMSNAP"
gen mem10 $((10 * PACKETS)) $((10 * CONNS)) -snaplen "$MEMSNAP"
echo
echo "### Memory: ten times the packets and connections, same concurrency ($CONCURRENT), snaplen $MEMSNAP"
echo
echo "Median peak RSS of $RUNS runs each, the two captures run alternately."
echo
echo "| format | peak RSS, $PACKETS packets | peak RSS, $((10 * PACKETS)) packets | ratio | within 10% |"
echo "|---|---:|---:|---:|---|"
for format in json jsonl; do
	log "timing: memory -T $format"
	measure_rounds "$work/tcptrace -q -T $format $work/mem1.pcap" "$work/tcptrace -q -T $format $work/mem10.pcap"
	r1=${RSSS[0]} r10=${RSSS[1]}
	if [ "$r1" = over ] || [ "$r10" = over ]; then
		echo "| -T $format | $(cell "$r1" mib "$r1") | $(cell "$r10" mib "$r10") | - | no |"
		continue
	fi
	mr=$(ratio "$r10" "$r1")
	echo "| -T $format | $(mib "$r1") MiB | $(mib "$r10") MiB | $mr | $(awk -v r="$mr" 'BEGIN {print (r <= 1.1) ? "yes" : "no"}') |"
done
