#!/usr/bin/python3
"""Scapy endpoints for pcaps/findings.sh: segments a Linux stack never sends,
exchanged with a real Linux peer. The kernel of the scapy side must not answer
(findings.sh drops its RSTs with iptables)."""
import random
import sys
import threading
import time

from scapy.all import IP, TCP, AsyncSniffer, Ether, Raw, conf, send, sendp, sniff

conf.verb = 0
CLI, SRV = "10.99.0.1", "10.99.0.2"
M = 0xFFFFFFFF


class Client:
    """A minimal TCP client: handshake, auto-ACK of the server's data and FIN."""

    def __init__(self, dport, sport, win=29200):
        self.dport, self.sport, self.win = dport, sport, win
        self.iss = random.getrandbits(32)
        self.snd_nxt = (self.iss + 1) & M
        self.rcv_nxt = None
        self.autoack = True
        self.got = threading.Event()
        self.sniffer = AsyncSniffer(iface="va", store=False, prn=self.on,
                                    filter=f"tcp and src host {SRV} and src port {dport} and dst port {sport}")
        self.sniffer.start()
        time.sleep(0.5)

    def seg(self, flags, payload=b"", ack=None, win=None, seq=None):
        p = IP(src=CLI, dst=SRV) / TCP(sport=self.sport, dport=self.dport, flags=flags,
                                       seq=self.snd_nxt if seq is None else seq,
                                       ack=(self.rcv_nxt if ack is None else ack) & M if "A" in flags else 0,
                                       window=self.win if win is None else win)
        if payload:
            p = p / Raw(payload)
        send(p, iface="va")

    def on(self, p):
        t = p[TCP]
        n = len(t.payload) + (1 if t.flags.S else 0) + (1 if t.flags.F else 0)
        if t.flags.S:
            self.rcv_nxt = t.seq
        end = (t.seq + n) & M
        if self.rcv_nxt is None or ((end - self.rcv_nxt) & M) < 1 << 31:
            self.rcv_nxt = end
        self.got.set()
        if self.autoack and n and not t.flags.S:
            self.seg("A")

    def connect(self, mss=1460):
        send(IP(src=CLI, dst=SRV) / TCP(sport=self.sport, dport=self.dport, flags="S", seq=self.iss,
                                        window=self.win, options=[("MSS", mss)]), iface="va")
        for _ in range(300):
            if self.rcv_nxt is not None:
                break
            time.sleep(0.01)
        self.seg("A")

    def wait_data(self, n):
        """Wait until n bytes of payload (after the SYN) were received."""
        base = None
        for _ in range(500):
            if base is None and self.rcv_nxt is not None:
                base = self.rcv_nxt
            if self.rcv_nxt is not None and ((self.rcv_nxt - base) & M) >= n:
                return
            time.sleep(0.01)

    def close(self):
        self.seg("FA")
        self.snd_nxt = (self.snd_nxt + 1) & M
        time.sleep(1.5)
        self.sniffer.stop()


def mss(port):
    """Send one 1000-byte segment to a server that announced MSS 536."""
    c = Client(int(port), 40501)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    c.seg("PA", b"m" * 1000)
    c.snd_nxt = (c.snd_nxt + 1000) & M
    time.sleep(1.5)
    c.close()


def ackunseen(port):
    """Acknowledge 100000 bytes the server has not sent; its next data starts below."""
    c = Client(int(port), 40502)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    c.seg("A", ack=c.rcv_nxt + 100000)
    time.sleep(1.5)
    c.close()


def recision(port):
    """Advertise a window, then shrink it: the right edge moves left."""
    c = Client(int(port), 40503, win=8192)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    c.seg("A", win=8192)
    time.sleep(0.1)
    c.seg("A", win=1000)
    time.sleep(0.1)
    c.win = 1000
    time.sleep(1.5)
    c.close()


