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
	found   map[uint32]*craftedFinding
	dropped int // crafted ISN values past craftedMaxFindings
}

type craftedSYN struct {
	ns  int64
	isn uint32
	src netip.Addr
}

// craftedCount is one ISN value's SYNs in the window. While srcs is nil
// every one of them came from first: random ISNs (count 1) and
// retransmitted SYNs never allocate.
type craftedCount struct {
	count int
	first netip.Addr
	srcs  map[netip.Addr]int
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
	if len(c.win) < craftedCap {
		c.win = append(c.win, e)
	} else {
		c.win[(c.head+c.n)%craftedCap] = e
	}
	c.n++

	cc := c.byISN[isn]
	switch {
	case cc.count == 0:
		cc.first = src
	case cc.srcs != nil:
		cc.srcs[src]++
	case src != cc.first:
		cc.srcs = map[netip.Addr]int{cc.first: cc.count, src: 1}
	}
	cc.count++
	c.byISN[isn] = cc
	if cc.count < craftedSYNs || len(cc.srcs) < craftedSources {
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
	if cc.count > f.syns {
		f.syns, f.window = cc.count, c.n
	}
	f.sources = max(f.sources, len(cc.srcs))
}

func (c *crafted) remove(e craftedSYN) {
	cc := c.byISN[e.isn]
	cc.count--
	if cc.count <= 0 {
		delete(c.byISN, e.isn)
		return
	}
	if cc.srcs != nil {
		if cc.srcs[e.src]--; cc.srcs[e.src] <= 0 {
			delete(cc.srcs, e.src)
		}
	}
	c.byISN[e.isn] = cc
}

// logP bounds the chance that random ISNs put some value into k of the w
// SYNs in a window: C(w, k)·2^{−32(k−1)} (union bound over the k-subsets
// and the value they share).
func (f *craftedFinding) logP() float64 {
	return min(0, logChoose(f.window, f.syns)-float64(f.syns-1)*32*math.Ln2)
}
