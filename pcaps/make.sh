#!/bin/bash
# Regenerates the pcaps/ fixtures from real Linux TCP traffic between two network
# namespaces joined by a veth pair, and records the kernel's own view of every
# connection (sock:inet_sock_set_state tracepoint + `ss -tan` snapshots) in
# <case>.kernel.txt; then gen/expected.py writes expected.json.
#
#   sudo bash pcaps/make.sh            # every case
#   sudo bash pcaps/make.sh CASE ...   # only these (names as in c_<name> below)
#
# Needs: iproute2, iptables, ethtool, tcpdump, tshark/editcap/mergecap, gzip,
# /usr/bin/python3. No sch_netem is needed: delays, losses and crossing packets
# come from iptables DROP windows inside the namespaces. Only private addresses
# (10.99.0.0/24, fd00:99::/64, 127.0.0.1) inside namespaces this script creates.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE
PY=/usr/bin/python3
NA=tcptA                  # client namespace (interface va, 10.99.0.1)
NB=tcptB                  # server namespace (interface vb, 10.99.0.2)
CA=10.99.0.1 SB=10.99.0.2
CA6=fd00:99::1 SB6=fd00:99::2
TRACEFS=/sys/kernel/tracing
TR=$TRACEFS/instances/tcptrace_pcaps   # private trace buffer: clearing it touches no one else
EV=$TR/events/sock/inet_sock_set_state

[ "$(id -u)" = 0 ] || { echo "make.sh: run as root" >&2; exit 1; }
W=$(mktemp -d /tmp/tcptrace_pcaps.XXXXXX)
BG=()    # peers started in the background
CAPS=()  # tcpdump processes
CASE=""

