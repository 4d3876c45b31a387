#!/usr/bin/python3
"""Scripted TCP endpoint for the pcap fixtures (stdlib only).

Run inside a namespace:  ip netns exec NS /usr/bin/python3 peer.py STEP [STEP ...]
Each STEP is NAME or NAME=ARG[,ARG...]; a trailing '?' on NAME tolerates an
OSError from that step (e.g. connect?=... for a refused or timed-out connect).

  socket[=6]            new client socket (IPv4, or IPv6 with 6)
  reuseaddr             SO_REUSEADDR on the current socket
  linger0               SO_LINGER {1,0}: close() sends RST
  bind=IP,PORT          bind the current socket
  listen=IP,PORT[,BL]   listening socket (SO_REUSEADDR), backlog BL (default 8)
  accept                current socket = accepted connection
  timeout=S             socket timeout for the following blocking calls
  connect=IP,PORT       blocking connect
  connect_nb=IP,PORT    non-blocking connect (EINPROGRESS), socket stays non-blocking
  blocking              make the current socket blocking again
  send=TEXT             send TEXT (\\n escapes allowed)
  sendn=N               send N bytes of a fixed pattern
  lines=N,INTERVAL      send N numbered lines, one every INTERVAL seconds
  recv                  one recv(65536)
  recvn=N               read exactly N bytes
  recv_eof              read until EOF
  shutdown_wr           shutdown(SHUT_WR): send FIN, keep the fd
  close                 close()
  close_listener        close the listening socket
  sleep=S
  touch=PATH            create PATH (a trigger for the other side)
  wait=PATH[,TIMEOUT]   wait until PATH exists
  ss=LABEL              append `ss -tan` (with LABEL) to $SS_FILE
  wait_state=STATE[,TIMEOUT]  poll ss until the current socket is in STATE
  sh=CMD                run a shell command (commas allowed inside CMD)
  netns=NAME            move this process into network namespace NAME (setns); sockets
                        created later live there, sockets created before stay where they are
  as=NAME               remember the current socket under NAME
  use=NAME              make the socket remembered as NAME current again
One process driving both ends (netns/as/use) makes two kernel actions microseconds apart,
e.g. both shutdown()s of a simultaneous close, so their retransmission timers fire together.
"""
import ctypes
import os
import socket
import struct
import subprocess
import sys
import time

T0 = time.monotonic()


def log(msg):
    sys.stderr.write("[%7.3f %s] %s\n" % (time.monotonic() - T0, os.environ.get("PEER", "peer"), msg))
    sys.stderr.flush()


def ss(label):
    out = subprocess.run(["ss", "-tan"], capture_output=True, text=True).stdout
    path = os.environ.get("SS_FILE")
    stamp = "### ss -tan in %s at %s (%s)\n" % (os.environ.get("PEER", "?"), label, time.strftime("%H:%M:%S"))
    if path:
        with open(path, "a") as f:
            f.write(stamp + out)
    log("ss %s:\n%s" % (label, out.rstrip()))


def cur_state(la, ra):
    """State of the connection la -> ra as ss reports it (also timewait and request socks)."""
    if not la or not ra:
        return None
    out = subprocess.run(["ss", "-tanH"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5 and f[3].endswith(":%d" % la[1]) and f[4].endswith(":%d" % ra[1]):
            return f[0]
    return None


def setns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    if libc.setns(fd, 0x40000000) != 0:  # CLONE_NEWNET
        raise OSError(ctypes.get_errno(), "setns " + name)
    os.close(fd)


def main(argv):
    sock = None
    listener = None
    local = remote = None
    saved = {}
    curname = None
    timeout = None
    for step in argv:
        name, _, arg = step.partition("=")
        tolerate = name.endswith("?")
        name = name.rstrip("?")
        args = arg.split(",") if arg else []
        log(step)
        try:
            if name == "socket":
                fam = socket.AF_INET6 if args and args[0] == "6" else socket.AF_INET
                sock = socket.socket(fam, socket.SOCK_STREAM)
            elif name == "reuseaddr":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            elif name == "linger0":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif name == "bind":
                sock.bind((args[0], int(args[1])))
            elif name == "listen":
                fam = socket.AF_INET6 if ":" in args[0] else socket.AF_INET
                listener = socket.socket(fam, socket.SOCK_STREAM)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((args[0], int(args[1])))
                listener.listen(int(args[2]) if len(args) > 2 else 8)
            elif name == "accept":
                sock, peer = listener.accept()
                local, remote = sock.getsockname(), peer
                log("accepted %s" % (peer,))
            elif name == "timeout":
                timeout = float(args[0])
                sock.settimeout(timeout)
            elif name == "connect":
                remote = (args[0], int(args[1]))
                local = sock.getsockname() if sock.getsockname()[1] else None
                sock.connect(remote)
                local = sock.getsockname()
            elif name == "connect_nb":
                sock.setblocking(False)
                remote = (args[0], int(args[1]))
                err = sock.connect_ex(remote)
                local = sock.getsockname()
                log("connect_ex -> %d" % err)
            elif name == "blocking":
                sock.setblocking(True)
            elif name == "send":
                sock.sendall(arg.encode().decode("unicode_escape").encode("latin-1"))
            elif name == "sendn":
                n = int(args[0])
                sock.sendall((b"0123456789abcdef" * (n // 16 + 1))[:n])
            elif name == "lines":
                for i in range(int(args[0])):
                    sock.sendall(b"line %03d\n" % i)
                    time.sleep(float(args[1]))
            elif name == "recv":
                d = sock.recv(65536)
                log("recv %d bytes" % len(d))
            elif name == "recvn":
                n, got = int(args[0]), 0
                while got < n:
                    d = sock.recv(n - got)
                    if not d:
                        break
                    got += len(d)
                log("recvn %d bytes" % got)
            elif name == "recv_eof":
                total = 0
                while True:
                    d = sock.recv(65536)
                    if not d:
                        break
                    total += len(d)
                log("recv_eof after %d bytes" % total)
            elif name == "shutdown_wr":
                sock.shutdown(socket.SHUT_WR)
            elif name == "close":
                sock.close()
            elif name == "close_listener":
                listener.close()
            elif name == "sleep":
                time.sleep(float(args[0]))
            elif name == "touch":
                open(args[0], "w").close()
            elif name == "wait":
                limit = time.monotonic() + (float(args[1]) if len(args) > 1 else 20)
                while not os.path.exists(args[0]):
                    if time.monotonic() > limit:
                        raise TimeoutError("wait " + args[0])
                    time.sleep(0.005)
            elif name == "ss":
                ss(args[0] if args else "")
            elif name == "wait_state":
                limit = time.monotonic() + (float(args[1]) if len(args) > 1 else 10)
                while True:
                    st = cur_state(local, remote)
                    if st == args[0]:
                        break
                    if time.monotonic() > limit:
                        raise TimeoutError("state %s, want %s" % (st, args[0]))
                    time.sleep(0.002)
            elif name == "netns":
                setns(args[0])
            elif name == "as":
                curname = args[0]
                saved[curname] = (sock, local, remote)
            elif name == "use":
                if curname:
                    saved[curname] = (sock, local, remote)
                curname = args[0]
                sock, local, remote = saved[curname]
            elif name == "sh":
                subprocess.run(arg, shell=True, check=True)
            else:
                raise SystemExit("unknown step " + step)
        except OSError as e:
            if not tolerate:
                raise
            log("tolerated: %r" % e)
    log("done")


if __name__ == "__main__":
    main(sys.argv[1:])
