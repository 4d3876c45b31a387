#!/bin/bash
# Makes the findings fixtures in pcaps/findings/ (anomaly engine, issue 4) from real
# Linux TCP traffic between two network namespaces joined by a veth pair (offloads
# off), as make.sh does; where the kernel cannot send the segment a case needs, a
# scapy (gen/crafted.py) or hping3/nmap endpoint talks to a real Linux peer. Each
# case's recipe is its function below; pcaps/README.md lists what each one shows.
#
#   sudo bash pcaps/findings.sh          # every case
#   sudo bash pcaps/findings.sh CASE ... # only these (names as in f_<name> below)
#
# Needs: iproute2, iptables, ethtool, tcpdump, mergecap, gzip, nmap, hping3, python3-scapy.
set -euo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE/findings
PY=/usr/bin/python3
NA=tfindA NB=tfindB NR=tfindR CA=10.99.0.1 SB=10.99.0.2
[ "$(id -u)" = 0 ] || { echo "findings.sh: run as root" >&2; exit 1; }
BG=() CAPS=()
mkdir -p "$OUT"

cleanup() {
	set +e
	nskill -9
	for p in "${BG[@]}" "${CAPS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${BG[@]}" "${CAPS[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del $NA 2>/dev/null
	ip netns del $NB 2>/dev/null
	ip netns del $NR 2>/dev/null
	rm -f /tmp/tfind_*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nsx() { local n=$1; shift; ip netns exec "$n" "$@"; }
peer() { local n=$1; shift; PYTHONPATH=$HERE/gen nsx "$n" $PY "$HERE/gen/findings_peer.py" "$@"; }
bgpeer() { peer "$@" & BG+=($!); }
waitfile() { local i; for i in $(seq 1 1000); do [ -e "$1" ] && return 0; sleep 0.01; done; echo "timeout: $1" >&2; return 1; }

ns_up() {
	ip netns del $NA 2>/dev/null || true
	ip netns del $NB 2>/dev/null || true
	rm -f /tmp/tfind_*
	ip netns add $NA
	ip netns add $NB
	for n in $NA $NB; do
		nsx $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip -n $n link set lo up
	done
	ip link add va netns $NA address 02:00:00:00:00:01 type veth peer name vb netns $NB address 02:00:00:00:00:02
	nsx $NA ethtool -K va tso off gso off gro off >/dev/null
	nsx $NB ethtool -K vb tso off gso off gro off >/dev/null
	ip -n $NA addr add $CA/24 dev va
	ip -n $NB addr add $SB/24 dev vb
	ip -n $NA link set va up
	ip -n $NB link set vb up
	sleep 0.3
}

# cap NS IFACE NAME [tcpdump args]: capture to $OUT/NAME.pcap
cap() {
	local ns=$1 ifc=$2 f=$OUT/$3.pcap i
	shift 3
	ip netns exec "$ns" tcpdump -Z root -i "$ifc" -U -s 0 -nn --immediate-mode -w "$f" "$@" 2>/tmp/tfind_tcpdump.err &
	CAPS+=($!)
	for i in $(seq 1 200); do grep -q "listening on" /tmp/tfind_tcpdump.err 2>/dev/null && return 0; sleep 0.02; done
	return 1
}
# nskill: stop what this script started inside its namespaces (peers, tcpdump).
nskill() {
	local n p
	for n in $NA $NB $NR; do
		for p in $(ip netns pids $n 2>/dev/null); do kill "$@" "$p" 2>/dev/null || true; done
	done
}
done_case() {
	sleep 0.3
	local p
	for p in "${CAPS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
	for p in "${CAPS[@]}"; do wait "$p" 2>/dev/null || true; done
	sleep 0.2
	nskill -9
	for p in "${BG[@]}"; do wait "$p" 2>/dev/null || true; done
	CAPS=() BG=()
}

# nmap -O against a Linux listener: nmap's SEQ probes use base+i ISNs (flagged for
# the scanner as client); the Linux target's SYN-ACK ISNs (RFC 6528) are not flagged.
f_nmap_os() {
	ns_up
	bgpeer $NB listen 22
	waitfile /tmp/tfind_ready_22
	cap $NB vb nmap_os tcp
	nsx $NA nmap -O -v -n -p 22,9 --max-os-tries 1 $SB >/tmp/tfind_nmap.txt
	done_case
	cp /tmp/tfind_nmap.txt "$OUT/nmap_os.nmap.txt"
}

# SYN scan (nmap -sS) and connect scan (nmap -sT) of ports 1-100, three of them open.
f_scan_syn() {
	ns_up
	bgpeer $NB listen 22 25 80
	waitfile /tmp/tfind_ready_80
	cap $NB vb scan_syn tcp
	nsx $NA nmap -sS -n -p 1-100 $SB >/dev/null
	done_case
}
f_scan_connect() {
	ns_up
	bgpeer $NB listen 22 25 80
	waitfile /tmp/tfind_ready_80
	cap $NB vb scan_connect tcp
	nsx $NA nmap -sT -n -p 1-100 $SB >/dev/null
	done_case
}
# FIN, NULL and Xmas scans of ports 1-30.
f_scan_flags() {
	ns_up
	bgpeer $NB listen 22
	waitfile /tmp/tfind_ready_22
	cap $NB vb scan_flags tcp
	for t in -sF -sN -sX; do nsx $NA nmap $t -n -p 1-30 $SB >/dev/null; done
	done_case
}

# Negative control: 2000 clean request/response connections from one client to one
# service (client half-closes, server answers and closes), snaplen 96, gzip.
f_busy_clean() {
	ns_up
	bgpeer $NB serve 8080 echo
	waitfile /tmp/tfind_ready_8080
	cap $NB vb busy_clean -s 96 tcp
	peer $NA busy 8080 2000
	done_case
	gzip -9f "$OUT/busy_clean.pcap"
}

# Negative control for ISN analysis: a client behind a NAT router (iptables MASQUERADE),
# captured on both of the router's links and merged, as tcpdump -i any on a Docker host
# sees it. Every connection is there twice, before and after the translation, and
# Linux's NAT keeps the sequence numbers, so the server's SYN-ACKs show each of its ISNs
# twice. 40 request/response connections; the client is 10.96.0.1, the router
# 10.96.0.254 and 10.99.0.1. (tcpdump -i any on the router, with the other core busy,
# reported a quarter of the packets "dropped by kernel": -s 0 leaves its ring a handful of
# 256 KiB frames. The two captures dropped none.)
# router_up: the client (10.96.0.1) behind a router namespace (10.96.0.254 and 10.99.0.1)
# in front of the server (10.99.0.2), in place of ns_up's direct link.
router_up() {
	ns_up
	ip -n $NA link del va # and its peer vb: replaced by two routed links
	ip netns del $NR 2>/dev/null || true
	ip netns add $NR
	ip -n $NR link set lo up
	ip link add va netns $NA address 02:00:00:00:00:01 type veth peer name ra netns $NR address 02:00:00:00:00:03
	ip link add rb netns $NR address 02:00:00:00:00:04 type veth peer name vb netns $NB address 02:00:00:00:00:02
	nsx $NA ethtool -K va tso off gso off gro off >/dev/null
	nsx $NB ethtool -K vb tso off gso off gro off >/dev/null
	nsx $NR ethtool -K ra tso off gso off gro off >/dev/null
	nsx $NR ethtool -K rb tso off gso off gro off >/dev/null
	ip -n $NA addr add 10.96.0.1/24 dev va
	ip -n $NR addr add 10.96.0.254/24 dev ra
	ip -n $NR addr add $CA/24 dev rb
	ip -n $NB addr add $SB/24 dev vb
	for l in "$NA va" "$NR ra" "$NR rb" "$NB vb"; do ip -n ${l% *} link set ${l#* } up; done
	ip -n $NA route add default via 10.96.0.254
	nsx $NR sysctl -qw net.ipv4.ip_forward=1
}

f_nat_twice() {
	router_up
	nsx $NR iptables -t nat -A POSTROUTING -o rb -j MASQUERADE
	sleep 0.3
	bgpeer $NB serve 8080 echo
	waitfile /tmp/tfind_ready_8080
	cap $NR ra nat_twice_a tcp
	cap $NR rb nat_twice_b tcp
	peer $NA busy 8080 40
	done_case
	ip netns del $NR
	mergecap -F pcap -w "$OUT/nat_twice.pcap" "$OUT/nat_twice_a.pcap" "$OUT/nat_twice_b.pcap"
	rm "$OUT/nat_twice_a.pcap" "$OUT/nat_twice_b.pcap"
}

# tcpdump -i any on a router (no NAT): each forwarded packet is recorded twice, on the link
# it came in by and on the one it left by (TTL one lower), as on a Docker host's bridge.
# 20 request/response connections; -B 16384 so that tcpdump's ring drops nothing.
f_any_forwarded() {
	router_up
	ip -n $NB route add 10.96.0.0/24 via $CA
	sleep 0.3
	bgpeer $NB serve 8080 echo
	waitfile /tmp/tfind_ready_8080
	cap $NR any any_forwarded -B 16384 tcp
	peer $NA busy 8080 20
	done_case
	ip netns del $NR
}

# CLOSE-WAIT leak: four clients send and close; the server never closes, and its
# keep-alives (1 s) show it alive while it holds the sockets for 4 s.
f_close_wait_leak() {
	ns_up
	bgpeer $NB serve 8081 hold
	waitfile /tmp/tfind_ready_8081
	cap $NB vb close_wait_leak tcp
	HOLD=4 peer $NA leak 8081 4
	done_case
}

# Half-close exhaustion: one client opens 25 connections; the server closes each at
# once (FIN), the client never closes: 25 server sockets in FIN-WAIT-2.
f_half_close_exhaustion() {
	ns_up
	bgpeer $NB serve 8082 close
	waitfile /tmp/tfind_ready_8082
	cap $NB vb half_close_exhaustion tcp
	HOLD=30 bgpeer $NA exhaust 8082 25
	waitfile /tmp/tfind_connected
	sleep 1.5
	done_case
}

# FIN never acknowledged: the server's iptables drops segments with FIN; captured
# at the client, whose FIN is retransmitted for 7 s.
f_fin_unacked() {
	ns_up
	bgpeer $NB serve 8083 hold
	waitfile /tmp/tfind_ready_8083
	nsx $NB iptables -A INPUT -p tcp --dport 8083 --tcp-flags FIN FIN -j DROP
	cap $NA va fin_unacked tcp
	HOLD=7 peer $NA finclose 8083
	done_case
}

# Zero-window stall: the server (SO_RCVBUF 4096) never reads; the client writes
# for 60 s; Linux probes the zero window with backoff.
f_zero_window_stall() {
	ns_up
	bgpeer $NB serve 8084 norecv
	waitfile /tmp/tfind_ready_8084
	cap $NB vb zero_window_stall -s 96 tcp
	HOLD=60 peer $NA flood 8084 400000
	done_case
}

# Dead peer behind a zero window: as above, captured at the client; 1.5 s in, B's
# INPUT drops everything, so the client's zero-window probes go unanswered.
f_zero_window_peer_dead() {
	ns_up
	bgpeer $NB serve 8094 norecv
	waitfile /tmp/tfind_ready_8094
	cap $NA va zero_window_peer_dead -s 96 tcp
	HOLD=8 bgpeer $NA flood 8094 400000
	sleep 1.5
	nsx $NB iptables -A INPUT -p tcp --dport 8094 -j DROP
	wait "${BG[-1]}" || true
	done_case
}

# Keep-alives: an idle connection probed every second and answered (6 s), then the
# same with the server's namespace dropping everything after the connection is up.
f_keepalive_idle() {
	ns_up
	bgpeer $NB serve 8085 keep
	waitfile /tmp/tfind_ready_8085
	cap $NB vb keepalive_idle tcp
	HOLD=6 peer $NA keepalive 8085
	done_case
}
f_keepalive_unanswered() {
	ns_up
	bgpeer $NB serve 8086 keep
	waitfile /tmp/tfind_ready_8086
	cap $NA va keepalive_unanswered tcp
	HOLD=6 bgpeer $NA keepalive 8086
	waitfile /tmp/tfind_connected
	sleep 0.3
	nsx $NB iptables -A INPUT -p tcp --dport 8086 -j DROP
	wait "${BG[-1]}" || true
	done_case
}

# SYN with data: hping3 sends a SYN with 64 bytes to a Linux listener; TCP Fast
# Open (tcp_fastopen=1 client, 2 server) is the negative control.
f_syn_with_data() {
	ns_up
	bgpeer $NB listen 8087
	waitfile /tmp/tfind_ready_8087
	cap $NB vb syn_with_data tcp
	nsx $NA hping3 -S -d 64 -p 8087 -s 40087 -c 1 $SB >/dev/null 2>&1 || true
	done_case
}
f_tfo_clean() {
	ns_up
	nsx $NA sysctl -qw net.ipv4.tcp_fastopen=1
	nsx $NB sysctl -qw net.ipv4.tcp_fastopen=2
	bgpeer $NB serve 8088 tfo
	waitfile /tmp/tfind_ready_8088
	cap $NB vb tfo_clean tcp
	peer $NA tfo 8088
	done_case
}

# Split handshake: a scapy server answers the Linux client's SYN with a bare SYN;
# the Linux client sends the SYN-ACK (RFC 9293 simultaneous-open rules).
f_split_handshake() {
	ns_up
	nsx $NB iptables -A OUTPUT -p tcp --sport 7100 --tcp-flags RST RST -j DROP
	bgpeer $NB split split_server 7100
	waitfile /tmp/tfind_ready_7100
	sleep 1
	cap $NB vb split_handshake tcp
	peer $NA connect 7100
	done_case
}

# Crafted client segments against a Linux server (scapy in A, A's kernel RSTs dropped):
# a 1000-byte segment to a server that announced MSS 536; an ACK of 100000 bytes the
# server never sent (its next data starts below it); a window that shrinks.
crafted_case() {
	local name=$1 port=$2 kind=$3 fn=$4
	ns_up
	nsx $NA iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
	bgpeer $NB serve "$port" "$kind"
	waitfile /tmp/tfind_ready_$port
	cap $NB vb "$name" tcp
	peer $NA crafted "$fn" "$port"
	done_case
}
f_mss_exceeded() { crafted_case mss_exceeded 8089 mss536 mss; }
f_ack_unseen_data() { crafted_case ack_unseen_data 8090 greet ackunseen; }
f_window_recision() { crafted_case window_recision 8091 greet recision; }
# A RST+FIN+ACK at the server's RCV.NXT (Linux resets the connection: RST is checked
# before FIN) and the client's SYN sent again on the established connection (Linux
# answers with a challenge ACK).
f_rst_fin() { crafted_case rst_fin 8095 greet rstfin; }
f_syn_resend() { crafted_case syn_resend 8097 greet synresend; }
# An ACK 100000 bytes below the client's previous ACK: under SND.UNA - MAX.SND.WND.
f_ack_out_of_range() { crafted_case ack_out_of_range 8102 greet ackold; }
f_time_wait_syn_rejected() { crafted_case time_wait_syn_rejected 8103 close twreject; }
# A blind reset sweep: 1100 out-of-window RSTs from the client, back to back.
f_rst_storm() { crafted_case rst_storm 8107 greet rststorm; }

# Slow half-close reply: the client sends a request and shuts down its side
# (SHUT_WR); the server reads to EOF, thinks for 3 s, answers and closes.
f_half_close_slow() {
	ns_up
	nsx $NB $PY -c '
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.99.0.2", 8098)); l.listen(1); open("/tmp/tfind_ready_8098", "w").close()
c, _ = l.accept()
while c.recv(4096): pass
time.sleep(3); c.sendall(b"r" * 200); c.close(); time.sleep(0.5)' & BG+=($!)
	waitfile /tmp/tfind_ready_8098
	cap $NB vb half_close_slow tcp
	nsx $NA $PY -c '
import socket
c = socket.create_connection(("10.99.0.2", 8098)); c.sendall(b"q" * 50); c.shutdown(socket.SHUT_WR)
while c.recv(4096): pass
c.close()'
	done_case
}

# Late segments in TIME-WAIT: the client sends 50 bytes and closes first; the server
# reads to EOF and closes. B's INPUT drops the client's pure ACKs for 1.5 s, so the
# final ACK is lost: the server retransmits its FIN into the client's TIME-WAIT and
# the client re-ACKs each one until the rule is gone.
f_time_wait_late() {
	ns_up
	nsx $NB $PY -c '
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.99.0.2", 8099)); l.listen(1); open("/tmp/tfind_ready_8099", "w").close()
c, _ = l.accept()
while c.recv(4096): pass
c.close(); time.sleep(5)' & BG+=($!)
	waitfile /tmp/tfind_ready_8099
	nsx $NB iptables -A INPUT -p tcp --dport 8099 --tcp-flags SYN,FIN,RST,PSH,ACK ACK -m length --length 52 -j DROP
	cap $NB vb time_wait_late tcp
	nsx $NA $PY -c '
import socket
c = socket.create_connection(("10.99.0.2", 8099)); c.sendall(b"q" * 50); c.close()'
	sleep 1.5
	nsx $NB iptables -F INPUT
	sleep 3
	done_case
}

# FIN-WAIT-2 with a dead peer: the client sends 5 bytes and shuts down its side
# (SHUT_WR) keeping the socket, with 1 s keep-alives; the server holds the
# connection without closing; once the client is in FIN-WAIT-2, B's INPUT drops
# everything, so the client's keep-alives go unanswered. Capture on va (A).
f_fin_wait2_peer_dead() {
	ns_up
	bgpeer $NB serve 8100 keep
	waitfile /tmp/tfind_ready_8100
	cap $NA va fin_wait2_peer_dead tcp
	nsx $NA $PY -c '
import socket, time
c = socket.create_connection(("10.99.0.2", 8100))
c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 5)
c.sendall(b"hello"); c.shutdown(socket.SHUT_WR)
open("/tmp/tfind_connected", "w").close(); time.sleep(7)' & BG+=($!)
	waitfile /tmp/tfind_connected
	sleep 0.3
	nsx $NB iptables -A INPUT -p tcp --dport 8100 -j DROP
	wait "${BG[-1]}" || true
	done_case
}

# TTL shift: the kernel client writes a line every 0.2 s for 3 s; 1 s in, A's default
# TTL goes from 64 to 50 (a route change, as seen from the server's side).
f_ttl_shift() {
	ns_up
	bgpeer $NB serve 8101 hold
	waitfile /tmp/tfind_ready_8101
	cap $NB vb ttl_shift tcp
	bgpeer $NA chatty 8101
	sleep 1
	nsx $NA sysctl -qw net.ipv4.ip_default_ttl=50
	wait "${BG[-1]}" || true
	done_case
}

# SYN+URG: hping3 sends a SYN with URG to a Linux listener, which answers it with a
# SYN-ACK (A's kernel resets it: hping3 opened no socket).
f_syn_urg() {
	ns_up
	bgpeer $NB listen 8096
	waitfile /tmp/tfind_ready_8096
	cap $NB vb syn_urg tcp
	nsx $NA hping3 -S -U -p 8096 -s 40096 -c 1 $SB >/dev/null 2>&1 || true
	done_case
}

# RST injection: scapy in A forges the client's RST to the server (exact sequence
# number, TTL 50, IP ID off the run) while the real Linux client keeps writing.
f_rst_injection() {
	ns_up
	bgpeer $NB serve 8093 hold
	waitfile /tmp/tfind_ready_8093
	cap $NB vb rst_injection tcp
	bgpeer $NA crafted inject 8093
	waitfile /tmp/tfind_injector
	sleep 0.5
	peer $NA chatty 8093
	done_case
}

# Challenge ACK: the kernel client writes a line every 0.2 s to a server that only
# ACKs; scapy in B forges the server's RST inside the client's window but 1000 past
# its RCV.NXT, IP ID continuing the server's run: Linux's client answers with a
# challenge ACK (RFC 5961 §3.2) and goes on. rst_injection_challenge forges it at
# TTL 63 where the server's segments have 64, and the server's next ACKs are back
# at 64; rst_injection_route_change forges it at TTL 50 and moves B's default TTL
# to 50 at once, so the server's later segments keep the RST's TTL (a route change).
injection_case() {
	local name=$1 port=$2 mode=$3
	ns_up
	bgpeer $NB serve "$port" hold
	waitfile /tmp/tfind_ready_$port
	cap $NB vb "$name" tcp
	bgpeer $NB crafted challenge "$port" "$mode"
	waitfile /tmp/tfind_injector
	peer $NA chatty "$port"
	done_case
}
f_rst_injection_challenge() { injection_case rst_injection_challenge 8108 back; }
f_rst_injection_route_change() { injection_case rst_injection_route_change 8109 route; }

# Global incremental IP-ID (an idle-scan zombie candidate): a scapy responder in B
# answers SYNs to port 7200 with SYN-ACKs and SYNs to 7201-7203 with RST+ACKs, all
# from one IP ID counter (+1 a reply; B's kernel RSTs dropped); hping3 in A sends
# SYNs to 7200-7203 from 10.99.0.1, then from 10.99.0.3 (a second address of A).
f_ipid_incremental() {
	ns_up
	ip -n $NA addr add 10.99.0.3/24 dev va
	nsx $NB iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
	bgpeer $NB crafted zombie 7200
	waitfile /tmp/tfind_ready_7200
	cap $NB vb ipid_incremental tcp
	nsx $NA hping3 -S -p ++7200 -c 4 -i u200000 $SB >/dev/null 2>&1 || true
	nsx $NA hping3 -a 10.99.0.3 -S -p ++7200 -c 4 -i u200000 $SB >/dev/null 2>&1 || true
	done_case
}

# Offload negative control: TSO/GSO left on at the sender, captured at the sender:
# 64 KB super-segments larger than the MSS.
f_offload_tso() {
	ns_up
	nsx $NA ethtool -K va tso on gso on >/dev/null
	bgpeer $NB serve 8092 echo
	waitfile /tmp/tfind_ready_8092
	cap $NA va offload_tso -s 96 tcp
	$PY - <<'PY' | nsx $NA $PY -c 'import sys,socket; c=socket.create_connection(("10.99.0.2",8092)); c.sendall(sys.stdin.buffer.read()); c.shutdown(socket.SHUT_WR); [None for _ in iter(lambda: c.recv(4096), b"")]'
import sys; sys.stdout.buffer.write(b"t" * 2000000)
PY
	done_case
}

# ICMP reject: B's firewall rejects SYNs with ICMP instead of RST (iptables REJECT):
# port unreachable on 8104, admin prohibited on 8105, and over IPv6 icmp6-adm-prohibited
# on 8106; A's Linux client connect()s to each once and gets ECONNREFUSED/EHOSTUNREACH.
f_conn_rejected_icmp() {
	ns_up
	for n in $NA $NB; do nsx $n sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0; done
	nsx $NA sysctl -qw net.ipv6.conf.va.disable_ipv6=0
	nsx $NB sysctl -qw net.ipv6.conf.vb.disable_ipv6=0
	ip -n $NA addr add fd99::1/64 dev va nodad
	ip -n $NB addr add fd99::2/64 dev vb nodad
	nsx $NB iptables -A INPUT -p tcp --dport 8104 -j REJECT --reject-with icmp-port-unreachable
	nsx $NB iptables -A INPUT -p tcp --dport 8105 -j REJECT --reject-with icmp-admin-prohibited
	nsx $NB ip6tables -A INPUT -p tcp --dport 8106 -j REJECT --reject-with icmp6-adm-prohibited
	cap $NB vb conn_rejected_icmp 'tcp or icmp or (icmp6 and ip6[40] == 1)'
	nsx $NA $PY - <<'PY'
import socket
for fam, host, port in ((socket.AF_INET, "10.99.0.2", 8104), (socket.AF_INET, "10.99.0.2", 8105), (socket.AF_INET6, "fd99::2", 8106)):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
    except OSError as e:
        print(port, e.errno)
    s.close()
PY
	done_case
}

# Crafted single-connection cases against a Linux server (scapy in A, A's kernel RSTs
# dropped; crafted_case above): a SYN+RST to the listener (discarded in LISTEN); a
# SYN with a new ISN on an established connection (challenge ACK); a RST carrying
# 20 bytes of text at RCV.NXT (Linux resets); 10 bytes sent after the client's FIN;
# the client's FIN repeated 1000 further along.
f_syn_rst() { crafted_case syn_rst 8110 greet synrst; }
f_syn_on_established() { crafted_case syn_on_established 8112 greet synest; }
f_rst_with_data() { crafted_case rst_with_data 8113 greet rstdata; }
f_data_after_fin() { crafted_case data_after_fin 8114 greet dataafterfin; }
f_fin_seq_changed() { crafted_case fin_seq_changed 8115 greet finseq; }

# Half-open: hping3 sends one SYN to a Linux listener (B's SYN-ACK retries capped at
# 1); A's kernel RSTs are dropped, so the SYN-ACK and its one retransmission are
# never answered.
f_half_open() {
	ns_up
	nsx $NA iptables -A OUTPUT -p tcp --tcp-flags RST RST -j DROP
	nsx $NB sysctl -qw net.ipv4.tcp_synack_retries=1
	bgpeer $NB listen 8116
	waitfile /tmp/tfind_ready_8116
	cap $NB vb half_open tcp
	nsx $NA hping3 -S -p 8116 -s 40516 -c 1 $SB >/dev/null 2>&1 || true
	sleep 1.5
	done_case
}

# A scapy server in B (B's kernel RSTs dropped) answers a Linux client's SYNs:
# invalid_rst_to_syn leaves the first SYN unanswered and answers its retransmission
# with a RST without ACK (ignored by the client) and at once a RST+ACK (refused);
# syn_seq_jump answers the SYN with a SYN-ACK and 0.2 s later with the SYN-ACK again
# under another ISN (the Linux client, already established, answers with an ACK),
# and goes on with the first.
bad_server_case() {
	local name=$1 port=$2 mode=$3
	ns_up
	nsx $NB iptables -A OUTPUT -p tcp --sport "$port" --tcp-flags RST RST -j DROP
	bgpeer $NB crafted bad_server "$port" "$mode"
	waitfile /tmp/tfind_ready_$port
	sleep 1
	cap $NB vb "$name" tcp
	peer $NA connect "$port" 2>/dev/null || true
	done_case
}
f_invalid_rst_to_syn() { bad_server_case invalid_rst_to_syn 8118 rstnoack; }
f_syn_seq_jump() { bad_server_case syn_seq_jump 8111 isnjump; }

# SYN-ACK with a wrong ACK, kept small: the scapy server in B (B's kernel RSTs dropped)
# answers a Linux client's SYN on :8122 with a SYN-ACK acknowledging ISN-999; the
# client resets it at that ACK (RFC 9293 §3.10.7.3) and sends its SYN again at once,
# which gets no answer; the capture stops 0.5 s in. (A SYN-ACK after the RST would
# start a new connection for Ostermann's tcptrace and break TestStatsMatchOstermann.)
f_synack_wrong_ack() {
	ns_up
	nsx $NB iptables -A OUTPUT -p tcp --sport 8122 --tcp-flags RST RST -j DROP
	bgpeer $NB crafted bad_server 8122 wrongonly
	waitfile /tmp/tfind_ready_8122
	sleep 1
	cap $NB vb synack_wrong_ack tcp
	bgpeer $NA connect 8122
	sleep 0.5
	done_case
}

# Constant ISN: scapy in A sends ten SYNs with ISN 0x12345678 from ten addresses of
# A (10.99.0.10-19, one each) to a Linux listener; A's kernel resets the SYN-ACKs.
f_crafted_constant_isn() {
	ns_up
	for i in $(seq 10 19); do ip -n $NA addr add 10.99.0.$i/24 dev va; done
	bgpeer $NB listen 8119
	waitfile /tmp/tfind_ready_8119
	cap $NB vb crafted_constant_isn tcp
	peer $NA crafted constisn 8119
	done_case
}

# SYN flood: hping3 sends 250 SYNs from random source addresses, 2 ms apart, to a
# Linux listener; B has no route back to them, so no SYN-ACK leaves.
f_syn_flood() {
	ns_up
	bgpeer $NB listen 8120
	waitfile /tmp/tfind_ready_8120
	cap $NB vb syn_flood tcp
	nsx $NA hping3 --rand-source -S -p 8120 -c 250 -i u2000 $SB >/dev/null 2>&1 || true
	done_case
}

# Delayed close in CLOSE-WAIT: the client sends 50 bytes and shuts down its side
# (SHUT_WR); the server reads to EOF, stays silent for 3 s and closes without
# answering (tested with --half-close-idle 2).
f_close_wait_delayed() {
	ns_up
	nsx $NB $PY -c '
import socket, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.99.0.2", 8121)); l.listen(1); open("/tmp/tfind_ready_8121", "w").close()
c, _ = l.accept()
while c.recv(4096): pass
time.sleep(3); c.close(); time.sleep(0.5)' & BG+=($!)
	waitfile /tmp/tfind_ready_8121
	cap $NB vb close_wait_delayed tcp
	nsx $NA $PY -c '
import socket
c = socket.create_connection(("10.99.0.2", 8121)); c.sendall(b"q" * 50); c.shutdown(socket.SHUT_WR)
while c.recv(4096): pass
c.close()'
	done_case
}

cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(nmap_os scan_syn scan_connect scan_flags busy_clean nat_twice any_forwarded close_wait_leak half_close_exhaustion fin_unacked zero_window_stall keepalive_idle keepalive_unanswered syn_with_data tfo_clean split_handshake mss_exceeded ack_unseen_data window_recision offload_tso rst_injection zero_window_peer_dead rst_fin syn_urg syn_resend half_close_slow time_wait_late fin_wait2_peer_dead ttl_shift ack_out_of_range time_wait_syn_rejected conn_rejected_icmp rst_storm rst_injection_challenge rst_injection_route_change ipid_incremental syn_rst syn_seq_jump syn_on_established rst_with_data data_after_fin fin_seq_changed half_open invalid_rst_to_syn synack_wrong_ack crafted_constant_isn syn_flood close_wait_delayed)
for c in "${cases[@]}"; do
	echo "== $c" >&2
	"f_$c"
done
