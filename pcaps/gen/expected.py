#!/usr/bin/python3
"""Write pcaps/expected.json from the kernel ground truth (<case>.kernel.txt) and the pcaps.

usage: expected.py PCAPS_DIR

Per connection the endpoint state sequences are derived from the sock:inet_sock_set_state
lines of the case (RFC 9293 spelling), with one correction the tracepoint cannot show:
when Linux replaces a FIN-WAIT-2 or CLOSING socket by a timewait sock the trace says
X->CLOSE; if an `ss -tan` snapshot of the case shows the tuple in TIME-WAIT, the
sequence says TIME-WAIT (and CLOSED after it when a later snapshot no longer shows it).
Each derived sequence is checked against the intended one below ("want"); the close
kind (three_way / four_way) is checked on the wire with tshark. Packet counts per
direction come from `tshark -q -z conv,tcp`. Exits 1 on any mismatch.
"""
import json
import os
import re
import subprocess
import sys

NAMES = {
    "TCP_CLOSE": "CLOSED", "TCP_LISTEN": "LISTEN", "TCP_SYN_SENT": "SYN-SENT",
    "TCP_SYN_RECV": "SYN-RECEIVED", "TCP_ESTABLISHED": "ESTABLISHED",
    "TCP_FIN_WAIT1": "FIN-WAIT-1", "TCP_FIN_WAIT2": "FIN-WAIT-2", "TCP_CLOSE_WAIT": "CLOSE-WAIT",
    "TCP_CLOSING": "CLOSING", "TCP_LAST_ACK": "LAST-ACK", "TCP_TIME_WAIT": "TIME-WAIT",
    "TCP_NEW_SYN_RECV": "SYN-RECEIVED",
}
SS_NAMES = {"ESTAB": "ESTABLISHED", "SYN-RECV": "SYN-RECEIVED"}

