package anomaly

import (
	"fmt"
	"net/netip"

	"github.com/tcptrace/tcptrace/fsm"
)

// hostRollups sums the service rollups per server address and adds the
// verdict on the host's server-side ISNs (issue 4: rollups per service and
// per host), worst first.
func (e *Engine) hostRollups(services []Rollup, findings []Finding) []Rollup {
	byHost := make(map[netip.Addr]*Rollup)
	var order []netip.Addr
	for i := range services {
		s := &services[i]
		ip := s.Service.Addr()
		h := byHost[ip]
		if h == nil {
			h = &Rollup{Host: ip}
			byHost[ip] = h
			order = append(order, ip)
		}
		h.Services++
		h.Connections += s.Connections
		h.Attempts += s.Attempts
		h.Established += s.Established
		h.Resets += s.Resets
		h.Refused += s.Refused
		h.Unanswered += s.Unanswered
		h.HalfCloseLeaks += s.HalfCloseLeaks
		h.Findings += s.Findings
		h.DataPackets += s.DataPackets
		h.Retransmitted += s.Retransmitted
		h.RTT.Merge(&s.RTT)
	}
	// The findings about each host, gathered in one pass: a sweep of a
	// large network makes tens of thousands of hosts and findings, and a
	// pass over the findings per host was quadratic.
	about := make(map[netip.Addr]uint64)         // host-level findings above info: its ISNs, or a scan of it
	predictable := make(map[netip.Addr]*Finding) // its ISNs as a server, when predictable
	for i := range findings {
		f := &findings[i]
		if f.Severity > SeverityInfo {
			host := f.Host.IsValid() && f.Service == (netip.AddrPort{})
			if host {
				about[f.Host]++
			}
			if f.Scan != nil && (!host || f.Scan.Target != f.Host) {
				about[f.Scan.Target]++
			}
		}
		if f.Kind == ISNPredictable.String() && f.Role == "server" && f.ISN != nil && predictable[f.Host] == nil {
			predictable[f.Host] = f
		}
	}
	out := make([]Rollup, 0, len(order))
	for _, ip := range order {
		h := byHost[ip]
		h.ISN = e.isnVerdict(ip, predictable[ip])
		h.IPIDClass = e.ipid.class(ip)
		h.Findings += about[ip]
		out = append(out, *h)
	}
	worstFirst(out)
	return out
}

// isnVerdict says what the ISN detector concluded about ip's ISNs as a
// server: predictable (with severity and subtype; f is the first such
// finding, or nil), not predictable, or too few samples to say; empty when
// it sent no SYN-ACK.
func (e *Engine) isnVerdict(ip netip.Addr, f *Finding) string {
	if f != nil {
		return fmt.Sprintf("predictable: %s, %s, about %.0f bits to guess", f.Severity, f.ISN.Subtype, f.ISN.HEst)
	}
	n := e.isn.Samples(ip, fsm.DirServer)
	switch {
	case n == 0:
		return ""
	case n < minT4Samples:
		return fmt.Sprintf("too few samples (%d distinct 4-tuples, %d needed)", n, minT4Samples)
	}
	return fmt.Sprintf("not predictable (%d distinct 4-tuples)", n)
}

// Samples returns how many distinct-tuple ISN samples the tracker holds for
// host in role.
func (tr *ISNTracker) Samples(host netip.Addr, role Role) int {
	if h := tr.host(host, role); h != nil {
		return int(h.n)
	}
	return 0
}
