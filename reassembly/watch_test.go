package reassembly_test

import (
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// wpkt is a segment with its window, for the watch's rules.
type wpkt struct {
	from     bool // true: the server sent it
	flags    fsm.Flags
	seq, ack uint32
	n        uint32
	win      uint16
	ms       int
}

func watchFlow(t *testing.T, pkts []wpkt) *reassembly.Flow {
	t.Helper()
	return oneFlow(t, len(pkts), func(i int) (bool, int, fsm.Segment, reassembly.Meta) {
		p := pkts[i]
		return p.from, p.ms, fsm.Segment{Seq: fsm.Seq(p.seq), Ack: fsm.Seq(p.ack), Flags: p.flags, Len: p.n, Window: p.win}, reassembly.Meta{Frame: uint64(i + 1)}
	})
}

// oneFlow feeds n segments (seg(i) gives who sent the i-th, at how many ms,
// and the segment) through a table and returns the one flow they make.
func oneFlow(t *testing.T, n int, seg func(i int) (fromServer bool, ms int, s fsm.Segment, m reassembly.Meta)) *reassembly.Flow {
	t.Helper()
	var done []*reassembly.Flow
	tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { done = append(done, f) })
	var last time.Time
	for i := range n {
		fromServer, ms, s, m := seg(i)
		from, to := cli, srv
		if fromServer {
			from, to = srv, cli
		}
		last = t0.Add(time.Duration(ms) * time.Millisecond)
		tab.Observe(last, from, to, s, m)
	}
	tab.Flush(last)
	if len(done) != 1 {
		t.Fatalf("%d flows, want 1", len(done))
	}
	return done[0]
}

// open is a handshake without window scaling: client ISN 100, server 300.
var open = []wpkt{{false, syn, 100, 0, 0, 1000, 0}, {true, synack, 300, 101, 0, 1000, 1}, {false, ack, 101, 301, 0, 1000, 2}}

func notes(f *reassembly.Flow, d fsm.Dir) reassembly.Notes {
	if n := f.Half[d].Notes; n != nil {
		return *n
	}
	return reassembly.Notes{}
}

