package capture_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/capture"
	"github.com/tcptrace/tcptrace/fsm"
)

// TestDedup: a second copy of a segment (same IPv4 ID and header fields,
// soon after) is a copy; a retransmission (new ID), a copy too late, an
// IPv6 segment and a segment with ID 0 are not. Nothing is allocated.
func TestDedup(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	seg := func(id uint16, ms int, v6 bool) *capture.Packet {
		return &capture.Packet{Src: netip.MustParseAddrPort("10.0.0.1:40000"), Dst: netip.MustParseAddrPort("10.0.0.2:80"), IPID: id, IPv6: v6,
			TS: t0.Add(time.Duration(ms) * time.Millisecond), Seg: fsm.Segment{Seq: 1000, Ack: 2000, Flags: fsm.FlagACK | fsm.FlagPSH, Len: 10, Window: 500}}
	}
	for _, tc := range []struct {
		name         string
		first, again *capture.Packet
		copy         bool
	}{
		{"copy", seg(7, 0, false), seg(7, 1, false), true},
		{"retransmission", seg(7, 0, false), seg(8, 1, false), false},
		{"too late", seg(7, 0, false), seg(7, 200, false), false},
		{"IPv6", seg(0, 0, true), seg(0, 1, true), false},
		{"ID 0", seg(0, 0, false), seg(0, 1, false), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var x capture.Dedup
			if x.Copy(tc.first) {
				t.Fatal("the first segment is a copy")
			}
			if got := x.Copy(tc.again); got != tc.copy {
				t.Errorf("Copy = %v, want %v", got, tc.copy)
			}
		})
	}
	var x capture.Dedup
	p := seg(9, 0, false)
	if n := testing.AllocsPerRun(1000, func() { p.IPID++; x.Copy(p) }); n != 0 {
		t.Errorf("Copy allocates %v times, want 0", n)
	}
}
