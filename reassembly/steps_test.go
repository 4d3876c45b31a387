package reassembly_test

import (
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// TestKeepSteps checks Config.KeepSteps: the first half and the most recent
// half of a flow's packets, in capture order, the rest counted
// (TestObserveAllocs checks that keeping them does not allocate).
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
}
