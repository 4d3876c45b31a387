package fsm

import "time"

// Config holds the observer's timing assumptions. The zero value is not
// usable; start from DefaultConfig.
type Config struct {
	// MSL is the maximum segment lifetime. TIME-WAIT lasts 2*MSL
	// (RFC 9293 §3.4.2, MUST-13). Linux holds TIME-WAIT for a fixed 60 s
	// (TCP_TIMEWAIT_LEN), which is what the default MSL of 30 s gives.
	MSL time.Duration
}

// DefaultConfig matches Linux: a 60 s TIME-WAIT.
func DefaultConfig() Config { return Config{MSL: 30 * time.Second} }

// Transition is one state change of one endpoint.
type Transition struct {
	Frame    uint64    // frame that caused it (1-based); for inferred timers, the last frame seen before
	Time     time.Time // capture time of the cause (for timers: when the timer fired)
	Cause    string    // constant, human-readable reason
	From, To State
	Inferred bool // true when deduced rather than directly shown by a captured segment
	// The one-byte fields go last: 56 bytes, where From and To between
	// Time and Cause made it 64 with padding. An endpoint makes three to
	// six transitions, all kept until its flow is reported.
}

// nanotime is a capture time in 8 bytes rather than time.Time's 24, for the
// times a Conn keeps per flow: Unix nanoseconds with the sign bit flipped,
// so that the zero value stands for the zero time.Time ("none seen") and
// every other capture time round-trips exactly, the Unix epoch included
// (time.Unix(0, n).UTC() is how capture builds them too). Only times
// outside 1678-2262, which UnixNano cannot represent, do not: a classic
// pcap cannot hold them, and capture clamps a pcapng's (64-bit timestamps,
// if_tsoffset) into that range with a warning. Arithmetic is done on the time.Time it decodes to, off the
// per-packet path, so that results match time.Time's exactly.
type nanotime uint64

const nanoBias = 1 << 63

func nanoOf(t time.Time) nanotime {
	if t.IsZero() {
		return 0
	}
	return nanotime(uint64(t.UnixNano()) ^ nanoBias)
}

func (n nanotime) time() time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(uint64(n)^nanoBias)).UTC()
}

// receipt is a captured segment not yet applied to its receiver (see
// Conn.deliver), reduced to what receiving it needs so that the held slots
// stay small in every flow. Its flags are kept beside it, in
// Endpoint.heldFlags, and its two 64-bit values in halves: with nothing
// that needs 8-byte alignment it takes 28 bytes, where a uint64 and a
// trailing Flags byte would pad it to 32.
type receipt struct {
	frame halves // frame number
	ns    halves // capture time, a nanotime
	seq   Seq
	ack   Seq
	len   uint32
}

// halves is a uint64 as its low and high 32 bits.
type halves [2]uint32

func split(v uint64) halves     { return halves{uint32(v), uint32(v >> 32)} }
func (h halves) uint64() uint64 { return uint64(h[0]) | uint64(h[1])<<32 }

func makeReceipt(frame uint64, ts time.Time, s *Segment) receipt {
	return receipt{frame: split(frame), ns: split(uint64(nanoOf(ts))), seq: s.Seq, ack: s.Ack, len: s.Len}
}

func (r *receipt) segment(f Flags) Segment {
	return Segment{Seq: r.seq, Ack: r.ack, Len: r.len, Flags: f}
}

func (r *receipt) time() time.Time { return nanotime(r.ns.uint64()).time() }

// maxHeld bounds the receipts held per endpoint, so a one-sided capture
// cannot grow memory.
const maxHeld = 4

// Endpoint is what an observer knows of one side of a connection. Sequence
// fields use RFC 9293 names (§3.3.1) as seen on the wire: what this endpoint
// sent (ISS, SndNxt) and what it acknowledged (RcvNxt).
//
// Fields are ordered by size, so that only 4 bytes are padding, and by use:
// the one-byte states and flags, the counters and the sequence numbers,
// which every Step reads, come first and share a cache line; the times and
// the held receipts, which a Step touches only for data, SYN or FIN,
// follow.
type Endpoint struct {
	State   State
	Initial State // the state before the first transition: CLOSED for an opener, LISTEN for a listener

	Sent    bool
	SynSent bool
	AckSent bool
	FinSent bool
	RstSent bool
	Passive bool // reached SYN-RECEIVED from LISTEN (RFC 9293 §3.10.7.4: a reset returns it to LISTEN)

	// Options announced in its SYN or SYN-ACK (RFC 9293 §3.7.1, RFC 7323,
	// RFC 2018); MSS is with the counters below.
	HasMSS    bool
	HasWScale bool
	WScale    uint8
	SACKPerm  bool
	HasTS     bool

	nheld     uint8 // receipts in held; at most maxHeld
	bits      epBits
	preRst    State          // its state before the run of RSTs that bitRSTRejected is about
	heldFlags [maxHeld]Flags // the flags of the receipts in held

	Window   uint16
	MSS      uint16
	SynCount uint16
	FinCount uint16

	ISS    Seq // initial send sequence number; valid iff SynSent
	SndNxt Seq // highest SEG.SEQ+SEG.LEN sent; valid iff Sent
	RcvNxt Seq // highest acknowledgment sent; valid iff AckSent
	FinSeq Seq // sequence number occupied by its FIN; valid iff FinSent

	// lastData is the capture time of the last segment carrying payload it
	// sent (zero if none); see LastData.
	lastData nanotime
	// FinTime is when its first FIN was seen; valid iff FinSent.
	FinTime time.Time
	lastSyn nanotime      // when its last SYN was sent; zero if none
	synGap  time.Duration // gap between the last two SYN transmissions
	// When it entered TIME-WAIT, and in which frame, are not kept here:
	// they are the last transition of its timeline (see expireTimeWait).
	held [maxHeld]receipt
}

// epBits are an Endpoint's private flags, one byte for three bools so that
// the Endpoint's leading fields take no padding.
type epBits uint8

