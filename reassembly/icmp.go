package reassembly

import (
	"net/netip"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// ICMPReject is an ICMP error that rejected a connection attempt: its type
// and code, who sent it, and whether it travelled over ICMPv6.
type ICMPReject struct {
	From netip.Addr // the ICMP sender: the server itself, or a router or firewall on the path
	Type uint8
	Code uint8
	V6   bool
}

// Rejects reports whether an ICMP error of this type and code is a hard
// rejection of a connection attempt (anomalies.md §5 CONN_REJECTED_ICMP):
// ICMP destination unreachable (type 3) host unreachable (1), port
// unreachable (3), network or host administratively prohibited (9, 10) and
// communication administratively prohibited (13); ICMPv6 destination
// unreachable (type 1) administratively prohibited (1), address
// unreachable (3), port unreachable (4), source address failed policy (5)
// and reject route (6), their RFC 4443 §3.1 counterparts. Network
// unreachable and the fragmentation, source-route and TOS codes are not:
// RFC 1122 §4.2.3.9 lets TCP treat them as soft errors and retry.
func (r ICMPReject) Rejects() bool {
	if r.V6 {
		return r.Type == 1 && r.Code != 0 && r.Code != 2 && r.Code <= 6
	}
	if r.Type != 3 {
		return false
	}
	switch r.Code {
	case 1, 3, 9, 10, 13:
		return true
	}
	return false
}

// ICMPError accounts an ICMP error captured at ts in frame, which quotes a
// segment from src to dst (its sequence number seq when seqQuoted). It
// creates no flow and counts no packet: the error is no segment of the
// connection. It matches only a held flow whose client sent a SYN from src
// and is still in SYN-SENT, and, when the quote reached it, only that
// SYN's ISN. It returns the flow the error was noted on, or nil.
func (t *Table) ICMPError(ts time.Time, frame uint64, src, dst netip.AddrPort, seq fsm.Seq, seqQuoted bool, r ICMPReject) *Flow {
	if !r.Rejects() {
		return nil
	}
	k := MakeKey(src, dst)
	f := t.ix.find(k, t.ix.hash(k), t.lru)
	if f == nil || src != f.Client {
		return nil
	}
	ep := &f.Conn.Ep[fsm.DirClient]
	// RFC 9293 §3.10.7.3 and RFC 5927 §4: only an error about the attempt
	// in progress, quoting its ISN, may abort it; a quote of another
	// sequence number is stale or forged.
	if !ep.SynSent || ep.State != fsm.StateSynSent || seqQuoted && seq != ep.ISS {
		return nil
	}
	n := f.Half[fsm.DirClient].notes()
	if n.ICMPReject.Count == 0 {
		n.ICMP = r
	}
	n.ICMPReject.mark(frame, ts.UnixNano())
	return f
}
