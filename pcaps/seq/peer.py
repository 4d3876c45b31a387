#!/usr/bin/python3
"""Socket peers for pcaps/seq/make.sh: real kernel TCP endpoints that run
inside the namespaces the script creates.

  peer.py server ADDR PORT [--rcvbuf N] [--pause S] [--reply TEXT]
      Accept one connection; optionally sleep S seconds before reading
      (a receiver that stops reading: the window closes); read to EOF;
      send TEXT; close.

  peer.py client ADDR PORT STEP...
      Connect and run the steps in order, then close:
        send:N[:MARK]   write N bytes; MARK, if given, is placed in the
                        middle of them (iptables string matches pick the
                        segment carrying it)
        sleep:S         sleep S seconds
        sh:CMD          run a shell command (iptables rules between writes)
        keepalive:I     SO_KEEPALIVE with TCP_KEEPIDLE=TCP_KEEPINTVL=I seconds
        read            read to EOF before closing

  peer.py wrapclient SRC DST PORT ISN
      A scapy client with a chosen ISN near 2^32 (Linux will not let a
      socket pick its ISN), talking to a kernel server: handshake, six
      1000-byte segments sent stop-and-wait, then it answers the server's
      reply and FIN and closes. Only the client's sequence numbers are
      chosen; everything the server sends is the kernel's.
"""
import socket
import subprocess
import sys
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def server(argv):
    addr, port = argv[0], int(argv[1])
    rcvbuf = pause = None
    reply = b""
    i = 2
    while i < len(argv):
        if argv[i] == "--rcvbuf":
            rcvbuf = int(argv[i + 1])
        elif argv[i] == "--pause":
            pause = float(argv[i + 1])
        elif argv[i] == "--reply":
            reply = argv[i + 1].encode()
        i += 2
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        # Set before listen so the accepted socket inherits it (and the
        # window it announces in the SYN-ACK is already small).
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((addr, port))
    ls.listen(1)
    print("ready", flush=True)
    c, _ = ls.accept()
    if pause:
        time.sleep(pause)
    while True:
        b = c.recv(65536)
        if not b:
            break
    if reply:
        c.sendall(reply)
    c.close()
    ls.close()


def payload(n, mark):
    body = bytearray(b"".join(b"%07d\n" % i for i in range(n // 8 + 1))[:n])
    if mark:
        m = mark.encode()
        mid = max(0, n // 2 - len(m) // 2)
        body[mid:mid + len(m)] = m
    return bytes(body)


def client(argv):
    addr, port = argv[0], int(argv[1])
    steps = argv[2:]
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    for st in steps:
        if st.startswith("keepalive:"):
            iv = int(st.split(":")[1])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, iv)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, iv)
    s.connect((addr, port))
    for st in steps:
        kind, _, arg = st.partition(":")
        if kind == "send":
            n, _, mark = arg.partition(":")
            s.sendall(payload(int(n), mark))
        elif kind == "sleep":
            time.sleep(float(arg))
        elif kind == "sh":
            subprocess.run(arg, shell=True, check=True)
        elif kind == "read":
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
    s.close()


def wrapclient(argv):
    from scapy.all import IP, TCP, AsyncSniffer, Raw, conf, send  # noqa: E402

    conf.verb = 0
    src, dst, dport, isn = argv[0], argv[1], int(argv[2]), int(argv[3], 0)
    sport = 40098
    ip = IP(src=src, dst=dst)
    M = 0xFFFFFFFF
    st = {"rcv": None, "acked": None, "fin": False, "seq": (isn + 1) & M}

    def seg(flags, seq, data=b""):
        p = ip / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=st["rcv"] or 0, window=512)
        return p / Raw(data) if data else p

    def got(p):
        # Everything the kernel server sends: note its acknowledgment, and
        # acknowledge its data and FIN at once. (scapy's sr1 cannot match
        # answers across the wrap, so the sniffer does it all.)
        t = p[TCP]
        if t.flags & 0x02:  # SYN-ACK
            st["rcv"] = (t.seq + 1) & M
        if t.flags & 0x10:
            st["acked"] = t.ack
        n = len(bytes(t.payload))
        if n or t.flags & 0x01:
            st["rcv"] = (t.seq + n + (1 if t.flags & 0x01 else 0)) & M
            send(seg("A", st["seq"]))
            if t.flags & 0x01:
                st["fin"] = True

    def wait(cond, what):
        deadline = time.time() + 3
        while not cond():
            if time.time() > deadline:
                sys.exit("wrapclient: no " + what)
            time.sleep(0.01)

    sn = AsyncSniffer(filter="tcp and src host %s and src port %d and dst port %d" % (dst, dport, sport),
                      iface=conf.route.route(dst)[0], prn=got, store=False)
    sn.start()
    time.sleep(0.5)
    send(ip / TCP(sport=sport, dport=dport, flags="S", seq=isn, window=65535,
                  options=[("MSS", 1000), ("SAckOK", b""), ("WScale", 7)]))
    wait(lambda: st["rcv"] is not None, "SYN-ACK")
    send(seg("A", st["seq"]))
    for i in range(6):
        data = (b"wrap%02d-" % i) * 125
        send(seg("PA", st["seq"], data))
        st["seq"] = (st["seq"] + len(data)) & M
        wait(lambda: st["acked"] == st["seq"], "ACK of segment %d" % i)
    # Half-close; the server replies, then closes.
    fin = st["seq"]
    st["seq"] = (fin + 1) & M
    send(seg("FA", fin))
    wait(lambda: st["fin"], "FIN from the server")
    time.sleep(0.3)
    sn.stop()


def main():
    cmd, argv = sys.argv[1], sys.argv[2:]
    {"server": server, "client": client, "wrapclient": wrapclient}[cmd](argv)


if __name__ == "__main__":
    main()
