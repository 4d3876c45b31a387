package capture

import (
	"net/netip"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// Dedup recognizes the second copy of one IPv4 TCP segment in a capture:
// tcpdump -i any on a host that routes or bridges (a router, a Docker host)
// records a forwarded packet once per interface it crosses, and a SPAN port
// that mirrors both directions of a link records some twice. The copies
// carry the same addresses, ports, IPv4 identification, sequence and
// acknowledgment numbers, flags, payload length and window; a router lowers
// the TTL, and the link header names another interface, so editcap -D,
// which compares bytes, keeps them. A retransmission is not a copy: the
// sender gives the new datagram a new identification (Linux per socket,
// Windows and the BSDs from a global counter).
//
// IPv6 has no identification, and a segment with IPv4 ID 0 (Linux's
// SYN-ACKs and RSTs) none that tells a copy from a retransmission: neither
// is ever taken for a copy. A copy must come within dedupWindow of the
// original, among the last dedupRing segments. The zero value is ready to
// use; a Dedup is not safe for concurrent use.
type Dedup struct {
	ring [dedupRing]dedupEntry
	next int
}

const (
	dedupRing = 32
	// dedupWindow bounds the time between the copies of a packet: a
	// forwarding delay, microseconds to a few milliseconds.
	dedupWindow = 100 * time.Millisecond
)

type dedupEntry struct {
	src, dst netip.AddrPort
	seq, ack fsm.Seq
	len      uint32
	ns       int64
	id       uint16
	window   uint16
	flags    fsm.Flags
}

// Copy reports whether p is a copy of one of the last segments given to
// Copy, and remembers it otherwise. It allocates nothing.
func (x *Dedup) Copy(p *Packet) bool {
	if p.IPv6 || p.IPID == 0 {
		return false
	}
	e := dedupEntry{src: p.Src, dst: p.Dst, seq: p.Seg.Seq, ack: p.Seg.Ack, len: p.Seg.Len, ns: p.TS.UnixNano(),
		id: p.IPID, window: p.Seg.Window, flags: p.Seg.Flags}
	for i := range x.ring {
		o := &x.ring[i]
		if o.seq == e.seq && o.id == e.id && o.ack == e.ack && o.len == e.len && o.flags == e.flags &&
			o.window == e.window && o.src == e.src && o.dst == e.dst && e.ns-o.ns <= int64(dedupWindow) && o.ns-e.ns <= int64(dedupWindow) {
			return true
		}
	}
	x.ring[x.next] = e
	x.next = (x.next + 1) % dedupRing
	return false
}
