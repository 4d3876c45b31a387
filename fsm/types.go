package fsm

import "fmt"

// Seq is a TCP sequence or acknowledgment number. All comparisons are done
// modulo 2^32 as RFC 9293 §3.4 requires ("the sequence number space ...
// ranges from 0 to 2^32 - 1 ... all arithmetic dealing with sequence numbers
// must be performed modulo 2^32"), following gVisor's seqnum package.
type Seq uint32

// LessThan reports whether s precedes v in sequence space.
func (s Seq) LessThan(v Seq) bool { return int32(s-v) < 0 }

// LessThanEq reports whether s precedes or equals v in sequence space.
func (s Seq) LessThanEq(v Seq) bool { return s == v || s.LessThan(v) }

// InRange reports whether a <= s < b in sequence space.
func (s Seq) InRange(a, b Seq) bool { return s-a < b-a }

// InWindow reports whether s lies in the window of size starting at first.
func (s Seq) InWindow(first Seq, size uint32) bool { return s.InRange(first, first.Add(size)) }

// Add returns s advanced by n bytes, wrapping at 2^32.
func (s Seq) Add(n uint32) Seq { return s + Seq(n) }

// Size returns the number of bytes from s up to (not including) v.
func (s Seq) Size(v Seq) uint32 { return uint32(v - s) }

// Flags is the TCP control-bit field (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
type Flags uint8

// TCP control bits, in header order from the least significant bit.
const (
	FlagFIN Flags = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
)

// Contains reports whether all of the bits in o are set in f.
func (f Flags) Contains(o Flags) bool { return f&o == o }

// Intersects reports whether any of the bits in o is set in f.
func (f Flags) Intersects(o Flags) bool { return f&o != 0 }

// String renders the flags the way tcpdump does: "S", "S.", "F.", "R.", "P.".
// The zero value is "none".
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var b [9]byte
	n := 0
	for _, x := range [...]struct {
		f Flags
		c byte
	}{{FlagSYN, 'S'}, {FlagFIN, 'F'}, {FlagRST, 'R'}, {FlagPSH, 'P'}, {FlagURG, 'U'}, {FlagECE, 'E'}, {FlagCWR, 'W'}, {FlagACK, '.'}} {
		if f&x.f != 0 {
			b[n] = x.c
			n++
		}
	}
	return string(b[:n])
}

// Dir says which endpoint of a connection a value belongs to or which one
// sent a segment. Per-direction data is stored as [2]T indexed by Dir.
type Dir uint8

// The two endpoints. The client is the sender of the first SYN without ACK
// (or, when no SYN was captured, the side the flow table guessed).
const (
	DirClient Dir = 0
	DirServer Dir = 1
)

// Other returns the opposite endpoint.
func (d Dir) Other() Dir { return d ^ 1 }

// String returns "client" or "server".
func (d Dir) String() string {
	switch d {
	case DirClient:
		return "client"
	case DirServer:
		return "server"
	}
	return fmt.Sprintf("Dir(%d)", uint8(d))
}

// MarshalText renders the direction for JSON.
func (d Dir) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// State is an endpoint's connection state (RFC 9293 §3.3.2). The zero value
// StateUnknown means the capture holds no evidence of the endpoint's state
// yet (for example the peer of an unanswered SYN).
type State uint8

// The eleven RFC 9293 states, plus StateUnknown.
const (
	StateUnknown State = iota
	StateClosed
	StateListen
	StateSynSent
	StateSynReceived
	StateEstablished
	StateFinWait1
	StateFinWait2
	StateCloseWait
	StateClosing
	StateLastAck
	StateTimeWait
)

var stateNames = [...]string{
	StateUnknown:     "UNKNOWN",
	StateClosed:      "CLOSED",
	StateListen:      "LISTEN",
	StateSynSent:     "SYN-SENT",
	StateSynReceived: "SYN-RECEIVED",
	StateEstablished: "ESTABLISHED",
	StateFinWait1:    "FIN-WAIT-1",
	StateFinWait2:    "FIN-WAIT-2",
	StateCloseWait:   "CLOSE-WAIT",
	StateClosing:     "CLOSING",
	StateLastAck:     "LAST-ACK",
	StateTimeWait:    "TIME-WAIT",
}

// String returns the RFC 9293 spelling ("SYN-RECEIVED"). It never panics.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// MarshalText renders the state for JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseState returns the State spelled name (RFC 9293 spelling), and false
// if there is none.
func ParseState(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	return StateUnknown, false
}

// Synchronized reports whether s is one of RFC 9293's synchronized states
// (§3.5.2: ESTABLISHED and every state after it).
func (s State) Synchronized() bool { return s >= StateEstablished }

// Closed reports whether the endpoint holds no connection any more: CLOSED
// or TIME-WAIT (which only waits out old duplicates, RFC 9293 §3.4.2).
func (s State) Closed() bool { return s == StateClosed || s == StateTimeWait }

// Segment is what the state machine needs of one TCP segment. It holds no
// slices, so it can be passed by value on the per-packet path.
type Segment struct {
	Seq    Seq
	Ack    Seq
	Flags  Flags
	Len    uint32 // TCP payload length from the IP length fields (not the captured bytes)
	Window uint16 // raw window field, unscaled

	// Options, parsed from the header. Valid iff the matching Has* field is set.
	HasMSS    bool
	HasWScale bool
	SACKPerm  bool
	HasTS     bool
	TFO       bool // a TCP Fast Open option (kind 34, or 254 with ExID 0xF989; RFC 7413)
	MSS       uint16
	WScale    uint8
	TSVal     uint32
	TSEcr     uint32
	SACKCount uint8 // SACK blocks present (0 when no SACK option)
	// SACKLeft and SACKRight are the edges of the first SACK block (RFC 2018
	// §3), which is where a D-SACK appears (RFC 2883 §4). Valid iff
	// SACKCount > 0 and the decoder fills them (SACKRight != SACKLeft).
	SACKLeft  Seq
	SACKRight Seq
}

// LogicalLen is the sequence space the segment occupies: payload plus one for
// each of SYN and FIN (RFC 9293 §3.4, SEG.LEN).
func (s *Segment) LogicalLen() uint32 {
	n := s.Len
	if s.Flags&FlagSYN != 0 {
		n++
	}
	if s.Flags&FlagFIN != 0 {
		n++
	}
	return n
}

// End returns the sequence number just past the segment (SEG.SEQ+SEG.LEN).
func (s *Segment) End() Seq { return s.Seq.Add(s.LogicalLen()) }
