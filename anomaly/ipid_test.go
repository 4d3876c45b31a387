package anomaly_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/anomaly"
	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// idPkt is a segment with its IPv4 identification.
type idPkt struct {
	pkt
	id uint16
}

func runIDs(t *testing.T, pkts []idPkt, end time.Duration) ([]anomaly.Finding, []anomaly.Rollup) {
	t.Helper()
	e := anomaly.NewEngine(anomaly.DefaultConfig())
	now := e0.Add(end)
	tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { e.Flow(f, now) })
	for i, p := range pkts {
		tab.Observe(e0.Add(p.at), p.from, p.to, fsm.Segment{Seq: fsm.Seq(p.seq), Ack: fsm.Seq(p.ack), Flags: p.flags, Len: p.n, Window: 1000},
			reassembly.Meta{Frame: uint64(i + 1), IPID: p.id, TTL: 64})
	}
	tab.Flush(now)
	return e.Finish()
}

// idProbes has n SYNs, 10 ms apart, from the clients in turn to ports 7000,
// 7001, ... of srv; the server answers each with a SYN-ACK (even ports) or
// a RST+ACK (odd ones) carrying the IP ID id(i). The first connection stays
// open to the end of the capture (its client's last ACK comes last), so it
// is finished after all the others.
func idProbes(n int, clients []netip.Addr, id func(int) uint16) []idPkt {
	var out []idPkt
	for i := range n {
		c := netip.AddrPortFrom(clients[i%len(clients)], uint16(40000+i))
		s := netip.AddrPortFrom(srv.Addr(), uint16(7000+i))
		at := time.Duration(i) * 10 * time.Millisecond
		out = append(out, idPkt{pkt{c, s, syn, 100, 0, 0, at}, 0})
		if i%2 == 0 {
			out = append(out, idPkt{pkt{s, c, synack, 300, 101, 0, at + time.Millisecond}, id(i)}, idPkt{pkt{c, s, ack, 101, 301, 0, at + 2*time.Millisecond}, 0})
		} else {
			out = append(out, idPkt{pkt{s, c, rstack, 0, 101, 0, at + time.Millisecond}, id(i)})
		}
	}
	c := netip.AddrPortFrom(clients[0], 40000)
	return append(out, idPkt{pkt{c, netip.AddrPortFrom(srv.Addr(), 7000), ack, 101, 301, 10, time.Duration(n) * 10 * time.Millisecond}, 0})
}

// TestIPIDClassPerHost checks the engine's IP-ID sequence per host
// (anomalies.md §1): the earliest 32 IDs of the SYN-ACKs and RSTs a host
// sent, in capture order whatever order its connections end in, classified
// as nmap does into the host rollup's IPIDClass, and an ipid_incremental
// finding for a global counter stepping by less than 10.
func TestIPIDClassPerHost(t *testing.T) {
	two := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.3")}
	one := two[:1]
	for _, tt := range []struct {
		name    string
		n       int
		clients []netip.Addr
		id      func(int) uint16
		class   string
		finding bool
		conf    float64
	}{
		{"global counter, two peers", 40, two, func(i int) uint16 { return uint16(1000 + i) }, "I", true, 0.9},
		{"global counter, one peer", 6, one, func(i int) uint16 { return uint16(100 + 2*i) }, "I", true, 0.6},
		{"steps of 500: incremental, too fast for a zombie", 6, two, func(i int) uint16 { return uint16(100 + 500*i) }, "I", false, 0},
		{"busy counter: passive gaps", 6, two, func(i int) uint16 { return uint16(100 + 1001*i) }, "RI", false, 0},
		{"a wrap is random to nmap", 6, two, func(i int) uint16 { return uint16(65533 + i) }, "RD", false, 0}, // get_diffs tests > 20000 before the 16-bit mask
		{"random", 6, two, func(i int) uint16 { return []uint16{9000, 41000, 123, 30000, 55555, 7}[i] }, "RD", false, 0},
		{"Linux: zero", 6, two, func(int) uint16 { return 0 }, "Z", false, 0},
		{"too few", 2, two, func(i int) uint16 { return uint16(1 + i) }, "", false, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs, roll := runIDs(t, idProbes(tt.n, tt.clients, tt.id), time.Minute)
			h := roll[len(roll)-1]
			if h.Host != srv.Addr() || h.IPIDClass != tt.class {
				t.Errorf("host rollup %v IPIDClass = %q, want %q", h.Host, h.IPIDClass, tt.class)
			}
			f := find(fs, "ipid_incremental")
			if (f != nil) != tt.finding {
				t.Fatalf("ipid_incremental = %+v, want %v", f, tt.finding)
			}
			if f == nil {
				return
			}
			want := min(tt.n, 32)
			if f.Host != srv.Addr() || f.Severity != anomaly.SeverityInfo || f.Confidence != tt.conf || f.Count != uint64(want) ||
				f.FirstFrame != 2 || !f.First.Equal(e0.Add(time.Millisecond)) || f.Service.IsValid() || f.RFC == "" {
				t.Errorf("ipid_incremental = %+v, want host %v, info, confidence %v, %d samples from frame 2", f, srv.Addr(), tt.conf, want)
			}
			if ids := fmt.Sprintf("(%d to %d)", tt.id(0), tt.id(want-1)); !strings.Contains(f.Explanation, ids) {
				t.Errorf("explanation %q does not name IDs %s", f.Explanation, ids)
			}
			if one := strings.Contains(f.Explanation, "per-destination counter"); one != (len(tt.clients) == 1) {
				t.Errorf("explanation %q: one peer = %v, want %v", f.Explanation, one, len(tt.clients) == 1)
			}
		})
	}
}

// TestIPIDIgnoresIPv6 checks that flows over IPv6 (no identification in the
// fixed header) give no IP-ID samples.
func TestIPIDIgnoresIPv6(t *testing.T) {
	e := anomaly.NewEngine(anomaly.DefaultConfig())
	tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { e.Flow(f, e0.Add(time.Minute)) })
	s := netip.MustParseAddrPort("[fd00::2]:7000")
	for i := range 5 {
		c := netip.AddrPortFrom(netip.MustParseAddr("fd00::1"), uint16(40000+i))
		at := e0.Add(time.Duration(i) * time.Second)
		tab.Observe(at, c, s, fsm.Segment{Seq: 100, Flags: syn, Window: 1000}, reassembly.Meta{Frame: uint64(2*i + 1), IPv6: true})
		tab.Observe(at, s, c, fsm.Segment{Seq: 0, Ack: 101, Flags: rstack}, reassembly.Meta{Frame: uint64(2*i + 2), IPv6: true})
	}
	tab.Flush(e0.Add(time.Minute))
	fs, roll := e.Finish()
	if f := find(fs, "ipid_incremental"); f != nil || roll[len(roll)-1].IPIDClass != "" {
		t.Errorf("IPv6 host: ipid_incremental %+v, class %q; want none", f, roll[len(roll)-1].IPIDClass)
	}
}