const (
	// bitAckedFin: this endpoint has acknowledged the peer's FIN.
	bitAckedFin epBits = 1 << iota
	// bitAckFinPig: ... and did so first in the segment carrying its own
	// FIN (the three-way close of RFC 9293 §3.6).
	bitAckFinPig
	// bitRSTRejected: the peer rejected the last RST sent in this
	// endpoint's name (RFC 5961 §3.2), and nothing since showed the
	// endpoint reset; preRst is its state before that run of RSTs (see
	// Conn.disown).
	bitRSTRejected
	// bitFinInferred: this endpoint's FIN was not captured; the peer's
	// acknowledgment showed it (Conn.missedFIN).
	bitFinInferred
)

// LastData returns the capture time of the last segment carrying payload
// that e sent, or the zero time if it sent none: how long a side has been
// silent.
func (e *Endpoint) LastData() time.Time { return e.lastData.time() }

// Conn is one incarnation of a TCP connection as seen by a passive observer:
// both endpoints' states and timelines. It does no I/O and reads no clock:
// time arrives with each segment. Not safe for concurrent use.
//
// What every Step reads or writes comes first (the last frame and time,
// the one-byte flags, the transition count, then each endpoint's leading
// fields), so that a segment on an established connection touches about
// three cache lines; the timelines, the RST record and the violation
// counters, touched only when something happens, come last.
type Conn struct {
	lastFrame uint64
	lastTS    nanotime // valid iff started

	started   bool
	Midstream bool // no SYN opened the connection in the capture
	SimOpen   bool // both sides sent a bare SYN (RFC 9293 §3.5, Figure 7)
	SimClose  bool // an endpoint passed through CLOSING (§3.6, Figure 13)
	Refused   bool // the SYN was answered by an acceptable RST

	FirstFin     Dir // which side closed first; valid iff FinSeen
	FinSeen      bool
	RstSeen      bool
	RstBy        Dir   // first RST's sender; valid iff RstSeen
	RstState     State // the RST sender's state when it sent it
	RstDisowned  bool  // a rejected RST was followed by its supposed sender's segments: not its own, and not the RST above (disown)
	rstFirstRej  bool  // the first RST (RstFrame) was rejected by its receiver
	rstAfterFins bool

	// HalfCloseData is set when a side sent data after receiving the
	// peer's FIN: a half-close in use (RFC 9293 §3.6.1, "a host is
	// permitted to continue sending data in the open direction").
	HalfCloseData bool

	// moves counts the transitions appended to either timeline, modulo
	// 2^16, so that Step reports how many it made without reading the
	// timelines' headers; a Step makes a few dozen at most (each held
	// receipt, the segment and the timers move each endpoint a bounded
	// number of times), so the difference never wraps.
	moves uint16

	Ep       [2]Endpoint
	Timeline [2][]Transition

	RstFrame uint64
	// HalfCloseGap is the longest silence a side kept in CLOSE-WAIT before
	// it sent data: from the later of its ACK of the peer's FIN and its
	// previous data (anomalies.md §4 idle_since) to the data. A long one is
	// HALF_CLOSE_SLOW: a legitimate half-close with a slow reply.
	HalfCloseGap time.Duration

	cfg        Config
	violations [violationCount]uint32
}

// NewConn returns a connection with no segments seen.
func NewConn(cfg Config) *Conn {
	c := &Conn{}
	c.Reset(cfg)
	return c
}

// Reset makes c a fresh connection, keeping the timeline slices' memory.
func (c *Conn) Reset(cfg Config) {
	t0, t1 := c.Timeline[0][:0], c.Timeline[1][:0]
	*c = Conn{cfg: cfg}
	c.Timeline[0], c.Timeline[1] = t0, t1
	c.Ep[DirClient].Initial = StateClosed
	c.Ep[DirServer].Initial = StateListen
}

// Result summarizes what one Step did.
type Result struct {
	Transitions int       // number of transitions recorded (any endpoint)
	Violation   Violation // the most notable rule the segment broke, if any
}

// Step applies one captured segment sent by endpoint d at capture time ts in
// frame number frame.
func (c *Conn) Step(frame uint64, ts time.Time, d Dir, s Segment) Result {
	m0 := c.moves
	var v Violation
	if c.Ep[0].State == StateTimeWait || c.Ep[1].State == StateTimeWait {
		// Only TIME-WAIT has a timer to run out; testing for it here
		// spares every other segment the call.
		c.expireTimeWait(ts)
	}
	if !c.started {
		c.started = true
		c.pickup(frame, ts, d, &s)
	}
	c.lastFrame, c.lastTS = frame, nanoOf(ts)

	// Forbidden flag combinations (RFC 9293 §3.1 gives no meaning to them;
	// Linux drops SYN+FIN and SYN+RST). They carry no state change, except
	// two a receiver still acts on: RST+FIN is a RST, because §3.10.7.4
	// checks the RST bit (second) long before the FIN bit (eighth), so the
	// FIN is never reached; SYN+URG is a SYN (Linux answers it with a
	// SYN-ACK), the urgent pointer meaning nothing before any data.
	bad := flagViolation(s.Flags)
	switch bad {
	case ViolationNone:
	case ViolationRSTFIN:
		c.note(bad)
		s.Flags &^= FlagFIN
	case ViolationSYNURG:
		c.note(bad)
	default:
		c.note(bad)
		return Result{Violation: bad}
	}

	// The ACK test first, inline: it rejects nearly every segment.
	if s.Ack == c.Ep[d.Other()].SndNxt.Add(1) && c.missedFIN(d, &s) {
		c.inferFIN(frame, ts, d.Other())
	}
	snd := &c.Ep[d]
	// RFC 9293 §3.10.7.4 TIME-WAIT: "The only thing that can arrive in
	// this state is a retransmission of the remote FIN": data or a FIN
	// reaching an endpoint in TIME-WAIT means its final ACK was lost (or
	// the peer is late); it re-ACKs (anomalies.md §4 TW_LATE_SEGMENT).
	late := c.Ep[d.Other()].State == StateTimeWait && s.Flags&(FlagSYN|FlagRST) == 0 && (s.Flags&FlagFIN != 0 || s.Len > 0)
	if snd.bits&bitRSTRejected != 0 && s.Flags&(FlagSYN|FlagRST) == 0 {
		// Before its held receipts are applied: they reached the live
		// endpoint, not the CLOSED one the RST left.
		c.disown(d, frame, ts)
	}
	// What the sender held back is resolved by what this segment
	// acknowledges: a held SYN or FIN it acknowledges reached it first.
	if snd.nheld > 0 {
		c.resolveHeld(d, frame, ts, &s)
	}
	v = c.send(d, frame, ts, &s)
	// The receiver judges s against what the sender had sent before it.
	// A segment without SYN, FIN or RST, reaching a receiver that holds
	// nothing and awaits no ACK, is one deliver would drop as not
	// interesting: most segments of an established connection skip it.
	if rcv := &c.Ep[d.Other()]; s.Flags&(FlagSYN|FlagFIN|FlagRST) != 0 || rcv.nheld > 0 || s.Flags&FlagACK != 0 && rcv.State.awaitsACK() {
		if rv := c.deliver(d.Other(), frame, ts, &s); rv != ViolationNone && v == ViolationNone {
			v = rv
		}
	}
	if s.Flags&FlagACK != 0 && (!snd.AckSent || snd.RcvNxt.LessThan(s.Ack)) {
		snd.RcvNxt, snd.AckSent = s.Ack, true
	}
	if end := s.End(); !snd.Sent || snd.SndNxt.LessThan(end) {
		snd.SndNxt, snd.Sent = end, true
	}
	snd.Window = s.Window
	if late && v == ViolationNone {
		v = ViolationTimeWaitLate
	} else if late {
		c.note(ViolationTimeWaitLate)
	}
	if v != ViolationNone {
		c.note(v)
	} else {
		v = bad
	}
	return Result{Transitions: int(c.moves - m0), Violation: v}
}

