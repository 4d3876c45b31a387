package reassembly_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

var (
	cli = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:80")
	t0  = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
)

type pkt struct {
	from     netip.AddrPort
	flags    fsm.Flags
	seq, ack uint32
	n        uint32
	ms       int
}

func feed(tb testing.TB, cfg reassembly.Config, pkts []pkt) []*reassembly.Flow {
	tb.Helper()
	var done []*reassembly.Flow
	tab := reassembly.NewTable(cfg, func(f *reassembly.Flow) { done = append(done, f) })
	var last time.Time
	for i, p := range pkts {
		to := srv
		if p.from == srv {
			to = cli
		}
		last = t0.Add(time.Duration(p.ms) * time.Millisecond)
		tab.Observe(last, p.from, to, fsm.Segment{Seq: fsm.Seq(p.seq), Ack: fsm.Seq(p.ack), Flags: p.flags, Len: p.n, Window: 512}, reassembly.Meta{Frame: uint64(i + 1), WireLen: 60, IPLen: 40 + p.n})
	}
	tab.Flush(last)
	return done
}

const (
	syn    = fsm.FlagSYN
	synack = fsm.FlagSYN | fsm.FlagACK
	ack    = fsm.FlagACK
	fin    = fsm.FlagFIN | fsm.FlagACK
)

func TestUnansweredSYNRetransmissions(t *testing.T) {
	flows := feed(t, reassembly.DefaultConfig(), []pkt{
		{cli, syn, 100, 0, 0, 0},
		{cli, syn, 100, 0, 0, 1000},
		{cli, syn, 100, 0, 0, 3000},
	})
	if len(flows) != 1 {
		t.Fatalf("got %d flows, want 1 (retransmissions are not new connections)", len(flows))
	}
	f := flows[0]
	if f.Client != cli || f.Packets[fsm.DirClient] != 3 {
		t.Errorf("client = %v with %d packets, want %v with 3", f.Client, f.Packets[fsm.DirClient], cli)
	}
	if got := f.Conn.Ep[fsm.DirServer].State; got != fsm.StateUnknown {
		t.Errorf("server state = %v, want UNKNOWN (the SYN was never answered)", got)
	}
	if got := f.Conn.Close(); got != fsm.CloseUnanswered {
		t.Errorf("Close() = %v, want unanswered", got)
	}
}

func TestTimeWaitReuseStartsNewIncarnation(t *testing.T) {
	flows := feed(t, reassembly.DefaultConfig(), []pkt{
		{cli, syn, 100, 0, 0, 0},
		{srv, synack, 300, 101, 0, 1},
		{cli, ack, 101, 301, 0, 2},
		{srv, fin, 301, 101, 0, 10}, // the server closes first: it will sit in TIME-WAIT
		{cli, fin, 101, 302, 0, 11},
		{srv, ack, 302, 102, 0, 12},
		{cli, syn, 9000, 0, 0, 300}, // same tuple, new ISN, 0.3 s later
		{srv, synack, 5000, 9001, 0, 301},
		{cli, ack, 9001, 5001, 0, 302},
	})
	if len(flows) != 2 {
		t.Fatalf("got %d flows, want 2 incarnations", len(flows))
	}
	old, cur := flows[0], flows[1]
	if old.End != reassembly.EndReused || cur.Incarnation != 2 {
		t.Errorf("end = %v, incarnation = %d; want tuple_reused and 2", old.End, cur.Incarnation)
	}
	tl := old.Conn.Timeline[fsm.DirServer]
	if last := tl[len(tl)-1]; last.From != fsm.StateTimeWait || last.To != fsm.StateClosed || last.Frame != 7 {
		t.Errorf("old server's last transition = %+v, want TIME-WAIT -> CLOSED at frame 7", last)
	}
	if got := cur.Conn.Handshake(); got != fsm.HandshakeThreeWay {
		t.Errorf("new incarnation handshake = %v, want three_way", got)
	}
}

func TestMidstreamRolesGuessed(t *testing.T) {
	flows := feed(t, reassembly.DefaultConfig(), []pkt{
		{srv, ack, 300, 100, 50, 0}, // the server's data is seen first
		{cli, ack, 100, 350, 0, 1},
	})
	f := flows[0]
	if f.Client != cli || f.Server != srv || !f.RolesGuessed {
		t.Errorf("roles = %v -> %v guessed=%v, want %v -> %v guessed (port 80 is the server)", f.Client, f.Server, f.RolesGuessed, cli, srv)
	}
}

// observe feeds pkts to tab as segments between client c and srv, at
// capture time at plus their ms.
func observe(tab *reassembly.Table, at time.Time, c netip.AddrPort, frame *uint64, pkts []pkt) {
	for _, p := range pkts {
		src, dst := c, srv
		if p.from == srv {
			src, dst = srv, c
		}
		*frame++
		tab.Observe(at.Add(time.Duration(p.ms)*time.Millisecond), src, dst, fsm.Segment{Seq: fsm.Seq(p.seq), Ack: fsm.Seq(p.ack), Flags: p.flags, Len: p.n, Window: 512}, reassembly.Meta{Frame: *frame, WireLen: 60, IPLen: 40 + p.n})
	}
}

