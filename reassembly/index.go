package reassembly

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// flowIndex finds a held flow by its canonical key. It is an open-addressing
// hash table with linear probing whose entries are 8 bytes: 32 bits of the
// key's hash and the flow's slot in the table's LRU list (Table.lru), so
// that the flow itself is reached through the LRU entry that touch writes
// anyway.
//
// It replaces a map[mapKey]*Flow, whose lookup was 12 % of Observe on a
// capture with 2000 connections open (issue 7: the cost is not the hash but
// the cache misses on the map's control words and 48-byte slots, some 400
// KiB for 8192 flows). Here DefaultMaxFlows flows take 16384 entries, 128
// KiB, and a lookup reads one cache line of them: at most half the entries
// are in use, and a flow sits on average half a slot from its home. A hit
// is confirmed by comparing the whole key in the flow, whose first cache
// lines Observe reads next in any case.
//
// Deletion shifts the entries of the probe run back (Knuth's algorithm R)
// rather than leaving tombstones, so that a long capture's churn of
// millions of flows never slows lookups down or forces a rehash.
//
// The hash is seeded at random per table, so that a capture crafted to
// collide cannot turn lookups linear. Nothing depends on where a flow sits
// in the index: flows are visited in LRU order, so the output stays
// deterministic.
type flowIndex struct {
	slots []ixSlot // a power of two, at most half in use
	n     int
	seed  [5]uint64
}

// ixSlot is one entry of the index. ref is the flow's LRU slot plus one,
// so that the zero value is an empty entry.
type ixSlot struct {
	hash uint32
	ref  uint32
}

// ixMinSlots is the initial size of the index: 1024 entries, 8 KiB.
const ixMinSlots = 1024

func newFlowIndex() flowIndex {
	x := flowIndex{slots: make([]ixSlot, ixMinSlots)}
	for i := range x.seed {
		x.seed[i] = rand.Uint64()
	}
	return x
}

// hash mixes the canonical key with the table's seed, wyhash-style: each
// 64-bit multiply folds two words of key and seed together. IPv4 addresses
// hash as their IPv4-mapped IPv6 form and a family bit.
func (x *flowIndex) hash(k Key) uint32 { return uint32(x.hash64(k)) }

// hash64 is the whole hash, which also tells an IPv4 key from its
// IPv4-mapped IPv6 twin: the table's memory of past 4-tuples (past.go)
// compares nothing else.
func (x *flowIndex) hash64(k Key) uint64 {
	a, b := k.A.Addr().As16(), k.B.Addr().As16()
	h := mix(binary.LittleEndian.Uint64(a[:8])^x.seed[0], binary.LittleEndian.Uint64(a[8:])^x.seed[1]) ^
		mix(binary.LittleEndian.Uint64(b[:8])^x.seed[2], binary.LittleEndian.Uint64(b[8:])^x.seed[3])
	ports := uint64(k.A.Port())<<16 ^ uint64(k.B.Port())
	if k.A.Addr().Is4() {
		ports |= 1 << 32
	}
	return mix(h^ports, x.seed[4])
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// find returns the flow with key k and hash h, or nil.
func (x *flowIndex) find(k Key, h uint32, lru []lruNode) *Flow {
	mask := uint32(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.ref == 0 {
			return nil
		}
		// The key is compared as netip.AddrPort values, zone included
		// (the map compared the 16 address bytes, the address family and
		// the port). Decoded packets carry no zone, so the two agree.
		if s.hash == h {
			if f := lru[s.ref-1].f; f.Key == k {
				return f
			}
		}
	}
}

// insert adds LRU slot slot with hash h; the key must not be in the index.
func (x *flowIndex) insert(h uint32, slot int32) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	x.put(ixSlot{h, uint32(slot) + 1})
	x.n++
}

// put stores s in the first free entry of its probe run.
func (x *flowIndex) put(s ixSlot) {
	mask := uint32(len(x.slots) - 1)
	i := s.hash & mask
	for x.slots[i].ref != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

// grow doubles the index. It never shrinks: its size follows the most
// flows held at once (MaxConcurrent), 16 bytes per flow at most.
func (x *flowIndex) grow() {
	old := x.slots
	x.slots = make([]ixSlot, 2*len(old))
	for _, s := range old {
		if s.ref != 0 {
			x.put(s)
		}
	}
}

// delete removes LRU slot slot, whose key hashes to h.
func (x *flowIndex) delete(h uint32, slot int32) {
	mask := uint32(len(x.slots) - 1)
	ref := uint32(slot) + 1
	i := h & mask
	for x.slots[i].ref != ref || ref == 0 {
		if x.slots[i].ref == 0 {
			return // not indexed (a slot of -1, or removed already): nothing to move
		}
		i = (i + 1) & mask
	}
	// Knuth's algorithm R: walk the rest of the probe run and move back
	// into the hole every entry whose home is not between the hole and
	// where it sits (cyclically), so that every entry stays reachable from
	// its home without crossing an empty one.
	for j := i; ; {
		j = (j + 1) & mask
		s := x.slots[j]
		if s.ref == 0 {
			break
		}
		if (j-s.hash)&mask >= (j-i)&mask {
			x.slots[i] = s
			i = j
		}
	}
	x.slots[i] = ixSlot{}
	x.n--
}