// missedFIN reports whether s, from d, acknowledges a FIN of the peer that
// the capture did not record: its ACK is exactly one past everything the
// peer sent, and the peer, open for sending, has sent no FIN. A FIN takes
// one sequence number (RFC 9293 §3.4) and a receiver acknowledges only
// what it received (§3.10.7.4), so a FIN is the reading that keeps both
// endpoints' states true: a capture that drops packets (tcpdump's "dropped
// by kernel") otherwise leaves the closer ESTABLISHED and the peer's close
// looking like the first. A lost one-byte data segment looks the same; its
// sender's next data then shows it (send does not call that data after
// the FIN).
func (c *Conn) missedFIN(d Dir, s *Segment) bool {
	p, r := &c.Ep[d.Other()], &c.Ep[d]
	if s.Flags&(FlagACK|FlagSYN|FlagRST) != FlagACK || !p.Sent || p.FinSent || p.RstSent || s.Ack != p.SndNxt.Add(1) {
		return false
	}
	return (p.State == StateEstablished || p.State == StateCloseWait) &&
		(r.State == StateEstablished || r.State == StateFinWait1 || r.State == StateFinWait2)
}

// inferFIN steps the FIN that d sent, at SND.NXT, and the capture missed,
// as of the frame that acknowledges it. Its receipt is held like any FIN's
// and resolved by that frame; d's own transition is marked inferred.
func (c *Conn) inferFIN(frame uint64, ts time.Time, d Dir) {
	e := &c.Ep[d]
	fin := Segment{Seq: e.SndNxt, Ack: e.RcvNxt, Flags: FlagFIN, Window: e.Window}
	if e.AckSent {
		fin.Flags |= FlagACK
	}
	n := len(c.Timeline[d])
	c.Step(frame, ts, d, fin)
	e.FinCount-- // FinCount counts FIN segments captured
	e.bits |= bitFinInferred
	for i := n; i < len(c.Timeline[d]); i++ {
		t := &c.Timeline[d][i]
		t.Inferred = true
		t.Cause = "sent a FIN that was not captured (the peer acknowledges it)"
	}
}

// pickup sets the starting states from the first captured segment. A
// connection whose first segment is a SYN or SYN-ACK started in the capture;
// anything else was picked up mid-stream, and both sides are inferred to be
// ESTABLISHED (an observer-only inference: RFC 9293 has no such arc).
func (c *Conn) pickup(frame uint64, ts time.Time, d Dir, s *Segment) {
	if s.Flags&FlagSYN != 0 {
		return
	}
	c.Midstream = true
	for i := range c.Ep {
		c.Ep[i].Initial = StateUnknown
	}
	if s.Flags&FlagRST != 0 {
		// A lone RST says nothing of what came before it.
		return
	}
	for i := range c.Ep {
		c.move(Dir(i), frame, ts, StateEstablished, "connection picked up mid-stream: first captured segment carries no SYN", true)
	}
}

// move records a transition of endpoint d.
func (c *Conn) move(d Dir, frame uint64, ts time.Time, to State, cause string, inferred bool) {
	e := &c.Ep[d]
	if e.State == to {
		return
	}
	from := e.State
	if from == StateUnknown {
		from = e.Initial
	}
	if from == to {
		// Leaving "unknown" for the state it was assumed to start in is
		// not a transition.
		e.State = to
		return
	}
	if tl := c.Timeline[d]; len(tl) > 0 && ts.Before(tl[len(tl)-1].Time) {
		// A held receipt applied late can carry an earlier capture time
		// than a transition the endpoint made before processing it; keep
		// the timeline monotonic.
		ts = tl[len(tl)-1].Time
	}
	if c.Timeline[d] == nil {
		// Most endpoints make 3 to 6 transitions; many (scans, floods)
		// make one. Start small and let append grow it.
		c.Timeline[d] = make([]Transition, 0, 2)
	}
	c.Timeline[d] = append(c.Timeline[d], Transition{Frame: frame, Time: ts, From: from, To: to, Cause: cause, Inferred: inferred})
	c.moves++
	e.State = to
	if to == StateClosing {
		c.SimClose = true
	}
}

