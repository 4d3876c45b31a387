#!/usr/bin/python3
"""Insert VLAN tags into every Ethernet frame of a classic pcap (stdlib only).

usage: vlan_tag.py IN.pcap OUT.pcap TPID:VID [TPID:VID ...]
  e.g. 0x8100:100            one 802.1Q tag, VLAN 100
       0x88a8:200 0x8100:100 QinQ: outer 802.1ad S-tag 200, inner 802.1Q C-tag 100

This kernel has no 802.1Q support (no 8021q, no act_vlan), so the VLAN fixtures are real
veth captures re-tagged here: tags go after the source MAC, everything else (timestamps,
IP/TCP bytes) is unchanged; the frames only grow by 4 bytes per tag.
"""
import struct
import sys


def main(src, dst, tags):
    tagbytes = b"".join(struct.pack("!HH", int(t, 0), int(v)) for t, v in (x.split(":") for x in tags))
    with open(src, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise SystemExit("not a classic pcap: " + src)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        raise SystemExit("link type %d is not Ethernet" % linktype)
    out = [data[:24]]
    off = 24
    while off < len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        frame = frame[:12] + tagbytes + frame[12:]
        out.append(struct.pack(e + "IIII", sec, frac, incl + len(tagbytes), orig + len(tagbytes)))
        out.append(frame)
    with open(dst, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
