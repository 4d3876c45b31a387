// Package fsm is the pure RFC 9293 state machine of tcptrace: it follows
// both endpoints of one TCP connection through the eleven states of
// RFC 9293 §3.3.2 as a passive observer on the wire infers them, and records
// every transition with the frame and capture time that caused it and
// whether it was observed or inferred.
//
// fsm owns sequence arithmetic (Seq), control bits (Flags), endpoint roles
// (Dir), states (State), the per-connection machine (Conn), the classification
// of how a connection opened and closed, and the rule violations a single
// segment can show. It does not own decoding (package capture), the flow
// table or per-direction sequence analysis (package reassembly), or
// rendering (package report). It does no I/O, reads no clock (time arrives
// with each segment, from capture timestamps), logs nothing, and imports only
// the standard library.
//
// The observer's problem is that a segment is seen once, somewhere on the
// path, while each endpoint acts on it at its own time. Sending is applied to
// the sender at once. A received SYN or FIN is held until the receiver's next
// segment shows, by what it acknowledges, whether the receiver processed it
// before sending: this is what tells crossing FINs (simultaneous close,
// CLOSING on both sides) from an ordinary close, and crossing SYNs from an
// ordinary open, wherever the capture point is.
package fsm
