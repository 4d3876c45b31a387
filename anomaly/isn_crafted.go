package anomaly

import (
	"math"
	"net/netip"
)

// crafted implements CRAFTED_CONSTANT_ISN (anomalies.md §3.4): one ISN
// value in ≥ 10 SYNs from ≥ 5 source IPs within 60 s. Spoofed floods
// (hping3 --rand-source with a fixed -M) spread over so many sources that
// each host has fewer than 4 samples and the per-host tests never run; this
// global check catches them. It counts every bare SYN, retransmissions
// included, as the rule counts SYNs; a retransmission adds no source.
type crafted struct {
	// win is the 60 s window as a ring: win[head] is the oldest of n.
	win     []craftedSYN
	head, n int
	// zones holds the zone of each SYN in win whose source has one, by
	// ring position: a capture never gives one, a caller may.
	zones map[int]string
	byISN map[uint32]craftedCount
	// srcs counts the SYNs of each source of an ISN value that more than
	// one source sent in the window.
	srcs    map[uint32]map[netip.Addr]int
	found   map[uint32]*craftedFinding
	dropped int // crafted ISN values past craftedMaxFindings
}

// craftedSYN is a SYN in the window. The source is packed as hostID packs
// a host, pointer-free, so that the window (craftedCap SYNs, 2 MB) is not
// scanned by the GC and takes 32 bytes a SYN instead of 40 (issue 7).
type craftedSYN struct {
	ns    int64
	src   [16]byte
	isn   uint32
	kind  uint8 // addrInvalid, addr4 or addr6
	zoned bool  // the zone is in crafted.zones
}

// srcOf returns the source of e, the SYN at ring position pos.
func (c *crafted) srcOf(e *craftedSYN, pos int) netip.Addr {
	switch e.kind {
	case addr4:
		return netip.AddrFrom16(e.src).Unmap()
	case addr6:
		a := netip.AddrFrom16(e.src)
		if e.zoned {
			a = a.WithZone(c.zones[pos])
		}
		return a
	}
	return netip.Addr{}
}

// craftedCount is one ISN value's SYNs in the window, and the ring
// position of the latest. Until crafted.srcs has the value, every one of
// them came from the source of the latest: random ISNs (count 1) and
// retransmitted SYNs never allocate. The window holds up to craftedCap SYNs
// of mostly distinct values, so the map holding these is as large: at 8
// bytes, pointer-free, it takes 1 MB where a count, the first source and a
// map pointer took 6 (issue 7).
type craftedCount struct {
	count int32
	last  int32
}

type craftedFinding struct {
	first, last int64
	syns        int // SYNs in the window at the largest count
	sources     int
	window      int // SYNs of any value in the window then, for p
}

func (c *crafted) add(isn uint32, src netip.Addr, ns int64, st *ISNStats) {
	if c.byISN == nil {
		c.byISN = make(map[uint32]craftedCount)
		c.found = make(map[uint32]*craftedFinding)
	}
	for c.n > 0 {
		old := &c.win[c.head]
		if ns-old.ns <= int64(craftedWindow) && c.n < craftedCap {
			break
		}
		if ns-old.ns <= int64(craftedWindow) {
			st.CraftedEvicted++
		}
		c.remove(old, c.head)
		c.head = (c.head + 1) % craftedCap
		c.n--
	}
	e := craftedSYN{ns: ns, src: src.As16(), isn: isn}
	pos := (c.head + c.n) % craftedCap
	switch {
	case src.Is4():
		e.kind = addr4
	case src.Is6():
		e.kind = addr6
		if z := src.Zone(); z != "" {
			if c.zones == nil {
				c.zones = make(map[int]string)
			}
			e.zoned = true
			c.zones[pos] = z
		}
	}
	if len(c.win) < craftedCap {
		// at pos: the ring has not wrapped yet. It grows by doubling
		// to craftedCap exactly, where append's growth left up to 12%
		// more.
		if len(c.win) == cap(c.win) {
			c.win = append(make([]craftedSYN, 0, min(craftedCap, max(64, 2*cap(c.win)))), c.win...)
		}
		c.win = append(c.win, e)
	} else {
		c.win[pos] = e
	}
	c.n++

	cc := c.byISN[isn]
	srcs := 0
	if cc.count > 0 {
		m := c.srcs[isn]
		switch {
		case m != nil:
			m[src]++
		case src != c.srcOf(&c.win[cc.last], int(cc.last)):
			if c.srcs == nil {
				c.srcs = make(map[uint32]map[netip.Addr]int)
			}
			m = map[netip.Addr]int{c.srcOf(&c.win[cc.last], int(cc.last)): int(cc.count), src: 1}
			c.srcs[isn] = m
		}
		srcs = len(m)
	}
	cc.count++
	cc.last = int32(pos)
	c.byISN[isn] = cc
	if cc.count < craftedSYNs || srcs < craftedSources {
		return
	}
	f := c.found[isn]
	if f == nil {
		if len(c.found) >= craftedMaxFindings {
			c.dropped++
			return
		}
		f = &craftedFinding{first: ns}
		c.found[isn] = f
	}
	f.last = max(f.last, ns)
	if int(cc.count) > f.syns {
		f.syns, f.window = int(cc.count), c.n
	}
	f.sources = max(f.sources, srcs)
}

// remove takes e, the SYN at ring position pos, out of the counts.
func (c *crafted) remove(e *craftedSYN, pos int) {
	cc := c.byISN[e.isn]
	cc.count--
	m := c.srcs[e.isn]
	var src netip.Addr
	if m != nil {
		src = c.srcOf(e, pos)
	}
	if e.zoned {
		delete(c.zones, pos)
	}
	if cc.count <= 0 {
		delete(c.byISN, e.isn)
		if m != nil {
			delete(c.srcs, e.isn)
		}
		return
	}
	if m != nil {
		if m[src]--; m[src] <= 0 {
			delete(m, src)
		}
	}
	// The latest SYN of the value is still in the window: the ring lets
	// the oldest go first.
	c.byISN[e.isn] = cc
}

// logP bounds the chance that random ISNs put some value into k of the w
// SYNs in a window: C(w, k)·2^{−32(k−1)} (union bound over the k-subsets
// and the value they share).
func (f *craftedFinding) logP() float64 {
	return min(0, logChoose(f.window, f.syns)-float64(f.syns-1)*32*math.Ln2)
}