var (
	// opened opens a connection and leaves both sides ESTABLISHED.
	opened = []pkt{{cli, syn, 100, 0, 0, 0}, {srv, synack, 500, 101, 0, 1}, {cli, ack, 101, 501, 0, 2}}
	// closed is a connection opened and closed with four segments: the
	// client ends in TIME-WAIT, the server CLOSED.
	closed = append(append([]pkt(nil), opened...),
		pkt{cli, fin, 101, 501, 0, 3}, pkt{srv, fin, 501, 102, 0, 4}, pkt{cli, ack, 102, 502, 0, 5})
)

// TestReuseAfterLeaving: a SYN on a 4-tuple that an earlier connection used
// and left (closed, then gone from the table) opens its second
// incarnation, and with a new ISN, from either endpoint, gets Wireshark's
// reused_ports verdict, as when the earlier one was still held. A SYN that
// repeats its sender's old ISN starts afresh without it; a first segment
// that is no SYN continues the earlier incarnation (a second record of it).
func TestReuseAfterLeaving(t *testing.T) {
	for _, tc := range []struct {
		name   string
		first  pkt
		reused bool
	}{
		{"client, new ISN", pkt{cli, syn, 9000, 0, 0, 0}, true},
		{"client, same ISN", pkt{cli, syn, 100, 0, 0, 0}, false},
		{"server opens, new ISN", pkt{srv, syn, 9000, 0, 0, 0}, true},
		{"server opens, same ISN", pkt{srv, syn, 500, 0, 0, 0}, false},
		{"no SYN", pkt{cli, ack, 9000, 700, 0, 0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := reassembly.DefaultConfig()
			cfg.IdleTimeout = time.Second
			var done []*reassembly.Flow
			tab := reassembly.NewTable(cfg, func(f *reassembly.Flow) { done = append(done, f) })
			var frame uint64
			observe(tab, t0, cli, &frame, closed)
			observe(tab, t0.Add(5*time.Second), netip.MustParseAddrPort("10.0.0.3:50000"), &frame, opened[:1])
			if len(done) != 1 || done[0].End != reassembly.EndClosed {
				t.Fatalf("%d flows left the table, want the closed one", len(done))
			}
			src, dst := tc.first.from, srv
			if src == srv {
				dst = cli
			}
			f, _ := tab.Observe(t0.Add(time.Minute), src, dst, fsm.Segment{Seq: fsm.Seq(tc.first.seq), Ack: fsm.Seq(tc.first.ack), Flags: tc.first.flags, Window: 512},
				reassembly.Meta{Frame: frame + 1, WireLen: 60, IPLen: 40})
			if want := map[bool]int{true: 2, false: 1}[tc.first.flags&fsm.FlagSYN != 0]; f.Incarnation != want {
				t.Errorf("incarnation = %d, want %d (a SYN opens the next one; anything else continues the last)", f.Incarnation, want)
			}
			if got := f.Pkt.Verdict&reassembly.VerdictReusedPorts != 0; got != tc.reused {
				t.Errorf("reused_ports = %v, want %v (verdicts %v)", got, tc.reused, f.Pkt.Verdict)
			}
			if st := tab.Stats(); st.Reused != 0 {
				t.Errorf("Stats.Reused = %d; want 0: the tuple was not reused while held", st.Reused)
			}
		})
	}
}

// TestIdleEviction: the idle timeout finishes a connection that is still
// open as evicted (EndIdle, counted); one that is over by then (an attempt
// whose SYN retransmissions stopped) leaves as closed, and is not counted.
func TestIdleEviction(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pkts    []pkt
		end     reassembly.EndReason
		evicted uint64
	}{
		{"established", opened, reassembly.EndIdle, 1},
		{"abandoned SYN", opened[:1], reassembly.EndClosed, 0},
		{"closed", closed, reassembly.EndClosed, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := reassembly.DefaultConfig()
			cfg.IdleTimeout = time.Second
			other := netip.MustParseAddrPort("10.0.0.3:50000")
			var done []*reassembly.Flow
			tab := reassembly.NewTable(cfg, func(f *reassembly.Flow) { done = append(done, f) })
			var frame uint64
			observe(tab, t0, cli, &frame, tc.pkts)
			observe(tab, t0.Add(5*time.Second), other, &frame, opened[:1])
			if len(done) != 1 || tab.Len() != 1 {
				t.Fatalf("after 5 s: %d done, %d held; want the idle flow finished", len(done), tab.Len())
			}
			if done[0].End != tc.end {
				t.Errorf("end = %v, want %v", done[0].End, tc.end)
			}
			if st := tab.Stats(); st.Evicted != tc.evicted || st.EvictedLimit != 0 {
				t.Errorf("Evicted = %d, EvictedLimit = %d; want %d, 0", st.Evicted, st.EvictedLimit, tc.evicted)
			}
		})
	}
}