// send applies what sending s does to its sender d (RFC 9293 §3.10.1-3.10.4:
// the user calls OPEN, SEND, CLOSE and ABORT, seen on the wire as SYN, data,
// FIN and RST).
func (c *Conn) send(d Dir, frame uint64, ts time.Time, s *Segment) Violation {
	e := &c.Ep[d]
	p := &c.Ep[d.Other()]
	var v Violation

	if s.Flags&FlagRST != 0 {
		if !c.RstSeen {
			c.RstSeen, c.RstBy, c.RstState, c.RstFrame = true, d, e.State, frame
			// A RST after both FINs were acknowledged ends nothing that had
			// not already ended (Zeek likewise logs FIN-then-RST as SF).
			c.rstAfterFins = e.FinSent && p.FinSent && e.bits&bitAckedFin != 0 && p.bits&bitAckedFin != 0
		}
		if e.bits&bitRSTRejected == 0 {
			// A run of rejected RSTs keeps the state before the first.
			e.preRst = e.State
		}
		e.RstSent = true
		if s.Len > 0 {
			v = ViolationRSTWithData
		}
		if e.State == StateSynSent && p.State == StateTimeWait {
			// anomalies.md §4 TW_SYN_REJECTED: the peer's TIME-WAIT did not
			// take the new SYN (not after its RCV.NXT, no newer timestamp)
			// and answered with a bare ACK of the old connection; SYN-SENT
			// resets an ACK that does not acknowledge its SYN
			// (RFC 9293 §3.10.7.3, <SEQ=SEG.ACK><CTL=RST>) before it retries.
			c.note(ViolationTimeWaitSYNRejected)
		}
		switch e.State {
		case StateClosed:
			return v
		case StateFinWait2:
			if s.Flags&FlagACK == 0 && e.nheld > 0 {
				// RFC 9293 §3.10.7.1: a segment arriving at a CLOSED port is
				// answered <SEQ=SEG.ACK><CTL=RST>. From FIN-WAIT-2 that means
				// the orphaned socket timed out (Linux tcp_fin_timeout)
				// before the peer's segment arrived.
				c.move(d, frame, ts, StateClosed, "FIN-WAIT-2 timer expired: RST answers the peer's later segment from a closed port", true)
				return v
			}
		case StateUnknown:
			if e.Initial == StateListen && !e.Sent && p.SynSent && s.Flags&FlagACK != 0 {
				// A RST+ACK as the first word of a listener-side endpoint is
				// the §3.10.7.1 reply of a port with no listener.
				e.Initial = StateClosed
				c.move(d, frame, ts, StateClosed, "no listener: answered the SYN with RST", true)
				e.State = StateClosed
				return v
			}
		}
		c.move(d, frame, ts, StateClosed, "sent RST (abort, RFC 9293 §3.10.5)", false)
		return v
	}

	if s.Flags&FlagSYN != 0 {
		e.SynCount++
		if e.lastSyn != 0 {
			e.synGap = ts.Sub(e.lastSyn.time())
		}
		e.lastSyn = nanoOf(ts)
		resent := e.SynSent && s.Seq == e.ISS
		if e.SynSent && s.Seq != e.ISS {
			v = ViolationSYNSeqChanged
		}
		if !e.SynSent {
			e.ISS, e.SynSent = s.Seq, true
			e.HasMSS, e.MSS = s.HasMSS, s.MSS
			e.HasWScale, e.WScale = s.HasWScale, s.WScale
			e.SACKPerm, e.HasTS = s.SACKPerm, s.HasTS
		}
		if s.Flags&FlagACK == 0 {
			switch e.State {
			case StateUnknown, StateClosed:
				// §3.10.1 OPEN call, active: send SYN, enter SYN-SENT.
				e.Initial = StateClosed
				c.move(d, frame, ts, StateSynSent, "sent SYN (active open)", false)
			case StateListen:
				c.move(d, frame, ts, StateSynSent, "sent SYN from LISTEN (SEND on a passive connection, §3.10.2)", false)
			case StateSynSent, StateSynReceived:
				// Retransmission; a different ISN is flagged above.
			default:
				// RFC 5961 §4.2 / §3.10.7.4 "fourth, check the SYN bit":
				// a SYN on a synchronized connection draws a challenge ACK.
				// With the sender's own ISN it is its SYN sent again
				// (anomalies.md §5 SYN_RESEND, info); with another it is a
				// reconnect or an injection (SYN_ON_ESTABLISHED).
				if s.Seq != e.ISS {
					v = ViolationSYNInWindow
				} else if resent {
					v = ViolationSYNResend
				}
			}
		} else {
			switch e.State {
			case StateUnknown, StateListen:
				// The SYN this answers was not captured.
				e.Initial = StateListen
				e.Passive = true
				c.move(d, frame, ts, StateSynReceived, "sent SYN-ACK: the SYN it answers was not captured", true)
			case StateSynSent:
				c.move(d, frame, ts, StateSynReceived, "sent SYN-ACK: the peer's SYN was not captured", true)
			}
		}
	} else if e.State == StateSynSent && s.Flags&FlagACK != 0 {
		// §3.10.7.3: SYN-SENT leaves only on a SYN. An ACK without SYN from
		// SYN-SENT means the peer's SYN-ACK reached it but not the capture.
		c.move(d.Other(), frame, ts, StateSynReceived, "sent a SYN-ACK that was not captured (the peer acknowledges it)", true)
		c.move(d, frame, ts, StateEstablished, "received a SYN-ACK that was not captured (it acknowledges it)", true)
	} else if e.State == StateSynReceived && (s.Len > 0 || s.Flags&FlagFIN != 0) {
		// Data or FIN is sent from SYN-RECEIVED only once the handshake
		// completed (§3.10.2 queues SEND until ESTABLISHED): the final ACK
		// was not captured.
		c.move(d, frame, ts, StateEstablished, "sends data: the handshake's final ACK was not captured", true)
	}

	if s.Len > 0 && e.State == StateCloseWait && !e.FinSent {
		c.HalfCloseData = true
		if idle := c.CloseWaitIdle(d); !idle.IsZero() && ts.Sub(idle) > c.HalfCloseGap {
			c.HalfCloseGap = ts.Sub(idle)
		}
	}
	if s.Len > 0 {
		e.lastData = c.lastTS // ts, which Step has encoded already
	}
	if s.Len > 0 && e.FinSent && e.FinSeq.LessThan(s.Seq.Add(s.Len)) && e.bits&bitFinInferred == 0 {
		v = ViolationDataAfterFIN
	}
	if e.RstSent && e.State == StateClosed && (s.Len > 0 || s.Flags&FlagFIN != 0) {
		v = ViolationDataAfterRST
	}

	if s.Flags&FlagFIN != 0 {
		e.FinCount++
		fin := s.Seq.Add(s.Len)
		if s.Flags&FlagSYN != 0 {
			fin = fin.Add(1)
		}
		if e.FinSent && fin != e.FinSeq && v == ViolationNone {
			v = ViolationFINSeqChanged
		}
		first := !e.FinSent
		if first {
			e.FinSeq, e.FinSent, e.FinTime = fin, true, ts
			if !c.FinSeen {
				c.FinSeen, c.FirstFin = true, d
			}
			if p.FinSent && s.Flags&FlagACK != 0 && p.FinSeq.LessThan(s.Ack) && e.bits&bitAckedFin == 0 {
				// Its own FIN is the first segment to acknowledge the
				// peer's FIN: the three-way close of §3.6.
				e.bits |= bitAckedFin | bitAckFinPig
			}
		}
		switch e.State {
		case StateEstablished, StateSynReceived:
			// §3.10.4 CLOSE in ESTABLISHED / SYN-RECEIVED: send FIN, enter FIN-WAIT-1.
			c.move(d, frame, ts, StateFinWait1, "sent FIN (active close)", false)
		case StateCloseWait:
			// §3.10.4 CLOSE in CLOSE-WAIT: send FIN, enter LAST-ACK.
			c.move(d, frame, ts, StateLastAck, "sent FIN after the peer's FIN (passive close)", false)
		}
	}
	if s.Flags&FlagACK != 0 && p.FinSent && p.FinSeq.LessThan(s.Ack) && e.bits&bitAckedFin == 0 {
		e.bits |= bitAckedFin
	}
	return v
}

