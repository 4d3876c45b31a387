package reassembly

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
)

// TestFlowIndex checks the index against a map through random inserts and
// deletes, with the hash cut to a few bits (so that probe runs are long,
// collide and wrap around the end of the table) and with the real hash
// (so that it grows).
func TestFlowIndex(t *testing.T) {
	for _, tt := range []struct {
		name string
		bits uint // hash bits kept; 32 keeps the whole hash
		keys int
	}{
		{"collisions", 3, 200},
		{"wraparound", 1, 40},
		{"growth", 32, 5000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			x := newFlowIndex()
			lru := make([]lruNode, tt.keys)
			hashOf := func(k Key) uint32 {
				h := x.hash(k)
				if tt.bits < 32 {
					// Homes near the end of the table, so runs wrap.
					h = uint32(len(x.slots)) - 1 - h&(1<<tt.bits-1)
				}
				return h
			}
			held := make(map[Key]int32)
			for i := range lru {
				a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
				k := MakeKey(netip.AddrPortFrom(a, 1000), netip.AddrPortFrom(a, 80))
				lru[i].f = &Flow{Key: k, slot: int32(i)}
			}
			for step := range 20 * tt.keys {
				i := rng.IntN(tt.keys)
				f := lru[i].f
				if _, ok := held[f.Key]; ok {
					x.delete(hashOf(f.Key), f.slot)
					delete(held, f.Key)
				} else {
					if tt.bits < 32 && len(held) >= len(x.slots)/2-1 {
						continue // no growth: it would move the homes
					}
					x.insert(hashOf(f.Key), f.slot)
					held[f.Key] = f.slot
				}
				if x.n != len(held) {
					t.Fatalf("n = %d, want %d", x.n, len(held))
				}
				check := []int{i}
				if step%97 == 0 {
					check = check[:0]
					for j := range lru {
						check = append(check, j)
					}
				}
				for _, j := range check {
					k := lru[j].f.Key
					got := x.find(k, hashOf(k), lru)
					if _, ok := held[k]; ok != (got != nil) || ok && got != lru[j].f {
						t.Fatalf("find(%v) = %p, want held %v (%p)", k, got, ok, lru[j].f)
					}
				}
			}
		})
	}
}

// TestFlowIndexDeleteAbsent checks that deleting a slot the index does not
// hold (twice, or the -1 of a flow out of the LRU list) changes nothing:
// the probe must stop at the first empty entry rather than take it, or any
// entry, for the one to delete.
func TestFlowIndexDeleteAbsent(t *testing.T) {
	x := newFlowIndex()
	lru := make([]lruNode, 8)
	for i := range lru {
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		k := MakeKey(netip.AddrPortFrom(a, 1000), netip.AddrPortFrom(a, 80))
		lru[i].f = &Flow{Key: k, slot: int32(i)}
		x.insert(0, int32(i)) // one home: a single probe run
	}
	x.delete(0, 3)
	before := append([]ixSlot(nil), x.slots...)
	for _, slot := range []int32{3, -1, 100} {
		x.delete(0, slot)
		if x.n != 7 || !slices.Equal(x.slots, before) {
			t.Fatalf("delete(%d) of an absent slot changed the index: n = %d", slot, x.n)
		}
	}
	for i, n := range lru {
		if got := x.find(n.f.Key, 0, lru); (got != nil) != (i != 3) {
			t.Errorf("find(%d) = %p after the deletes", i, got)
		}
	}
}