C4 = ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]  # active closer
S4 = ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]  # passive closer
C_PASSIVE = ["CLOSED", "SYN-SENT", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
S_ACTIVE = ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"]

FOURWAY_HOW = ("request/response; the client closes after reading, the server closes 0.2 s after EOF "
               "(its delayed ACK of the client's FIN goes first)")


def conn(c, s, hs, cl, want_c, want_s, **kw):
    d = dict(client=c, server=s, handshake=hs, close=cl, want_client=want_c, want_server=want_s)
    d.update(kw)
    return d


def clean(name, pcap, cport, sport, how, cip="10.99.0.1", sip="10.99.0.2", kernel=None):
    fmt = "[%s]:%d" if ":" in cip else "%s:%d"
    return dict(name=name, pcap=pcap, kernel=kernel or name, how=how,
                connections=[conn(fmt % (cip, cport), fmt % (sip, sport), "three_way", "four_way", C4, S4)])


CASES = [
    clean("handshake_clean_4way", "handshake_clean_4way.pcap", 40001, 8001, FOURWAY_HOW),
    dict(name="close_3way", pcap="close_3way.pcap", how=(
        "request/response; the client closes after reading; the server closes immediately on EOF, "
        "so its FIN carries the still-delayed ACK of the client's FIN"),
        connections=[conn("10.99.0.1:40002", "10.99.0.2:8002", "three_way", "three_way",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT"], S4,
                          note="Linux passes FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT within the one FIN+ACK segment "
                               "(RFC 9293: FIN-WAIT-1 -> TIME-WAIT directly)")]),
    dict(name="half_close_data", pcap="half_close_data.pcap", how=(
        "client sends a request then shutdown(SHUT_WR); the server sends 4 x 700 bytes 50 ms apart "
        "after the client's FIN, then closes"),
        connections=[conn("10.99.0.1:40003", "10.99.0.2:8003", "three_way", "four_way", C4, S4, half_close=True,
                     note="data flows server->client after the client's FIN (half-close), then a 4-way close")]),
    dict(name="simultaneous_close", pcap="simultaneous_close.pcap", how=(
        "both ends shutdown(SHUT_WR) together under a 0.3 s INPUT drop window; the retransmitted FINs "
        "cross (first FINs and one retransmission dropped on arrival), both go through CLOSING"),
        connections=[conn("10.99.0.1:40004", "10.99.0.2:8004", "three_way", "simultaneous",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT"],
                          ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT"])]),
    dict(name="simultaneous_open", pcap="simultaneous_open.pcap", how=(
        "both ends bind port 6005 and connect to each other; the first SYNs are dropped on arrival, "
        "the 1 s retransmissions cross; then ping/pong, A closes, B closes 0.2 s after EOF"),
        connections=[conn("10.99.0.1:6005", "10.99.0.2:6005", "simultaneous_open", "four_way",
                          ["CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
                           "TIME-WAIT"],
                          ["CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK",
                           "CLOSED"],
                          note="no listener: 'client' is 10.99.0.1 (A, closes first), 'server' is 10.99.0.2 (B)")]),
    dict(name="refused", pcap="refused.pcap", how="connect to a port with no listener: SYN answered by RST+ACK",
         connections=[conn("10.99.0.1:40006", "10.99.0.2:8006", "incomplete", "refused",
                           ["CLOSED", "SYN-SENT", "CLOSED"], ["CLOSED"],
                           note="also the only RST-in-SYN-SENT case Linux produces (rst_syn_sent == refused)")]),
    dict(name="unanswered_syn", pcap="unanswered_syn.pcap", how=(
        "iptables DROP on the server's INPUT; connect() with a 4 s timeout: SYN at 0 s and "
        "retransmissions at 1, 2, 3 s (tcp_syn_linear_timeouts=4), then close()"),
        connections=[conn("10.99.0.1:40007", "10.99.0.2:8007", "incomplete", "unanswered",
                          ["CLOSED", "SYN-SENT", "CLOSED"], ["LISTEN"],
                          deviation="connect() gave up at 4 s, after the capture's last packet (the 3 s SYN): "
                                    "nothing on the wire shows it, and the SYNs were dropped before the listener "
                                    "saw them, so the observer knows nothing of the server",
                          observer_client_states=["CLOSED", "SYN-SENT"], observer_server_states=["UNKNOWN"],
                          observer_final_client="SYN-SENT", observer_final_server="UNKNOWN",
                          note="the server listens but never sees the SYNs (dropped after the capture point)")]),
    dict(name="rst_established", pcap="rst_established.pcap", how=(
        "ping/pong, then the client closes with SO_LINGER {1,0}: RST+ACK from ESTABLISHED"),
        connections=[conn("10.99.0.1:40008", "10.99.0.2:8008", "three_way", "reset",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "CLOSED"],
                          ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSED"])]),
    dict(name="rst_close_wait", pcap="rst_close_wait.pcap", how=(
        "client shutdown(SHUT_WR) (keeps the fd: full FIN-WAIT-2 socket); the server reads EOF and 0.2 s "
        "later closes with SO_LINGER {1,0}: RST from CLOSE-WAIT, received in FIN-WAIT-2"),
        connections=[conn("10.99.0.1:40009", "10.99.0.2:8009", "three_way", "reset",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSED"],
                          ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "CLOSED"])]),
    dict(name="rst_fin_wait1", pcap="rst_fin_wait1.pcap", how=(
        "the server's pure ACKs are dropped in its OUTPUT chain (never on the wire); the client's FIN "
        "(retransmitted twice) stays unacknowledged; 0.5 s later the client closes with SO_LINGER {1,0}: "
        "RST from FIN-WAIT-1"),
        connections=[conn("10.99.0.1:40010", "10.99.0.2:8010", "three_way", "reset",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "CLOSED"],
                          ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "CLOSED"])]),
    dict(name="rst_fin_wait2", pcap="rst_fin_wait2.pcap", how=(
        "the client sends a request and close()s at once (orphaned FIN-WAIT-2); 0.3 s later the server "
        "sends a reply, the client answers with a bare RST (new data after a half-duplex close)"),
        connections=[conn("10.99.0.1:40011", "10.99.0.2:8011", "three_way", "reset",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSED"],
                          ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "CLOSED"], half_close=True,
                          note="the server's reply after the client's FIN is a half-close in use; "
                               "Linux turns the orphaned FIN-WAIT-2 socket into a timewait sock when the ACK "
                               "of its FIN arrives (trace FIN_WAIT2->CLOSE then; ss still shows FIN-WAIT-2)")]),
    dict(name="rst_fin_wait2_timeout", pcap="rst_fin_wait2_timeout.pcap", how=(
        "recipe 2: tcp_fin_timeout=3 in the client namespace; the client closes, the server holds "
        "CLOSE-WAIT 6 s then closes; the client's FIN-WAIT-2 expired silently at 3 s, so the server's FIN "
        "is answered by a bare RST"),
        connections=[conn("10.99.0.1:40012", "10.99.0.2:8012", "three_way", "reset",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSED"],
                          ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"],
                          note="the client's CLOSED is silent (FIN-WAIT-2 timeout, 3 s); its RST at 6 s comes "
                               "from no socket")]),
    dict(name="rst_syn_received", pcap="rst_syn_received.pcap", how=(
        "the SYN-ACK is dropped on arrival in the client; the client gives up after 0.5 s (close in "
        "SYN-SENT sends nothing); the server's retransmitted SYN-ACK (1 s) is answered by RST"),
        connections=[conn("10.99.0.1:40013", "10.99.0.2:8013", "incomplete", "reset",
                          ["CLOSED", "SYN-SENT", "CLOSED"], ["LISTEN", "SYN-RECEIVED", "LISTEN"],
                          note="server side is a request sock (not traced); ss showed SYN-RECV, then only "
                               "LISTEN; RFC 9293: RST in SYN-RECEIVED from a passive OPEN returns to LISTEN")]),
    dict(name="rst_syn_received_simopen", pcap="rst_syn_received_simopen.pcap", how=(
        "simultaneous open on port 6014 with every SYN-ACK dropped on arrival: both full sockets sit in "
        "SYN-RECEIVED; A closes with SO_LINGER {1,0}: RST+ACK from SYN-RECEIVED"),
        connections=[conn("10.99.0.1:6014", "10.99.0.2:6014", "simultaneous_open", "reset",
                          ["CLOSED", "SYN-SENT", "SYN-RECEIVED", "CLOSED"],
                          ["CLOSED", "SYN-SENT", "SYN-RECEIVED", "CLOSED"],
                          deviation="both SYN-ACKs are on the wire and were dropped only on arrival (iptables "
                                    "INPUT, after the capture point): from the wire both sides completed the "
                                    "simultaneous open before the RST",
                          observer_client_states=["CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "CLOSED"],
                          observer_server_states=["CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "CLOSED"],
                          note="crossing SYNs then SYN-ACKs on the wire; B received the RST in SYN-RECEIVED "
                               "(active-open side: to CLOSED)")]),
    dict(name="rst_last_ack", pcap="rst_last_ack.pcap", how=(
        "the client half-closes, then its pure ACKs are dropped in its OUTPUT chain; the server (request "
        "never read) half-closes -> LAST-ACK, the client enters TIME-WAIT but its ACK is lost; the server's "
        "close() with unread data sends RST+ACK from LAST-ACK, which kills the client's TIME-WAIT"),
        connections=[conn("10.99.0.1:40015", "10.99.0.2:8015", "three_way", "reset",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"],
                          ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"],
                          note="also RST received in TIME-WAIT (tcp_rfc1337=0: TIME-WAIT assassination); the "
                               "client's ACK of the server's FIN never reached the wire")]),
    dict(name="rst_closing", pcap="rst_closing.pcap", how=(
        "simultaneous close as in simultaneous_close, with every pure ACK dropped in OUTPUT on both sides, "
        "so both stay in CLOSING; the client has 21 unread bytes, its close() sends RST+ACK from CLOSING"),
        connections=[conn("10.99.0.1:40016", "10.99.0.2:8016", "three_way", "reset",
                          ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "CLOSING", "CLOSED"],
                          ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "CLOSING", "CLOSED"],
                          note="the ACKs of the crossing FINs never reached the wire")]),
    dict(name="time_wait_reuse", pcap="time_wait_reuse.pcap", how=(
        "recipe 5: the server closes first (TIME-WAIT); 0.3 s later the client rebinds port 40017 and "
        "reconnects: the new SYN reuses the 4-tuple while the server is in TIME-WAIT"),
        connections=[
            conn("10.99.0.1:40017", "10.99.0.2:8017", "three_way", "three_way", C_PASSIVE,
                 ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"],
                 server_tail=["TIME-WAIT", "CLOSED"],
                 note="first connection; the server's TIME-WAIT (seen by ss) is ended by the reusing SYN"),
            conn("10.99.0.1:40017", "10.99.0.2:8017", "three_way", "three_way", C_PASSIVE, S_ACTIVE,
                 note="second connection on the same 4-tuple")]),
    dict(name="retransmit_syn", pcap="retransmit_syn.pcap", how=(
        "the first SYN is dropped on arrival in the server (iptables statistic nth); the client "
        "retransmits it after 1 s; then the handshake_clean_4way exchange"),
        connections=[conn("10.99.0.1:40018", "10.99.0.2:8018", "three_way", "four_way", C4, S4)]),
    dict(name="retransmit_synack", pcap="retransmit_synack.pcap", how=(
        "the first SYN-ACK is dropped on arrival in the client; after 1 s the server retransmits it "
        "(timer), the client retransmits its SYN, and the server answers that with another SYN-ACK"),
        connections=[conn("10.99.0.1:40019", "10.99.0.2:8019", "three_way", "four_way", C4, S4)]),
    dict(name="retransmit_fin", pcap="retransmit_fin.pcap", how=(
        "the client's first FIN is dropped on arrival in the server; the client retransmits it after "
        "the RTO (~200 ms); then the server ACKs and closes"),
        connections=[conn("10.99.0.1:40020", "10.99.0.2:8020", "three_way", "four_way", C4, S4)]),
    dict(name="missed_handshake_ack", pcap="missed_handshake_ack.pcap", kernel="handshake_clean_4way", how=(
        "handshake_clean_4way.pcap with the client's third handshake segment (pure ACK) deleted by editcap"),
        connections=[conn("10.99.0.1:40001", "10.99.0.2:8001", "three_way", "four_way", C4, S4,
                          note="the client's request (next frame, PSH+ACK) is the first captured segment "
                               "acknowledging the SYN-ACK")]),
    dict(name="missed_fin_ack", pcap="missed_fin_ack.pcap", kernel="handshake_clean_4way", how=(
        "handshake_clean_4way.pcap with the server's pure ACK of the client's FIN deleted by editcap"),
        connections=[conn("10.99.0.1:40001", "10.99.0.2:8001", "three_way", "four_way", C4, S4, wire_check=False,
                          observer_close="three_way",
                          note="the kernel closed 4-way; with the ACK deleted, the server's FIN (0.2 s later) is "
                               "the first captured segment acknowledging the client's FIN")]),
    dict(name="missed_fin", pcap="missed_fin.pcap", kernel="handshake_clean_4way", how=(
        "handshake_clean_4way.pcap with the client's FIN deleted by editcap"),
        connections=[conn("10.99.0.1:40001", "10.99.0.2:8001", "three_way", "four_way", C4, S4, wire_check=False,
                          note="the kernel closed 4-way; with the FIN deleted, the server's pure ACK one past "
                               "the client's data is the only sign of it, and the client's FIN-WAIT-1 is inferred")]),
    dict(name="midstream", pcap="midstream.pcap", how=(
        "the server sends a line every 100 ms for 2.5 s; tcpdump starts 0.8 s into the connection; the "
        "server closes, the client's FIN carries the ACK of the server's FIN"),
        connections=[conn("10.99.0.1:40022", "10.99.0.2:8022", "midstream", "three_way", C_PASSIVE, S_ACTIVE,
                          deviation="the capture starts after the handshake: the observer's timelines begin at "
                                    "the pickup and must equal the kernel's from ESTABLISHED on",
                          observer_client_states=["UNKNOWN", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"],
                          observer_server_states=["UNKNOWN", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
                                                  "TIME-WAIT"],
                          note="capture starts mid-connection: the handshake and first data are not in the pcap")]),
    clean("ipv6_clean", "ipv6_clean.pcap", 40023, 8023, "IPv6 (fd00:99::/64, nodad); " + FOURWAY_HOW,
          cip="fd00:99::1", sip="fd00:99::2"),
    clean("vlan_clean", "vlan_clean.pcap", 40024, 8024,
          "veth capture re-tagged with 802.1Q VLAN 100 by gen/vlan_tag.py (no 8021q in this kernel); "
          + FOURWAY_HOW),
    clean("qinq_clean", "qinq_clean.pcap", 40025, 8025,
          "veth capture re-tagged with 802.1ad S-tag 200 + 802.1Q C-tag 100 by gen/vlan_tag.py; "
          + FOURWAY_HOW),
    clean("sll_any", "sll_any.pcap", 40026, 8026, "tcpdump -i any -y LINUX_SLL in the server namespace; "
          + FOURWAY_HOW),
    clean("sll2_any", "sll2_any.pcap", 40027, 8027, "tcpdump -i any (LINUX_SLL2) in the server namespace; "
          + FOURWAY_HOW),
    clean("pcapng_clean", "pcapng_clean.pcapng", 40028, 8028, "veth capture converted with editcap -F pcapng; "
          + FOURWAY_HOW),
    clean("loopback", "loopback.pcap", 40029, 8029, "127.0.0.1 on lo inside one namespace (MSS 65495); "
          + FOURWAY_HOW, cip="127.0.0.1", sip="127.0.0.1"),
    dict(name="pcapng_multi_iface", pcap="pcapng_multi_iface.pcapng", how=(
        "mergecap of two simultaneous captures in the server namespace: interface 0 = vb (EN10MB) with "
        "connection 1, interface 1 = any (LINUX_SLL2, filter host 127.0.0.1) with connection 2 on lo; "
        + FOURWAY_HOW),
        connections=[conn("10.99.0.1:40030", "10.99.0.2:8030", "three_way", "four_way", C4, S4),
                     conn("127.0.0.1:40031", "127.0.0.1:8031", "three_way", "four_way", C4, S4)]),
    clean("nanosecond", "nanosecond.pcap", 40032, 8032, "tcpdump --time-stamp-precision=nano; " + FOURWAY_HOW),
    clean("gzip", "handshake_clean_4way.pcap.gz", 40001, 8001,
          "gzip -kn of handshake_clean_4way.pcap (same capture, same kernel truth)", kernel="handshake_clean_4way"),
]

TRACE_RE = re.compile(r"family=(\S+) protocol=\S+ sport=(\d+) dport=(\d+) saddr=(\S+) daddr=(\S+) "
                      r"saddrv6=(\S+) daddrv6=(\S+) oldstate=(\S+) newstate=(\S+)")


def split_ep(s):
    """'10.99.0.1:40000' or '[fd00:99::1]:40000' -> (ip, port)"""
    ip, _, port = s.rpartition(":")
    return ip.strip("[]"), int(port)


def parse_kernel(path):
    trace, snaps, cur, header = [], [], None, ""
    with open(path) as f:
        for line in f:
            if line.startswith("# ") and "deleted" in line and not header:
                header = line
            m = TRACE_RE.search(line)
            if m:
                fam, sp, dp, sa, da, sa6, da6, old, new = m.groups()
                if fam == "AF_INET6":
                    sa, da = sa6, da6
                trace.append(((sa, int(sp)), (da, int(dp)), old, new))
                continue
            if line.startswith("### ss -tan in "):
                cur = []
                snaps.append((line.strip(), cur))
            elif cur is not None and line.strip() and not line.startswith("State"):
                cur.append(line.split())
    return trace, snaps, header


def ss_states(snaps, local, remote):
    """[(snapshot label, state or None)] for the tuple local->remote, in snapshot order, only the
    snapshots taken in the namespace holding local (one that lists nothing for it counts)."""
    out = []
    lp, rp = ":%d" % local[1], ":%d" % remote[1]
    for label, rows in snaps:
        st = None
        for r in rows:
            if len(r) >= 5 and r[3].endswith(lp) and r[4].endswith(rp) and local[0] in r[3] and remote[0] in r[4]:
                st = SS_NAMES.get(r[0], r[0])
        out.append((label, st))
    return out


def segments(trace, local, remote):
    """State sequences of the sockets local->remote, split where a new socket starts."""
    segs = []
    for l, r, old, new in trace:
        if l != local or r != remote:
            continue
        if not segs or old in ("TCP_CLOSE", "TCP_LISTEN"):
            segs.append([NAMES[old]])
        segs[-1].append(NAMES[new])
    return segs


def endpoint_states(trace, snaps, local, remote, idx, is_last, tail):
    segs = segments(trace, local, remote)
    if idx >= len(segs):
        # no socket of its own in the trace: a listener (request sock only) or nothing at all
        if not any(l == local and new == "TCP_LISTEN" for l, r, old, new in trace):
            return ["CLOSED"]
        seen = [s for _, s in ss_states(snaps, local, remote)]
        return ["LISTEN", "SYN-RECEIVED", "LISTEN"] if "SYN-RECEIVED" in seen else ["LISTEN"]
    seq = segs[idx]
    if tail is not None:
        if seq[-1] != "CLOSED":
            raise ValueError("tail override on a sequence not ending in CLOSED: %s" % seq)
        return seq[:-1] + tail
    if is_last and len(seq) >= 2 and seq[-1] == "CLOSED" and seq[-2] in ("FIN-WAIT-2", "CLOSING"):
        obs = ss_states(snaps, local, remote)
        if any(s == "TIME-WAIT" for _, s in obs):
            seq = seq[:-1] + ["TIME-WAIT"]
            # gone from every end-of-case snapshot: the TIME-WAIT was ended (e.g. by a RST)
            if not any(s for lab, s in obs if "at end of case" in lab):
                seq.append("CLOSED")
    return seq


def conv_counts(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-q", "-z", "conv,tcp"], capture_output=True, text=True,
                         check=True).stdout
    rows = []
    for line in out.splitlines():
        if "<->" not in line:
            continue
        a, _, rest = line.partition("<->")
        f = rest.split()
        b = f[0]
        # B->A frames, bytes, "bytes", A->B frames, bytes, "bytes", total..., rel start, duration
        rows.append(dict(a=split_ep(a.strip()), b=split_ep(b), b_to_a=int(f[1]), a_to_b=int(f[4]),
                         start=float(f[-2])))
    rows.sort(key=lambda r: r["start"])
    return rows


def tshark_fields(pcap, fields, flt=""):
    cmd = ["tshark", "-r", pcap, "-T", "fields"] + sum((["-e", x] for x in fields), [])
    if flt:
        cmd += ["-Y", flt]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def close_kind_on_wire(pcap, client, server, nth):
    """three_way / four_way for the nth connection on this tuple, from the first FIN and the first
    segment of the other side acknowledging it."""
    c_ip, c_port = client
    rows = tshark_fields(pcap, ["tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.flags.fin", "tcp.flags.reset",
                                "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.flags.ack", "ip.src", "ipv6.src"],
                         "tcp.port==%d && tcp.port==%d" % (c_port, server[1]))
    rows = [r + [""] * (11 - len(r)) for r in rows]
    streams = sorted({int(r[0]) for r in rows})
    if nth >= len(streams):
        return None
    rows = [r for r in rows if int(r[0]) == streams[nth]]
    fin = next((r for r in rows if r[3] == "1"), None)
    if fin is None:
        return None
    fin_end = (int(fin[5]) + int(fin[7]) + 1) & 0xffffffff
    src = (fin[9] + fin[10], fin[1])
    for r in rows[rows.index(fin) + 1:]:
        if (r[9] + r[10], r[1]) != src and r[8] == "1" and ((int(r[6]) - fin_end) & 0xffffffff) < 0x80000000:
            return "three_way" if r[3] == "1" else "four_way"
    return None


def main(d):
    errors = []
    out = {"cases": []}
    for c in CASES:
        kern = os.path.join(d, c.get("kernel", c["name"]) + ".kernel.txt")
        pcap = os.path.join(d, c["pcap"])
        if not os.path.exists(kern) or not os.path.exists(pcap):
            errors.append("%s: missing %s or %s" % (c["name"], kern, pcap))
            continue
        trace, snaps, _ = parse_kernel(kern)
        if c.get("kernel") and c["kernel"] != c["name"]:
            own = os.path.join(d, c["name"] + ".kernel.txt")
            _, _, header = parse_kernel(own) if os.path.exists(own) else (None, None, "")
        else:
            header = ""
        counts = conv_counts(pcap)
        used = [False] * len(counts)
        seen = {}
        conns = []
        for k in c["connections"]:
            cl, sv = split_ep(k["client"]), split_ep(k["server"])
            key = (cl, sv)
            idx = seen.get(key, 0)
            seen[key] = idx + 1
            n_same = sum(1 for x in c["connections"] if (split_ep(x["client"]), split_ep(x["server"])) == key)
            is_last = idx == n_same - 1
            cs = endpoint_states(trace, snaps, cl, sv, idx, is_last, k.get("client_tail"))
            ss_ = endpoint_states(trace, snaps, sv, cl, idx, is_last, k.get("server_tail"))
            if cs != k["want_client"]:
                errors.append("%s %s: client states %s, want %s" % (c["name"], k["client"], cs, k["want_client"]))
            if ss_ != k["want_server"]:
                errors.append("%s %s: server states %s, want %s" % (c["name"], k["server"], ss_, k["want_server"]))
            pk = None
            for i, r in enumerate(counts):
                if used[i]:
                    continue
                if (r["a"], r["b"]) == (cl, sv):
                    pk = dict(client_to_server=r["a_to_b"], server_to_client=r["b_to_a"])
                elif (r["a"], r["b"]) == (sv, cl):
                    pk = dict(client_to_server=r["b_to_a"], server_to_client=r["a_to_b"])
                else:
                    continue
                used[i] = True
                break
            if pk is None:
                errors.append("%s %s: no conv,tcp row" % (c["name"], k["client"]))
            if k["close"] in ("three_way", "four_way") and k.get("wire_check", True):
                wire = close_kind_on_wire(pcap, cl, sv, idx)
                if wire != k["close"]:
                    errors.append("%s %s: close on the wire is %s, want %s" % (c["name"], k["client"], wire,
                                                                               k["close"]))
            e = dict(client=k["client"], server=k["server"], handshake=k["handshake"], close=k["close"],
                     client_states=cs, server_states=ss_, final_client=cs[-1], final_server=ss_[-1],
                     packets=pk)
            for key in ("note", "half_close", "deviation", "observer_client_states", "observer_server_states",
                        "observer_final_client", "observer_final_server", "observer_close"):
                if k.get(key) is not None:
                    e[key] = k[key]
            conns.append(e)
        case = dict(name=c["name"], pcap=c["pcap"], how=c["how"], kernel=os.path.basename(kern))
        if header:
            m = re.search(r"frame (\d+) deleted", header)
            if m:
                case["deleted_frame"] = int(m.group(1))
        case["connections"] = conns
        out["cases"].append(case)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for e in errors:
        print("expected.py: " + e, file=sys.stderr)
    print("expected.py: %d cases, %d problems" % (len(out["cases"]), len(errors)), file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
