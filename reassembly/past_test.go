package reassembly

import (
	"net/netip"
	"testing"
)

// TestPastTuplesBound: the memory keeps the last pastTuplesMax tuples to
// leave, forgets the oldest first, and a tuple remembered again keeps its
// newer place (its older place in the ring, when reused, does not forget
// it).
func TestPastTuplesBound(t *testing.T) {
	var p pastTuples
	f := &Flow{Incarnation: 1}
	f.Client = netip.MustParseAddrPort("10.0.0.1:40000")
	f.Server = netip.MustParseAddrPort("10.0.0.2:80")
	f.Key = MakeKey(f.Client, f.Server)
	p.remember(1, f) // hash 1 first, in place 0
	for h := uint64(2); h < pastTuplesMax; h++ {
		p.remember(h, f)
	}
	p.remember(1, f)             // again, in the last place: the ring is full
	p.remember(pastTuplesMax, f) // takes place 0, hash 1's older place
	if _, ok := p.recall(1); !ok {
		t.Fatal("a tuple remembered again was forgotten when its older place was reused")
	}
	p.remember(pastTuplesMax+1, f) // takes place 1: hash 2, the oldest, goes
	if _, ok := p.recall(2); ok {
		t.Error("hash 2 is remembered; want it forgotten as the oldest")
	}
	for _, h := range []uint64{1, 3, pastTuplesMax, pastTuplesMax + 1} {
		if _, ok := p.recall(h); !ok {
			t.Errorf("hash %d forgotten; want it remembered", h)
		}
	}
	if n := len(p.m); n != pastTuplesMax {
		t.Errorf("%d tuples remembered, want %d", n, pastTuplesMax)
	}
}
