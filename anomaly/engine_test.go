package anomaly_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/anomaly"
	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

var e0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

type pkt struct {
	from, to netip.AddrPort
	flags    fsm.Flags
	seq, ack uint32
	n        uint32
	at       time.Duration
}

// run feeds packets through a flow table and every finished flow through an
// engine, as cmd/tcptrace does, with the capture ending at end.
func run(t *testing.T, pkts []pkt, end time.Duration) ([]anomaly.Finding, []anomaly.Rollup) {
	t.Helper()
	e := anomaly.NewEngine(anomaly.DefaultConfig())
	now := e0.Add(end)
	tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { e.Flow(f, now) })
	for i, p := range pkts {
		tab.Observe(e0.Add(p.at), p.from, p.to, fsm.Segment{Seq: fsm.Seq(p.seq), Ack: fsm.Seq(p.ack), Flags: p.flags, Len: p.n, Window: 1000}, reassembly.Meta{Frame: uint64(i + 1)})
	}
	tab.Flush(now)
	return e.Finish()
}

func find(fs []anomaly.Finding, kind string) *anomaly.Finding {
	for i := range fs {
		if fs[i].Kind == kind {
			return &fs[i]
		}
	}
	return nil
}

var (
	cli = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:8080")
)

const (
	syn    = fsm.FlagSYN
	synack = fsm.FlagSYN | fsm.FlagACK
	ack    = fsm.FlagACK
	fin    = fsm.FlagFIN | fsm.FlagACK
	rstack = fsm.FlagRST | fsm.FlagACK
)

func handshake(c netip.AddrPort) []pkt {
	return []pkt{{c, srv, syn, 100, 0, 0, 0}, {srv, c, synack, 300, 101, 0, time.Millisecond}, {c, srv, ack, 101, 301, 0, 2 * time.Millisecond}}
}

func TestHalfCloseStuck(t *testing.T) {
	pkts := append(handshake(cli),
		pkt{cli, srv, fin, 101, 301, 0, time.Second},
		pkt{srv, cli, ack, 301, 102, 0, time.Second + time.Millisecond},
	)
	for _, tt := range []struct {
		name string
		end  time.Duration
		kind string
		sev  anomaly.Severity
	}{
		{"within the grace period", 30 * time.Second, "half_close_pending", anomaly.SeverityInfo},
		{"stuck", 120 * time.Second, "half_close_stuck", anomaly.SeverityLow},
		{"stuck long", 400 * time.Second, "half_close_stuck", anomaly.SeverityMedium},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs, roll := run(t, pkts, tt.end)
			f := find(fs, tt.kind)
			if f == nil || f.Severity != tt.sev || f.Service != srv || f.Connection != 1 {
				t.Fatalf("findings = %+v, want %s (%v) on %v", fs, tt.kind, tt.sev, srv)
			}
			if tt.kind == "half_close_stuck" && roll[0].HalfCloseLeaks != 1 {
				t.Errorf("rollup leaks = %d, want 1", roll[0].HalfCloseLeaks)
			}
		})
	}
}

func TestLegitimateHalfCloseIsSilent(t *testing.T) {
	pkts := append(handshake(cli),
		pkt{cli, srv, fin, 101, 301, 0, time.Second},
		pkt{srv, cli, ack, 301, 102, 1000, 2 * time.Second},
		pkt{srv, cli, ack, 1301, 102, 1000, 100 * time.Second}, // still sending
		pkt{srv, cli, fin, 2301, 102, 0, 101 * time.Second},
		pkt{cli, srv, ack, 102, 2302, 0, 101*time.Second + time.Millisecond},
	)
	fs, _ := run(t, pkts, 200*time.Second)
	for _, f := range fs {
		if f.Severity > anomaly.SeverityInfo {
			t.Errorf("finding %s (%v) on a legitimate half-close", f.Kind, f.Severity)
		}
	}
}

