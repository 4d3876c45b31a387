package reassembly_test

import (
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// zseg is one scripted segment for ZeekConn. Sequence numbers are offsets
// from the sender's ISN (client 1000, server 5000), so rows read like
// tcpdump's relative numbers.
type zseg struct {
	at    time.Duration // since the first segment
	dir   fsm.Dir
	flags fsm.Flags
	seq   uint32 // relative to the sender's ISN
	ack   uint32 // relative to the receiver's ISN
	n     uint32 // payload bytes
	win0  bool   // advertise a zero window
	bad   bool   // checksum failed verification
	trunc bool   // the snaplen cut the payload
}

const (
	cISN = 1000
	sISN = 5000
)

var zeekEpoch = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// Short names for the flag combinations used below.
const (
	fS  = fsm.FlagSYN
	fSA = fsm.FlagSYN | fsm.FlagACK
	fA  = fsm.FlagACK
	fPA = fsm.FlagPSH | fsm.FlagACK
	fFA = fsm.FlagFIN | fsm.FlagACK
	fR  = fsm.FlagRST
	fRA = fsm.FlagRST | fsm.FlagACK
	cl  = fsm.DirClient
	sv  = fsm.DirServer
)

// run feeds segs to a fresh ZeekConn for a flow between client port cport
// and server port sport.
func run(cport, sport uint16, segs []zseg) *reassembly.ZeekConn {
	var z reassembly.ZeekConn
	for _, g := range segs {
		isn, peer, src, dst := uint32(cISN), uint32(sISN), cport, sport
		if g.dir == sv {
			isn, peer, src, dst = sISN, cISN, sport, cport
		}
		s := fsm.Segment{Seq: fsm.Seq(isn + g.seq), Flags: g.flags, Len: g.n, Window: 65535}
		if g.flags.Contains(fsm.FlagACK) {
			s.Ack = fsm.Seq(peer + g.ack)
		}
		if g.win0 {
			s.Window = 0
		}
		m := reassembly.Meta{BadChecksum: g.bad, Truncated: g.trunc}
		z.Observe(zeekEpoch.Add(g.at), g.dir, src, dst, &s, &m)
	}
	return &z
}

// handshake is the three-way handshake, ending at relative time 20ms.
var handshake = []zseg{
	{0, cl, fS, 0, 0, 0, false, false, false},
	{10 * time.Millisecond, sv, fSA, 0, 1, 0, false, false, false},
	{20 * time.Millisecond, cl, fA, 1, 1, 0, false, false, false},
}

// after returns the handshake followed by segs.
func after(segs ...zseg) []zseg { return append(append([]zseg{}, handshake...), segs...) }

// at is a shorthand for a segment at t milliseconds.
func at(ms int, d fsm.Dir, f fsm.Flags, seq, ack, n uint32) zseg {
	return zseg{at: time.Duration(ms) * time.Millisecond, dir: d, flags: f, seq: seq, ack: ack, n: n}
}

// times returns k copies of g, each 1ms later than the one before.
func times(k int, g zseg) []zseg {
	out := make([]zseg, k)
	for i := range out {
		out[i] = g
		out[i].at += time.Duration(i) * time.Millisecond
	}
	return out
}

func join(parts ...[]zseg) []zseg {
	var out []zseg
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestZeekVerdict(t *testing.T) {
	bad := func(g zseg) zseg { g.bad = true; return g }
	win0 := func(g zseg) zseg { g.win0 = true; return g }
	trunc := func(g zseg) zseg { g.trunc = true; return g }
	tests := []struct {
		name         string
		cport, sport uint16
		segs         []zseg
		state, hist  string
		origIsClient bool
		conns        int
	}{
		// conn_state, one code each (scripts/base/protocols/conn/main.zeek).
		{"SF: handshake, data both ways, FINs", 50000, 8443, after(
			at(30, cl, fPA, 1, 1, 10), at(40, sv, fA, 1, 11, 0), at(50, sv, fPA, 1, 11, 20), at(60, cl, fA, 11, 21, 0),
			at(70, cl, fFA, 11, 21, 0), at(80, sv, fFA, 21, 12, 0), at(90, cl, fA, 12, 22, 0)),
			"SF", "ShADadFf", true, 1},
		{"REJ: SYN answered by RST", 50000, 8443, []zseg{at(0, cl, fS, 0, 0, 0), at(1, sv, fRA, 0, 1, 0)}, "REJ", "Sr", true, 1},
		{"S0: unanswered SYN", 50000, 8443, []zseg{at(0, cl, fS, 0, 0, 0)}, "S0", "S", true, 1},
		{"RSTOS0: SYN then RST", 50000, 8443, []zseg{at(0, cl, fS, 0, 0, 0), at(1, cl, fR, 1, 0, 0)}, "RSTOS0", "SR", true, 1},
		{"RSTO: originator aborts", 50000, 8443, after(at(30, cl, fRA, 1, 1, 0)), "RSTO", "ShAR", true, 1},
		{"RSTR: responder aborts", 50000, 8443, after(at(30, cl, fPA, 1, 1, 5), at(40, sv, fRA, 1, 6, 0)), "RSTR", "ShADr", true, 1},
		{"RSTRH: SYN-ACK and RST, no SYN", 50000, 80, []zseg{at(0, sv, fSA, 0, 1, 0), at(1, sv, fR, 1, 0, 0)}, "RSTRH", "^hr", true, 1},
		{"SH: SYN then FIN", 50000, 8443, []zseg{at(0, cl, fS, 0, 0, 0), at(1, cl, fsm.FlagFIN, 1, 0, 0)}, "SH", "SF", true, 1},
		{"SHR: responder FIN midstream", 50000, 80, []zseg{at(0, sv, fFA, 100, 200, 0)}, "SHR", "^f", true, 1},
		{"S2: originator closes alone", 50000, 8443, after(at(30, cl, fFA, 1, 1, 0)), "S2", "ShAF", true, 1},
		{"S3: responder closes alone", 50000, 8443, after(at(30, sv, fFA, 1, 1, 0)), "S3", "ShAf", true, 1},
		{"S1: established", 50000, 8443, handshake, "S1", "ShA", true, 1},
		{"OTH: midstream data", 50000, 40000, []zseg{at(0, cl, fPA, 100, 200, 10), at(1, sv, fPA, 200, 110, 10)}, "OTH", "Dd", true, 1},

		// History letters and their repeat rules (TSA update_history).
		{"repeated SYN-ACK with a new ISN", 50000, 8443, after(at(30, cl, fFA, 1, 1, 0), at(40, sv, fFA, 1, 2, 0), zseg{at: 50 * time.Millisecond, dir: sv, flags: fSA, seq: 777, ack: 2}),
			"SF", "ShAFfh", true, 1},
		{"RST repeated with a new sequence number", 50000, 8443, after(at(30, cl, fR, 1, 0, 0), at(31, cl, fR, 1, 0, 0), at(32, cl, fR, 9, 0, 0)), "RSTO", "ShARR", true, 1},
		{"FIN repeated when its end moves", 50000, 8443, after(at(30, cl, fFA, 1, 1, 0), at(31, cl, fFA, 1, 1, 0), at(32, cl, fFA, 1, 1, 5)), "S2", "ShAFF", true, 1},
		{"I: FIN+RST", 50000, 8443, after(at(30, cl, fsm.FlagFIN|fsm.FlagRST, 1, 0, 0)), "RSTO", "ShAI", true, 1},
		{"Q: SYN+FIN", 50000, 8443, []zseg{at(0, cl, fS|fsm.FlagFIN, 0, 0, 0)}, "SH", "Q", true, 1},
		{"T: retransmissions, at the 1st and 10th", 50000, 8443, join(after(at(30, cl, fPA, 1, 1, 10)), times(12, at(40, cl, fPA, 1, 1, 10))), "S1", "ShADTT", true, 1},
		{"T: out-of-order data counts too", 50000, 8443, after(at(30, cl, fPA, 11, 1, 10), at(31, cl, fPA, 1, 1, 10)), "S1", "ShADT", true, 1},
		{"W: zero windows, at the 1st and 10th", 50000, 8443, join(after(at(30, cl, fPA, 1, 1, 10)), times(10, win0(at(40, sv, fA, 1, 11, 0)))), "S1", "ShADaww", true, 1},
		{"W: not with a RST", 50000, 8443, after(win0(at(30, sv, fRA, 1, 1, 0))), "RSTR", "ShAr", true, 1},
		{"G: ack above a hole", 50000, 8443, after(at(30, cl, fPA, 1, 1, 10), at(31, cl, fPA, 21, 1, 10), at(40, sv, fA, 1, 31, 0)), "S1", "ShADaG", true, 1},
		{"G: a truncated payload never reaches the reassembler", 50000, 8443, after(trunc(at(30, cl, fPA, 1, 1, 10)), at(40, sv, fA, 1, 11, 0)), "S1", "ShADaG", true, 1},
		{"G: none while not established", 50000, 40000, []zseg{at(0, cl, fPA, 100, 200, 10), at(1, cl, fPA, 120, 200, 10), at(2, sv, fA, 200, 130, 0)}, "OTH", "Da", true, 1},
		{"C: bad checksums, at the 1st and 10th", 50000, 8443, join(after(), times(11, bad(at(30, cl, fPA, 1, 1, 10)))), "S1", "ShACC", true, 1},
		{"C: a bad SYN opens a connection, and each bad SYN a new one", 50000, 8443, times(3, bad(at(0, cl, fS, 0, 0, 0))), "OTH", "C", true, 3},

		// Zeek's originator (^): port heuristic, SYN/SYN-ACK reversal,
		// SYN-ACK followed by an ACK (zeek/zeek PR #2191).
		{"^: data from a likely server port", 50000, 80, []zseg{at(0, sv, fPA, 100, 200, 10), at(1, cl, fA, 200, 110, 0)}, "OTH", "^dA", true, 1},
		{"^: both ports likely, the higher one is the server", 80, 8080, []zseg{at(0, cl, fPA, 100, 200, 10)}, "OTH", "^d", false, 1},
		{"no ^ for a SYN-ACK between likely ports", 8080, 22, []zseg{at(0, sv, fSA, 0, 1, 0)}, "OTH", "H", false, 1},
		{"^: SYN-ACK then ACK", 50000, 40000, []zseg{at(0, sv, fSA, 0, 1, 0), at(1, cl, fA, 1, 1, 0)}, "OTH", "^hA", true, 1},
		{"^: SYN-ACK then the same side's ACK", 50000, 40000, []zseg{at(0, sv, fSA, 0, 1, 0), at(1, sv, fA, 1, 1, 0)}, "OTH", "^ha", true, 1},
		{"no ^ after a bad checksum", 50000, 40000, []zseg{at(0, sv, fSA, 0, 1, 0), bad(at(1, cl, fA, 1, 1, 0)), at(2, sv, fA, 1, 1, 0)}, "OTH", "HcA", false, 1},
		{"^: SYN/SYN-ACK reversal", 50000, 40000, []zseg{
			at(0, sv, fSA, 0, 1, 0), at(1, cl, fS, 0, 0, 0), at(2, cl, fA, 1, 1, 0), at(3, cl, fPA, 1, 1, 10), at(4, sv, fPA, 1, 11, 10),
			at(5, cl, fFA, 11, 11, 0), at(6, sv, fFA, 11, 12, 0)},
			"SF", "Hs^ADdFf", true, 1},

		// Zeek's connection lifetime: timers and reuse split a flow; the
		// verdict is the first connection's.
		{"attempt timer ends an unanswered SYN after 5s", 50000, 22, []zseg{
			at(0, cl, fS, 0, 0, 0), at(100, cl, fA, 1, 1, 0), at(200, cl, fPA, 1, 1, 10), at(6000, cl, fPA, 11, 1, 10), at(6100, cl, fFA, 21, 1, 0)},
			"S0", "SAD", true, 2},
		{"attempt timer does not fire early", 50000, 22, []zseg{at(0, cl, fS, 0, 0, 0), at(4900, cl, fFA, 1, 1, 0)}, "SH", "SF", true, 1},
		{"a SYN after a reset starts a new connection", 50000, 110, []zseg{
			at(0, cl, fS, 0, 0, 0), at(1, sv, fRA, 0, 1, 0), at(3000, cl, fS, 0, 0, 0), at(3001, sv, fRA, 0, 1, 0)},
			"REJ", "Sr", true, 2},
		{"a retransmitted SYN is not reuse", 50000, 110, []zseg{at(0, cl, fS, 0, 0, 0), at(3000, cl, fS, 0, 0, 0)}, "S0", "S", true, 1},
		{"close delay ends a half-closed connection", 1576, 80, []zseg{
			at(0, sv, fFA, 100, 200, 0), at(1, cl, fA, 200, 101, 0), at(10000, cl, fRA, 200, 101, 0), at(26000, sv, fRA, 101, 200, 0)},
			"SHR", "^fA", true, 3},
		{"inactivity timeout after 5 minutes", 50000, 8443, after(at(300100, cl, fPA, 1, 1, 10)), "S1", "ShA", true, 2},
		{"no inactivity timeout at exactly 5 minutes", 50000, 8443, after(at(300020, cl, fPA, 1, 1, 10)), "S1", "ShAD", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z := run(tt.cport, tt.sport, tt.segs)
			state, hist, oic := z.Verdict()
			if state != tt.state || hist != tt.hist || oic != tt.origIsClient {
				t.Errorf("Verdict() = %s %q %v, want %s %q %v", state, hist, oic, tt.state, tt.hist, tt.origIsClient)
			}
			if got := z.Connections(); got != tt.conns {
				t.Errorf("Connections() = %d, want %d", got, tt.conns)
			}
		})
	}
}

func TestZeekVerdictEmpty(t *testing.T) {
	var z reassembly.ZeekConn
	if s, h, o := z.Verdict(); s != "" || h != "" || !o {
		t.Errorf("Verdict() = %q %q %v, want \"\" \"\" true", s, h, o)
	}
}

// TestZeekObserveAllocs checks the per-packet path allocates nothing.
func TestZeekObserveAllocs(t *testing.T) {
	z := run(50000, 8443, handshake)
	data := fsm.Segment{Seq: cISN + 1, Ack: sISN + 1, Flags: fPA, Len: 100, Window: 65535}
	ack := fsm.Segment{Seq: sISN + 1, Ack: cISN + 1, Flags: fA, Window: 65535}
	var m reassembly.Meta
	ts := zeekEpoch.Add(time.Second)
	allocs := testing.AllocsPerRun(1000, func() {
		z.Observe(ts, cl, 50000, 8443, &data, &m)
		data.Seq += 100
		ack.Ack = data.Seq
		z.Observe(ts, sv, 8443, 50000, &ack, &m)
		ts = ts.Add(time.Millisecond)
	})
	if allocs != 0 {
		t.Errorf("Observe allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkZeekObserve(b *testing.B) {
	z := run(50000, 8443, handshake)
	data := fsm.Segment{Seq: cISN + 1, Ack: sISN + 1, Flags: fPA, Len: 1000, Window: 65535}
	ack := fsm.Segment{Seq: sISN + 1, Ack: cISN + 1, Flags: fA, Window: 65535}
	var m reassembly.Meta
	ts := zeekEpoch.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		z.Observe(ts, cl, 50000, 8443, &data, &m)
		data.Seq += 1000
		ack.Ack = data.Seq
		z.Observe(ts, sv, 8443, 50000, &ack, &m)
	}
}