cleanup() {
	local rc=$?
	set +e
	for p in "${BG[@]}" "${CAPS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BG[@]}" "${CAPS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	if [ -d $TR ]; then
		echo 0 >$EV/enable
		rmdir $TR
	fi
	if [ $rc != 0 ]; then
		echo "make.sh: FAILED in case '$CASE' (rc=$rc); peer log:" >&2
		cat "$W/log.txt" >&2 2>/dev/null
	fi
	rm -rf "$W"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

# ns_up [plain|v6]: fresh namespaces (no leftover sockets, TIME-WAIT or rules).
ns_up() {
	local mode=${1:-plain}
	ip netns del $NA 2>/dev/null || true
	ip netns del $NB 2>/dev/null || true
	ip netns add $NA
	ip netns add $NB
	for n in $NA $NB; do
		if [ "$mode" != v6 ]; then # keep IPv6 ND/MLD chatter out of the IPv4 captures
			nsx $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		fi
		ip -n $n link set lo up
	done
	ip link add va netns $NA address 02:00:00:00:00:01 type veth peer name vb netns $NB address 02:00:00:00:00:02
	ip -n $NA link set va up
	ip -n $NB link set vb up
	nsx $NA ethtool -K va tso off gso off gro off
	nsx $NB ethtool -K vb tso off gso off gro off
	if [ "$mode" = v6 ]; then
		ip -n $NA addr add $CA6/64 dev va nodad
		ip -n $NB addr add $SB6/64 dev vb nodad
	else
		ip -n $NA addr add $CA/24 dev va
		ip -n $NB addr add $SB/24 dev vb
	fi
	ip -n $NA link set va up
	ip -n $NB link set vb up
	sleep 0.3
}

trace_setup() {
	[ -d $TRACEFS/events ] || mount -t tracefs nodev $TRACEFS
	mkdir -p $TR
}

# case_begin NAME PORT...: clear state, trace TCP state changes touching these ports.
case_begin() {
	CASE=$1
	shift
	rm -rf "${W:?}"/*
	: >"$W/ss.txt"
	: >"$W/log.txt"
	local f="protocol == 6" p sep=""
	if [ $# -gt 0 ]; then
		f+=" && ("
		for p; do
			f+="${sep}sport == $p || dport == $p"
			sep=" || "
		done
		f+=")"
	fi
	echo 0 >$EV/enable
	echo "$f" >$EV/filter
	echo >$TR/trace
	echo 1 >$EV/enable
	echo "== $CASE" >&2
}

# peer NS NAME STEP...: run gen/peer.py in a namespace (foreground); bgpeer: background.
# Peers are pinned to CPU 0: one softirq backlog, so the veth delivers in capture order.
peer() {
	local ns=$1 name=$2
	shift 2
	PEER=$name SS_FILE=$W/ss.txt ip netns exec "$ns" taskset -c 0 $PY "$HERE/gen/peer.py" "$@" 2>>"$W/log.txt"
}
bgpeer() {
	peer "$@" &
	BG+=($!)
}
waitbg() {
	local p
	for p in "${BG[@]}"; do wait "$p"; done
	BG=()
}
waitfile() {
	local i
	for i in $(seq 1 3000); do
		[ -e "$1" ] && return 0
		sleep 0.01
	done
	echo "make.sh: timeout waiting for $1" >&2
	return 1
}
snap() { # snap NS LABEL: append an ss -tan snapshot taken by the script
	{
		echo "### ss -tan in $1 at $2"
		nsx "$1" ss -tan
	} >>"$W/ss.txt"
}
ipt() { local n=$1; shift; nsx "$n" iptables "$@"; }
FIRST="-m statistic --mode nth --every 1000000 --packet 0" # iptables match: only the first packet

# need N PATTERN: the case's trace must hold N lines matching PATTERN (else the case is retried)
need() {
	local n
	n=$(grep -c -- "$2" "$OUT/$CASE.kernel.txt" || true)
	if [ "$n" != "$1" ]; then
		echo "make.sh: $CASE: $n trace lines match '$2', want $1" >&2
		return 1
	fi
}

# cap_start NS IFACE FILE [tcpdump args/filter]
cap_start() {
	local ns=$1 ifc=$2 f=$3 i err
	shift 3
	err=$W/tcpdump.$(basename "$f").err
	ip netns exec "$ns" tcpdump -Z root -i "$ifc" -U -s 0 -nn --immediate-mode -w "$f" "$@" 2>"$err" &
	CAPS+=($!)
	for i in $(seq 1 200); do
		[ -e "$err" ] && grep -q "listening on" "$err" && return 0
		sleep 0.02
	done
	cat "$err" >&2
	return 1
}
cap_stop() {
	local p
	sleep 0.3
	for p in "${CAPS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${CAPS[@]}"; do wait "$p" || true; done
	CAPS=()
}

# case_end: final ss snapshots (right after the close), stop the capture, write <case>.kernel.txt.
case_end() {
	sleep 0.1
	snap $NA "end of case (client namespace $NA)"
	snap $NB "end of case (server namespace $NB)"
	cap_stop
	echo 0 >$EV/enable
	{
		echo "# kernel ground truth for case $CASE"
		echo "# 1) sock:inet_sock_set_state, filter: $(head -1 $EV/filter)"
		echo "#    (request socks are not traced: a passive child appears as SYN_RECV->ESTABLISHED;"
		echo "#     a socket replaced by a timewait sock shows X->TCP_CLOSE, see the ss snapshots)"
		grep 'inet_sock_set_state:' $TR/trace | sed -e 's/^ *//'
		echo "# 2) ss -tan snapshots (peer steps and end of case)"
		cat "$W/ss.txt"
	} >"$OUT/$CASE.kernel.txt"
}

# A plain request/response connection closed 4-way: the client closes after reading,
# the server closes 0.2 s after EOF (its delayed ACK of the client's FIN goes first).
conn_4way() { # conn_4way CLI_NS CLI_IP CLI_PORT SRV_NS SRV_IP SRV_PORT
	local cns=$1 cip=$2 cp=$3 sns=$4 sip=$5 sp=$6 fam=""
	case $cip in *:*) fam="=6" ;; esac
	rm -f "$W/ready"
	bgpeer "$sns" server listen="$sip,$sp" touch="$W/ready" accept recv \
		'send=HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n' recv_eof sleep=0.2 close close_listener
	waitfile "$W/ready"
	peer "$cns" client socket$fam bind="$cip,$cp" connect="$sip,$sp" 'send=GET / HTTP/1.0\r\n\r\n' recv close
	waitbg
}

