package reassembly

import (
	"net/netip"

	"github.com/tcptrace/tcptrace/fsm"
)

// pastTuples remembers the 4-tuples of flows that left the table, so that a
// later connection on one of them is known as a new incarnation (its
// Incarnation counts every use in the capture, not only the uses the table
// still held) and gets Wireshark's reused_ports verdict, and a connection
// that goes on after --idle-timeout or --max-flows cut it keeps its number. Wireshark keeps
// every conversation of a capture; a connection here leaves the table
// once closed and settled (or idle), so a client that cycles through its
// ephemeral ports towards one server comes back to a 4-tuple long after
// the table let it go: the 28,232 ports of Linux's default range, or an
// hour of a measurement platform's probes (pathspider's real.pcap: 57 of
// tshark's 84 reused_ports verdicts).
//
// Memory is bounded: the last pastTuplesMax tuples to leave, oldest
// forgotten first. A tuple is known by its 64-bit hash alone
// (flowIndex.hash64, seeded per table): a new tuple matches a remembered
// one by accident with a probability of pastTuplesMax/2^64, so that a
// capture of ten million connections has a chance of 2e-8 of one false
// incarnation.
type pastTuples struct {
	m    map[uint64]pastUse
	ring []uint64 // hashes in the order they were remembered; a ring once full
	next int      // where the next one goes once the ring is full
}

// pastTuplesMax bounds pastTuples: more than Linux's ephemeral port range
// (28,232 ports), 2.8 MiB when full (twice as many took 5.5 MiB: the map's
// slots and the room it keeps).
const pastTuplesMax = 32768

// pastUse is what is remembered of a 4-tuple. Each endpoint's fields are
// indexed by its side of the canonical Key (0 for Key.A, 1 for Key.B),
// since the next connection may give them the other roles.
type pastUse struct {
	uses    uint32 // incarnations so far
	pos     uint32 // the entry's place in ring, so that an older place of the tuple does not forget it
	base    [2]fsm.Seq
	baseSet [2]bool // base is Wireshark's base_seq of the endpoint's direction (wire.base)
}

// side returns 0 for the endpoint a that is k.A, else 1.
func (k Key) side(a netip.AddrPort) int {
	if a == k.A {
		return 0
	}
	return 1
}

// remember records f, which is leaving the table; h is its key's hash64.
func (p *pastTuples) remember(h uint64, f *Flow) {
	if p.m == nil {
		p.m = make(map[uint64]pastUse)
	}
	u := pastUse{uses: uint32(f.Incarnation)}
	for d, a := range [2]netip.AddrPort{f.Client, f.Server} {
		side := f.Key.side(a)
		u.base[side], u.baseSet[side] = f.Half[d].w.base, f.Half[d].w.baseSet
	}
	if len(p.ring) < pastTuplesMax {
		u.pos = uint32(len(p.ring))
		p.ring = append(p.ring, h)
	} else {
		if old := p.ring[p.next]; p.m[old].pos == uint32(p.next) {
			delete(p.m, old)
		}
		u.pos = uint32(p.next)
		p.ring[p.next] = h
		p.next = (p.next + 1) % pastTuplesMax
	}
	p.m[h] = u
}

// recall returns what is remembered of the tuple with hash h.
func (p *pastTuples) recall(h uint64) (pastUse, bool) {
	u, ok := p.m[h]
	return u, ok
}

// reusePast prepares the first segment of a flow, sent by src, on a 4-tuple
// that an earlier flow of the capture used and left (pastTuples) for
// Wireshark's port-reuse rule, which keeps every conversation: a SYN
// without ACK whose sequence number differs from its sender's old base
// gets reused_ports and starts afresh, as here (reuse). Only the base is
// remembered, so a SYN that repeats the old one's number (a retransmission
// to Wireshark, judged against the old conversation) and any other first
// segment start afresh without a verdict.
func (f *Flow) reusePast(src netip.AddrPort, s *fsm.Segment, u *pastUse) {
	side := f.Key.side(src)
	if s.Flags&(fsm.FlagSYN|fsm.FlagACK) != fsm.FlagSYN || !u.baseSet[side] || s.Seq == u.base[side] {
		return
	}
	f.seq.started = true
	f.Half[0].w.reset()
	f.Half[1].w.reset()
	w := &f.Half[f.Dir(src)].w
	w.base, w.baseSet = u.base[side], true
}
