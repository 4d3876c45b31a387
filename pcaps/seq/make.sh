#!/bin/bash
# Regenerates the pcaps/seq/ fixtures of the sequence-space analysis (issue 3)
# from real Linux TCP traffic between network namespaces joined by veth pairs.
# See README.md for what each capture shows and how it was made.
#
#   sudo bash pcaps/seq/make.sh            # every case
#   sudo bash pcaps/seq/make.sh CASE ...   # only these (names as in c_<name> below)
#
# Needs: iproute2 (ip, tc with htb and u32), iptables (string, quota,
# statistic), ethtool, tcpdump, /usr/bin/python3 with scapy (seq_wrap only).
# There is no sch_netem here: losses are iptables DROP windows, reordering is
# an HTB class that holds back some segments. Everything happens inside the
# namespaces this script creates (tt98c, tt98s, and tt98r for reorder), on
# 10.98.0.0/24 and fd00:98::/64. DEBUG=1 prints the peers' logs.
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
PEER="$PY $HERE/peer.py"
NC=tt98c NS=tt98s NR=tt98r # client, server and (reorder only) router namespaces
IC=v98c IS=v98s            # the client's and server's veth ends
IRC=v98rc IRS=v98rs        # the router's, facing client and server
C=10.98.0.1 S=10.98.0.2
RC=10.98.0.126 RS=10.98.0.254 SR=10.98.0.130  # reorder: router sides and server
C6=fd00:98::1 S6=fd00:98::2
SNAP=128                   # headers and a little payload: files stay small

[ "$(id -u)" = 0 ] || { echo "make.sh: run as root" >&2; exit 1; }
W=$(mktemp -d /tmp/tcptrace_seq.XXXXXX)
PIDS=()
CASE=""

