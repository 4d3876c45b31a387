package reassembly_test

import (
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// openFlows returns a table holding n established connections, each with a
// round trip of data (so that RTT and unacked state exist), and their
// client addresses.
func openFlows(n int) (*reassembly.Table, []netip.AddrPort) {
	cfg := reassembly.DefaultConfig()
	cfg.MaxFlows = 0 // hold them all
	tab := reassembly.NewTable(cfg, nil)
	clients := make([]netip.AddrPort, n)
	m := reassembly.Meta{WireLen: 1514, IPLen: 1500}
	for i := range clients {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		c := netip.AddrPortFrom(a, uint16(1024+i%60000))
		clients[i] = c
		ts := t0.Add(time.Duration(i) * time.Microsecond)
		for _, p := range []struct {
			from, to netip.AddrPort
			seg      fsm.Segment
		}{
			{c, srv, fsm.Segment{Seq: 100, Flags: syn, Window: 64240, HasMSS: true, MSS: 1460}},
			{srv, c, fsm.Segment{Seq: 300, Ack: 101, Flags: synack, Window: 64240, HasMSS: true, MSS: 1460}},
			{c, srv, fsm.Segment{Seq: 101, Ack: 301, Flags: ack, Window: 502}},
			{c, srv, fsm.Segment{Seq: 101, Ack: 301, Flags: ack | fsm.FlagPSH, Len: 500, Window: 502}},
			{srv, c, fsm.Segment{Seq: 301, Ack: 601, Flags: ack, Window: 502}},
		} {
			m.Frame++
			ts = ts.Add(time.Millisecond)
			tab.Observe(ts, p.from, p.to, p.seg, m)
		}
	}
	return tab, clients
}

// BenchmarkLookup is the flow lookup of Observe among 10 000 open flows:
// an ACK to a different flow every time.
func BenchmarkLookup(b *testing.B) {
	tab, clients := openFlows(10000)
	seg := fsm.Segment{Seq: 301, Ack: 601, Flags: ack, Window: 502}
	m := reassembly.Meta{Frame: 1 << 20, WireLen: 60, IPLen: 40}
	ts := t0.Add(time.Second)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		m.Frame++
		tab.Observe(ts, srv, clients[i], seg, m)
		if i++; i == len(clients) {
			i = 0
		}
	}
}

// BenchmarkOpenFlowBytes reports the heap held per open connection
// (B/open-flow): the Flow with its state machine, sequence analysis and
// statistics, its map entry and what it allocated, after a handshake and a
// round trip of data (issue 7 wants at most 1 KiB).
func BenchmarkOpenFlowBytes(b *testing.B) {
	const n = 20000
	var per float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tab, _ := openFlows(n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		per = float64(after.HeapAlloc-before.HeapAlloc) / n
		runtime.KeepAlive(tab)
	}
	b.ReportMetric(per, "B/open-flow")
}
