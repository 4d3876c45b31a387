package anomaly

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// TestHalfCloseExhaustionWhenPairsFull fills the half-close pairs to
// maxHalfKeys with one half-closed connection each from as many sources,
// then has one more source leave 25 half closed: its exhaustion is found,
// and the pairs held stay at the cap. Before, the pairs of the first 65,536
// sources were kept for the whole capture and every later one left out.
func TestHalfCloseExhaustionWhenPairsFull(t *testing.T) {
	e, obs, finish := engineFeed()
	// halfClose: a handshake, the client's FIN acknowledged, no FIN back.
	halfClose := func(c, s netip.AddrPort, at time.Time) {
		us := time.Microsecond
		obs(at, c, s, fsm.Segment{Seq: 100, Flags: fsm.FlagSYN, Window: 1000})
		obs(at.Add(us), s, c, fsm.Segment{Seq: 500, Ack: 101, Flags: fsm.FlagSYN | fsm.FlagACK, Window: 1000})
		obs(at.Add(2*us), c, s, fsm.Segment{Seq: 101, Ack: 501, Flags: fsm.FlagACK, Window: 1000})
		obs(at.Add(3*us), c, s, fsm.Segment{Seq: 101, Ack: 501, Flags: fsm.FlagFIN | fsm.FlagACK, Window: 1000})
		obs(at.Add(4*us), s, c, fsm.Segment{Seq: 501, Ack: 102, Flags: fsm.FlagACK, Window: 1000})
	}
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	svc := netip.MustParseAddrPort("10.1.0.2:80")
	n := maxHalfKeys + 10000 // the flow table holds some thousands a while
	for i := range n {
		src := netip.AddrFrom4([4]byte{10, byte(2 + i>>16), byte(i >> 8), byte(i)})
		halfClose(netip.AddrPortFrom(src, 40000), svc, t0.Add(time.Duration(i)*time.Millisecond))
	}
	if held := len(e.halfOpen.ents); held != maxHalfKeys {
		t.Fatalf("%d half-close pairs held after %d sources, want the cap %d", held, n, maxHalfKeys)
	}
	attacker := netip.MustParseAddr("10.1.0.1")
	at := t0.Add(time.Duration(n) * time.Millisecond)
	for i := range 25 {
		halfClose(netip.AddrPortFrom(attacker, uint16(50000+i)), svc, at.Add(time.Duration(i)*time.Millisecond))
	}
	fs := finish(time.Hour)
	if held := len(e.halfOpen.ents); held > maxHalfKeys || len(e.halfOpen.ix) != held {
		t.Errorf("%d pairs held, %d indexed: want the same, at most %d", held, len(e.halfOpen.ix), maxHalfKeys)
	}
	var found *Finding
	for i := range fs {
		if fs[i].Kind == "half_close_exhaustion" && fs[i].Host == attacker {
			found = &fs[i]
		}
	}
	if found == nil || found.Count != 25 || found.Service != svc {
		t.Fatalf("half_close_exhaustion = %+v, want %s leaving 25 connections to %s half closed", found, attacker, svc)
	}
}
