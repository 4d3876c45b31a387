package anomaly

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// IP-ID sequence per host (anomalies.md §1, "IP-ID classes"): nmap's TI and
// CI tests classify the IPv4 identifications of a host's SYN-ACKs and RSTs;
// tcptrace does the same passively over those it saw, and calls a global
// counter that steps by a few per packet an idle-scan zombie candidate.

const (
	// maxIPIDSamples is how many IP IDs are kept per host: its earliest
	// in capture order, as nmap classifies a handful of replies.
	maxIPIDSamples = 32
	// maxIPIDHosts bounds the hosts followed (as the other per-host and
	// per-service tables of the engine), so a capture of a sweep across
	// many addresses costs bounded memory.
	maxIPIDHosts = 1 << 16
	// minIPIDSamples is the fewest IDs classified: nmap's TI test needs 3
	// SYN-ACKs (osscan2.cc).
	minIPIDSamples = 3
)

// ipidHost is one host's IP-ID samples: at most maxIPIDSamples, the
// earliest by frame (flows end out of capture order, so a later flow may
// bring an earlier sample). peer is the first receiver; peers says another
// one received some.
type ipidHost struct {
	s     []reassembly.IPID
	peer  netip.Addr
	peers bool
}

// ipids collects the IP-ID samples of every host.
type ipids struct {
	hosts map[netip.Addr]*ipidHost
	buf   []reassembly.IPID
}

// flow takes the samples of both senders of f: the IPv4 identification of
// its first SYN-ACK, or of its first RST when it sent none
// (reassembly.Flow.IPIDs).
func (x *ipids) flow(f *reassembly.Flow) {
	if f.IPv6 {
		return
	}
	for d := fsm.DirClient; d <= fsm.DirServer; d++ {
		// Only replies count, as in nmap's TI and CI tests: SYN-ACKs,
		// and RSTs from a side that did not open the connection (a closed
		// port, or a zombie answering an unsolicited SYN-ACK). An opener's
		// RSTs abort its own connections; following them would follow
		// every client of a busy capture up to maxIPIDHosts, so memory
		// would grow with the capture's length (issue 7).
		if h := &f.Half[d]; h.Stats.SYN > 0 && !h.SentSYNACK() {
			continue
		}
		x.buf = f.IPIDs(d, x.buf[:0])
		if len(x.buf) == 0 {
			continue
		}
		ip, peer := f.Client.Addr(), f.Server.Addr()
		if d == fsm.DirServer {
			ip, peer = peer, ip
		}
		h := x.hosts[ip]
		if h == nil {
			if len(x.hosts) >= maxIPIDHosts {
				continue // left out: the cap bounds memory
			}
			if x.hosts == nil {
				x.hosts = make(map[netip.Addr]*ipidHost)
			}
			h = &ipidHost{peer: peer}
			x.hosts[ip] = h
		}
		if peer != h.peer {
			h.peers = true
		}
		for _, s := range x.buf {
			h.add(s)
		}
	}
}

// add keeps s if it is among the host's maxIPIDSamples earliest.
func (h *ipidHost) add(s reassembly.IPID) {
	if len(h.s) < maxIPIDSamples {
		h.s = append(h.s, s)
		return
	}
	late := 0
	for i := range h.s {
		if h.s[i].Frame > h.s[late].Frame {
			late = i
		}
	}
	if s.Frame < h.s[late].Frame {
		h.s[late] = s
	}
}

// sorted returns the host's samples in capture order.
func (h *ipidHost) sorted() []reassembly.IPID {
	slices.SortFunc(h.s, func(a, b reassembly.IPID) int {
		switch {
		case a.Frame < b.Frame:
			return -1
		case a.Frame > b.Frame:
			return 1
		}
		return 0
	})
	return h.s
}

// ids returns the IDs of s.
func ids(s []reassembly.IPID) []uint16 {
	out := make([]uint16, len(s))
	for i := range s {
		out[i] = s[i].ID
	}
	return out
}

// class returns nmap's IP-ID sequence class of ip's samples (NmapIPIDClass:
// I, BI, RI, RD, Z or the constant in hex), or "" with fewer than
// minIPIDSamples or no class.
func (x *ipids) class(ip netip.Addr) string {
	h := x.hosts[ip]
	if h == nil || len(h.s) < minIPIDSamples {
		return ""
	}
	return NmapIPIDClass(ids(h.sorted()), false)
}

// findings returns an ipid_incremental finding per host whose samples come
// from one global counter stepping by less than 10 a packet
// (IdleScanCandidate), in order of first sample.
func (x *ipids) findings() []Finding {
	var out []Finding
	for ip, h := range x.hosts {
		if len(h.s) < minIPIDSamples {
			continue
		}
		s := h.sorted()
		v := ids(s)
		if !IdleScanCandidate(v) {
			continue
		}
		class := NmapIPIDClass(v, false)
		steps := make([]float64, len(v)-1)
		for i := 1; i < len(v); i++ {
			d := uint16(v[i] - v[i-1])
			if class == "BI" {
				d /= 256
			}
			steps[i-1] = float64(d)
		}
		peers, conf := "to more than one peer, so the counter is global", 0.9
		if !h.peers {
			// A per-destination counter (Linux's hashed ip_idents for
			// packets that may fragment) looks the same towards one peer.
			peers, conf = fmt.Sprintf("all to %s, so a per-destination counter would look the same", h.peer), 0.6
		}
		first, last := s[0], s[len(s)-1]
		out = append(out, Finding{Kind: "ipid_incremental", Severity: SeverityInfo, Confidence: conf, Host: ip,
			FirstFrame: first.Frame, LastFrame: last.Frame, First: first.Time, Last: last.Time, Count: uint64(len(s)),
			Explanation: fmt.Sprintf("global incremental IP-ID: an idle-scan (nmap -sI) zombie candidate: the IPv4 IDs of its first %d SYN-ACKs and RSTs (%d to %d) rose by a median of %g a packet (nmap IP-ID class %s), %s; anyone who can reach it can count the packets it sends and scan through it",
				len(s), first.ID, last.ID, median(steps), class, peers),
			RFC: "RFC 6864; RFC 7739"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstFrame < out[j].FirstFrame })
	return out
}
