package anomaly

import (
	"hash/maphash"
	"math"
	"math/bits"
)

// oneRec is a scanOne as the pair tables store it: 48 bytes instead of 64.
// The last packet's time and frame are offsets from the first's, and the
// connection id one from the first frame, each in 32 bits. A pair whose
// offsets do not fit takes its full form instead, so the packing never
// rounds: a last packet before the first or 2^31 µs (35 minutes) after it
// (2^31 ns, 2 s, unless the offset is whole microseconds, as in a pcap
// with microsecond timestamps), 2^32 frames between them, or a connection
// id 2^31 away from the first frame.
type oneRec struct {
	first              int64 // Unix ns
	firstFrame         uint64
	last               uint32 // last - first: ns<<1, or µs<<1 | 1 when whole microseconds
	lastFrame          uint32 // lastFrame - firstFrame
	conn               int32  // conn - firstFrame
	ports              [4]uint16
	nports, open       uint8
	attempts, withData uint8
	probes             [probeKinds]uint8
}

// pack returns o packed, and whether it fits.
func pack(o *scanOne) (oneRec, bool) {
	r := oneRec{first: o.first, firstFrame: o.firstFrame, ports: o.ports, nports: o.nports, open: o.open,
		attempts: o.attempts, withData: o.withData, probes: o.probes}
	d := o.last - o.first
	switch {
	case d < 0:
		return r, false
	case d%1000 == 0 && d/1000 <= math.MaxUint32>>1:
		r.last = uint32(d/1000)<<1 | 1
	case d <= math.MaxUint32>>1:
		r.last = uint32(d) << 1
	default:
		return r, false
	}
	if o.lastFrame < o.firstFrame || o.lastFrame-o.firstFrame > math.MaxUint32 {
		return r, false
	}
	r.lastFrame = uint32(o.lastFrame - o.firstFrame)
	c := int64(o.conn - o.firstFrame)
	if c < math.MinInt32 || c > math.MaxInt32 {
		return r, false
	}
	r.conn = int32(c)
	return r, true
}

// unpack returns the scanOne r packs.
func (r *oneRec) unpack() scanOne {
	d := int64(r.last >> 1)
	if r.last&1 != 0 {
		d *= 1000
	}
	return scanOne{first: r.first, last: r.first + d, firstFrame: r.firstFrame, lastFrame: r.firstFrame + uint64(r.lastFrame),
		conn: r.firstFrame + uint64(int64(r.conn)), ports: r.ports, nports: r.nports, open: r.open,
		attempts: r.attempts, withData: r.withData, probes: r.probes}
}

// oneEnt is an entry of a pair table.
type oneEnt[K comparable] struct {
	r oneRec
	k K
}

// oneTable holds compact pairs by key: the entries packed in a slice, in
// no particular order, and an open-addressing index (linear probing) of
// their positions. A Go map held them at some 117 bytes a pair at
// maxScanPairs, growth slack included (issue 7: 7.7 MB, the part of the
// engine that grew most with a capture's length); this one takes 56 (an
// IPv4 pair's entry; 80 an IPv6 one's) plus 8 to 16 of index. The entries
// grow by a quarter at a time up to maxScanPairs, and the index keeps two
// to four slots per entry the slice has room for; deletion moves the last entry into the hole and shifts the
// index's entries back (no tombstones). The zero value is an empty table.
// It is not safe for concurrent use.
type oneTable[K comparable] struct {
	ents  []oneEnt[K]
	slots []int32 // entry position + 1; 0 is empty
	seed  maphash.Seed
}

func (t *oneTable[K]) len() int { return len(t.ents) }

func (t *oneTable[K]) home(k K) int {
	return int(maphash.Comparable(t.seed, k) & uint64(len(t.slots)-1))
}

// slot returns the index slot of k, or of the empty slot where k would go.
func (t *oneTable[K]) slot(k K) int {
	mask := len(t.slots) - 1
	i := t.home(k)
	for t.slots[i] != 0 && t.ents[t.slots[i]-1].k != k {
		i = (i + 1) & mask
	}
	return i
}

// find returns k's entry position, or -1.
func (t *oneTable[K]) find(k K) int {
	if len(t.ents) == 0 {
		return -1
	}
	return int(t.slots[t.slot(k)]) - 1
}

func (t *oneTable[K]) get(k K) (oneRec, bool) {
	if i := t.find(k); i >= 0 {
		return t.ents[i].r, true
	}
	return oneRec{}, false
}

// put sets k's entry to r, adding it if new.
func (t *oneTable[K]) put(k K, r oneRec) {
	if i := t.find(k); i >= 0 {
		t.ents[i].r = r
		return
	}
	if len(t.ents) == cap(t.ents) {
		t.grow()
	}
	t.ents = append(t.ents, oneEnt[K]{r, k})
	t.slots[t.slot(k)] = int32(len(t.ents))
}

// grow adds a quarter to the entries' room (stopping once at
// maxScanPairs, which scans never exceeds), and rebuilds the index for it.
// Doubling left up to half of a full table's entries unused.
func (t *oneTable[K]) grow() {
	n := max(16, cap(t.ents)+cap(t.ents)/4)
	if cap(t.ents) < maxScanPairs {
		n = min(n, maxScanPairs)
	}
	ents := make([]oneEnt[K], len(t.ents), n)
	copy(ents, t.ents)
	t.ents = ents
	if t.slots == nil {
		t.seed = maphash.MakeSeed()
	}
	t.slots = make([]int32, 1<<bits.Len(uint(2*n-1)))
	for i := range t.ents {
		t.slots[t.slot(t.ents[i].k)] = int32(i + 1)
	}
}

// del deletes k's entry, if any.
func (t *oneTable[K]) del(k K) {
	if i := t.find(k); i >= 0 {
		t.deleteAt(i)
	}
}

// deleteAt deletes the entry at position i: the last entry takes its
// place, so entries past i move and those before it do not.
func (t *oneTable[K]) deleteAt(i int) {
	mask := len(t.slots) - 1
	s := t.slot(t.ents[i].k)
	// Entries after s in its probe run move back, so that no lookup stops
	// early: the entry at j may fill the hole at s unless its home lies
	// cyclically in (s, j].
	for j := (s + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		h := t.home(t.ents[t.slots[j]-1].k)
		if (j > s && (h <= s || h > j)) || (j < s && h <= s && h > j) {
			t.slots[s] = t.slots[j]
			s = j
		}
	}
	t.slots[s] = 0
	last := len(t.ents) - 1
	if i != last {
		t.ents[i] = t.ents[last]
		t.slots[t.slot(t.ents[i].k)] = int32(i + 1)
	}
	t.ents[last] = oneEnt[K]{}
	t.ents = t.ents[:last]
}