func TestRefusedAggregated(t *testing.T) {
	var pkts []pkt
	for i := range 5 {
		c := netip.AddrPortFrom(cli.Addr(), uint16(40000+i))
		pkts = append(pkts, pkt{c, srv, syn, 100, 0, 0, time.Duration(i) * time.Second}, pkt{srv, c, rstack, 0, 101, 0, time.Duration(i)*time.Second + time.Millisecond})
	}
	fs, roll := run(t, pkts, 10*time.Second)
	f := find(fs, "conn_refused")
	if f == nil || f.Count != 5 || f.FirstFrame != 1 || f.LastFrame != 10 {
		t.Fatalf("conn_refused = %+v, want one finding counting 5 over frames 1-10", f)
	}
	if roll[0].Refused != 5 || roll[0].HandshakeSuccess() != 0 {
		t.Errorf("rollup = %+v", roll[0])
	}
}

func TestSYNFlood(t *testing.T) {
	var pkts []pkt
	for i := range 300 {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(1024+i))
		if i >= 256 {
			c = netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}), uint16(1024+i))
		}
		pkts = append(pkts, pkt{c, srv, syn, uint32(i * 7919), 0, 0, time.Duration(i) * 10 * time.Millisecond})
	}
	fs, _ := run(t, pkts, 5*time.Second)
	f := find(fs, "syn_flood")
	if f == nil || f.Severity != anomaly.SeverityHigh || f.Service != srv {
		t.Fatalf("findings = %+v, want a syn_flood on %v", fs, srv)
	}
	if fs[0].Kind != "syn_flood" && fs[0].Severity < f.Severity {
		t.Errorf("findings not worst first: %v", fs[0].Kind)
	}
	if f.Count != 300 {
		t.Errorf("syn_flood counts %d attempts, want 300 (each once, though the windows overlap)", f.Count)
	}
	// A flood across many windows: each attempt still counted once.
	var long []pkt
	for i := range 3000 {
		c := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
		long = append(long, pkt{c, srv, syn, uint32(i * 7919), 0, 0, time.Duration(i) * 10 * time.Millisecond})
	}
	fs, _ = run(t, long, 5*time.Second)
	if f := find(fs, "syn_flood"); f == nil || f.Count != 3000 {
		t.Errorf("30 s flood: syn_flood = %+v, want a count of 3000", f)
	}
	// A busy but healthy service is no flood.
	var ok []pkt
	for i := range 300 {
		c := netip.AddrPortFrom(cli.Addr(), uint16(20000+i))
		at := time.Duration(i) * 10 * time.Millisecond
		ok = append(ok, pkt{c, srv, syn, 100, 0, 0, at}, pkt{srv, c, synack, 300, 101, 0, at + time.Millisecond}, pkt{c, srv, ack, 101, 301, 0, at + 2*time.Millisecond})
	}
	if fs, _ := run(t, ok, 5*time.Second); find(fs, "syn_flood") != nil {
		t.Errorf("syn_flood on 300 completed handshakes")
	}
}

// randomISN are server ISNs from an RFC 6528 generator (drawn once from
// crypto/rand).
var randomISN = [6]uint32{0x74193954, 0xDD3B221B, 0xB26E1AEA, 0x9E228EA8, 0x765BD794, 0x3E7CBF21}

func TestPredictableISNScanner(t *testing.T) {
	// nmap's SEQ probes: tcpSeqBase+i, 100 ms apart, new source port each.
	scanner := netip.MustParseAddr("10.0.0.9")
	var pkts []pkt
	for i := range 6 {
		c := netip.AddrPortFrom(scanner, uint16(50000+i))
		at := time.Duration(i) * 100 * time.Millisecond
		pkts = append(pkts, pkt{c, srv, syn, 0x5f3a0000 + uint32(i), 0, 0, at}, pkt{srv, c, synack, randomISN[i], 0x5f3a0001 + uint32(i), 0, at + time.Millisecond}, pkt{c, srv, fsm.FlagRST, 0x5f3a0001 + uint32(i), 0, 0, at + 2*time.Millisecond})
	}
	fs, _ := run(t, pkts, time.Second)
	var hit bool
	for _, f := range fs {
		if f.Kind == "isn_predictable" {
			if f.Host != scanner || f.Role != "client" {
				t.Errorf("isn_predictable on %v/%s, want the scanner %v as client", f.Host, f.Role, scanner)
			}
			hit = true
		}
	}
	if !hit {
		t.Errorf("no isn_predictable finding for the scanner; findings: %+v", fs)
	}
}