// deliver hands s to its receiver r. SYN and FIN receipts are held until r
// shows, by what its own next segment acknowledges, whether it processed
// them before or after sending that segment; this is how crossing SYNs
// (simultaneous open) and crossing FINs (simultaneous close) are told apart
// from ordinary opens and closes at a capture point that sits anywhere on
// the path. Everything else is applied at once unless receipts are already
// held, to keep the receiver's order.
func (c *Conn) deliver(r Dir, frame uint64, ts time.Time, s *Segment) Violation {
	e := &c.Ep[r]
	if s.Flags&FlagRST != 0 {
		// Nothing follows a reset: settle what was held, then apply it.
		c.flushHeld(r)
		return c.receive(r, frame, ts, s)
	}
	if s.Flags&(FlagSYN|FlagFIN) == FlagSYN && e.nheld == 0 && e.State.Synchronized() {
		// A SYN reaching a synchronized endpoint crosses nothing: it is
		// answered with a challenge ACK (RFC 5961 §4, RFC 9293 §3.10.7.4)
		// that acknowledges none of it, so, held until acknowledged, it
		// would hold back every later receipt (the peer's FIN applied
		// before it, a close taken for simultaneous).
		if !c.interesting(r, s) {
			return ViolationNone
		}
		return c.receive(r, frame, ts, s)
	}
	if s.Flags&(FlagSYN|FlagFIN) != 0 || e.nheld > 0 {
		if !c.interesting(r, s) {
			return ViolationNone
		}
		if e.nheld == maxHeld {
			c.applyHeld(r)
		}
		e.held[e.nheld] = makeReceipt(frame, ts, s)
		e.heldFlags[e.nheld] = s.Flags
		e.nheld++
		return ViolationNone
	}
	if !c.interesting(r, s) {
		return ViolationNone
	}
	return c.receive(r, frame, ts, s)
}

// interesting reports whether s can change r's state, so that plain data and
// ACKs on an established connection take no space in the held queue.
func (c *Conn) interesting(r Dir, s *Segment) bool {
	if s.Flags&(FlagSYN|FlagFIN|FlagRST) != 0 {
		if e := &c.Ep[r]; e.nheld > 0 && s.Flags&FlagRST == 0 {
			// A retransmitted SYN or FIN already held adds nothing.
			last := &e.held[e.nheld-1]
			if e.heldFlags[e.nheld-1] == s.Flags && last.seq == s.Seq && last.len == s.Len {
				return false
			}
		}
		return true
	}
	return s.Flags&FlagACK != 0 && c.Ep[r].State.awaitsACK()
}

// awaitsACK reports whether an ACK alone can move an endpoint in state s:
// SYN-RECEIVED, FIN-WAIT-1, CLOSING and LAST-ACK wait for the ACK of their
// SYN or FIN (RFC 9293 §3.10.7.4, fifth, check the ACK field), and an
// endpoint not yet placed (UNKNOWN, LISTEN) is placed by the ACK of a
// synchronized peer (observer-only). One mask test: Step asks it of
// every segment.
func (s State) awaitsACK() bool {
	const m uint16 = 1<<StateSynReceived | 1<<StateFinWait1 | 1<<StateClosing | 1<<StateLastAck | 1<<StateUnknown | 1<<StateListen
	return m>>s&1 != 0 // 0 for any s >= 16
}

// resolveHeld applies, in order, the receipts held for d that d's segment s
// acknowledges: d processed them before sending s. It stops at the first one
// s does not acknowledge, which stays held.
func (c *Conn) resolveHeld(d Dir, frame uint64, ts time.Time, s *Segment) {
	e := &c.Ep[d]
	for e.nheld > 0 {
		h := e.held[0].segment(e.heldFlags[0])
		if h.Flags&(FlagSYN|FlagFIN) != 0 {
			if s.Flags&FlagACK == 0 || s.Ack.LessThan(h.End()) {
				return
			}
			if s.Flags&FlagRST != 0 && h.Flags&FlagSYN != 0 && h.Flags&FlagACK == 0 && e.State == StateUnknown && !e.Sent {
				// §3.10.7.1: a SYN to a port with no listener is answered
				// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. The endpoint was
				// CLOSED all along; the SYN changed nothing.
				e.Initial = StateClosed
				e.State = StateClosed
				c.dropHeld(d)
				continue
			}
		}
		c.applyHeld(d)
	}
}

