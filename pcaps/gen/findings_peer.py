#!/usr/bin/python3
"""Endpoints for pcaps/findings.sh, run with `ip netns exec`. Stdlib sockets for
the kernel cases; scapy (python3-scapy) only where the kernel cannot produce the
segment. Usage: findings_peer.py MODE [ARGS...]; every mode exits by itself."""
import os
import socket
import struct
import sys
import threading
import time

SRV = "10.99.0.2"


def listener(port, backlog=4096, rcvbuf=None, maxseg=None, tfo=False):
    s = socket.socket()
    if tfo:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if maxseg:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, maxseg)
    s.bind((SRV, port))
    s.listen(backlog)
    return s


def serve_forever(port, handler, **kw):
    """Accept on port and run handler(conn) per connection in a thread."""
    s = listener(port, **kw)
    open(f"/tmp/tfind_ready_{port}", "w").close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=handler, args=(c,), daemon=True).start()


def echo_close(c):
    """Read a request to EOF, answer, close: a clean exchange."""
    data = b""
    while True:
        b = c.recv(4096)
        if not b:
            break
        data += b
    c.sendall(b"ok " + str(len(data)).encode() + b"\n")
    c.close()


def hold(c):
    """Never close (CLOSE-WAIT leak after the client's FIN); keep-alives every
    second show the holder alive."""
    c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    while c.recv(4096):
        pass
    time.sleep(3600)


def close_now(c):
    c.close()


def main():
    mode = sys.argv[1]
    if mode == "listen":  # listen PORT...: plain listeners that accept and close
        for p in sys.argv[2:]:
            threading.Thread(target=serve_forever, args=(int(p), echo_close), daemon=True).start()
        time.sleep(float(os.environ.get("HOLD", "3600")))
    elif mode == "serve":  # serve PORT KIND [rcvbuf]
        port, kind = int(sys.argv[2]), sys.argv[3]
        kw = {}
        if kind == "norecv":
            kw["rcvbuf"] = 4096
        if kind == "mss536":
            kw["maxseg"] = 536
        if kind == "tfo":
            kw["tfo"] = True
        handler = {"echo": echo_close, "tfo": echo_close, "hold": hold, "close": close_now,
                   "norecv": lambda c: time.sleep(3600), "keep": lambda c: (c.recv(10), time.sleep(3600)),
                   "greet": greet, "mss536": greet}[kind]
        serve_forever(port, handler, **kw)
    elif mode == "busy":  # busy PORT N: N clean request/response connections, one after another
        port, n = int(sys.argv[2]), int(sys.argv[3])
        for i in range(n):
            c = socket.create_connection((SRV, port))
            c.sendall(b"GET /%d\n" % i)
            c.shutdown(socket.SHUT_WR)
            while c.recv(4096):
                pass
            c.close()
    elif mode == "leak":  # leak PORT N: N clients that send and close; the server holds
        port, n = int(sys.argv[2]), int(sys.argv[3])
        for i in range(n):
            c = socket.create_connection((SRV, port))
            c.sendall(b"bye\n")
            c.close()
            time.sleep(0.05)
        time.sleep(float(os.environ.get("HOLD", "3")))
    elif mode == "exhaust":  # exhaust PORT N: N connections the server closes and the client never does
        port, n = int(sys.argv[2]), int(sys.argv[3])
        keep = []
        for i in range(n):
            c = socket.create_connection((SRV, port))
            keep.append(c)
            time.sleep(0.02)
        open("/tmp/tfind_connected", "w").close()
        time.sleep(float(os.environ.get("HOLD", "2")))
        os._exit(0)  # exit without closing: the capture ends first
    elif mode == "finclose":  # finclose PORT: send, then close (the FIN gets dropped)
        c = socket.create_connection((SRV, int(sys.argv[2])))
        c.sendall(b"data\n")
        time.sleep(0.2)
        c.close()
        time.sleep(float(os.environ.get("HOLD", "7")))
    elif mode == "flood":  # flood PORT N: write N bytes to a server that never reads
        c = socket.create_connection((SRV, int(sys.argv[2])))
        c.setblocking(False)
        buf = b"x" * int(sys.argv[3])
        end = time.time() + float(os.environ.get("HOLD", "35"))
        while time.time() < end:
            try:
                n = c.send(buf)
                buf = buf[n:]
            except BlockingIOError:
                pass
            time.sleep(0.05)
        os._exit(0)
    elif mode == "keepalive":  # keepalive PORT: idle connection with 1 s keep-alives
        c = socket.create_connection((SRV, int(sys.argv[2])))
        c.sendall(b"hello\n")
        c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 5)
        open("/tmp/tfind_connected", "w").close()
        time.sleep(float(os.environ.get("HOLD", "6")))
        os._exit(0)
    elif mode == "tfo":  # tfo PORT: two TCP Fast Open connections (cookie, then data in SYN)
        for i in range(2):
            c = socket.socket()
            c.sendto(b"fast open %d\n" % i, socket.MSG_FASTOPEN, (SRV, int(sys.argv[2])))
            c.shutdown(socket.SHUT_WR)
            while c.recv(4096):
                pass
            c.close()
            time.sleep(0.3)
    elif mode == "chatty":  # chatty PORT: a line every 0.2 s for 3 s
        c = socket.create_connection((SRV, int(sys.argv[2])))
        for i in range(15):
            try:
                c.sendall(b"line %d\n" % i)
            except OSError:
                break
            time.sleep(0.2)
        os._exit(0)
    elif mode == "connect":  # connect PORT: a kernel client (for the split handshake)
        c = socket.create_connection((SRV, int(sys.argv[2])), timeout=5)
        c.sendall(b"hello\n")
        time.sleep(0.3)
        c.close()
        time.sleep(0.5)
    elif mode in ("split", "crafted"):
        import crafted
        getattr(crafted, sys.argv[2])(*sys.argv[3:])
    else:
        sys.exit("unknown mode " + mode)


def greet(c):
    """Send a greeting, then more data 1 s later, then wait for the peer to close."""
    c.sendall(b"g" * 100)
    time.sleep(1)
    c.sendall(b"h" * 100)
    while True:
        try:
            if not c.recv(4096):
                break
        except OSError:
            break
    c.close()


if __name__ == "__main__":
    main()
