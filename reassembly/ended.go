package reassembly

import (
	"slices"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// FinishEnded hands to the done callback, as of capture time now, every
// flow whose connection is over and which has seen no packet for quiet:
// once its held receipts are applied and its timers run (as Flush would),
// both endpoints are CLOSED, TIME-WAIT, LISTEN or UNKNOWN, and at least one
// is CLOSED or TIME-WAIT. That covers a complete close (TIME-WAIT included:
// its 2MSL is silent on the wire), a reset, a refused SYN and an attempt
// whose SYN retransmissions stopped. It lets a streaming consumer (-T
// jsonl) write each connection soon after it ends rather than at the end of
// the capture. It returns the number of flows finished.
//
// quiet guards against finishing a connection that a late packet still
// belongs to (a retransmitted FIN whose ACK was lost, data in flight behind
// a RST); a segment that arrives after its flow was finished starts a new
// flow, picked up mid-stream, and a SYN reusing the 4-tuple starts a flow
// with incarnation 1 rather than a new incarnation.
//
// Flows are visited from the least recently active, so the walk stops at
// the first one active within quiet; a flow that has not ended costs a
// look at its flags.
func (t *Table) FinishEnded(now time.Time, quiet time.Duration) int {
	// now may run ahead of the packets (a live capture's clock while the
	// interface is quiet); it is not kept as the table's time, so that
	// Flush still finishes the other flows as of the last packet.
	if t.now.After(now) {
		now = t.now
	}
	n := 0
	for w := t.walk(); ; {
		f := w.next()
		if f == nil || now.Sub(f.Last) < quiet {
			break
		}
		if ended(&f.Conn, now) {
			f.Conn.Finish(now)
			t.remove(f, EndClosed)
			n++
		}
	}
	return n
}

// ended reports whether c is over as of now, judged on a copy of c that
// Finish has run on, so that c itself is left as it was when it is not.
func ended(c *fsm.Conn, now time.Time) bool {
	s0, s1 := c.Ep[0].State, c.Ep[1].State
	if !c.FinSeen && !c.RstSeen && !c.Refused && !gone(s0) && !gone(s1) &&
		s0 != fsm.StateSynSent && s1 != fsm.StateSynSent {
		return false // established, or opening: nothing to settle
	}
	cp := *c
	// Clipped, the copy's timelines reallocate on append rather than
	// writing into c's spare capacity.
	cp.Timeline[0], cp.Timeline[1] = slices.Clip(c.Timeline[0]), slices.Clip(c.Timeline[1])
	cp.Finish(now)
	return settled(&cp)
}

// settled reports whether c's endpoints are over: both CLOSED, TIME-WAIT,
// LISTEN or UNKNOWN, at least one CLOSED or TIME-WAIT. Once Finish has run
// on c (ended, Table.evict) that is the last word; Table.touch asks it of
// the live states to file the flow.
func settled(c *fsm.Conn) bool {
	s0, s1 := c.Ep[0].State, c.Ep[1].State
	return (gone(s0) || gone(s1)) && over(s0) && over(s1)
}

// unanswered reports whether one endpoint of c is in SYN-SENT and the other
// has sent nothing: an attempt nobody answered (yet).
func unanswered(c *fsm.Conn) bool {
	for d := range c.Ep {
		if c.Ep[d].State == fsm.StateSynSent && !c.Ep[1-d].Sent {
			return true
		}
	}
	return false
}

// gone: the endpoint has closed its side for good.
func gone(s fsm.State) bool { return s == fsm.StateClosed || s == fsm.StateTimeWait }

// over: the endpoint has nothing left to do in this connection.
func over(s fsm.State) bool { return gone(s) || s == fsm.StateListen || s == fsm.StateUnknown }