# ---------------------------------------------------------------- cases

c_handshake_clean_4way() {
	ns_up
	case_begin handshake_clean_4way 8001
	cap_start $NB vb "$OUT/handshake_clean_4way.pcap" tcp
	conn_4way $NA $CA 40001 $NB $SB 8001
	case_end
}

c_close_3way() {
	# The server closes at once on EOF: its ACK of the client's FIN is still delayed
	# (CLOSE-WAIT enters pingpong/delayed-ACK mode), so the FIN carries that ACK.
	ns_up
	case_begin close_3way 8002
	cap_start $NB vb "$OUT/close_3way.pcap" tcp
	bgpeer $NB server listen=$SB,8002 touch="$W/ready" accept recv 'send=pong\n' recv_eof close close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40002 connect=$SB,8002 'send=ping\n' recv close
	waitbg
	case_end
}

c_half_close_data() {
	ns_up
	case_begin half_close_data 8003
	cap_start $NB vb "$OUT/half_close_data.pcap" tcp
	bgpeer $NB server listen=$SB,8003 touch="$W/ready" accept recv_eof \
		sendn=700 sleep=0.05 sendn=700 sleep=0.05 sendn=700 sleep=0.05 sendn=700 sleep=0.05 close close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40003 connect=$SB,8003 'send=GET /big\n' shutdown_wr ss=client_half_closed recv_eof close
	waitbg
	case_end
}

c_simultaneous_close() {
	# Recipe 3 made deterministic: one process drives both ends (setns), so the two
	# shutdown()s are microseconds apart and their retransmission timers expire in the same
	# tick; the first FIN in each direction is dropped on arrival (one-shot nth rule), so
	# the retransmitted FINs (~0.2 s) cross -> CLOSING on both sides.
	ns_up
	case_begin simultaneous_close 8004
	cap_start $NB vb "$OUT/simultaneous_close.pcap" tcp
	ipt $NA -A INPUT -p tcp --sport 8004 --tcp-flags FIN FIN $FIRST -j DROP
	ipt $NB -A INPUT -p tcp --dport 8004 --tcp-flags FIN FIN $FIRST -j DROP
	bgpeer $NB both listen=$SB,8004 netns=$NA socket bind=$CA,40004 connect=$SB,8004 as=c netns=$NB accept as=s \
		use=c 'send=ping\n' use=s recv 'send=pong\n' use=c recv sleep=0.05 \
		use=s shutdown_wr use=c shutdown_wr recv_eof use=s recv_eof sleep=0.1 \
		ss=server_after_close netns=$NA ss=client_after_close use=c close use=s close close_listener
	waitbg
	case_end
	need 2 'oldstate=TCP_FIN_WAIT1 newstate=TCP_CLOSING'
}

c_simultaneous_open() {
	# Recipe 4 made deterministic: one process binds port 6005 on both ends and connects
	# them to each other microseconds apart; the first SYN in each direction is dropped on
	# arrival (one-shot nth rule); the 1 s retransmissions leave in the same tick and cross.
	ns_up
	case_begin simultaneous_open 6005
	cap_start $NB vb "$OUT/simultaneous_open.pcap" tcp
	for n in $NA $NB; do ipt $n -A INPUT -p tcp --dport 6005 --tcp-flags SYN,ACK SYN $FIRST -j DROP; done
	bgpeer $NA both socket reuseaddr bind=$CA,6005 as=a netns=$NB socket reuseaddr bind=$SB,6005 as=b \
		use=a connect_nb=$SB,6005 use=b connect_nb=$CA,6005 \
		wait_state=ESTAB,5 netns=$NA use=a wait_state=ESTAB,5 blocking 'send=ping\n' \
		use=b blocking recv 'send=pong\n' use=a recv close use=b recv_eof sleep=0.2 close
	waitbg
	case_end
	need 2 'oldstate=TCP_SYN_SENT newstate=TCP_SYN_RECV'
}