// synAckAcceptable reports whether a SYN-ACK's ack is acceptable to e, the
// sender of the SYN (RFC 9293 §3.10.7.3: ISS < SEG.ACK =< SND.NXT). SND.NXT
// is past the SYN's data when the SYN carried some (TCP Fast Open, RFC
// 7413, which the SYN-ACK may acknowledge).
func synAckAcceptable(e *Endpoint, ack Seq) bool {
	nxt := e.ISS.Add(1)
	if e.Sent && nxt.LessThan(e.SndNxt) {
		nxt = e.SndNxt
	}
	return e.ISS.LessThan(ack) && !nxt.LessThan(ack)
}

// applyHeld applies the oldest held receipt of d.
func (c *Conn) applyHeld(d Dir) {
	e := &c.Ep[d]
	h, f := e.held[0], e.heldFlags[0]
	c.dropHeld(d)
	seg := h.segment(f)
	// The receipt's own violation (a SYN-ACK acknowledging the wrong
	// thing, say) is counted now: the Step that held it reported none.
	c.note(c.receive(d, h.frame.uint64(), h.time(), &seg))
}

func (c *Conn) dropHeld(d Dir) {
	e := &c.Ep[d]
	copy(e.held[:], e.held[1:e.nheld])
	copy(e.heldFlags[:], e.heldFlags[1:e.nheld])
	e.nheld--
	e.held[e.nheld], e.heldFlags[e.nheld] = receipt{}, 0
}

// flushHeld applies every receipt held for d, oldest first.
func (c *Conn) flushHeld(d Dir) {
	for c.Ep[d].nheld > 0 {
		c.applyHeld(d)
	}
}

// receive applies segment s, sent by the peer, to endpoint r, following the
// segment-arrival rules of RFC 9293 §3.10.7 in their order: RST, SYN, ACK,
// FIN. The observer cannot run the receiver's sequence check exactly, so
// acceptability is judged from what both sides were seen to send.
func (c *Conn) receive(r Dir, frame uint64, ts time.Time, s *Segment) Violation {
	e := &c.Ep[r]
	p := &c.Ep[r.Other()]

	if s.Flags&FlagRST != 0 {
		return c.receiveRST(r, frame, ts, s)
	}

	if s.Flags&FlagSYN != 0 {
		if s.Flags&FlagACK == 0 {
			switch e.State {
			case StateUnknown, StateListen:
				// §3.10.7.2 LISTEN, third: a SYN moves a listener to SYN-RECEIVED.
				e.Initial = StateListen
				e.Passive = true
				c.move(r, frame, ts, StateSynReceived, "received SYN (passive open)", false)
			case StateSynSent:
				// §3.10.7.3 SYN-SENT, fourth: a SYN without ACK is a
				// simultaneous open; enter SYN-RECEIVED.
				c.SimOpen = true
				c.move(r, frame, ts, StateSynReceived, "received SYN while in SYN-SENT (simultaneous open)", false)
			}
			return ViolationNone
		}
		switch e.State {
		case StateUnknown, StateClosed:
			if e.State == StateClosed && e.SynSent {
				return ViolationNone
			}
			// The SYN this SYN-ACK answers was not captured.
			e.Initial = StateClosed
			c.move(r, frame, ts, StateSynSent, "sent SYN that was not captured (a SYN-ACK answers it)", true)
			e.ISS, e.SynSent = s.Ack-1, true
			fallthrough
		case StateSynSent, StateSynReceived:
			if e.SynSent && !synAckAcceptable(e, s.Ack) {
				// §3.10.7.3: "If SND.UNA < SEG.ACK =< SND.NXT, then the ACK
				// is acceptable"; otherwise the SYN-ACK is answered by RST.
				return ViolationSYNACKWrongAck
			}
			cause := "received SYN-ACK acknowledging its SYN"
			if e.State == StateSynReceived {
				cause = "received SYN-ACK acknowledging its SYN (simultaneous open)"
			}
			c.move(r, frame, ts, StateEstablished, cause, false)
		}
		return ViolationNone
	}

	if s.Flags&FlagACK != 0 {
		switch e.State {
		case StateSynReceived:
			// §3.10.7.4 fifth, SYN-RECEIVED: an acceptable ACK enters ESTABLISHED.
			if !e.SynSent || e.ISS.LessThan(s.Ack) {
				c.move(r, frame, ts, StateEstablished, "received ACK of its SYN (handshake complete)", false)
			}
		case StateUnknown, StateListen:
			if p.State.Synchronized() {
				c.move(r, frame, ts, StateEstablished, "peer is established: the handshake was not captured", true)
			}
		}
		if e.FinSent && e.FinSeq.LessThan(s.Ack) {
			switch e.State {
			case StateFinWait1:
				// §3.10.7.4 fifth, FIN-WAIT-1: "if the FIN segment is now
				// acknowledged, then enter FIN-WAIT-2 and continue processing".
				c.move(r, frame, ts, StateFinWait2, "received ACK of its FIN", false)
			case StateClosing:
				// §3.10.7.4 fifth, CLOSING: ACK of our FIN enters TIME-WAIT.
				c.move(r, frame, ts, StateTimeWait, "received ACK of its FIN after both FINs crossed", false)
			case StateLastAck:
				// §3.10.7.4 fifth, LAST-ACK: ACK of our FIN: delete the TCB, CLOSED.
				c.move(r, frame, ts, StateClosed, "received ACK of its FIN (last ACK)", false)
			}
		}
	}

	if s.Flags&FlagFIN != 0 {
		// §3.10.7.4 eighth, check the FIN bit.
		switch e.State {
		case StateSynReceived, StateEstablished:
			c.move(r, frame, ts, StateCloseWait, "received FIN (peer closed its side)", false)
		case StateFinWait1:
			c.move(r, frame, ts, StateClosing, "received FIN before the ACK of its own FIN (simultaneous close)", false)
		case StateFinWait2:
			c.move(r, frame, ts, StateTimeWait, "received FIN after its own FIN was acknowledged", false)
		}
	}
	return ViolationNone
}

