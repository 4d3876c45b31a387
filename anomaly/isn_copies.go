package anomaly

import (
	"net/netip"
	"time"
)

// copies recognizes the same SYN or SYN-ACK captured twice with another
// remote address: on both sides of a NAT (tcpdump -i any on a Docker host
// or a home router, or two capture points merged). Linux's NAT, like most,
// rewrites addresses and ports but keeps sequence numbers, so a server
// behind or before it shows each ISN twice, to the client's own address
// and to the NAT's, and T2 would call that a repeated ISN
// (anomalies.md §3.2) and a critical finding. The copy is the same segment:
// the same chooser (address and role) and local port, the same ISN, and,
// for a SYN-ACK, the same acknowledged ISN, within copyWindow; only the
// remote address differs. A generator that repeats its ISNs repeats them
// to other peers' ISNs (SYN-ACK) or from other ports (SYN), so it is still
// seen. Same-tuple repeats are retransmissions, left to the tuple logic.
//
// The last copiesMax distinct keys are remembered (160 KiB): the two
// captures of a connection end, and reach the tracker, next to each other.
type copies struct {
	m    map[copyKey]copySeen
	ring []copyKey // keys in the order they were first seen; a ring once full
	next int
}

const (
	copiesMax = 1024
	// copyWindow bounds the time between the two captures of a segment:
	// microseconds through one NAT, more where captures from two machines
	// were merged with their clocks apart.
	copyWindow = time.Second
)

type copyKey struct {
	host      netip.Addr
	role      Role
	port      uint16
	hasPeer   bool
	isn, peer uint32
}

type copySeen struct {
	ns     int64
	remote netip.Addr
}

// seen reports whether s, captured at ns, is a copy of a recent sample,
// and remembers it otherwise.
func (c *copies) seen(s ISNSample, ns int64) bool {
	k := copyKey{host: s.Host, role: s.Role, port: s.Tuple.Local.Port(), hasPeer: s.HasPeerISN, isn: s.ISN}
	if s.HasPeerISN {
		k.peer = s.PeerISN
	}
	if c.m == nil {
		c.m = make(map[copyKey]copySeen)
	}
	remote := s.Tuple.Remote.Addr()
	p, ok := c.m[k]
	if ok && p.remote != remote && ns-p.ns <= int64(copyWindow) && p.ns-ns <= int64(copyWindow) {
		return true
	}
	if !ok {
		if len(c.ring) < copiesMax {
			c.ring = append(c.ring, k)
		} else {
			delete(c.m, c.ring[c.next])
			c.ring[c.next] = k
			c.next = (c.next + 1) % copiesMax
		}
	}
	c.m[k] = copySeen{ns: ns, remote: remote}
	return false
}