c_refused() {
	ns_up
	case_begin refused 8006
	cap_start $NB vb "$OUT/refused.pcap" tcp
	peer $NA client socket bind=$CA,40006 connect?=$SB,8006 close
	case_end
}

c_unanswered_syn() {
	ns_up
	case_begin unanswered_syn 8007
	cap_start $NB vb "$OUT/unanswered_syn.pcap" tcp
	ipt $NB -A INPUT -p tcp --dport 8007 -j DROP
	bgpeer $NB server listen=$SB,8007 touch="$W/ready" sleep=4.5 close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40007 timeout=4 connect?=$SB,8007 ss=client_timed_out close
	waitbg
	case_end
}

c_rst_established() {
	ns_up
	case_begin rst_established 8008
	cap_start $NB vb "$OUT/rst_established.pcap" tcp
	bgpeer $NB server listen=$SB,8008 touch="$W/ready" accept recv 'send=pong\n' recv? close close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40008 connect=$SB,8008 'send=ping\n' recv linger0 close
	waitbg
	case_end
}

c_rst_close_wait() {
	# client half-closes (FIN-WAIT-2, fd kept); server reads EOF (CLOSE-WAIT), then
	# closes with SO_LINGER {1,0}: RST from CLOSE-WAIT, received in FIN-WAIT-2.
	ns_up
	case_begin rst_close_wait 8009
	cap_start $NB vb "$OUT/rst_close_wait.pcap" tcp
	bgpeer $NB server listen=$SB,8009 touch="$W/ready" accept recv 'send=pong\n' recv_eof sleep=0.2 \
		ss=server_close_wait linger0 close close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40009 connect=$SB,8009 'send=ping\n' recv shutdown_wr sleep=0.1 \
		ss=client_fin_wait2 recv? close
	waitbg
	case_end
}

c_rst_fin_wait1() {
	# B's pure ACKs are dropped in its OUTPUT chain (never on the wire), so the client's
	# FIN stays unacknowledged (FIN-WAIT-1, FIN retransmitted); SO_LINGER 0 close -> RST.
	ns_up
	case_begin rst_fin_wait1 8010
	cap_start $NB vb "$OUT/rst_fin_wait1.pcap" tcp
	bgpeer $NB server listen=$SB,8010 touch="$W/ready" accept recv 'send=pong\n' recv_eof ss=server_close_wait \
		sleep=1 close close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40010 connect=$SB,8010 'send=ping\n' recv \
		"sh=ip netns exec $NB iptables -A OUTPUT -p tcp --sport 8010 --tcp-flags ALL ACK -j DROP" \
		shutdown_wr sleep=0.5 wait_state=FIN-WAIT-1,1 ss=client_fin_wait1 linger0 close
	waitbg
	case_end
}

c_rst_fin_wait2() {
	# The client closes (orphaned FIN-WAIT-2, a timewait sock on Linux); data arriving
	# after its half-duplex close is answered by RST.
	ns_up
	case_begin rst_fin_wait2 8011
	cap_start $NB vb "$OUT/rst_fin_wait2.pcap" tcp
	bgpeer $NB server listen=$SB,8011 touch="$W/ready" accept recv sleep=0.3 'send=late reply\n' sleep=0.2 \
		ss=server_after_rst close close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40011 connect=$SB,8011 'send=ping\n' close sleep=0.1 ss=client_fin_wait2
	waitbg
	case_end
}

