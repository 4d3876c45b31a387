package fsm

// Handshake says how a connection opened, as far as the capture shows.
type Handshake uint8

// Handshake kinds.
const (
	HandshakeNone         Handshake = iota // no segment seen
	HandshakeThreeWay                      // SYN, SYN-ACK, ACK (RFC 9293 §3.5 Figure 6)
	HandshakeSimultaneous                  // crossing SYNs (§3.5 Figure 7)
	HandshakePartial                       // completed, but part of it was not captured (inferred)
	HandshakeIncomplete                    // a SYN was sent but the connection never became established
	HandshakeMidstream                     // no SYN captured: picked up mid-stream
)

var handshakeNames = [...]string{"none", "three_way", "simultaneous_open", "partial", "incomplete", "midstream"}

// String returns the stable report name.
func (h Handshake) String() string {
	if int(h) < len(handshakeNames) {
		return handshakeNames[h]
	}
	return "unknown"
}

// MarshalText renders the handshake kind for JSON.
func (h Handshake) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// Close says how a connection ended.
type Close uint8

// Close kinds.
const (
	CloseOpen         Close = iota // still open at the end of the capture
	CloseFourWay                   // FIN, ACK, FIN, ACK (§3.6 Figure 12)
	CloseThreeWay                  // FIN, FIN+ACK, ACK: the second FIN carried the first ACK
	CloseSimultaneous              // crossing FINs, both sides through CLOSING (§3.6 Figure 13)
	CloseHalfClosed                // one side sent FIN, the other never did
	CloseReset                     // a RST ended it after (or during) establishment
	CloseRefused                   // the SYN was answered by RST
	CloseUnanswered                // SYN(s) with no reply
	CloseHalfOpen                  // SYN-ACK sent, the opener never completed the handshake
)

var closeNames = [...]string{"open", "four_way", "three_way", "simultaneous", "half_closed", "reset", "refused", "unanswered", "half_open"}

// String returns the stable report name.
func (k Close) String() string {
	if int(k) < len(closeNames) {
		return closeNames[k]
	}
	return "unknown"
}

// MarshalText renders the close kind for JSON.
func (k Close) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Handshake classifies how c opened.
func (c *Conn) Handshake() Handshake {
	cl, sv := &c.Ep[DirClient], &c.Ep[DirServer]
	switch {
	case !c.started:
		return HandshakeNone
	case c.Midstream:
		return HandshakeMidstream
	case c.SimOpen:
		return HandshakeSimultaneous
	}
	est := func(d Dir) (reached, inferred bool) {
		for _, t := range c.Timeline[d] {
			if t.To == StateEstablished {
				return true, inferred || t.Inferred
			}
			if t.Inferred && t.To != StateClosed {
				inferred = true
			}
		}
		return false, inferred
	}
	cr, ci := est(DirClient)
	sr, si := est(DirServer)
	switch {
	case cr && sr && !ci && !si:
		return HandshakeThreeWay
	case cr || sr:
		return HandshakePartial
	case cl.SynSent || sv.SynSent:
		return HandshakeIncomplete
	}
	return HandshakeMidstream
}

// Close classifies how c ended, as of the last segment stepped (call Settle
// or Finish first for the final verdict).
func (c *Conn) Close() Close {
	cl, sv := &c.Ep[DirClient], &c.Ep[DirServer]
	bothFin := cl.FinSent && sv.FinSent
	if c.Refused {
		return CloseRefused
	}
	if c.RstSeen && !c.rstAfterFins {
		return CloseReset
	}
	if bothFin {
		second := &c.Ep[c.FirstFin.Other()]
		switch {
		case c.SimClose:
			return CloseSimultaneous
		case second.bits&bitAckFinPig != 0:
			return CloseThreeWay
		}
		return CloseFourWay
	}
	if cl.FinSent || sv.FinSent {
		return CloseHalfClosed
	}
	if !c.Midstream && !sv.State.Synchronized() {
		// The server's SYN-ACK was never acknowledged. The client may
		// still count as ESTABLISHED: the observer moves it there on
		// receiving the SYN-ACK (RFC 9293 §3.10.7.3), whether or not its
		// ACK was ever sent.
		if sv.SynSent && sv.Sent {
			return CloseHalfOpen
		}
		if cl.SynSent && !sv.Sent && !cl.State.Synchronized() {
			return CloseUnanswered
		}
	}
	return CloseOpen
}
