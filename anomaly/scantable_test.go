package anomaly

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// checkTable checks t against the map model m: the same keys and records,
// and every key found through the index.
func checkTable[K comparable](t *testing.T, tab *oneTable[K], m map[K]oneRec, absent []K) {
	t.Helper()
	if tab.len() != len(m) {
		t.Fatalf("len() = %d, want %d", tab.len(), len(m))
	}
	for i := range tab.ents {
		x := &tab.ents[i]
		if r, ok := m[x.k]; !ok || r != x.r {
			t.Fatalf("entry %d = %v %+v, want %+v (held %v)", i, x.k, x.r, r, ok)
		}
		if got := tab.find(x.k); got != i {
			t.Fatalf("find(%v) = %d, want %d", x.k, got, i)
		}
	}
	for _, k := range absent {
		if _, ok := m[k]; ok {
			continue
		}
		if r, ok := tab.get(k); ok {
			t.Fatalf("get(%v) = %+v, true; want absent", k, r)
		}
	}
}

func rec(i uint64) oneRec { return oneRec{first: int64(i), firstFrame: i, attempts: uint8(i)} }

// TestOneTableModel runs random puts and deletes (by key, and while
// walking the entries as judgeOnes does) on a table and on a map, across
// its growth, and compares them after every step.
func TestOneTableModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var tab oneTable[uint64]
	m := map[uint64]oneRec{}
	keys := make([]uint64, 0, 64)
	for range 64 {
		keys = append(keys, r.Uint64()&^0xff)
	}
	for step := range 20000 {
		k := keys[r.IntN(len(keys))] | uint64(r.IntN(1+step/8)%256)
		switch n := r.IntN(10); {
		case n < 6:
			v := rec(uint64(step))
			tab.put(k, v)
			m[k] = v
		case n < 9:
			tab.del(k)
			delete(m, k)
		default:
			// judgeOnes' walk: delete every other entry, from the last.
			for i := tab.len() - 1; i >= 0; i-- {
				if k := tab.ents[i].k; k&1 == 0 {
					tab.deleteAt(i)
					delete(m, k)
				}
			}
		}
		checkTable(t, &tab, m, []uint64{k, k + 1})
	}
	if cap(tab.ents) < 256 {
		t.Errorf("cap(ents) = %d after 20000 steps, want growth past 256", cap(tab.ents))
	}
}

// TestOneTableGrowth fills a table to maxScanPairs: its room grows by a
// quarter at a time and stops at maxScanPairs, with two to four index
// slots per entry of room, and every pair stays found.
func TestOneTableGrowth(t *testing.T) {
	var tab oneTable[uint64]
	m := map[uint64]oneRec{}
	last := 0
	for i := range uint64(maxScanPairs) {
		k := i*0x9e3779b97f4a7c15 + 1
		tab.put(k, rec(i))
		m[k] = rec(i)
		if c := cap(tab.ents); c != last {
			if last > 0 && c > last+last/4+1 {
				t.Fatalf("cap(ents) grew from %d to %d, want at most a quarter more", last, c)
			}
			if s := len(tab.slots); s < 2*c || s > 4*c || s&(s-1) != 0 {
				t.Fatalf("len(slots) = %d for cap(ents) %d, want a power of two in [2, 4] times it", s, c)
			}
			last = c
		}
	}
	if cap(tab.ents) != maxScanPairs {
		t.Errorf("cap(ents) = %d at maxScanPairs pairs, want %d", cap(tab.ents), maxScanPairs)
	}
	checkTable(t, &tab, m, []uint64{0, 2})
}

// TestOneTableCollisions puts keys that share one home slot, so that
// their probe run wraps around the index's end, and deletes them in an
// order that exercises the backward shift.
func TestOneTableCollisions(t *testing.T) {
	var tab oneTable[oneKey]
	m := map[oneKey]oneRec{}
	key := func(i int) oneKey {
		var k oneKey
		k.src[0], k.src[15], k.dst[15] = 0x20, byte(i), byte(i>>8)
		return k
	}
	tab.put(key(0), rec(0)) // sets the seed and the index's size
	m[key(0)] = rec(0)
	end := len(tab.slots) - 1
	var same, other []oneKey
	for i := 1; len(same) < 6 || len(other) < 3; i++ {
		switch k := key(i); tab.home(k) {
		case end:
			if len(same) < 6 {
				same = append(same, k)
			}
		case 0:
			if len(other) < 3 {
				other = append(other, k)
			}
		}
	}
	for i, k := range append(same, other...) {
		tab.put(k, rec(uint64(i+1)))
		m[k] = rec(uint64(i + 1))
	}
	if len(tab.slots) != end+1 {
		t.Fatalf("the index grew (%d slots, was %d): the test needs it fixed", len(tab.slots), end+1)
	}
	checkTable(t, &tab, m, nil)
	for _, k := range []oneKey{same[0], same[3], other[0], same[5], same[1], key(0)} {
		tab.del(k)
		delete(m, k)
		checkTable(t, &tab, m, []oneKey{k})
	}
}