c_rst_fin_wait2_timeout() {
	# Recipe 2: tcp_fin_timeout=3 in A; server holds CLOSE-WAIT 6 s; A's FIN-WAIT-2
	# expires silently, the server's late FIN meets no socket -> RST.
	ns_up
	nsx $NA sysctl -qw net.ipv4.tcp_fin_timeout=3
	case_begin rst_fin_wait2_timeout 8012
	cap_start $NB vb "$OUT/rst_fin_wait2_timeout.pcap" tcp
	bgpeer $NB server listen=$SB,8012 touch="$W/ready" accept recv_eof sleep=6 close sleep=0.2 \
		ss=server_after_rst close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40012 connect=$SB,8012 'send=ping\n' close sleep=0.5 ss=client_fin_wait2 \
		sleep=3.5 ss=client_after_fin_timeout
	waitbg
	case_end
}

c_rst_syn_received() {
	# The SYN-ACK is dropped on arrival in A; the client gives up (connect timeout 0.5 s,
	# close in SYN-SENT sends nothing); the retransmitted SYN-ACK (1 s) finds no socket
	# and A's kernel answers RST: the server's request sock dies in SYN-RECEIVED.
	ns_up
	case_begin rst_syn_received 8013
	cap_start $NB vb "$OUT/rst_syn_received.pcap" tcp
	ipt $NA -A INPUT -p tcp --sport 8013 --tcp-flags SYN,ACK SYN,ACK -j DROP
	bgpeer $NB server listen=$SB,8013 touch="$W/ready" wait="$W/go" sleep=0.3 ss=server_syn_received \
		sleep=1.5 ss=server_after_rst close_listener
	waitfile "$W/ready"
	touch "$W/go"
	peer $NA client socket bind=$CA,40013 timeout=0.5 connect?=$SB,8013 close
	sleep 0.1
	ipt $NA -D INPUT -p tcp --sport 8013 --tcp-flags SYN,ACK SYN,ACK -j DROP
	waitbg
	case_end
}

c_rst_syn_received_simopen() {
	# Simultaneous open as above (crossing SYNs, both full sockets in SYN-RECEIVED) with
	# every SYN-ACK dropped on arrival; A closes with SO_LINGER 0 -> RST from SYN-RECEIVED.
	ns_up
	case_begin rst_syn_received_simopen 6014
	cap_start $NB vb "$OUT/rst_syn_received_simopen.pcap" tcp
	for n in $NA $NB; do
		ipt $n -A INPUT -p tcp --dport 6014 --tcp-flags SYN,ACK SYN $FIRST -j DROP
		ipt $n -A INPUT -p tcp --dport 6014 --tcp-flags SYN,ACK SYN,ACK -j DROP
	done
	bgpeer $NA both socket reuseaddr bind=$CA,6014 as=a netns=$NB socket reuseaddr bind=$SB,6014 as=b \
		use=a connect_nb=$SB,6014 use=b connect_nb=$CA,6014 \
		wait_state=SYN-RECV,5 ss=b_syn_received netns=$NA use=a wait_state=SYN-RECV,5 ss=a_syn_received \
		linger0 close sleep=0.2 ss=a_after_rst netns=$NB ss=b_after_rst use=b close
	waitbg
	case_end
	need 2 'oldstate=TCP_SYN_SENT newstate=TCP_SYN_RECV'
}

c_rst_last_ack() {
	# Client half-closes; its pure ACKs are then dropped in A's OUTPUT (never on the wire).
	# The server (request never read) half-closes -> LAST-ACK; the client enters TIME-WAIT
	# but its ACK is lost; the server's close() with unread data sends RST from LAST-ACK,
	# which kills the client's TIME-WAIT (tcp_rfc1337=0).
	ns_up
	case_begin rst_last_ack 8015
	cap_start $NB vb "$OUT/rst_last_ack.pcap" tcp
	bgpeer $NB server listen=$SB,8015 touch="$W/ready" accept sleep=0.2 shutdown_wr wait_state=LAST-ACK,1 \
		ss=server_last_ack wait="$W/tw" close sleep=0.1 ss=server_after_rst close_listener
	waitfile "$W/ready"
	peer $NA client socket bind=$CA,40015 connect=$SB,8015 'send=ping\n' sleep=0.05 \
		"sh=iptables -A OUTPUT -p tcp --dport 8015 --tcp-flags ALL ACK -j DROP" \
		shutdown_wr wait_state=TIME-WAIT,2 ss=client_time_wait touch="$W/tw" sleep=0.2 ss=client_after_rst close
	waitbg
	case_end
}