def split_server(port):
    """Answer each SYN with a bare SYN (split handshake), then ACK the
    client's SYN-ACK, its data and its FIN."""
    port = int(port)
    st = {}

    def on(p):
        t = p[TCP]
        key = (p[IP].src, t.sport)
        out = lambda flags, seq, ack: send(IP(src=SRV, dst=p[IP].src) / TCP(sport=port, dport=t.sport, flags=flags, seq=seq, ack=ack, window=29200, options=[("MSS", 1460)] if "S" in flags else []), iface="vb")
        if t.flags == "S":
            iss = random.getrandbits(32)
            st[key] = [iss, (t.seq + 1) & M]
            out("S", iss, 0)
        elif key in st and t.flags.S and t.flags.A:
            iss, rcv = st[key]
            st[key] = [(iss + 1) & M, rcv]
            out("A", (iss + 1) & M, rcv)
        elif key in st and (len(t.payload) or t.flags.F):
            snd, rcv = st[key]
            rcv = (t.seq + len(t.payload) + (1 if t.flags.F else 0)) & M
            st[key] = [snd, rcv]
            if t.flags.F:
                out("FA", snd, rcv)
                st[key] = [(snd + 1) & M, rcv]
            else:
                out("A", snd, rcv)

    open(f"/tmp/tfind_ready_{port}", "w").close()
    sniff(iface="vb", filter=f"tcp and dst port {port}", prn=on, store=False, timeout=float(sys.argv[-1]) if len(sys.argv) > 4 else 6)


def inject(port):
    """Reset the server's side of a Linux connection with a RST forged as
    the client's (exact sequence number, TTL 50 instead of 64); the real
    client keeps sending."""
    port, seen = int(port), []

    def on(p):
        t = p[TCP]
        if len(t.payload):
            seen.append((t.sport, (t.seq + len(t.payload)) & M, p[IP].id))
    sn = AsyncSniffer(iface="va", store=False, prn=on, filter=f"tcp and src host {CLI} and dst port {port}")
    sn.start()
    open("/tmp/tfind_injector", "w").close()
    for _ in range(500):
        if len(seen) >= 5:
            break
        time.sleep(0.01)
    sn.stop()
    sport, nxt, ipid = seen[-1]
    send(IP(src=CLI, dst=SRV, ttl=50, id=(ipid + 20000) & 0xFFFF) / TCP(sport=sport, dport=port, flags="R", seq=nxt), iface="va")


def rstfin(port):
    """Abort an established connection with a segment carrying RST, FIN and
    ACK at the server's RCV.NXT: Linux acts on the RST and drops it."""
    c = Client(int(port), 40504)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    c.seg("RFA")
    time.sleep(1.5)
    c.sniffer.stop()


def synresend(port):
    """Send the client's SYN again (same ISN) on the established connection:
    Linux answers with a challenge ACK (RFC 5961 §4.2); then close."""
    c = Client(int(port), 40505)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    send(IP(src=CLI, dst=SRV) / TCP(sport=c.sport, dport=c.dport, flags="S", seq=c.iss,
                                    window=c.win, options=[("MSS", 1460)]), iface="va")
    time.sleep(1.5)
    c.close()


def ackold(port):
    """Acknowledge 100000 bytes below what the client already acknowledged:
    under the server's SND.UNA - MAX.SND.WND (window 29200, no scaling), so
    Linux drops it with a challenge ACK (RFC 5961 §5.2)."""
    c = Client(int(port), 40506)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    c.seg("A", ack=c.rcv_nxt - 100000)
    time.sleep(1.5)
    c.close()


def rststorm(port):
    """A blind reset sweep: 1100 RSTs on the established connection, each 1 MiB
    further along the sequence space than the one before, all outside the
    server's receive window, sent back to back (well under 1 s apart); Linux
    drops them silently (RFC 5961 §3), so the connection then closes normally."""
    c = Client(int(port), 40507)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    sweep = [IP(src=CLI, dst=SRV) / TCP(sport=c.sport, dport=c.dport, flags="R", seq=(c.snd_nxt + (i << 20)) & M)
             for i in range(1, 1101)]
    send(sweep, iface="va", verbose=False)
    time.sleep(0.5)
    c.close()


