package anomaly

import "math/bits"

// arena holds the rings of an ISNTracker's hosts (issue 7). A ring used to
// be a slice of its own, grown by append: a heap object per host, up to
// twice the samples it held, and a pointer per host for the GC to scan,
// when most hosts (the clients of a busy capture) have one or two samples.
// Here a ring is a segment of a slab: a ring of up to smallMax samples is
// carved from a slab shared by many hosts, a longer one (a server's, up to
// MaxSamplesPerHost) is a slab of its own. Small segments have power-of-two
// capacities; a ring that outgrows its segment moves to one twice as large
// and its old segment goes to a free list for the next ring of that size,
// so the arena stays within about a tenth of the samples it holds (143296
// slots for 131072 samples at the end of the benchmark captures). Samples
// are pointer-free, so no slab is scanned by the GC.
//
// A segment's capacity is not stored: it follows from the samples a ring
// holds (see capOf), which saves host 4 bytes. The zero value is an empty
// arena. Segments are never shared; a ring moves only in grow.
type arena struct {
	slabs [][]isnSample
	// idle lists the slabs of released large segments, whose slots in
	// slabs are nil and reused first.
	idle []uint32
	// cur is the slab small segments are carved from, at used; size is
	// its length, 0 before the first.
	cur        uint32
	used, size int
	// free holds, per small class k (capacity 1<<k), a list of free
	// segments linked through their first sample's ns: 1 + slab<<32 | off,
	// 0 ending it.
	free [smallClasses]uint64
}

// segment is where a ring lives: slab[off:], for its capacity.
type segment struct {
	slab, off uint32
}

const (
	// smallMax is the largest segment carved from a shared slab;
	// smallClasses the number of its power-of-two capacities (1 … 64).
	smallMax     = 64
	smallClasses = 7
	// slabMax is the length of a shared slab once the arena has grown
	// (196 KB). The first is smallMax, each next twice the last, so that a
	// tracker with a few samples holds a few kilobytes.
	slabMax = 4096
)

// capOf returns the capacity of g, the segment of a ring of n samples.
// Rings grow by doubling from 1, so a small one is the power of two at or
// above n (a ring capped below a power of two, by MaxSamplesPerHost, still
// has that segment: alloc rounds up), and a large one has its slab.
func (a *arena) capOf(g segment, n int) int {
	switch {
	case n == 0:
		return 0
	case n <= smallMax:
		return 1 << bits.Len(uint(n-1))
	}
	return len(a.slabs[g.slab])
}

// view returns the first n samples of g.
func (a *arena) view(g segment, n int) []isnSample {
	if n == 0 {
		return nil
	}
	return a.slabs[g.slab][g.off : int(g.off)+n : int(g.off)+n]
}

// grow moves the n samples of g, which is full, to a segment about twice
// as large but at most limit samples, and frees g.
func (a *arena) grow(g segment, n, limit int) segment {
	ng := a.alloc(min(max(1, 2*n), limit))
	copy(a.view(ng, n), a.view(g, n))
	a.release(g, n)
	return ng
}

// alloc returns a segment of at least c samples.
func (a *arena) alloc(c int) segment {
	if c > smallMax {
		g := segment{uint32(len(a.slabs)), 0}
		if n := len(a.idle); n > 0 {
			g.slab, a.idle = a.idle[n-1], a.idle[:n-1]
			a.slabs[g.slab] = make([]isnSample, c)
		} else {
			a.slabs = append(a.slabs, make([]isnSample, c))
		}
		return g
	}
	k := bits.Len(uint(c - 1)) // c rounded up to 1<<k
	if l := a.free[k]; l != 0 {
		g := segment{uint32((l - 1) >> 32), uint32(l - 1)}
		a.free[k] = uint64(a.slabs[g.slab][g.off].ns)
		return g
	}
	c = 1 << k
	if a.used+c > a.size {
		// The rest of the slab goes to the free lists in the largest
		// pieces that fit; then a new slab.
		for a.used < a.size {
			p := 1 << min(bits.Len(uint(a.size-a.used))-1, smallClasses-1)
			a.release(segment{a.cur, uint32(a.used)}, p)
			a.used += p
		}
		a.size = min(slabMax, max(smallMax, 2*a.size))
		a.used = 0
		if n := len(a.idle); n > 0 {
			a.cur, a.idle = a.idle[n-1], a.idle[:n-1]
			a.slabs[a.cur] = make([]isnSample, a.size)
		} else {
			a.cur = uint32(len(a.slabs))
			a.slabs = append(a.slabs, make([]isnSample, a.size))
		}
	}
	g := segment{a.cur, uint32(a.used)}
	a.used += c
	return g
}

// release frees g, of capacity c: a small segment goes to its class's free
// list, a large one's slab to the GC.
func (a *arena) release(g segment, c int) {
	if c == 0 {
		return
	}
	if c > smallMax {
		a.slabs[g.slab] = nil
		a.idle = append(a.idle, g.slab)
		return
	}
	k := bits.Len(uint(c - 1))
	a.slabs[g.slab][g.off].ns = int64(a.free[k])
	a.free[k] = 1 + (uint64(g.slab)<<32 | uint64(g.off))
}