c_rst_closing() {
	# Simultaneous close as above, but with every pure ACK dropped in OUTPUT on both sides
	# (never on the wire), so both stay in CLOSING; the client has unread data, so its
	# close() sends RST from CLOSING, which the server receives in CLOSING.
	ns_up
	case_begin rst_closing 8016
	cap_start $NB vb "$OUT/rst_closing.pcap" tcp
	ipt $NA -A INPUT -p tcp --sport 8016 --tcp-flags FIN FIN $FIRST -j DROP
	ipt $NB -A INPUT -p tcp --dport 8016 --tcp-flags FIN FIN $FIRST -j DROP
	bgpeer $NB both listen=$SB,8016 netns=$NA socket bind=$CA,40016 connect=$SB,8016 as=c netns=$NB accept as=s \
		use=c 'send=ping\n' use=s recv 'send=unread by the client\n' sleep=0.05 \
		"sh=ip netns exec $NA iptables -A OUTPUT -p tcp --dport 8016 --tcp-flags ALL ACK -j DROP" \
		"sh=ip netns exec $NB iptables -A OUTPUT -p tcp --sport 8016 --tcp-flags ALL ACK -j DROP" \
		use=s shutdown_wr use=c shutdown_wr \
		use=s wait_state=CLOSING,5 ss=server_closing netns=$NA use=c wait_state=CLOSING,5 ss=client_closing \
		close sleep=0.1 ss=client_after_rst netns=$NB ss=server_after_rst use=s close close_listener
	waitbg
	case_end
	need 2 'oldstate=TCP_FIN_WAIT1 newstate=TCP_CLOSING'
}

c_time_wait_reuse() {
	# Recipe 5: the server closes first (TIME-WAIT); 0.3 s later the client rebinds port
	# 40017 and reconnects: the new SYN reuses the 4-tuple of the server's TIME-WAIT.
	ns_up
	case_begin time_wait_reuse 8017
	cap_start $NB vb "$OUT/time_wait_reuse.pcap" tcp
	bgpeer $NB server listen=$SB,8017 touch="$W/ready" \
		accept recv 'send=first\n' close sleep=0.1 ss=server_time_wait_1 \
		accept recv 'send=second\n' close sleep=0.1 ss=server_time_wait_2 close_listener
	waitfile "$W/ready"
	peer $NA client socket reuseaddr bind=$CA,40017 connect=$SB,8017 'send=one\n' recv_eof close sleep=0.3 \
		socket reuseaddr bind=$CA,40017 connect=$SB,8017 'send=two\n' recv_eof close
	waitbg
	case_end
}

c_retransmit_syn() {
	ns_up
	case_begin retransmit_syn 8018
	cap_start $NB vb "$OUT/retransmit_syn.pcap" tcp
	# drops exactly the first SYN (after it was captured on vb)
	ipt $NB -A INPUT -p tcp --dport 8018 --tcp-flags SYN,ACK SYN -m statistic --mode nth --every 1000000 --packet 0 -j DROP
	conn_4way $NA $CA 40018 $NB $SB 8018
	case_end
}

c_retransmit_synack() {
	ns_up
	case_begin retransmit_synack 8019
	cap_start $NB vb "$OUT/retransmit_synack.pcap" tcp
	# drops exactly the first SYN-ACK on arrival in A
	ipt $NA -A INPUT -p tcp --sport 8019 --tcp-flags SYN,ACK SYN,ACK -m statistic --mode nth --every 1000000 --packet 0 -j DROP
	conn_4way $NA $CA 40019 $NB $SB 8019
	case_end
}