def twreject(port):
    """The server closes first and its side enters TIME-WAIT; the client then
    opens the same 4-tuple with an old ISN (not after the server's RCV.NXT,
    no timestamps): Linux's TIME-WAIT answers with a bare ACK of the old
    connection; the client resets it (RFC 9293 §3.10.7.3, SYN-SENT) and
    retries with a new ISN, which Linux accepts."""
    c = Client(int(port), 40507)
    c.connect()
    for _ in range(300):
        if c.rcv_nxt is not None and c.snd_nxt is not None and c.got.is_set():
            break
        time.sleep(0.01)
    time.sleep(0.3)  # the server's FIN arrived and was ACKed by on()
    c.seg("FA")
    c.snd_nxt = (c.snd_nxt + 1) & M
    time.sleep(0.5)
    c.autoack = False
    old = c.iss
    send(IP(src=CLI, dst=SRV) / TCP(sport=c.sport, dport=c.dport, flags="S", seq=old,
                                    window=c.win, options=[("MSS", 1460)]), iface="va")
    time.sleep(0.3)
    send(IP(src=CLI, dst=SRV) / TCP(sport=c.sport, dport=c.dport, flags="R", seq=c.snd_nxt), iface="va")  # <SEQ=SEG.ACK>
    time.sleep(0.3)
    new = (c.snd_nxt + 1000000) & M
    send(IP(src=CLI, dst=SRV) / TCP(sport=c.sport, dport=c.dport, flags="S", seq=new,
                                    window=c.win, options=[("MSS", 1460)]), iface="va")
    time.sleep(1)
    c.sniffer.stop()


def challenge(port, mode):
    """Run in the server's namespace: forge the server's RST to the Linux
    client once the server has sent 6 segments (its SYN-ACK and ACKs of the
    client's lines), in the client's window but 1000 past its RCV.NXT, so the
    client answers with a challenge ACK (RFC 5961 §3.2) and carries on. The
    IP ID continues the server's run. mode "back": TTL 63 where the server's
    segments have 64, which its next ones keep; mode "route": TTL 50, and the
    namespace's default TTL goes to 50 at once, so the server's later
    segments keep the RST's TTL (a route change)."""
    port, seen = int(port), []

    def on(p):
        seen.append((p[TCP].dport, p[TCP].seq, p[IP].id))
    sn = AsyncSniffer(iface="vb", store=False, prn=on, filter=f"tcp and src host {SRV} and src port {port}")
    sn.start()
    time.sleep(0.5)
    open("/tmp/tfind_injector", "w").close()
    for _ in range(500):
        if len(seen) >= 6:
            break
        time.sleep(0.01)
    time.sleep(0.05)
    sn.stop()
    dport, seq, ipid = seen[-1]
    ttl = 50 if mode == "route" else 63
    send(IP(src=SRV, dst=CLI, ttl=ttl, id=(ipid + 1) & 0xFFFF) / TCP(sport=port, dport=dport, flags="R", seq=(seq + 1000) & M), iface="vb")
    if mode == "route":
        with open("/proc/sys/net/ipv4/ip_default_ttl", "w") as f:
            f.write("50")


