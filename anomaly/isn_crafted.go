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
	byISN   map[uint32]craftedCount
	// srcs counts the SYNs of each source of an ISN value that more than
	// one source sent in the window.
	srcs    map[uint32]map[netip.Addr]int
	found   map[uint32]*craftedFinding
	dropped int // crafted ISN values past craftedMaxFindings
}

type craftedSYN struct {
	ns  int64
	isn uint32
	src netip.Addr
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
		old := c.win[c.head]
		if ns-old.ns <= int64(craftedWindow) && c.n < craftedCap {
			break
		}
		if ns-old.ns <= int64(craftedWindow) {
			st.CraftedEvicted++
		}
		c.remove(old)
		c.head = (c.head + 1) % craftedCap
		c.n--
	}
	e := craftedSYN{ns, isn, src}
	pos := (c.head + c.n) % craftedCap
	if len(c.win) < craftedCap {
		c.win = append(c.win, e) // at pos: the ring has not wrapped yet
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
		case src != c.win[cc.last].src:
			if c.srcs == nil {
				c.srcs = make(map[uint32]map[netip.Addr]int)
			}
			m = map[netip.Addr]int{c.win[cc.last].src: int(cc.count), src: 1}
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

func (c *crafted) remove(e craftedSYN) {
	cc := c.byISN[e.isn]
	cc.count--
	m := c.srcs[e.isn]
	if cc.count <= 0 {
		delete(c.byISN, e.isn)
		if m != nil {
			delete(c.srcs, e.isn)
		}
		return
	}
	if m != nil {
		if m[e.src]--; m[e.src] <= 0 {
			delete(m, e.src)
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
