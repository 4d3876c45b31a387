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

// engineFeed returns an engine fed by a flow table, a function that
// observes one segment at a time (its time is the engine's now), and one
// that flushes the table after more time and returns the findings.
func engineFeed() (e *Engine, obs func(at time.Time, from, to netip.AddrPort, seg fsm.Segment), finish func(after time.Duration) []Finding) {
	e = NewEngine(DefaultConfig())
	var now time.Time
	tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { e.Flow(f, now) })
	frame := uint64(0)
	obs = func(at time.Time, from, to netip.AddrPort, seg fsm.Segment) {
		now = at
		frame++
		tab.Observe(at, from, to, seg, reassembly.Meta{Frame: frame})
	}
	finish = func(after time.Duration) []Finding {
		tab.Flush(now.Add(after))
		fs, _ := e.Finish()
		return fs
	}
	return e, obs, finish
}

// refusedFeed is engineFeed with a function that feeds a refused
// connection (a SYN answered by RST-ACK a millisecond later) at a time.
func refusedFeed() (e *Engine, refused func(c, s netip.AddrPort, at time.Time), finish func() []Finding) {
	e, obs, fin := engineFeed()
	refused = func(c, s netip.AddrPort, at time.Time) {
		obs(at, c, s, fsm.Segment{Seq: 100, Flags: fsm.FlagSYN, Window: 1000})
		obs(at.Add(time.Millisecond), s, c, fsm.Segment{Ack: 101, Flags: fsm.FlagRST | fsm.FlagACK})
	}
	return e, refused, func() []Finding { return fin(0) }
}

// portScan returns the port_scan finding of fs, if any.
func portScan(fs []Finding) *Finding {
	for i := range fs {
		if fs[i].Kind == "port_scan" {
			return &fs[i]
		}
	}
	return nil
}

// TestScanPairsExpire feeds a port scan, then an hour of refused
// connections from ever new sources (one pair each, never recurring): the
// scan is still found, and the pairs held stay those of the last two
// windows rather than growing with the capture.
func TestScanPairsExpire(t *testing.T) {
	e, refused, finish := refusedFeed()
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
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
	if scan := portScan(finish()); scan == nil || scan.Host != scanner || scan.Scan.Ports != 20 {
		t.Fatalf("port_scan = %+v, want %s probing 20 ports", scan, scanner)
	}
	// A pair is judged two windows (10 min) after it began, looked for
	// every quarter window: at most 2.25 windows of one-second pairs.
	if limit := int(2.25 * DefaultConfig().ScanWindow.Seconds()); most > limit+1 {
		t.Errorf("up to %d scan pairs held at once, want at most %d", most, limit+1)
	}
}

// TestScanFoundWhenPairsFull fills the pair tables to maxScanPairs with
// refused connections from as many sources (IPv4 and IPv6, as a server on
// the Internet draws them), then has one more source scan 20 ports: the
// scan is found, in place of some of the single connections, and the pairs
// held stay at the cap. Before, every pair that began while the tables were
// full was left out, the scanner's too.
func TestScanFoundWhenPairsFull(t *testing.T) {
	e, refused, finish := refusedFeed()
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	target4, target6 := netip.MustParseAddr("10.1.0.2"), netip.MustParseAddr("2001:db8::2")
	n := maxScanPairs + 10000 // the flow table holds some thousands of ended flows a while
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		if i%4 == 3 {
			src := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 1, 12: byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
			refused(netip.AddrPortFrom(src, 40000), netip.AddrPortFrom(target6, 80), at)
			continue
		}
		src := netip.AddrFrom4([4]byte{10, byte(2 + i>>16), byte(i >> 8), byte(i)})
		refused(netip.AddrPortFrom(src, 40000), netip.AddrPortFrom(target4, 80), at)
	}
	if held := e.scans.held(); held != maxScanPairs {
		t.Fatalf("%d pairs held after %d single refused connections, want the cap %d", held, n, maxScanPairs)
	}
	scanner := netip.MustParseAddr("10.1.0.1")
	at := t0.Add(time.Duration(n) * time.Millisecond)
	for i := range 20 {
		refused(netip.AddrPortFrom(scanner, uint16(50000+i)), netip.AddrPortFrom(target4, uint16(1+i)), at.Add(time.Duration(i)*time.Millisecond))
	}
	if held := e.scans.held(); held > maxScanPairs {
		t.Errorf("%d pairs held, above the cap %d", held, maxScanPairs)
	}
	if scan := portScan(finish()); scan == nil || scan.Host != scanner || scan.Scan.Target != target4 || scan.Scan.Ports != 20 {
		t.Fatalf("port_scan = %+v, want %s probing 20 ports of %s", scan, scanner, target4)
	}
}
