package anomaly

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// TestPortSet checks the inline-then-map set against a map, across the
// point where it spills.
func TestPortSet(t *testing.T) {
	var s portSet
	want := map[uint16]struct{}{}
	for i, p := range []uint16{80, 80, 443, 22, 80, 25, 110, 443, 8080, 22, 53, 9} {
		s.add(p)
		want[p] = struct{}{}
		if s.len() != len(want) {
			t.Fatalf("after %d adds (%d): len %d, want %d", i+1, p, s.len(), len(want))
		}
	}
	if s.many == nil {
		t.Fatal("8 distinct ports stayed inline; the spill to a map was not exercised")
	}
	for p := range want {
		if _, ok := s.many[p]; !ok {
			t.Errorf("port %d lost in the spill", p)
		}
	}
}

// TestScanPairsExpire feeds a port scan, then an hour of refused
// connections from ever new sources (one pair each, never recurring): the
// scan is still found, and the pairs held stay those of the last two
// windows rather than growing with the capture.
func TestScanPairsExpire(t *testing.T) {
	e := NewEngine(DefaultConfig())
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var now time.Time
	tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { e.Flow(f, now) })
	frame := uint64(0)
	refused := func(c, s netip.AddrPort, at time.Time) {
		now = at
		frame++
		tab.Observe(at, c, s, fsm.Segment{Seq: 100, Flags: fsm.FlagSYN, Window: 1000}, reassembly.Meta{Frame: frame})
		frame++
		tab.Observe(at.Add(time.Millisecond), s, c, fsm.Segment{Ack: 101, Flags: fsm.FlagRST | fsm.FlagACK}, reassembly.Meta{Frame: frame})
	}
	scanner, target := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.2")
	for i := range 20 {
		refused(netip.AddrPortFrom(scanner, uint16(40000+i)), netip.AddrPortFrom(target, uint16(1+i)), t0.Add(time.Duration(i)*time.Millisecond))
	}
	most := 0
	for i := range 3600 {
		src := netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)})
		refused(netip.AddrPortFrom(src, 40000), netip.AddrPortFrom(target, 80), t0.Add(time.Duration(i+1)*time.Second))
		most = max(most, len(e.scans.pairs)+e.scans.ones.len())
	}
	tab.Flush(now)
	fs, _ := e.Finish()
	var scan *Finding
	for i := range fs {
		if fs[i].Kind == "port_scan" {
			scan = &fs[i]
		}
	}
	if scan == nil || scan.Host != scanner || scan.Scan.Ports != 20 {
		t.Fatalf("port_scan = %+v, want %s probing 20 ports", scan, scanner)
	}
	// A pair is judged two windows (10 min) after it began, looked for
	// every quarter window: at most 2.25 windows of one-second pairs.
	if limit := int(2.25 * DefaultConfig().ScanWindow.Seconds()); most > limit+1 {
		t.Errorf("up to %d scan pairs held at once, want at most %d", most, limit+1)
	}
}
