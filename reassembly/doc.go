// Package reassembly owns the flow table of tcptrace: canonical 4-tuple
// keys, client and server roles (the sender of the first SYN, or a guess
// that says how it was made when the capture starts mid-stream), a new
// incarnation when a closed or TIME-WAIT 4-tuple sees a new SYN, per-flow
// counters, and eviction of idle flows by capture time so that memory stays
// bounded on endless captures.
//
// Each flow carries an fsm.Conn, stepped with every segment. reassembly does
// no I/O and no decoding (package capture turns bytes into segments; cmd
// wires the two), keeps no payload, and never prints: it returns flows and
// hands finished ones to a callback.
package reassembly