c_retransmit_fin() {
	ns_up
	case_begin retransmit_fin 8020
	cap_start $NB vb "$OUT/retransmit_fin.pcap" tcp
	# drops exactly the client's first FIN on arrival in B
	ipt $NB -A INPUT -p tcp --dport 8020 --tcp-flags FIN FIN -m statistic --mode nth --every 1000000 --packet 0 -j DROP
	conn_4way $NA $CA 40020 $NB $SB 8020
	case_end
}

c_midstream() {
	# A line every 100 ms for 2.5 s; tcpdump starts 0.8 s into the connection.
	ns_up
	case_begin midstream 8022
	bgpeer $NB server listen=$SB,8022 touch="$W/ready" accept recv lines=25,0.1 sleep=0.2 close close_listener
	waitfile "$W/ready"
	bgpeer $NA client socket bind=$CA,40022 connect=$SB,8022 'send=subscribe\n' recv_eof close
	sleep 0.8
	cap_start $NB vb "$OUT/midstream.pcap" tcp
	waitbg
	case_end
}

c_ipv6_clean() {
	ns_up v6
	case_begin ipv6_clean 8023
	cap_start $NB vb "$OUT/ipv6_clean.pcap" tcp
	conn_4way $NA $CA6 40023 $NB $SB6 8023
	case_end
}

c_vlan_clean() {
	# This kernel has no 802.1Q (no 8021q, no act_vlan): capture untagged on vb, then
	# gen/vlan_tag.py inserts an 802.1Q tag (VLAN 100) into every frame.
	ns_up
	case_begin vlan_clean 8024
	cap_start $NB vb "$W/vlan_clean.pcap" tcp
	conn_4way $NA $CA 40024 $NB $SB 8024
	case_end
	$PY "$HERE/gen/vlan_tag.py" "$W/vlan_clean.pcap" "$OUT/vlan_clean.pcap" 0x8100:100
}

c_qinq_clean() {
	# As vlan_clean, with two tags: outer 802.1ad S-tag 200, inner 802.1Q C-tag 100.
	ns_up
	case_begin qinq_clean 8025
	cap_start $NB vb "$W/qinq_clean.pcap" tcp
	conn_4way $NA $CA 40025 $NB $SB 8025
	case_end
	$PY "$HERE/gen/vlan_tag.py" "$W/qinq_clean.pcap" "$OUT/qinq_clean.pcap" 0x88a8:200 0x8100:100
}

c_sll_any() {
	ns_up
	case_begin sll_any 8026
	cap_start $NB any "$OUT/sll_any.pcap" -y LINUX_SLL tcp
	conn_4way $NA $CA 40026 $NB $SB 8026
	case_end
}

c_sll2_any() {
	ns_up
	case_begin sll2_any 8027
	cap_start $NB any "$OUT/sll2_any.pcap" tcp # tcpdump 4.99 default for -i any: LINUX_SLL2
	conn_4way $NA $CA 40027 $NB $SB 8027
	case_end
}

c_pcapng_clean() {
	ns_up
	case_begin pcapng_clean 8028
	cap_start $NB vb "$W/pcapng_clean.pcap" tcp
	conn_4way $NA $CA 40028 $NB $SB 8028
	case_end
	editcap -F pcapng "$W/pcapng_clean.pcap" "$OUT/pcapng_clean.pcapng"
}

c_loopback() {
	ns_up
	nsx $NA ethtool -K lo tso off gso off gro off 2>/dev/null || true
	case_begin loopback 8029
	cap_start $NA lo "$OUT/loopback.pcap" tcp
	conn_4way $NA 127.0.0.1 40029 $NA 127.0.0.1 8029
	case_end
}

c_pcapng_multi_iface() {
	# Two interfaces, two link types: connection 1 over the veth captured on vb (EN10MB),
	# connection 2 on B's loopback captured with -i any (LINUX_SLL2); mergecap keeps one
	# IDB per input file.
	ns_up
	case_begin pcapng_multi_iface 8030 8031
	cap_start $NB vb "$W/veth.pcap" tcp
	cap_start $NB any "$W/any.pcap" tcp and host 127.0.0.1
	conn_4way $NA $CA 40030 $NB $SB 8030
	conn_4way $NB 127.0.0.1 40031 $NB 127.0.0.1 8031
	case_end
	mergecap -F pcapng -w "$OUT/pcapng_multi_iface.pcapng" "$W/veth.pcap" "$W/any.pcap"
}

