# Shared by bench/run.sh, bench/pgo.sh and bench/synflood.sh (sourced, not
# run, from the repository's root).
#
# MEMCAP (KiB, default 8 GiB) protects the machine: a command whose resident
# set passes it is killed, and reported as such rather than measured.
MEMCAP=${MEMCAP:-8388608}

# work is the scratch directory: the binaries, the captures, the profiles.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log() { echo "bench: $*" >&2; }

# build DIR [go build flags...]: builds the command in ./DIR into $work,
# named after DIR's last element.
build() {
	local dir=$1
	shift
	go build "$@" -o "$work/${dir##*/}" "./$dir"
}

# mixed_defaults sets the benchmark capture's parameters (bench/run.sh,
# bench/pgo.sh) that the environment left unset: PACKETS, CONNS,
# CONCURRENT (open at once) and SEED.
mixed_defaults() {
	PACKETS=${PACKETS:-2000000} CONNS=${CONNS:-100000} CONCURRENT=${CONCURRENT:-2000} SEED=${SEED:-1}
}

# gen NAME PACKETS CONNS [gencap flags...]: writes $work/NAME.pcap, a mixed
# capture with $CONCURRENT connections open at once, seeded with $SEED.
# Needs $work/gencap (build tools/gencap).
gen() {
	local name=$1 packets=$2 conns=$3
	shift 3
	log "generating $name: $packets packets, $conns connections, $CONCURRENT open at once"
	"$work/gencap" -mode mixed -packets "$packets" -conns "$conns" -concurrent "$CONCURRENT" -seed "$SEED" "$@" -o "$work/$name.pcap"
}

# timed OUT CMD...: runs CMD once, stdout to OUT, under /usr/bin/time -v,
# and sets WALL (seconds, /usr/bin/time's elapsed wall clock), CPU (user +
# system seconds: less sensitive than WALL to other work on a shared
# machine), RSS (peak KiB), STATUS (exit status) and CAPPED (1 if killed
# for passing MEMCAP).
timed() {
	local out=$1
	shift
	/usr/bin/time -v -o "$work/time.txt" "$@" >"$out" 2>"$work/stderr.txt" &
	local tp=$! child="" r
	CAPPED=0
	while kill -0 "$tp" 2>/dev/null; do
		if [ -z "$child" ]; then
			child=$(pgrep -P "$tp" | head -n 1 || true)
		fi
		if [ -n "$child" ]; then
			r=$(awk '/^VmRSS:/ {print $2}' "/proc/$child/status" 2>/dev/null || true)
			if [ -n "$r" ] && [ "$r" -gt "$MEMCAP" ]; then
				CAPPED=1
				kill -KILL "$child" 2>/dev/null || true # SIGTERM would make tcptrace write its report
			fi
		fi
		sleep 0.1
	done
	STATUS=0
	wait "$tp" || STATUS=$?
	WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s}' "$work/time.txt")
	CPU=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$work/time.txt")
	RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
}

mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k/1024}'; }
pps() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%.2f", n/s/1e6}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }

# machine prints the Markdown lines that say where and when a run was made.
machine() {
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, $(uname -sr)"
	echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared)"
	# tcptrace puts its heap on huge pages when this is [madvise] (cmd/tcptrace/hugepages_linux.go).
	echo "- transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo 'not available')"
	echo "- tcptrace $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' + uncommitted changes'), $(go version | cut -d' ' -f3)$(test -f cmd/tcptrace/default.pgo && echo ', profile-guided (cmd/tcptrace/default.pgo, bench/pgo.sh)')"
}
