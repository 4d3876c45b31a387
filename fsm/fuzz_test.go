package fsm_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// FuzzConn feeds arbitrary segment sequences through a connection and checks
// the invariants every report relies on: each endpoint's timeline is a chain
// (a transition starts where the previous one ended), never goes back in
// time, ends in the endpoint's current state, and names only real states.
func FuzzConn(f *testing.F) {
	// Seeds: the scripted scenarios, 12 bytes per segment.
	f.Add(encode(handshake))
	f.Add(encode(cat(handshake, []seg{{C, fin, 111, 301, 0, 40}, {S, fin, 301, 111, 0, 41}, {C, ack, 112, 302, 0, 50}, {S, ack, 302, 112, 0, 51}})))
	f.Add(encode([]seg{{C, syn, 100, 0, 0, 0}, {S, syn, 300, 0, 0, 1}, {C, synack, 100, 301, 0, 10}, {S, synack, 300, 101, 0, 11}}))
	f.Add(encode([]seg{{C, syn, 100, 0, 0, 0}, {S, rstack, 0, 101, 0, 1}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fsm.NewConn(fsm.Config{MSL: time.Second})
		ts := t0
		for i := 0; len(data) >= 12; i++ {
			d := fsm.Dir(data[0] & 1)
			flags := fsm.Flags(data[1])
			seq := binary.BigEndian.Uint32(data[2:])
			ack := binary.BigEndian.Uint32(data[6:])
			n := uint32(data[10]) * 100
			ts = ts.Add(time.Duration(data[11]) * 10 * time.Millisecond)
			data = data[12:]
			c.Step(uint64(i+1), ts, d, fsm.Segment{Seq: fsm.Seq(seq), Ack: fsm.Seq(ack), Flags: flags, Len: n, Window: 100})
			if i%7 == 3 {
				c.Reusable(d, fsm.Seq(seq), ts, time.Minute)
			}
		}
		c.Finish(ts.Add(10 * time.Second))
		_ = c.Handshake().String()
		_ = c.Close().String()
		for d, tl := range c.Timeline {
			for i, tr := range tl {
				if tr.To > fsm.StateTimeWait || tr.From > fsm.StateTimeWait || tr.From == tr.To {
					t.Fatalf("%v transition %d: %v -> %v", fsm.Dir(d), i, tr.From, tr.To)
				}
				if i > 0 && tl[i-1].To != tr.From {
					t.Fatalf("%v timeline broken at %d: %v", fsm.Dir(d), i, tl)
				}
				if i > 0 && tr.Time.Before(tl[i-1].Time) {
					t.Fatalf("%v timeline goes back in time at %d", fsm.Dir(d), i)
				}
			}
			if len(tl) > 0 && tl[len(tl)-1].To != c.Ep[d].State {
				t.Fatalf("%v final state %v, timeline ends in %v", fsm.Dir(d), c.Ep[d].State, tl[len(tl)-1].To)
			}
		}
	})
}

func encode(script []seg) []byte {
	var out []byte
	prev := 0
	for _, s := range script {
		b := make([]byte, 12)
		b[0] = byte(s.d)
		b[1] = byte(s.flags)
		binary.BigEndian.PutUint32(b[2:], s.seq)
		binary.BigEndian.PutUint32(b[6:], s.ack)
		b[10] = byte(s.n / 100)
		b[11] = byte((s.ms - prev) / 10)
		prev = s.ms
		out = append(out, b...)
	}
	return out
}