c_nanosecond() {
	ns_up
	case_begin nanosecond 8032
	cap_start $NB vb "$OUT/nanosecond.pcap" --time-stamp-precision=nano tcp
	conn_4way $NA $CA 40032 $NB $SB 8032
	case_end
}

# Derived files (no new traffic): frames deleted from handshake_clean_4way.pcap, and a
# gzip of it. Their kernel truth is that of handshake_clean_4way.
derived() {
	CASE=derived
	local src=$OUT/handshake_clean_4way.pcap n fin f
	[ -e "$src" ] || return 0
	for f in missed_handshake_ack missed_fin_ack missed_fin; do
		if [ $f = missed_handshake_ack ]; then
			# the third handshake segment: the client's first pure ACK
			n=$(tshark -r "$src" -Y 'tcp.srcport==40001 && tcp.flags==0x010' -T fields -e frame.number 2>/dev/null | head -1)
		elif [ $f = missed_fin ]; then
			# the client's FIN: the server's ACK of it is the only sign
			n=$(tshark -r "$src" -Y 'tcp.srcport==40001 && tcp.flags.fin==1' -T fields -e frame.number 2>/dev/null | head -1)
		else
			# the server's pure ACK of the client's FIN
			fin=$(tshark -r "$src" -Y 'tcp.srcport==40001 && tcp.flags.fin==1' -T fields -e frame.number 2>/dev/null | head -1)
			n=$(tshark -r "$src" -Y "tcp.srcport==8001 && tcp.flags==0x010 && frame.number>$fin" -T fields -e frame.number 2>/dev/null | head -1)
		fi
		editcap -F pcap "$src" "$OUT/$f.pcap" "$n"
		{
			echo "# $f.pcap is handshake_clean_4way.pcap with frame $n deleted (editcap FILE OUT $n); same kernel truth:"
			cat "$OUT/handshake_clean_4way.kernel.txt"
		} >"$OUT/$f.kernel.txt"
	done
	gzip -kfn "$src"
}

ALL=(handshake_clean_4way close_3way half_close_data simultaneous_close simultaneous_open refused
	unanswered_syn rst_established rst_close_wait rst_fin_wait1 rst_fin_wait2 rst_fin_wait2_timeout
	rst_syn_received rst_syn_received_simopen rst_last_ack rst_closing time_wait_reuse
	retransmit_syn retransmit_synack retransmit_fin midstream ipv6_clean vlan_clean qinq_clean
	sll_any sll2_any pcapng_clean loopback pcapng_multi_iface nanosecond)

trace_setup
if [ $# -gt 0 ]; then CASES=("$@"); else CASES=("${ALL[@]}"); fi
# Each case runs in a subshell and is retried (up to 3 times) if a peer fails or a check
# does not hold; stragglers of a failed try are killed by the subshell's own trap.
for c in "${CASES[@]}"; do
	for try in 1 2 3; do
		set +e # (not "if ( ... )": set -e would be ignored inside the subshell)
		(
			trap 'for p in "${BG[@]}" "${CAPS[@]}"; do kill "$p" 2>/dev/null; done' EXIT
			set -e
			"c_$c"
		)
		rc=$?
		set -e
		[ $rc = 0 ] && break
		[ $try = 3 ] && { echo "make.sh: case $c failed 3 times" >&2; exit 1; }
		echo "make.sh: retrying $c" >&2
		cat "$W/log.txt" >&2 || true
	done
done
derived
CASE=expected
$PY "$HERE/gen/expected.py" "$OUT"
ip netns del $NA
ip netns del $NB
ls -l "$OUT" | grep -E '\.(pcap|pcapng|gz)$' >&2
