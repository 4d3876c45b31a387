package fsm_test

import (
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// BenchmarkStep is one data segment and its acknowledgment through an
// established connection's state machine (two Steps per iteration).
func BenchmarkStep(b *testing.B) {
	c := run(handshake, 0)
	s := fsm.Segment{Seq: 111, Ack: 301, Flags: ack, Len: 100, Window: 1000}
	back := fsm.Segment{Seq: 301, Ack: 211, Flags: ack, Window: 1000}
	frame := uint64(10)
	ts := t0.Add(time.Second)
	b.ReportAllocs()
	for b.Loop() {
		frame++
		c.Step(frame, ts, fsm.DirClient, s)
		s.Seq = s.Seq.Add(100)
		back.Ack = s.Seq
		frame++
		c.Step(frame, ts, fsm.DirServer, back)
	}
}