def zombie(port):
    """Answer SYNs to port with SYN-ACKs and SYNs to the next three ports
    with RST+ACKs, like a host with one global IP ID counter (+1 a reply,
    from 4242) would: an idle-scan zombie candidate. Sent at layer 2, so the
    namespace's iptables rule that drops its kernel's own RSTs does not see
    them."""
    port, ctr = int(port), [4242]

    def on(p):
        t = p[TCP]
        if t.flags != "S":
            return
        ident, ctr[0] = ctr[0], (ctr[0] + 1) & 0xFFFF
        if t.dport == port:
            tcp = TCP(sport=t.dport, dport=t.sport, flags="SA", seq=random.getrandbits(32), ack=(t.seq + 1) & M,
                      window=29200, options=[("MSS", 1460)])
        else:
            tcp = TCP(sport=t.dport, dport=t.sport, flags="RA", seq=0, ack=(t.seq + 1) & M, window=0)
        sendp(Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01") / IP(src=SRV, dst=p[IP].src, id=ident) / tcp, iface="vb")

    sn = AsyncSniffer(iface="vb", store=False, prn=on, filter=f"tcp and dst host {SRV} and dst portrange {port}-{port + 3}")
    sn.start()
    time.sleep(0.5)
    open(f"/tmp/tfind_ready_{port}", "w").close()
    time.sleep(30)
    sn.stop()


def synrst(port):
    """A segment with both SYN and RST to a Linux listener (a crafted probe);
    Linux discards it silently in LISTEN."""
    send(IP(src=CLI, dst=SRV) / TCP(sport=40510, dport=int(port), flags="SR", seq=random.getrandbits(32),
                                    window=29200), iface="va")
    time.sleep(0.5)


def synest(port):
    """A SYN with a new ISN on an established connection (a reconnect on a
    reused port, or an injection): Linux answers with a challenge ACK
    (RFC 5961 §4.2); then close."""
    c = Client(int(port), 40512)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    send(IP(src=CLI, dst=SRV) / TCP(sport=c.sport, dport=c.dport, flags="S", seq=(c.iss + 0x40000000) & M,
                                    window=c.win, options=[("MSS", 1460)]), iface="va")
    time.sleep(1.5)
    c.snd_nxt = (c.snd_nxt + 1) & M
    c.seg("FA", seq=(c.snd_nxt - 1) & M)
    time.sleep(1.5)
    c.sniffer.stop()


def rstdata(port):
    """Reset an established connection with a RST carrying 20 bytes of text
    at the server's RCV.NXT: Linux acts on the RST."""
    c = Client(int(port), 40513)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    c.seg("R", b"connection aborted\r\n", seq=c.snd_nxt)
    time.sleep(1)
    c.sniffer.stop()


def dataafterfin(port):
    """Send a FIN, then 10 bytes beyond it (sequence numbers after the FIN);
    then wait for the server's FIN."""
    c = Client(int(port), 40514)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    c.seg("FA")
    c.snd_nxt = (c.snd_nxt + 1) & M
    time.sleep(0.3)
    c.seg("PA", b"x" * 10)
    time.sleep(2)
    c.sniffer.stop()


def finseq(port):
    """Send a FIN, then the FIN again 1000 further along the sequence space;
    then wait for the server's FIN."""
    c = Client(int(port), 40515)
    c.connect()
    c.wait_data(1)
    time.sleep(0.2)
    fin = c.snd_nxt
    c.seg("FA")
    c.snd_nxt = (c.snd_nxt + 1) & M
    time.sleep(0.3)
    c.seg("FA", seq=(fin + 1000) & M)
    time.sleep(2)
    c.sniffer.stop()


def bad_server(port, mode):
    """Run in the server's namespace, answering a Linux client's SYNs. mode
    "isnjump": the SYN gets a SYN-ACK, then 0.2 s later the SYN-ACK again
    with another ISN (the server goes on with the first); mode "wrongonly":
    the first SYN gets a SYN-ACK acknowledging ISN-999 (Linux answers it with
    a RST), later SYNs get no answer; mode "rstnoack":
    the first SYN gets no answer, its retransmission a bare RST without ACK
    (Linux ignores it) and at once a RST+ACK (refused). The server then ACKs
    the client's data and FIN and closes."""
    port = int(port)
    st = {}

    def on(p):
        t = p[TCP]
        key = (p[IP].src, t.sport)
        out = lambda flags, seq, ack: send(IP(src=SRV, dst=p[IP].src) / TCP(sport=port, dport=t.sport, flags=flags, seq=seq, ack=ack, window=29200, options=[("MSS", 1460)] if "S" in flags else []), iface="vb")
        if t.flags == "S":
            n = st.get(key, [0, 0, 0])[2] + 1
            iss = (st[key][0] - 1) & M if key in st else random.getrandbits(32)
            st[key] = [(iss + 1) & M, (t.seq + 1) & M, n]
            if mode == "wrongonly":
                if n == 1:
                    out("SA", iss, (t.seq + 1 - 1000) & M)
            elif mode == "isnjump":
                out("SA", iss, (t.seq + 1) & M)
                time.sleep(0.2)
                out("SA", (iss + 0x10000000) & M, (t.seq + 1) & M)
            elif n > 1:
                out("R", iss, 0)
                out("RA", 0, (t.seq + 1) & M)
        elif key in st and (len(t.payload) or t.flags.F):
            snd, rcv, n = st[key]
            rcv = (t.seq + len(t.payload) + (1 if t.flags.F else 0)) & M
            if t.flags.F:
                out("FA", snd, rcv)
                snd = (snd + 1) & M
            else:
                out("A", snd, rcv)
            st[key] = [snd, rcv, n]

    open(f"/tmp/tfind_ready_{port}", "w").close()
    sniff(iface="vb", filter=f"tcp and dst port {port}", prn=on, store=False, timeout=5)


def constisn(port):
    """Ten SYNs with one ISN from ten source addresses (one each), as a
    crafted-packet tool sends them, to a Linux listener."""
    port = int(port)
    for i in range(10):
        src = f"10.99.0.{10 + i}"
        send(IP(src=src, dst=SRV) / TCP(sport=41000 + i, dport=port, flags="S", seq=0x12345678, window=1024),
             iface="va")
        time.sleep(0.05)
    time.sleep(0.5)