// TestLimitEviction: at the MaxFlows limit a connection that is over
// leaves first, even a more recently active one: it leaves as closed and is
// not counted. Next goes an attempt nobody answered (a SYN flood's), and
// only then the least recently active open connection; those two are
// evicted (EndLimit) and counted. Flush hands over the rest oldest first,
// across the lists.
func TestLimitEviction(t *testing.T) {
	cfg := reassembly.DefaultConfig()
	cfg.MaxFlows = 3
	var done []*reassembly.Flow
	tab := reassembly.NewTable(cfg, func(f *reassembly.Flow) { done = append(done, f) })
	var frame uint64
	c := func(i int) netip.AddrPort { return netip.AddrPortFrom(cli.Addr(), uint16(40000+i)) }
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	observe(tab, at(0), c(1), &frame, opened)
	observe(tab, at(1000), c(2), &frame, closed)
	observe(tab, at(2000), c(3), &frame, opened[:1]) // a SYN, unanswered
	observe(tab, at(2100), c(4), &frame, opened)     // makes room: c(2), over, leaves
	observe(tab, at(2200), c(5), &frame, opened)     // c(3), the attempt
	observe(tab, at(2300), c(6), &frame, opened)     // c(1), the oldest open one
	observe(tab, at(2400), c(4), &frame, []pkt{{cli, ack, 101, 501, 10, 0}})
	tab.Flush(at(3000))
	var order []netip.AddrPort
	var ends []reassembly.EndReason
	for _, f := range done {
		order, ends = append(order, f.Client), append(ends, f.End)
	}
	if want := []netip.AddrPort{c(2), c(3), c(1), c(5), c(6), c(4)}; !slices.Equal(order, want) {
		t.Fatalf("flows out in the order %v, want %v", order, want)
	}
	if want := []reassembly.EndReason{reassembly.EndClosed, reassembly.EndLimit, reassembly.EndLimit, reassembly.EndCapture, reassembly.EndCapture, reassembly.EndCapture}; !slices.Equal(ends, want) {
		t.Errorf("end reasons %v, want %v", ends, want)
	}
	if got := done[0].Conn.Ep[fsm.DirClient].State; got != fsm.StateTimeWait {
		t.Errorf("first out: client in %v, want TIME-WAIT (its 2 MSL had not run out)", got)
	}
	if st := tab.Stats(); st.Evicted != 2 || st.EvictedLimit != 2 {
		t.Errorf("Evicted = %d, EvictedLimit = %d; want 2, 2", st.Evicted, st.EvictedLimit)
	}
}

func TestObserveAllocs(t *testing.T) {
	// Also with packets kept for the pictures (Config.KeepSteps), once
	// their window is full.
	for _, keep := range []int{0, 8} {
		cfg := reassembly.DefaultConfig()
		cfg.KeepSteps = keep
		tab := reassembly.NewTable(cfg, nil)
		m := reassembly.Meta{Frame: 1, WireLen: 1514, IPLen: 1500}
		tab.Observe(t0, cli, srv, fsm.Segment{Seq: 100, Flags: syn}, m)
		tab.Observe(t0, srv, cli, fsm.Segment{Seq: 300, Ack: 101, Flags: synack}, m)
		tab.Observe(t0, cli, srv, fsm.Segment{Seq: 101, Ack: 301, Flags: ack}, m)
		seg := fsm.Segment{Seq: 101, Ack: 301, Flags: ack, Len: 1448, Window: 512}
		back := fsm.Segment{Seq: 301, Ack: 101, Flags: ack, Window: 512}
		ts := t0
		step := func() {
			ts = ts.Add(time.Millisecond)
			m.Frame++
			tab.Observe(ts, cli, srv, seg, m)
			seg.Seq = seg.Seq.Add(1448)
			back.Ack = seg.Seq
			m.Frame++
			tab.Observe(ts, srv, cli, back, m)
		}
		for range keep {
			step()
		}
		if allocs := testing.AllocsPerRun(1000, step); allocs != 0 {
			t.Errorf("KeepSteps %d: Observe on an established flow allocates %v times per packet pair, want 0", keep, allocs)
		}
	}
}

func BenchmarkObserve(b *testing.B) {
	tab := reassembly.NewTable(reassembly.DefaultConfig(), nil)
	m := reassembly.Meta{Frame: 1, WireLen: 1514, IPLen: 1500}
	tab.Observe(t0, cli, srv, fsm.Segment{Seq: 100, Flags: syn}, m)
	tab.Observe(t0, srv, cli, fsm.Segment{Seq: 300, Ack: 101, Flags: synack}, m)
	seg := fsm.Segment{Seq: 101, Ack: 301, Flags: ack, Len: 1448, Window: 512}
	ts := t0
	b.ReportAllocs()
	for b.Loop() {
		ts = ts.Add(time.Microsecond)
		m.Frame++
		tab.Observe(ts, cli, srv, seg, m)
		seg.Seq = seg.Seq.Add(1448)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
