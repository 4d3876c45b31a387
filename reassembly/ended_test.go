package reassembly_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// TestFinishEnded checks which flows FinishEnded hands over: connections
// that are over and quiet, and not those still open or recently active.
func TestFinishEnded(t *testing.T) {
	const rst = fsm.FlagRST | fsm.FlagACK
	port := func(p uint16) netip.AddrPort { return netip.AddrPortFrom(cli.Addr(), p) }
	type seg struct {
		from     netip.AddrPort // a port(...) client, or srv
		client   netip.AddrPort
		flags    fsm.Flags
		seq, ack uint32
		ms       int
	}
	open := func(c netip.AddrPort, ms int) []seg {
		return []seg{{c, c, syn, 100, 0, ms}, {srv, c, synack, 300, 101, ms + 1}, {c, c, ack, 101, 301, ms + 2}}
	}
	var segs []seg
	segs = append(segs, open(port(1), 0)...) // 1: four-way close
	segs = append(segs, seg{port(1), port(1), fin, 101, 301, 10}, seg{srv, port(1), ack, 301, 102, 11},
		seg{srv, port(1), fin, 301, 102, 12}, seg{port(1), port(1), ack, 102, 302, 13})
	segs = append(segs, open(port(2), 20)...) // 2: reset by the client
	segs = append(segs, seg{port(2), port(2), rst, 101, 301, 30})
	segs = append(segs, seg{port(3), port(3), syn, 100, 0, 40}, seg{srv, port(3), rst, 0, 101, 41}) // 3: refused
	segs = append(segs, open(port(4), 50)...)                                                       // 4: still established
	segs = append(segs, open(port(5), 60)...)                                                       // 5: half-closed
	segs = append(segs, seg{port(5), port(5), fin, 101, 301, 70})
	segs = append(segs, open(port(6), 2500)...) // 6: closed too recently
	segs = append(segs, seg{port(6), port(6), rst, 101, 301, 2510})

	var done []*reassembly.Flow
	tab := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { done = append(done, f) })
	for i, s := range segs {
		to := srv
		if s.from == srv {
			to = s.client
		}
		tab.Observe(t0.Add(time.Duration(s.ms)*time.Millisecond), s.from, to, fsm.Segment{Seq: fsm.Seq(s.seq), Ack: fsm.Seq(s.ack), Flags: s.flags, Window: 512}, reassembly.Meta{Frame: uint64(i + 1), WireLen: 60, IPLen: 40})
	}
	now := t0.Add(3 * time.Second)
	if n := tab.FinishEnded(now, 2*time.Second); n != 3 {
		t.Errorf("FinishEnded() = %d, want 3", n)
	}
	want := map[uint16][2]fsm.State{
		1: {fsm.StateTimeWait, fsm.StateClosed},
		2: {fsm.StateClosed, fsm.StateClosed},
		3: {fsm.StateClosed, fsm.StateClosed},
	}
	for _, f := range done {
		w, ok := want[f.Client.Port()]
		got := [2]fsm.State{f.Conn.Ep[fsm.DirClient].State, f.Conn.Ep[fsm.DirServer].State}
		if !ok || got != w || f.End != reassembly.EndClosed {
			t.Errorf("flow from port %d finished in %v (end %d), want %v", f.Client.Port(), got, f.End, w)
		}
		delete(want, f.Client.Port())
	}
	if len(want) > 0 || tab.Len() != 3 {
		t.Errorf("not finished: %v; %d flows left, want 3 (established, half-closed, recent)", want, tab.Len())
	}
	// The open ones are untouched: a later Flush still finds them as they were.
	done = nil
	tab.Flush(now)
	for _, f := range done {
		if f.End != reassembly.EndCapture {
			t.Errorf("flow from port %d: end %v, want end_of_capture", f.Client.Port(), f.End)
		}
	}
	if s := done[0].Conn.Ep[fsm.DirClient].State; done[0].Client.Port() != 4 || s != fsm.StateEstablished {
		t.Errorf("flow from port %d in %v, want port 4 ESTABLISHED", done[0].Client.Port(), s)
	}
}