func TestWatchRecision(t *testing.T) {
	for _, tt := range []struct {
		name string
		tail []wpkt
		want uint32
	}{
		{"window shrinks with the same ACK", []wpkt{{true, ack, 301, 101, 0, 8000, 10}, {true, ack, 301, 101, 0, 1000, 20}}, 1},
		{"ACK advances as the window closes: edge kept", []wpkt{{false, ack, 101, 301, 500, 1000, 5}, {true, ack, 301, 601, 0, 700, 10}}, 0},
		{"a reordered older ACK is not a recision", []wpkt{{false, ack, 101, 301, 500, 1000, 5}, {true, ack, 301, 601, 0, 1000, 10}, {true, ack, 301, 301, 0, 1000, 11}}, 0},
		{"a zero window at the old edge", []wpkt{{false, ack, 101, 301, 1000, 1000, 5}, {true, ack, 301, 1101, 0, 0, 10}}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := watchFlow(t, append(append([]wpkt(nil), open...), tt.tail...))
			if got := notes(f, fsm.DirServer).Recision.Count; got != tt.want {
				t.Errorf("server recisions = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWatchAckUnseen(t *testing.T) {
	for _, tt := range []struct {
		name string
		tail []wpkt
		want uint32
	}{
		// The client ACKs 1000 bytes beyond the server's 100; the server's
		// next data starts at 401: it had not sent them.
		{"next data starts below the ACK", []wpkt{{true, ack, 301, 101, 100, 1000, 5}, {false, ack, 101, 1401, 0, 1000, 6}, {true, ack, 401, 101, 100, 1000, 7}}, 1},
		// Linux answers such an ACK with a duplicate ACK at its SND.NXT.
		{"duplicate ACK at SND.NXT", []wpkt{{true, ack, 301, 101, 100, 1000, 5}, {false, ack, 101, 1401, 0, 1000, 6}, {true, ack, 401, 101, 0, 1000, 7}}, 1},
		// The capture missed 401..1401: the server's next data starts at
		// the ACK, so the data was sent.
		{"capture loss", []wpkt{{true, ack, 301, 101, 100, 1000, 5}, {false, ack, 101, 1401, 0, 1000, 6}, {true, ack, 1401, 101, 100, 1000, 7}}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := watchFlow(t, append(append([]wpkt(nil), open...), tt.tail...))
			if got := notes(f, fsm.DirClient).AckUnseen.Count; got != tt.want {
				t.Errorf("client ack_unseen = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWatchSYNData(t *testing.T) {
	f := watchFlow(t, []wpkt{{false, syn, 100, 0, 64, 1000, 0}, {true, synack, 300, 101, 0, 1000, 1}})
	if n := notes(f, fsm.DirClient); n.SYNData.Count != 1 || n.SYNData.Frame != 1 || n.TFO {
		t.Errorf("SYN data = %+v, want one at frame 1, no TFO", n)
	}
}

// TestWatchTTLShift: three segments in a row at a new TTL are a route
// change (anomalies.md §5 TTL_SHIFT); one or two off the baseline are not.
func TestWatchTTLShift(t *testing.T) {
	for _, tt := range []struct {
		name     string
		ttls     []uint8
		want     uint32
		from, to uint8
	}{
		{"new TTL persists", []uint8{64, 64, 64, 64, 50, 50, 50, 50}, 1, 64, 50},
		{"one segment off", []uint8{64, 64, 64, 64, 50, 64, 64, 64}, 0, 0, 0},
		{"two segments off", []uint8{64, 64, 64, 64, 50, 50, 64, 64}, 0, 0, 0},
		{"two changes", []uint8{64, 64, 50, 50, 50, 40, 40, 40}, 2, 64, 50},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var done []*reassembly.Flow
			tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { done = append(done, f) })
			ts := t0
			for i, ttl := range tt.ttls {
				ts = t0.Add(time.Duration(i) * time.Millisecond)
				tab.Observe(ts, cli, srv, fsm.Segment{Seq: fsm.Seq(101 + 10*i), Ack: 301, Flags: ack, Len: 10, Window: 1000}, reassembly.Meta{Frame: uint64(i + 1), TTL: ttl})
			}
			tab.Flush(ts)
			if len(done) != 1 {
				t.Fatalf("%d flows, want 1", len(done))
			}
			n := notes(done[0], fsm.DirClient)
			if n.TTLShift.Count != tt.want || n.TTLFrom != tt.from || n.TTLTo != tt.to {
				t.Errorf("TTLShift = %d (%d -> %d), want %d (%d -> %d)", n.TTLShift.Count, n.TTLFrom, n.TTLTo, tt.want, tt.from, tt.to)
			}
		})
	}
}

// TestWatchAckTooOld: an ACK below SND.UNA - MAX.SND.WND (RFC 5961 §5.2)
// is noted; one inside the window is not, and neither is the return to the
// real ACK after an ACK of data never sent.
func TestWatchAckTooOld(t *testing.T) {
	data := []wpkt{{true, ack, 301, 101, 3000, 1000, 5}, {false, ack, 101, 3301, 0, 1000, 6}}
	for _, tt := range []struct {
		name string
		tail []wpkt
		want uint32
	}{
		{"a window and more below", []wpkt{{false, ack, 101, 1301, 0, 1000, 10}}, 1},
		{"within the window below", []wpkt{{false, ack, 101, 2401, 0, 1000, 10}}, 0},
		{"back from an ACK of unseen data", []wpkt{{false, ack, 101, 103301, 0, 1000, 10}, {false, ack, 101, 3301, 0, 1000, 11}}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := watchFlow(t, append(append(append([]wpkt(nil), open...), data...), tt.tail...))
			if got := notes(f, fsm.DirClient).AckTooOld.Count; got != tt.want {
				t.Errorf("client ACKs too old = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestWatchRSTRun checks that the watch keeps each sender's longest run of
// RSTs less than RSTStormGap apart: a gap of RSTStormGap or more starts a
// new run.
func TestWatchRSTRun(t *testing.T) {
	pkts := append([]wpkt(nil), open...)
	for i := range 3 { // frames 4-6: a run of 3
		pkts = append(pkts, wpkt{false, fsm.FlagRST, 5000 + uint32(i)<<20, 0, 0, 0, 10 + 10*i})
	}
	for i := range 5 { // frames 7-11, 1.5 s later: a run of 5, 100 ms apart
		pkts = append(pkts, wpkt{false, fsm.FlagRST, 9000 + uint32(i)<<20, 0, 0, 0, 1530 + 100*i})
	}
	pkts = append(pkts, wpkt{false, fsm.FlagRST, 7, 0, 0, 0, 2930}) // frame 12: 1 s after frame 11, alone
	f := watchFlow(t, pkts)
	r := notes(f, fsm.DirClient).RSTRun
	if r.Count != 5 || r.First != 7 || r.Last != 11 || r.Duration() != 400*time.Millisecond {
		t.Errorf("client RSTRun = %+v, want 5 RSTs, frames 7-11, 400ms", r)
	}
	if n := f.Half[fsm.DirServer].Notes; n != nil && n.RSTRun.Count != 0 {
		t.Errorf("server RSTRun = %+v, want none", n.RSTRun)
	}
}