cleanup() {
	local rc=$?
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del $NC 2>/dev/null
	ip netns del $NS 2>/dev/null
	ip netns del $NR 2>/dev/null
	if [ $rc != 0 ]; then
		echo "make.sh: FAILED in case '$CASE' (rc=$rc)" >&2
		cat "$W"/*.log >&2 2>/dev/null
	fi
	rm -rf "$W"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }

# up [offload|router]: fresh namespaces and veth. Offloads are off
# (segments on the capture are what went on the wire) unless asked for.
# "router" puts a third namespace between the two, forwarding between
# 10.98.0.0/25 (client side) and 10.98.0.128/25 (server side).
up() {
	local mode=${1:-}
	ip netns del $NC 2>/dev/null || true
	ip netns del $NS 2>/dev/null || true
	ip netns del $NR 2>/dev/null || true
	ip netns add $NC
	ip netns add $NS
	for n in $NC $NS; do ip -n $n link set lo up; done
	if [ "$mode" = router ]; then
		ip netns add $NR
		ip -n $NR link set lo up
		ip link add $IC netns $NC type veth peer name $IRC netns $NR
		ip link add $IS netns $NS type veth peer name $IRS netns $NR
		ip -n $NC addr add $C/25 dev $IC
		ip -n $NR addr add $RC/25 dev $IRC
		ip -n $NR addr add $RS/25 dev $IRS
		ip -n $NS addr add $SR/25 dev $IS
		for i in $IRC $IRS; do
			nsx $NR ethtool -K $i tso off gso off gro off tx off rx off >/dev/null
			ip -n $NR link set $i up
		done
		nsx $NR sysctl -qw net.ipv4.ip_forward=1
	else
		ip link add $IC netns $NC address 02:00:00:00:98:01 type veth peer name $IS netns $NS address 02:00:00:00:98:02
		ip -n $NC addr add $C/24 dev $IC
		ip -n $NS addr add $S/24 dev $IS
		ip -n $NC addr add $C6/64 dev $IC nodad
		ip -n $NS addr add $S6/64 dev $IS nodad
	fi
	if [ "$mode" != offload ]; then
		nsx $NC ethtool -K $IC tso off gso off gro off tx off rx off >/dev/null
		nsx $NS ethtool -K $IS tso off gso off gro off tx off rx off >/dev/null
	fi
	ip -n $NC link set $IC up
	ip -n $NS link set $IS up
	if [ "$mode" = router ]; then
		ip -n $NC route add default via $RC
		ip -n $NS route add default via $RS
	fi
	sleep 0.2
}

# capture FILE [IFACE-NS] [FILTER]: start tcpdump on the server's veth.
capture() {
	local file=$1 ns=${2:-$NS} filter=${3:-tcp}
	local ifc=$IS
	[ "$ns" = $NC ] && ifc=$IC
	ip netns exec "$ns" tcpdump -q -n -U -s $SNAP -i $ifc -w "$W/$file" "$filter" 2>"$W/tcpdump.log" &
	PIDS+=($!)
	TCPDUMP=$!
	sleep 0.5
}

finish() {
	local file=$1 size=-1
	# tcpdump -U writes each packet as it processes it; on a loaded machine
	# it lags, and SIGINT drops what it has not processed yet. Wait until
	# the file stops growing.
	while [ "$(stat -c %s "$W/$file")" != "$size" ]; do
		size=$(stat -c %s "$W/$file")
		sleep 1
	done
	kill -INT $TCPDUMP
	wait $TCPDUMP || true
	cp "$W/$file" "$HERE/$file"
	[ -n "${DEBUG:-}" ] && cat "$W"/*.log >&2
	echo "pcaps/seq/$file: $(tcpdump -r "$HERE/$file" 2>/dev/null | wc -l) packets"
}

server() { # server NS ADDR PORT ARGS...
	local ns=$1; shift
	ip netns exec "$ns" $PEER server "$@" >"$W/server.ready" 2>"$W/server.log" &
	PIDS+=($!)
	SERVER=$!
	for _ in $(seq 50); do [ -s "$W/server.ready" ] && break; sleep 0.1; done
	rm -f "$W/server.ready"
}

client() { nsx $NC $PEER client "$@" 2>"$W/client.log"; }

# loss_retransmit: the receiver's netfilter drops the first transmission of
# two segments (iptables string + quota: the rule stops matching after one
# packet). The capture, on the receiver's veth, sees the original, the
# duplicate ACKs with SACK, and the fast retransmission; the second drop is
# the last segment of a burst, recovered by a tail-loss probe or the RTO.
c_loss_retransmit() {
	up
	nsx $NS iptables -A INPUT -p tcp --dport 9801 -m string --algo bm --string DROP-ONE -m quota --quota 1600 -j DROP
	nsx $NS iptables -A INPUT -p tcp --dport 9801 -m string --algo bm --string DROP-TAIL -m quota --quota 1600 -j DROP
	capture loss_retransmit.pcap
	server $NS $S 9801
	client $S 9801 send:40000:DROP-ONE sleep:0.3 send:1000:DROP-TAIL sleep:1.5
	wait $SERVER
	finish loss_retransmit.pcap
}

# spurious_retransmit: the sender's netfilter drops the receiver's ACKs for a
# moment (quota of about four ACKs), so the sender's retransmission timer
# fires for data that had arrived: the receiver answers with a D-SACK.
c_spurious_retransmit() {
	up
	capture spurious_retransmit.pcap
	server $NS $S 9802
	client $S 9802 send:3000 sleep:0.3 \
		"sh:iptables -A INPUT -p tcp --sport 9802 -m quota --quota 280 -j DROP" \
		send:3000 sleep:1.5
	wait $SERVER
	finish spurious_retransmit.pcap
}

# reorder: a router namespace between client and server holds back, in an
# HTB class with a low rate on its server-side veth, the segments whose IP ID
# ends in binary 01; the others overtake them. (On the client's own veth the
# sender's TCP small queues would wait for the held segment and keep the
# order.) The capture is on the server's veth, where they arrive out of
# order. Wireshark calls a late segment out-of-order only within the
# handshake RTT (SYN to first ACK) of the highest one, tens of microseconds
# on a veth, so the router also drops the first SYN-ACK and the client's
# second SYN (iptables quota and nth): the handshake completes when the
# server resends its SYN-ACK a second later, and the iRTT is one second.
# The sender's RACK loss detection resends some held segments before they
# arrive: those late originals are spurious retransmissions in tshark's
# terms, and the ones that arrive first are out-of-order.
c_reorder() {
	up router
	nsx $NR iptables -A FORWARD -p tcp --sport 9803 --tcp-flags SYN,ACK SYN,ACK -m quota --quota 70 -j DROP
	nsx $NR iptables -A FORWARD -p tcp --dport 9803 --tcp-flags SYN,ACK SYN -m statistic --mode nth --every 1000 --packet 1 -j DROP
	nsx $NR tc qdisc add dev $IRS root handle 1: htb default 1
	nsx $NR tc class add dev $IRS parent 1: classid 1:1 htb rate 1gbit quantum 60000
	nsx $NR tc class add dev $IRS parent 1: classid 1:2 htb rate 500kbit burst 1600 cburst 1600 quantum 1600
	nsx $NR tc filter add dev $IRS parent 1: protocol ip prio 1 u32 \
		match ip protocol 6 0xff match ip dport 9803 0xffff match u16 0x0001 0x0003 at 4 flowid 1:2
	capture reorder.pcap
	server $NS $SR 9803
	client $SR 9803 send:30000 sleep:0.8
	wait $SERVER
	finish reorder.pcap
}

# capture_loss: the network loses nothing, but the capture filter leaves out
# the client's data segments with PSH whose IP ID ends in binary 011 (about
# one in eight): the receiver acknowledges data the capture never saw, and
# nothing is retransmitted.
c_capture_loss() {
	up
	capture capture_loss.pcap $NS "tcp and not (src host $C and tcp[13] & 8 != 0 and ip[5] & 7 == 3)"
	server $NS $S 9804
	client $S 9804 send:1448 sleep:0.05 send:1448 sleep:0.05 send:1448 sleep:0.05 send:1448 sleep:0.05 \
		send:1448 sleep:0.05 send:1448 sleep:0.05 send:1448 sleep:0.05 send:1448 sleep:0.05 \
		send:1448 sleep:0.05 send:1448 sleep:0.05 send:1448 sleep:0.05 send:1448 sleep:0.05 sleep:0.3
	wait $SERVER
	finish capture_loss.pcap
}

# zero_window: a receiver with a 2 KiB receive buffer that sleeps before
# reading. The window closes (zero_window), the sender probes
# with exponential backoff (Linux probes with a bare ACK one below SND.NXT,
# which tshark calls keep_alive), and the window reopens when the receiver
# reads (window_update).
c_zero_window() {
	up
	capture zero_window.pcap
	server $NS $S 9805 --rcvbuf 2048 --pause 2.5
	client $S 9805 send:30000 sleep:0.2
	wait $SERVER
	finish zero_window.pcap
}

# keepalive (IPv6): an idle connection with SO_KEEPALIVE and
# TCP_KEEPIDLE=TCP_KEEPINTVL=1 s. Linux sends its keep-alive as a bare ACK
# one below SND.NXT; the peer answers with a duplicate of its last ACK.
c_keepalive() {
	up
	capture keepalive.pcap $NS "tcp"
	server $NS $S6 9806
	client $S6 9806 keepalive:1 send:10 sleep:3.5
	wait $SERVER
	finish keepalive.pcap
}

# seq_wrap: sequence numbers that wrap past 2^32 on the wire. Linux picks
# its own ISN, so the client is scapy with ISN 0xfffff000 (2^32 - 4096),
# sending 5250 bytes stop-and-wait; the server is the kernel, whose ACKs
# wrap too. The kernel of the client namespace must not answer the
# server's segments itself, so its RSTs are dropped.
c_seq_wrap() {
	up
	nsx $NC iptables -A OUTPUT -p tcp --sport 40098 --tcp-flags RST RST -j DROP
	capture seq_wrap.pcap
	server $NS $S 9807 --reply wrapped-ok
	nsx $NC $PY $HERE/peer.py wrapclient $C $S 9807 0xfffff000 2>"$W/client.log"
	wait $SERVER
	finish seq_wrap.pcap
}

# tso_supersegments: offloads left on. The sender's GSO hands whole
# 64 KiB buffers to the veth, which carries them unsegmented: the capture
# shows segments far larger than the MSS, a capture-point artefact.
c_tso_supersegments() {
	up offload
	capture tso_supersegments.pcap
	server $NS $S 9808
	client $S 9808 send:100000 sleep:0.2
	wait $SERVER
	finish tso_supersegments.pcap
}

CASES=(loss_retransmit spurious_retransmit reorder capture_loss zero_window keepalive seq_wrap tso_supersegments)
[ $# -gt 0 ] && CASES=("$@")
for CASE in "${CASES[@]}"; do
	"c_$CASE"
done