// CloseWaitIdle returns when endpoint d, which received the peer's FIN,
// went silent (anomalies.md §4 idle_since): the later of its first ACK of
// that FIN (the peer entering FIN-WAIT-2 or TIME-WAIT) and its last data;
// zero if that ACK was not seen. Step calls it only for data sent in
// CLOSE-WAIT, so the timeline walk is off the common path.
func (c *Conn) CloseWaitIdle(d Dir) time.Time {
	var acked time.Time
	for _, t := range c.Timeline[d.Other()] {
		if t.To == StateFinWait2 || t.To == StateTimeWait {
			acked = t.Time
			break
		}
	}
	if acked.IsZero() {
		return acked
	}
	if l := c.Ep[d].LastData(); l.After(acked) {
		return l
	}
	return acked
}

// receiveRST applies a reset to endpoint r (RFC 9293 §3.10.7.3-4, with the
// RFC 5961 §3.2 refinement Linux implements: only a RST whose sequence number
// is exactly RCV.NXT resets a synchronized connection; one merely in the
// window draws a challenge ACK).
func (c *Conn) receiveRST(r Dir, frame uint64, ts time.Time, s *Segment) Violation {
	e := &c.Ep[r]
	p := &c.Ep[r.Other()]
	switch e.State {
	case StateUnknown, StateListen, StateClosed:
		// §3.10.7.2: "An incoming RST should be ignored" in LISTEN.
		return ViolationNone
	case StateSynSent:
		// §3.10.7.3: acceptable only if it acknowledges the SYN.
		if s.Flags&FlagACK != 0 && s.Ack == e.ISS.Add(1) {
			c.Refused = !p.Sent || p.State == StateClosed
			c.move(r, frame, ts, StateClosed, "received RST acknowledging its SYN (connection refused)", false)
			return ViolationNone
		}
		return ViolationRSTInvalidToSYN
	case StateSynReceived:
		if e.Passive {
			// §3.10.7.4 first, SYN-RECEIVED: a connection from a passive
			// OPEN returns to LISTEN.
			c.move(r, frame, ts, StateListen, "received RST during the handshake: back to LISTEN", false)
		} else {
			c.move(r, frame, ts, StateClosed, "received RST during the handshake (connection refused)", false)
		}
		return ViolationNone
	}
	// Synchronized states (and TIME-WAIT). The receiver's RCV.NXT is
	// estimated by what it last acknowledged and what the sender had sent.
	exact := (!e.AckSent && !p.Sent) || (e.AckSent && s.Seq == e.RcvNxt) || (p.Sent && s.Seq == p.SndNxt)
	if !exact && e.AckSent && s.Seq.LessThan(e.RcvNxt) && p.Sent && s.Seq.LessThanEq(p.SndNxt) && e.RcvNxt.LessThanEq(p.SndNxt) {
		exact = true // ambiguous after capture loss: the sender's view wins
	}
	if !exact {
		// Not acted on: a challenge ACK or nothing (RFC 5961 §3.2). Its
		// sender's later segments will say whether the RST was its own.
		p.bits |= bitRSTRejected
		if c.RstSeen && c.RstFrame == frame && c.RstBy == r.Other() {
			c.rstFirstRej = true
		}
		if e.AckSent && s.Seq.InWindow(e.RcvNxt, c.window(r)) {
			return ViolationRSTInWindow
		}
		return ViolationRSTOutOfWindow
	}
	// Accepted: both ends are really reset, whatever either sends next.
	p.bits &^= bitRSTRejected
	e.bits &^= bitRSTRejected
	if e.State == StateTimeWait {
		// RFC 1337 hazard H3: Linux (tcp_rfc1337=0) lets a RST end TIME-WAIT.
		c.move(r, frame, ts, StateClosed, "received RST in TIME-WAIT (TIME-WAIT assassination, RFC 1337)", false)
		return ViolationTimeWaitAssassination
	}
	c.move(r, frame, ts, StateClosed, "received RST (connection reset by peer)", false)
	return ViolationNone
}

// disown undoes the RST that d's peer rejected when d goes on sending
// ordinary segments (ACK, data, FIN): an endpoint that had sent that RST
// would have been CLOSED, with nothing more to send (RFC 9293 §3.10.5), so
// the RST was not its own but forged in its name or stray, and d is still
// where it was before it (RFC 5961 §3.2; RFC 9293 §3.10.7.4 first, a
// rejected RST changes no state). Observer-only: the transition is inferred.
func (c *Conn) disown(d Dir, frame uint64, ts time.Time) {
	e := &c.Ep[d]
	e.bits &^= bitRSTRejected
	if e.State != StateClosed || !e.preRst.Synchronized() {
		return
	}
	c.move(d, frame, ts, e.preRst, "kept sending after a RST in its name that its peer rejected (RFC 5961 §3.2, RFC 9293 §3.10.7.4): that RST was not its own", true)
	e.RstSent = false
	c.RstDisowned = true
	if c.rstFirstRej && c.RstBy == d {
		// The connection-level record is of the first RST that was one:
		// a later RST takes the place.
		c.RstSeen, c.RstBy, c.RstState, c.RstFrame = false, 0, StateUnknown, 0
		c.rstAfterFins, c.rstFirstRej = false, false
	}
}

// window returns r's receive window in bytes, scaled per RFC 7323 §2.2 only
// when both SYNs carried the window-scale option.
func (c *Conn) window(r Dir) uint32 {
	e := &c.Ep[r]
	w := uint32(e.Window)
	if e.HasWScale && c.Ep[r.Other()].HasWScale {
		sh := e.WScale
		if sh > 14 {
			sh = 14 // RFC 7323 §2.3: larger shifts are treated as 14
		}
		w <<= sh
	}
	if w == 0 {
		w = 1
	}
	return w
}

