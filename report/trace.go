package report

import (
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// Trace is what the pictures of one connection are drawn from (the ladder
// diagram, the time-sequence graph and the state bars): the packets the
// flow table kept (reassembly.Config.KeepSteps) with their sequence numbers
// made relative, and both endpoints' timelines, all timed in microseconds
// from the connection's first packet. It holds no payload and no pointer
// into the flow, so a report can keep one per connection once the flow is
// gone.
type Trace struct {
	ID             uint64
	Client, Server string // ip:port
	Start          time.Time
	DurationUS     int64
	// WScale is each sender's window-scale shift when both SYNs carried the
	// option (RFC 7323 §2.2), else -1: its windows are drawn unscaled.
	WScale [2]int8
	// Initial and Final are each endpoint's state before its first
	// transition and at the end.
	Initial, Final [2]fsm.State
	Timeline       [2][]TraceTransition
	Packets        []TracePacket
	// Elided packets were left out between Packets[Head-1] and
	// Packets[Head] (the flow table keeps the first and the last ones).
	Elided uint64
	Head   int
}

// TraceTransition is one state change, timed from the connection's start.
type TraceTransition struct {
	US       int64
	Frame    uint64
	From, To fsm.State
	Cause    string
	Inferred bool
}

// TracePacket is one kept packet. Sequence numbers are relative to the
// sender's base and acknowledgments and SACK edges to the receiver's (the
// ISN when its SYN was captured, else one below its first sequence number,
// as tshark's tcp.seq), read as signed 32-bit offsets so that a
// retransmission from before a mid-stream pickup is drawn below zero.
type TracePacket struct {
	US      int64
	Frame   uint64
	Dir     fsm.Dir
	Flags   fsm.Flags
	Seq     int64
	Ack     int64
	Len     uint32
	Win     uint32 // advertised window, scaled when WScale says so (never on a SYN)
	Verdict reassembly.Verdict
	// SACKs is the number of SACK blocks; SACKLeft and SACKRight are the
	// first block's edges (the block that holds the segment which triggered
	// the ACK, RFC 2018 §4, or a D-SACK, RFC 2883 §4).
	SACKs               uint8
	SACKLeft, SACKRight int64
}

// End returns the sequence number just past the packet (SYN and FIN
// occupy one each).
func (p *TracePacket) End() int64 {
	n := int64(p.Len)
	if p.Flags&fsm.FlagSYN != 0 {
		n++
	}
	if p.Flags&fsm.FlagFIN != 0 {
		n++
	}
	return p.Seq + n
}

// seqBases returns each direction's relative-sequence base: the ISN of its
// SYN when captured, else one below the first sequence number it was seen
// to send, else one below the first acknowledgment its peer sent.
func seqBases(f *reassembly.Flow) (base [2]fsm.Seq, ok [2]bool) {
	for d := range f.Conn.Ep {
		if f.Conn.Ep[d].SynSent {
			base[d], ok[d] = f.Conn.Ep[d].ISS, true
		}
	}
	for _, s := range f.Steps {
		if !ok[s.Dir] {
			base[s.Dir], ok[s.Dir] = s.Seq-1, true
			if s.Flags&fsm.FlagSYN != 0 {
				base[s.Dir] = s.Seq
			}
		}
	}
	for _, s := range f.Steps {
		if p := s.Dir.Other(); !ok[p] && s.Flags&fsm.FlagACK != 0 {
			base[p], ok[p] = s.Ack-1, true
		}
	}
	return base, ok
}

// rel returns s relative to base as a signed offset.
func rel(s, base fsm.Seq) int64 { return int64(int32(uint32(s - base))) }

// NewTrace copies what the pictures need out of a finished flow.
func NewTrace(f *reassembly.Flow) *Trace {
	c := &f.Conn
	t := &Trace{ID: f.ID, Client: f.Client.String(), Server: f.Server.String(), Start: f.First, DurationUS: f.Last.Sub(f.First).Microseconds(),
		WScale: [2]int8{-1, -1}, Elided: f.StepsElided}
	if c.Ep[0].HasWScale && c.Ep[1].HasWScale {
		t.WScale = [2]int8{int8(min(c.Ep[0].WScale, 14)), int8(min(c.Ep[1].WScale, 14))}
	}
	for d := range c.Ep {
		t.Final[d] = c.Ep[d].State
		t.Initial[d] = c.Ep[d].State
		if tl := c.Timeline[d]; len(tl) > 0 {
			t.Initial[d] = tl[0].From
		}
		t.Timeline[d] = make([]TraceTransition, len(c.Timeline[d]))
		for i, x := range c.Timeline[d] {
			t.Timeline[d][i] = TraceTransition{US: x.Time.Sub(f.First).Microseconds(), Frame: x.Frame, From: x.From, To: x.To, Cause: x.Cause, Inferred: x.Inferred}
		}
	}
	t.Head = len(f.Steps)
	if f.StepsElided > 0 {
		t.Head = len(f.Steps) / 2
	}
	base, _ := seqBases(f)
	t.Packets = make([]TracePacket, len(f.Steps))
	for i, s := range f.Steps {
		p := &t.Packets[i]
		d, peer := s.Dir, s.Dir.Other()
		*p = TracePacket{US: s.Time.Sub(f.First).Microseconds(), Frame: s.Frame, Dir: d, Flags: s.Flags, Seq: rel(s.Seq, base[d]),
			Len: s.Len, Win: uint32(s.Win), Verdict: s.Verdict, SACKs: s.SACKCount}
		if s.Flags&fsm.FlagACK != 0 {
			p.Ack = rel(s.Ack, base[peer])
		}
		if t.WScale[d] >= 0 && s.Flags&fsm.FlagSYN == 0 {
			p.Win <<= uint(t.WScale[d])
		}
		if s.SACKCount > 0 && s.SACKLeft != s.SACKRight {
			p.SACKLeft, p.SACKRight = rel(s.SACKLeft, base[peer]), rel(s.SACKRight, base[peer])
		} else {
			p.SACKs = 0 // the decoder gave no edges: nothing to draw
		}
	}
	return t
}

// DataDir returns the direction whose time-sequence graph says the most:
// the one that sent more sequence space among the kept packets (the client
// on a tie).
func (t *Trace) DataDir() fsm.Dir {
	var n [2]int64
	for i := range t.Packets {
		p := &t.Packets[i]
		n[p.Dir] += p.End() - p.Seq
	}
	if n[fsm.DirServer] > n[fsm.DirClient] {
		return fsm.DirServer
	}
	return fsm.DirClient
}
