package reassembly_test

import (
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// TestKeepSteps checks Config.KeepSteps: the first half and the most recent
// half of a flow's packets, in capture order, the rest counted; and no
// allocation per packet once the window is full.
func TestKeepSteps(t *testing.T) {
	for _, n := range []int{6, 7} {
		var got *reassembly.Flow
		cfg := reassembly.DefaultConfig()
		cfg.KeepSteps = n
		tab := reassembly.NewTable(cfg, func(f *reassembly.Flow) { got = f })
		m := reassembly.Meta{Frame: 1, WireLen: 60, IPLen: 40}
		tab.Observe(t0, cli, srv, fsm.Segment{Seq: 100, Flags: syn}, m)
		seq := fsm.Seq(101)
		const total = 23
		for m.Frame = 2; m.Frame <= total; m.Frame++ {
			tab.Observe(t0.Add(time.Duration(m.Frame)*time.Millisecond), cli, srv, fsm.Segment{Seq: seq, Flags: ack, Len: 10, Window: 100}, m)
			seq += 10
		}
		tab.Flush(t0.Add(time.Second))
		if got == nil {
			t.Fatal("no flow finished")
		}
		if len(got.Steps) != n || got.StepsElided != uint64(total-n) {
			t.Fatalf("n=%d: %d steps, %d elided", n, len(got.Steps), got.StepsElided)
		}
		for i, s := range got.Steps {
			want := uint64(i + 1)
			if i >= n/2 {
				want = uint64(total - n + i + 1)
			}
			if s.Frame != want || (s.Frame > 1 && s.Seq != fsm.Seq(101+10*(want-2))) {
				t.Errorf("n=%d: step %d is frame %d seq %d, want frame %d", n, i, s.Frame, s.Seq, want)
			}
		}
	}

	cfg := reassembly.DefaultConfig()
	cfg.KeepSteps = 8
	tab := reassembly.NewTable(cfg, nil)
	m := reassembly.Meta{Frame: 1, WireLen: 1514, IPLen: 1500}
	tab.Observe(t0, cli, srv, fsm.Segment{Seq: 100, Flags: syn}, m)
	tab.Observe(t0, srv, cli, fsm.Segment{Seq: 300, Ack: 101, Flags: synack}, m)
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
	for range 8 {
		step() // fill the window
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Errorf("Observe with KeepSteps allocates %v times per packet pair once the window is full, want 0", n)
	}
}