// expireTimeWait moves endpoints whose 2MSL timer has run out by ts to CLOSED
// (RFC 9293 §3.10.8, time-wait timeout). Observer-only: the timer is silent
// on the wire, so the transition is inferred.
func (c *Conn) expireTimeWait(ts time.Time) {
	for d := range c.Ep {
		if c.Ep[d].State != StateTimeWait {
			continue
		}
		// The endpoint entered TIME-WAIT in its last transition: move
		// appends one for every change of State, and only move sets
		// StateTimeWait. Its frame and time are where the timer started.
		tl := c.Timeline[d]
		if len(tl) == 0 {
			continue // only if a caller emptied the timeline
		}
		tw := &tl[len(tl)-1]
		if end := tw.Time.Add(2 * c.cfg.MSL); !ts.Before(end) {
			c.move(Dir(d), tw.Frame, end, StateClosed, "TIME-WAIT 2MSL timer expired", true)
		}
	}
}

// Settle applies everything held for both endpoints, as of the end of the
// capture or before the flow table decides on a new incarnation.
func (c *Conn) Settle() {
	c.flushHeld(DirClient)
	c.flushHeld(DirServer)
}

// Finish closes the books at end of capture (or eviction) at capture time
// now: held receipts are applied, expired TIME-WAIT timers fire, and an
// opener whose SYN retransmissions stopped long before the end is inferred to
// have given up.
func (c *Conn) Finish(now time.Time) {
	for d := range c.Ep {
		e := &c.Ep[d]
		for e.nheld > 0 && !e.Sent && e.heldFlags[0]&(FlagSYN|FlagACK) == FlagSYN {
			// A SYN its target never answered is no evidence that it
			// arrived: the target's state stays unknown.
			c.dropHeld(Dir(d))
		}
	}
	c.Settle()
	c.expireTimeWait(now)
	for d := range c.Ep {
		e := &c.Ep[d]
		if e.State != StateSynSent || e.lastSyn == 0 {
			continue
		}
		lastSyn := e.lastSyn.time()
		// Linux doubles the SYN retransmission timeout from 1 s
		// (RFC 6298 §5.5 backoff). No retransmission for twice the next
		// expected interval means connect() was abandoned.
		next := 2 * e.synGap
		if next < time.Second {
			next = time.Second
		}
		if now.Sub(lastSyn) > 2*next {
			c.move(Dir(d), c.lastFrame, lastSyn.Add(next), StateClosed, "SYN retransmissions stopped: connection attempt abandoned", true)
		}
	}
}

// Reusable reports whether a new SYN from d with sequence number seq at time
// ts starts a new incarnation of the 4-tuple rather than belonging to this
// one. RFC 9293 §3.6.1 (MAY-2) lets a TIME-WAIT endpoint accept a new SYN;
// a closed connection is simply gone. An unanswered attempt followed by a SYN
// with a different ISN is a new connect().
//
// It does not apply held receipts: a retransmitted SYN, or the peer's own
// SYN in a simultaneous open, must not make the target process a SYN it may
// not have seen yet.
func (c *Conn) Reusable(d Dir, seq Seq, ts time.Time, idle time.Duration) bool {
	c.expireTimeWait(ts)
	e := &c.Ep[d]
	if e.SynSent && e.ISS == seq {
		return false // a retransmission
	}
	if !e.SynSent && !e.Sent && !c.Ep[d.Other()].State.Closed() {
		return false // the peer's first SYN: simultaneous open, or a SYN from the listener's side
	}
	done := func(s State) bool {
		return s == StateClosed || s == StateTimeWait || s == StateUnknown || s == StateListen
	}
	if done(c.Ep[0].State) && done(c.Ep[1].State) {
		return true
	}
	if c.Ep[DirClient].State == StateSynSent || c.Ep[DirServer].State == StateSynReceived && !c.Ep[DirClient].State.Synchronized() {
		return e.SynSent && e.ISS != seq
	}
	// A SYN inside a synchronized connection is answered by a challenge ACK
	// (RFC 5961 §4); only a long silence makes it a new connection.
	return ts.Sub(c.LastSeen()) > idle
}

// CauseTimeWaitReuse is the cause of the transition EndForReuse records
// when a TIME-WAIT endpoint's 4-tuple is reused; the anomaly engine finds
// time_wait_reuse by it.
const CauseTimeWaitReuse = "TIME-WAIT ended: a new SYN reuses the 4-tuple"

// EndForReuse closes the books on this incarnation because a new SYN in
// frame reuses the 4-tuple at ts: an endpoint still in TIME-WAIT leaves it
// (Linux tcp_timewait_state_process accepts the SYN and kills the
// TIME-WAIT socket).
func (c *Conn) EndForReuse(frame uint64, ts time.Time) {
	c.Finish(ts)
	for d := range c.Ep {
		if c.Ep[d].State == StateTimeWait {
			c.move(Dir(d), frame, ts, StateClosed, CauseTimeWaitReuse, false)
		}
	}
}

// LastSeen returns the capture time of the last segment stepped.
func (c *Conn) LastSeen() time.Time { return c.lastTS.time() }

// Violations returns how many times each violation occurred.
func (c *Conn) Violations() [violationCount]uint32 { return c.violations }

func (c *Conn) note(v Violation) {
	if v != ViolationNone && int(v) < len(c.violations) && c.violations[v] < ^uint32(0) {
		c.violations[v]++
	}
}

// EffectiveMSS is the smaller of the two announced MSS values (RFC 9293
// §3.7.1); a side that announced none is taken at the RFC default (536 for
// IPv4, 1220 for IPv6, MUST-15). It is 0 when no SYN was seen.
func (c *Conn) EffectiveMSS(ipv6 bool) uint16 {
	a, b := c.Ep[0], c.Ep[1]
	if !a.SynSent && !b.SynSent {
		return 0
	}
	def := uint16(536)
	if ipv6 {
		def = 1220
	}
	m := func(e Endpoint) uint16 {
		if !e.SynSent {
			return 0xffff
		}
		if e.HasMSS {
			return e.MSS
		}
		return def
	}
	x, y := m(a), m(b)
	if y < x {
		x = y
	}
	return x
}