// TestPack checks that a packed pair unpacks to itself, and that offsets
// that do not fit are refused rather than rounded.
func TestPack(t *testing.T) {
	base := scanOne{first: 1_796_601_600_123_456_789, firstFrame: 5_000_000_000, conn: 4_000_000_000,
		ports: [4]uint16{80, 443}, nports: 2, open: 2, attempts: 3, withData: 1, probes: [probeKinds]uint8{1, 2}}
	for _, tt := range []struct {
		name   string
		last   int64 // after first
		frames uint64
		conn   uint64
		packs  bool
	}{
		{"same time", 0, 0, 4_000_000_000, true},
		{"whole microseconds", 35 * int64(time.Minute), 10, 4_000_000_000, true},
		{"nanoseconds", 2*int64(time.Second) + 1, 1 << 31, 4_000_000_000, true},
		{"conn after first frame", 7, 1, 5_000_000_000 + math.MaxInt32, true},
		{"conn far before", 7, 1, 1, false},
		{"last before first", -1000, 1, 4_000_000_000, false},
		{"microseconds past 31 bits", 1000 * (1 << 31), 1, 4_000_000_000, false},
		{"nanoseconds past 31 bits", 1<<31 + 1, 1, 4_000_000_000, false},
		{"frames past 32 bits", 0, 1 << 32, 4_000_000_000, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			o.last, o.lastFrame, o.conn = o.first+tt.last, o.firstFrame+tt.frames, tt.conn
			r, ok := pack(&o)
			if ok != tt.packs {
				t.Fatalf("pack(%+v) ok = %v, want %v", o, ok, tt.packs)
			}
			if got := r.unpack(); ok && got != o {
				t.Errorf("pack(%+v).unpack() = %+v", o, got)
			}
		})
	}
	o := base
	o.lastFrame = o.firstFrame - 1
	if _, ok := pack(&o); ok {
		t.Errorf("pack(%+v) ok with the last frame before the first", o)
	}
}

// TestScanIPv6 finds a port scan between IPv6 hosts, held compact, and
// the same scan between IPv4 hosts, with the same evidence.
func TestScanIPv6(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	find := func(scanner, target netip.Addr) (*Finding, int) {
		e := NewEngine(DefaultConfig())
		var now time.Time
		held := 0
		tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) {
			e.Flow(f, now)
			held = max(held, e.scans.ones6.len())
		})
		for i := range 20 {
			c, s := netip.AddrPortFrom(scanner, uint16(40000+i)), netip.AddrPortFrom(target, uint16(1+i))
			now = t0.Add(time.Duration(i) * time.Millisecond)
			tab.Observe(now, c, s, fsm.Segment{Seq: 100, Flags: fsm.FlagSYN, Window: 1000}, reassembly.Meta{Frame: uint64(2*i + 1), IPv6: scanner.Is6()})
			now = now.Add(time.Millisecond)
			tab.Observe(now, s, c, fsm.Segment{Ack: 101, Flags: fsm.FlagRST | fsm.FlagACK}, reassembly.Meta{Frame: uint64(2*i + 2), IPv6: scanner.Is6()})
		}
		tab.Flush(now)
		fs, _ := e.Finish()
		for i := range fs {
			if fs[i].Kind == "port_scan" {
				return &fs[i], held
			}
		}
		return nil, held
	}
	f6, held := find(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2"))
	f4, _ := find(netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.2"))
	if held != 1 {
		t.Errorf("IPv6 pairs held compact = %d, want 1", held)
	}
	if f6 == nil || f4 == nil {
		t.Fatalf("port_scan = %+v (IPv6), %+v (IPv4), want both", f6, f4)
	}
	if f6.Scan.Ports != 20 || f6.FirstFrame != f4.FirstFrame || f6.LastFrame != f4.LastFrame || !f6.First.Equal(f4.First) ||
		!f6.Last.Equal(f4.Last) || f6.Connection != f4.Connection || f6.Scan.Attempts != f4.Scan.Attempts || f6.Scan.Probes != f4.Scan.Probes {
		t.Errorf("port_scan = %+v %+v (IPv6), want the evidence of %+v %+v (IPv4)", f6, *f6.Scan, f4, *f4.Scan)
	}
}

// TestOneTableAllocs checks that finding, updating and deleting pairs
// allocates nothing once the table has room.
func TestOneTableAllocs(t *testing.T) {
	var t4 oneTable[uint64]
	var t6 oneTable[oneKey]
	k6 := oneKey{src: [16]byte{0x20, 1}, dst: [16]byte{0x20, 2}}
	t4.put(1, rec(1))
	t6.put(k6, rec(1))
	if n := testing.AllocsPerRun(100, func() {
		t4.put(2, rec(2))
		t6.put(k6, rec(2))
		if _, ok := t4.get(2); !ok {
			t.Fatal("get(2) = false after put")
		}
		t4.del(2)
	}); n != 0 {
		t.Errorf("put, get and del: %v allocations, want 0", n)
	}
}
