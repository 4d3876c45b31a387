package anomaly

import (
	"fmt"
	"math/bits"
	"net/netip"
	"sort"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// Finding is one conclusion of the anomaly engine, aggregated: a rule that
// fired on many connections of one service is one Finding with a Count, not
// one per connection or per packet.
type Finding struct {
	Kind       string // lower_snake_case name (README lists them all)
	Severity   Severity
	Confidence float64 // in [0, 1]
	// Connection is the id of the connection the finding is about, or of
	// the first one when it aggregates several (Count > 1).
	Connection uint64
	// Host and Role are set for per-host findings (ISN predictability);
	// Service (ip:port of the server) where the finding is about one.
	Host    netip.Addr
	Role    string
	Service netip.AddrPort

	FirstFrame, LastFrame uint64
	First, Last           time.Time
	Count                 uint64
	Explanation           string // one sentence a person can act on
	RFC                   string
	// Equivalents in other tools, where one exists.
	Zeek, Suricata, Wireshark string
	// ISN carries the evidence of ISN findings.
	ISN *ISNFinding
	// Scan carries the evidence of port scans (Host is the scanner).
	Scan *ScanFinding
}

// Config holds the engine's thresholds (defaults from anomalies.md).
type Config struct {
	// HalfCloseIdle is T_hc: how long the side that has not closed may stay
	// silent after the peer's FIN was acknowledged before the connection
	// counts as stuck (Linux tcp_fin_timeout, 60 s).
	HalfCloseIdle time.Duration
	// HalfCloseLong raises a stuck half-close to medium (T_hc_long, 300 s).
	HalfCloseLong time.Duration
	// SYNFloodWindow, SYNFloodMin and SYNFloodMaxRatio: a service that sees
	// at least SYNFloodMin connection attempts within one window, of which
	// at most SYNFloodMaxRatio complete the handshake, is flooded
	// (RFC 4987).
	SYNFloodWindow   time.Duration
	SYNFloodMin      int
	SYNFloodMaxRatio float64
	// LeakPatternMin stuck half-closes on one service make a CLOSE-WAIT
	// leak pattern.
	LeakPatternMin int
	// MaxServices bounds the services tracked for rollups and floods.
	MaxServices int
	// FinRetransmits and FinUnackedAfter: a FIN sent again at least this
	// many times and unacknowledged for this long is FIN_UNACKED (3, 5 s).
	FinRetransmits  int
	FinUnackedAfter time.Duration
	// ZeroWindowStall and ZeroWindowLong: a zero window held this long is
	// a stall, medium then high (30 s, 300 s).
	ZeroWindowStall time.Duration
	ZeroWindowLong  time.Duration
	// ProbesUnanswered keep-alives or zero-window probes in a row without
	// a reply mean the peer is gone (3).
	ProbesUnanswered int
	// KeepAliveIdle and KeepAliveIdleLong: no payload either way for this
	// long, with answered keep-alives, is keep-alive-only idle, info then
	// low (600 s, 1 h).
	KeepAliveIdle     time.Duration
	KeepAliveIdleLong time.Duration
	// ScanMinPorts distinct ports of one host probed by one source within
	// ScanWindow, of which at most ScanMaxCompleted (a ratio) carried data,
	// make a port scan (Zeek scan.zeek: 15 ports in 5 minutes).
	ScanMinPorts     int
	ScanWindow       time.Duration
	ScanMaxCompleted float64
	// HalfCloseExhaustMin connections from one source to one service that
	// end half closed are half-close exhaustion (20).
	HalfCloseExhaustMin int
	// RSTStormMin RSTs from one side of one connection, each less than
	// reassembly.RSTStormGap after the one before, are a RST storm
	// (anomalies.md §5 RST_STORM; Zeek's tcp_storm_thresh, 1000).
	RSTStormMin int
	ISN         ISNConfig
}

// DefaultConfig returns the thresholds of anomalies.md.
func DefaultConfig() Config {
	return Config{
		HalfCloseIdle:     60 * time.Second,
		HalfCloseLong:     300 * time.Second,
		SYNFloodWindow:    10 * time.Second,
		SYNFloodMin:       200,
		SYNFloodMaxRatio:  0.2,
		LeakPatternMin:    3,
		MaxServices:       1 << 16,
		FinRetransmits:    3,
		FinUnackedAfter:   5 * time.Second,
		ZeroWindowStall:   30 * time.Second,
		ZeroWindowLong:    300 * time.Second,
		ProbesUnanswered:  3,
		KeepAliveIdle:     600 * time.Second,
		KeepAliveIdleLong: time.Hour,
		ScanMinPorts:      15,
		ScanWindow:        5 * time.Minute,
		ScanMaxCompleted:  0.2,

		HalfCloseExhaustMin: 20,
		RSTStormMin:         1000,
	}
}

// Rollup summarizes one service (server ip:port).
type Rollup struct {
	Service        netip.AddrPort
	Connections    uint64
	Attempts       uint64 // connections that began with a captured SYN
	Established    uint64 // ... of which reached ESTABLISHED on both sides
	Resets         uint64 // connections ended by a RST
	Refused        uint64 // attempts refused with RST or rejected by an ICMP error
	Unanswered     uint64
	HalfCloseLeaks uint64 // stuck half-closes where this service did not close
	Findings       uint64 // findings above info naming this service
	// DataPackets and Retransmitted count the data segments of both
	// directions and those that repeated sequence space.
	DataPackets, Retransmitted uint64
	// RTT merges the round-trip samples of both directions of every
	// connection (reassembly.RTT: Karn's rule, a log histogram).
	RTT reassembly.RTT

	// Host is set (and Service is not) on a per-host rollup: every service
	// of one server address summed. Services counts them; ISN is the
	// verdict on the host's SYN-ACK ISNs (hostroll.go); IPIDClass is nmap's
	// IP-ID sequence class of the IPv4 IDs of its SYN-ACKs and RSTs (ipid.go;
	// empty with fewer than 3).
	Host      netip.Addr
	Services  int
	ISN       string
	IPIDClass string
}

// RetransmissionRate is Retransmitted/DataPackets.
func (r *Rollup) RetransmissionRate() float64 {
	if r.DataPackets == 0 {
		return 0
	}
	return float64(r.Retransmitted) / float64(r.DataPackets)
}

// HandshakeSuccess is Established/Attempts, or 1 when there were no
// attempts.
func (r *Rollup) HandshakeSuccess() float64 {
	if r.Attempts == 0 {
		return 1
	}
	return float64(r.Established) / float64(r.Attempts)
}

// ResetRate is Resets/Connections.
func (r *Rollup) ResetRate() float64 {
	if r.Connections == 0 {
		return 0
	}
	return float64(r.Resets) / float64(r.Connections)
}

type aggKey struct {
	kind    string
	service netip.AddrPort
}

type window struct {
	start              time.Time
	attempts, complete int
	early              int // attempts before start + half a window: see flood
	first, last        uint64
	firstT, lastT      time.Time
	sources            map[[16]byte]int // at most maxWindowSources; by netip.Addr.As16, pointer-free and hashed faster (an IPv4 address and its IPv4-mapped form count as one source)
	moreSources        bool             // a source past maxWindowSources was left out
}

// maxWindowSources bounds the distinct sources a flood window counts, so
// that a flood from random addresses costs bounded memory.
const maxWindowSources = 1 << 16

// reuseSources is the most sources a closing window's map may hold to be
// reused for the next window.
const reuseSources = 64

type service struct {
	Rollup
	win     [2]window // tumbling windows offset by half a window, so a burst straddling one boundary falls whole into the other
	counted time.Time // flood attempts before this were counted already: see flood
	flooded bool
	leaks   at     // first and last stuck half-close where the service did not close
	leakID  uint64 // the connection of the first
}

// Engine turns finished connections into findings and rollups. Feed it
// every flow the table hands over, then call Finish once. Not safe for
// concurrent use.
type Engine struct {
	cfg      Config
	isn      *ISNTracker
	agg      map[aggKey]*Finding
	order    []aggKey
	services map[netip.AddrPort]*service
	base     time.Time
	scans    scans
	halfOpen halfPairs
	ipid     ipids
}

// NewEngine returns an engine with cfg.
func NewEngine(cfg Config) *Engine {
	return &Engine{cfg: cfg, isn: NewISNTracker(cfg.ISN), agg: make(map[aggKey]*Finding), services: make(map[netip.AddrPort]*service)}
}

// add records one occurrence of a per-connection rule, aggregated by kind
// and service, pointing at the whole connection.
func (e *Engine) add(f *reassembly.Flow, kind string, sev Severity, why, rfc string, eq [3]string) {
	e.addAt(f, rule{kind, sev, why, rfc, eq}, flowAt(f))
}

// addAt records one occurrence of r on f, aggregated by kind and service,
// pointing at the frames of w.
func (e *Engine) addAt(f *reassembly.Flow, r rule, w at) {
	k := aggKey{r.kind, f.Server}
	a := e.agg[k]
	if a == nil {
		a = &Finding{Kind: r.kind, Severity: r.sev, Confidence: 1, Connection: f.ID, Service: f.Server,
			FirstFrame: w.first, First: w.firstT, RFC: r.rfc, Zeek: r.eq[0], Suricata: r.eq[1], Wireshark: r.eq[2], Explanation: r.why}
		e.agg[k] = a
		e.order = append(e.order, k)
	}
	a.Count++
	if r.sev > a.Severity {
		a.Severity = r.sev
		a.Explanation = r.why // the worst occurrence explains the finding
	}
	if w.last > a.LastFrame {
		a.LastFrame, a.Last = w.last, w.lastT
	}
	if w.first < a.FirstFrame {
		a.FirstFrame, a.First, a.Connection = w.first, w.firstT, f.ID
	}
}

func (e *Engine) service(ap netip.AddrPort) *service {
	s := e.services[ap]
	if s == nil {
		if len(e.services) >= e.cfg.MaxServices {
			return nil // left out: the cap bounds memory (README, Bounded memory)
		}
		s = &service{Rollup: Rollup{Service: ap}}
		e.services[ap] = s
	}
	return s
}

// Flow takes one finished connection; now is the capture time the analysis
// has reached (its end, for flows finished at end of capture).
func (e *Engine) Flow(f *reassembly.Flow, now time.Time) {
	c := &f.Conn
	cl := &c.Ep[fsm.DirClient]
	if e.base.IsZero() || f.First.Before(e.base) {
		e.base = f.First
	}
	e.isnSamples(f)
	e.ipid.flow(f)
	s := e.service(f.Server)
	closeKind := c.Close()
	rejected := closeKind == fsm.CloseUnanswered && icmpRejected(f)
	established := reached(c, fsm.DirClient, fsm.StateEstablished) && reached(c, fsm.DirServer, fsm.StateEstablished)
	if s != nil {
		s.Connections++
		for d := range f.Half {
			st := &f.Half[d].Stats
			s.DataPackets += st.DataPackets
			s.Retransmitted += st.RetransDataPackets
			s.RTT.Merge(&st.RTT)
		}
		if cl.SynSent && !c.Midstream {
			s.Attempts++
			if established {
				s.Established++
			}
			e.window(s, f, established)
		}
		switch closeKind {
		case fsm.CloseReset:
			s.Resets++
		case fsm.CloseRefused:
			s.Refused++
		case fsm.CloseUnanswered:
			if rejected {
				s.Refused++
			} else {
				s.Unanswered++
			}
		}
	}

	switch closeKind {
	case fsm.CloseUnanswered:
		if rejected {
			e.connRejectedICMP(f)
			break
		}
		sev := SeverityInfo
		if cl.SynCount >= 3 {
			sev = SeverityLow // the SYN was retransmitted at least twice (anomalies.md §5)
		}
		e.add(f, "syn_unanswered", sev, "connection attempts got no SYN-ACK, RST or rejecting ICMP error (host or port unreachable, prohibited): the service is down, filtered, or the path drops them", "RFC 9293 §3.5", [3]string{"S0", "", ""})
	case fsm.CloseRefused:
		e.add(f, "conn_refused", SeverityInfo, "connection attempts were refused with RST: nothing listens on this port", "RFC 9293 §3.10.7.1", [3]string{"REJ", "", ""})
	case fsm.CloseReset:
		if c.RstBy == fsm.DirClient && c.RstState == fsm.StateSynSent && f.Half[fsm.DirServer].SentSYNACK() {
			e.add(f, "handshake_aborted", SeverityInfo, "the client answered the server's SYN-ACK with RST instead of completing the handshake: typical of a raw-socket (SYN) scanner, or a SYN-ACK that arrived after the client gave up", "RFC 9293 §3.5, §3.10.7.3", [3]string{"RSTOS0", "", ""})
		}
	case fsm.CloseHalfOpen:
		e.add(f, "half_open", SeverityInfo, "the server answered with SYN-ACK but the client never completed the handshake", "RFC 9293 §3.5; RFC 4987", [3]string{"", "", ""})
	}
	if c.SimOpen && !splitOpen(f) {
		e.add(f, "simultaneous_open", SeverityInfo, "both sides sent a SYN to each other (legal, rare; typical of NAT traversal)", "RFC 9293 §3.5 Figure 7", [3]string{"simultaneous_open", "", ""})
	}
	if c.SimClose {
		e.add(f, "simultaneous_close", SeverityInfo, "both sides closed at the same time and passed through CLOSING", "RFC 9293 §3.6 Figure 13", [3]string{"", "", ""})
	}
	e.halfClose(f, now)
	if closeKind == fsm.CloseHalfClosed {
		e.halfClosed(f)
	}
	e.lifecycle(f, now)
	e.scans.flow(e, f, now)
	for v, n := range c.Violations() {
		if n == 0 {
			continue
		}
		if r, ok := violationRules[fsm.Violation(v)]; ok {
			e.add(f, r.kind, r.sev, r.why, r.rfc, r.eq)
		}
	}
}

// reached reports whether endpoint d ever entered state st.
func reached(c *fsm.Conn, d fsm.Dir, st fsm.State) bool { return !enteredAt(c, d, st).IsZero() }

// halfClose applies anomalies.md §4: after A's FIN is acknowledged, the
// side B that has not closed must close within T_hc of going silent, or it
// is stuck (a CLOSE-WAIT leak when B is the server).
func (e *Engine) halfClose(f *reassembly.Flow, now time.Time) {
	c := &f.Conn
	if !c.FinSeen || c.RstSeen {
		e.finWait2Timeout(f)
		return
	}
	a := c.FirstFin
	b := a.Other()
	eb := &c.Ep[b]
	if eb.FinSent {
		// HALF_CLOSE_SLOW: B answered the half-close, but only after a
		// silence of at least T_hc, then closed. Legitimate (RFC 9293
		// §3.6.1); the offline reader sees the reply that a live FIN-WAIT-2
		// timer might not have waited for.
		if c.HalfCloseData && c.HalfCloseGap >= e.cfg.HalfCloseIdle {
			e.add(f, "half_close_slow", SeverityInfo, fmt.Sprintf("the %s answered the peer's half-close only after %s of silence, then closed: legitimate, but a peer whose FIN-WAIT-2 timer (Linux tcp_fin_timeout, 60 s) ran out meanwhile would answer the reply with RST", b, c.HalfCloseGap.Round(time.Millisecond)), "RFC 9293 §3.6.1", [3]string{"", "", ""})
		}
		// B closed: was it late? CLOSE_WAIT_DELAYED when B's FIN came
		// T_hc after it went silent.
		idle := c.CloseWaitIdle(b)
		if !idle.IsZero() && eb.FinTime.Sub(idle) >= e.cfg.HalfCloseIdle {
			sev := SeverityLow
			if eb.FinTime.Sub(idle) >= e.cfg.HalfCloseLong {
				sev = SeverityMedium
			}
			e.add(f, "close_wait_delayed", sev, fmt.Sprintf("the %s kept a half-closed connection open %s after going silent before it closed", b, eb.FinTime.Sub(idle).Round(time.Second)), "RFC 9293 §3.6", [3]string{"", "", ""})
		}
		return
	}
	idle := c.CloseWaitIdle(b)
	if idle.IsZero() {
		return // A's FIN was never acknowledged: FIN-WAIT-1, not a half-close
	}
	if now.Sub(idle) < e.cfg.HalfCloseIdle {
		if now.Sub(idle) > 0 {
			e.add(f, "half_close_pending", SeverityInfo, "the capture ended while a half-closed connection was still within its grace period", "RFC 9293 §3.6.1", [3]string{"", "", ""})
		}
		return
	}
	sev := SeverityLow
	alive := ""
	if keepAlives(f, b) > 0 {
		// Liveness proven: its stack still probes or answers probes, so
		// the socket is held open, not abandoned by a dead host.
		sev, alive = SeverityMedium, " while its stack kept the connection alive with keep-alives"
	}
	if now.Sub(idle) >= e.cfg.HalfCloseLong {
		sev = SeverityMedium
	}
	e.add(f, "half_close_stuck", sev, fmt.Sprintf("the %s received the peer's FIN and has neither sent data nor closed for %s%s: its application never called close() (a CLOSE-WAIT leak)", b, now.Sub(idle).Round(time.Second), alive), "RFC 9293 §3.6; Linux tcp_fin_timeout", [3]string{"S2/S3", "", "tcp.connection.fin_passive"})
	if b == fsm.DirServer {
		e.leak(f)
	}
}

// keepAlives counts the keep-alives d sent and answered.
func keepAlives(f *reassembly.Flow, d fsm.Dir) uint32 {
	v := &f.Half[d].Stats.Verdicts
	return v[bits.TrailingZeros16(uint16(reassembly.VerdictKeepAlive))] + v[bits.TrailingZeros16(uint16(reassembly.VerdictKeepAliveAck))]
}

// finWait2Timeout recognises FIN_WAIT2_TIMEOUT_RST: the first closer's
// orphaned socket expired (RFC 9293 §3.10.7.1 reply from a closed port).
func (e *Engine) finWait2Timeout(f *reassembly.Flow) {
	c := &f.Conn
	if !c.RstSeen || !c.FinSeen || c.RstBy != c.FirstFin || c.RstState != fsm.StateFinWait2 {
		return
	}
	b := c.FirstFin.Other()
	if !c.Ep[b].FinSent {
		if !c.Ep[b].LastData().After(c.Ep[c.FirstFin].FinTime) {
			return
		}
		// Data, not a FIN, drew the RST: the first closer's application
		// had closed the socket fully, so the peer's half-close reply was
		// refused (RFC 9293 §3.10.7.1 reply from a closed socket).
		e.add(f, "rst_after_close", SeverityLow, fmt.Sprintf("the %s sent data after the peer's FIN and was answered with RST: the peer had closed its socket fully, not half-closed (shutdown(SHUT_WR)), so the reply was lost", b), "RFC 9293 §3.6.1, §3.10.7.1", [3]string{"", "", ""})
		return
	}
	e.add(f, "fin_wait2_timeout_rst", SeverityMedium, fmt.Sprintf("the %s's late FIN or data was answered by RST: the peer's FIN-WAIT-2 had timed out while the %s held CLOSE-WAIT", b, b), "RFC 9293 §3.10.7.1; Linux tcp_fin_timeout", [3]string{"", "", ""})
	if b == fsm.DirServer {
		e.leak(f)
	}
}

func (e *Engine) window(s *service, f *reassembly.Flow, complete bool) {
	for _, i := range windowOrder(s) {
		w := &s.win[i]
		off := time.Duration(i) * e.cfg.SYNFloodWindow / 2
		start := e.base.Add(off + f.First.Sub(e.base.Add(off)).Truncate(e.cfg.SYNFloodWindow))
		if !w.start.Equal(start) {
			e.flood(s, w)
			// A small sources map is cleared for the next window rather
			// than dropped: a busy service opens a window every few
			// seconds. A large one is dropped: cleared, a map keeps its
			// size, so each service's pair of maps held as many entries
			// as its busiest window so far, which grows with a capture's
			// length (issue 7: 2.6 MB at 2 M packets, 5.1 MB at 20 M).
			src := w.sources
			if len(src) > reuseSources {
				src = nil
			}
			clear(src)
			*w = window{start: start, sources: src}
		}
		if w.attempts == 0 || f.FirstFrame < w.first {
			w.first, w.firstT = f.FirstFrame, f.First
		}
		if f.FirstFrame > w.last {
			w.last, w.lastT = f.FirstFrame, f.First
		}
		w.attempts++
		if f.First.Before(w.start.Add(e.cfg.SYNFloodWindow / 2)) {
			w.early++
		}
		if complete {
			w.complete++
		}
		if w.sources == nil {
			w.sources = make(map[[16]byte]int)
		}
		// One map operation a window below the cap (issue 7: a lookup
		// and an assignment for each were half the engine's time in
		// this function).
		src := f.Client.Addr().As16()
		if len(w.sources) < maxWindowSources {
			w.sources[src]++
		} else if _, ok := w.sources[src]; ok {
			w.sources[src]++
		} else {
			w.moreSources = true
		}
	}
}

// windowOrder gives a service's windows earliest start first, the order in
// which they must close for flood to count each attempt once.
func windowOrder(s *service) [2]int {
	if s.win[1].start.Before(s.win[0].start) {
		return [2]int{1, 0}
	}
	return [2]int{0, 1}
}

// flood closes a window: a SYN flood if enough attempts and few completed.
func (e *Engine) flood(s *service, w *window) {
	if w.attempts < e.cfg.SYNFloodMin || float64(w.complete) > e.cfg.SYNFloodMaxRatio*float64(w.attempts) {
		return
	}
	once := 0
	for _, n := range w.sources {
		if n == 1 {
			once++
		}
	}
	spoofed := len(w.sources) > 0 && float64(once) >= 0.8*float64(len(w.sources))
	k := aggKey{"syn_flood", s.Service}
	a := e.agg[k]
	if a == nil {
		from := ""
		if w.moreSources {
			from = "at least " // the rest were not counted: maxWindowSources
		}
		why := fmt.Sprintf("%d connection attempts within %s from %s%d sources, %d completed", w.attempts, e.cfg.SYNFloodWindow, from, len(w.sources), w.complete)
		if spoofed {
			why += "; most sources appear once (spoofed addresses): enable SYN cookies"
		}
		a = &Finding{Kind: "syn_flood", Severity: SeverityHigh, Confidence: 0.9, Service: s.Service, FirstFrame: w.first, First: w.firstT, RFC: "RFC 4987", Suricata: "3whs_syn_flood", Explanation: why}
		e.agg[k] = a
		e.order = append(e.order, k)
	}
	// The two windows overlap by half, so an attempt falls in two of them:
	// count each half-window once. Windows close in order of start (see
	// windowOrder), so a half starting before s.counted was counted by the
	// window closed before this one.
	half := e.cfg.SYNFloodWindow / 2
	n := 0
	if !w.start.Before(s.counted) {
		n += w.early
	}
	if !w.start.Add(half).Before(s.counted) {
		n += w.attempts - w.early
	}
	if end := w.start.Add(e.cfg.SYNFloodWindow); end.After(s.counted) {
		s.counted = end
	}
	a.Count += uint64(n)
	if w.last > a.LastFrame {
		a.LastFrame, a.Last = w.last, w.lastT
	}
}

// isnSamples feeds the ISN tracker with the SYN and SYN-ACK of a flow.
func (e *Engine) isnSamples(f *reassembly.Flow) {
	c := &f.Conn
	for d := fsm.DirClient; d <= fsm.DirServer; d++ {
		ep := &c.Ep[d]
		if !ep.SynSent {
			continue
		}
		local, remote := f.Client, f.Server
		role := fsm.DirClient
		if d == fsm.DirServer {
			local, remote = f.Server, f.Client
			if !c.SimOpen {
				role = fsm.DirServer
			}
		}
		s := ISNSample{Host: local.Addr(), Role: role, Tuple: Tuple{Local: local, Remote: remote}, ISN: uint32(ep.ISS), Time: f.First,
			PrevSndNxt: uint32(f.PrevSndNxt[d]), HasPrevSndNxt: f.HasPrevSndNxt[d]}
		if peer := &c.Ep[d.Other()]; role == fsm.DirServer && peer.SynSent {
			s.PeerISN, s.HasPeerISN = uint32(peer.ISS), true
		}
		e.isn.AddSample(s)
	}
}

// Finish closes the open windows and returns every finding, worst first
// (then by first frame), and the rollups: the services, worst first, then
// the hosts, worst first.
func (e *Engine) Finish() ([]Finding, []Rollup) {
	for _, s := range e.services {
		for _, i := range windowOrder(s) {
			e.flood(s, &s.win[i])
			s.win[i] = window{}
		}
	}
	out := make([]Finding, 0, len(e.order))
	for _, k := range e.order {
		out = append(out, *e.agg[k])
	}
	out = append(out, e.leakPatterns()...)
	out = append(out, e.exhaustion()...)
	out = append(out, e.scans.finish(e)...)
	out = append(out, e.ipid.findings()...)
	for _, f := range e.isn.Findings() {
		f := f
		role := "client"
		if f.Role == fsm.DirServer {
			role = "server"
		}
		out = append(out, Finding{Kind: f.Kind.String(), Severity: f.Severity, Confidence: f.Confidence, Host: f.Host, Role: role,
			First: f.FirstTime, Last: f.LastTime, Count: uint64(f.N), Explanation: f.Explanation, RFC: f.RFC, ISN: &f})
	}
	for i := range out {
		if s := e.services[out[i].Service]; s != nil && out[i].Severity > SeverityInfo {
			s.Findings++
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Severity != out[j].Severity {
			return out[i].Severity > out[j].Severity
		}
		return out[i].FirstFrame < out[j].FirstFrame
	})
	roll := make([]Rollup, 0, len(e.services))
	for _, s := range e.services {
		roll = append(roll, s.Rollup)
	}
	worstFirst(roll)
	return out, append(roll, e.hostRollups(roll, out)...)
}

// worstFirst sorts rollups: most findings above info, then lowest handshake
// success, then most connections.
func worstFirst(roll []Rollup) {
	sort.Slice(roll, func(i, j int) bool {
		a, b := &roll[i], &roll[j]
		if a.Findings != b.Findings {
			return a.Findings > b.Findings
		}
		if x, y := a.HandshakeSuccess(), b.HandshakeSuccess(); x != y {
			return x < y
		}
		if a.Connections != b.Connections {
			return a.Connections > b.Connections
		}
		if c := a.Service.Compare(b.Service); c != 0 {
			return c < 0
		}
		return a.Host.Less(b.Host)
	})
}

type rule struct {
	kind string
	sev  Severity
	why  string
	rfc  string
	eq   [3]string // Zeek weird, Suricata event, Wireshark flag
}

// violationRules maps the state machine's per-segment violations to
// findings (anomalies.md §5).
var violationRules = map[fsm.Violation]rule{
	fsm.ViolationSYNFIN:                {"syn_fin", SeverityHigh, "a segment carried both SYN and FIN: a scanner or evasion probe", "RFC 9293 §3.1", [3]string{"", "fin_syn", ""}},
	fsm.ViolationSYNRST:                {"syn_rst", SeverityHigh, "a segment carried both SYN and RST: a crafted probe", "RFC 9293 §3.1", [3]string{"TCP_christmas", "", ""}},
	fsm.ViolationNullFlags:             {"null_flags", SeverityHigh, "a segment carried no flag at all (nmap -sN NULL scan)", "RFC 9293 §3.1", [3]string{"", "", ""}},
	fsm.ViolationXmas:                  {"xmas_flags", SeverityHigh, "a segment carried FIN, PSH and URG without ACK (nmap -sX Xmas scan)", "RFC 9293 §3.1", [3]string{"", "", ""}},
	fsm.ViolationFINNoACK:              {"fin_without_ack", SeverityMedium, "a FIN without ACK: no connected stack sends it (nmap -sF FIN scan)", "RFC 9293 §3.1", [3]string{"", "", ""}},
	fsm.ViolationSYNSeqChanged:         {"syn_seq_jump", SeverityLow, "a SYN was retransmitted with a different initial sequence number", "RFC 9293 §3.4", [3]string{"SYN_seq_jump", "3whs_syn_resend_diff_seq_on_syn_recv", ""}},
	fsm.ViolationSYNInWindow:           {"syn_on_established", SeverityMedium, "a SYN arrived on an established connection: a reconnect with a reused port or an injection attempt (it draws a challenge ACK)", "RFC 5961 §4; RFC 9293 §3.10.7.4", [3]string{"SYN_inside_connection", "est_syn_resend_diff_seq", ""}},
	fsm.ViolationSYNACKWrongAck:        {"synack_wrong_ack", SeverityMedium, "a SYN-ACK acknowledged something other than the SYN", "RFC 9293 §3.10.7.3", [3]string{"bad_SYN_ack", "3whs_synack_with_wrong_ack", ""}},
	fsm.ViolationRSTInvalidToSYN:       {"invalid_rst_to_syn", SeverityMedium, "a RST answering a SYN did not acknowledge it; the opener must ignore it", "RFC 9293 §3.10.7.3", [3]string{"", "", ""}},
	fsm.ViolationRSTInWindow:           {"rst_blind_in_window", SeverityMedium, "a RST fell inside the receive window but not at the expected sequence number: a blind reset attempt (it draws a challenge ACK)", "RFC 5961 §3.2", [3]string{"", "", ""}},
	fsm.ViolationRSTOutOfWindow:        {"rst_out_of_window", SeverityLow, "a RST outside the receive window was ignored by its receiver", "RFC 5961 §3.2", [3]string{"", "", ""}},
	fsm.ViolationRSTWithData:           {"rst_with_data", SeverityInfo, "a RST carried payload (allowed; often a diagnostic text)", "RFC 9293 §3.5.3 SHLD-2", [3]string{"RST_with_data", "rst_with_data", ""}},
	fsm.ViolationDataAfterFIN:          {"data_after_fin", SeverityHigh, "a side sent data beyond its own FIN", "RFC 9293 §3.10.4", [3]string{"", "", ""}},
	fsm.ViolationDataAfterRST:          {"data_after_reset", SeverityMedium, "a side kept sending after its own RST: the RST may have been forged", "RFC 9293 §3.10.5", [3]string{"data_after_reset", "suspected_rst_inject", ""}},
	fsm.ViolationFINSeqChanged:         {"fin_seq_changed", SeverityMedium, "a FIN was repeated at a different sequence number", "RFC 9293 §3.10.4", [3]string{"FIN_advanced_last_seq", "", ""}},
	fsm.ViolationTimeWaitAssassination: {"time_wait_assassination", SeverityLow, "a RST ended TIME-WAIT early, so old duplicates may reach a new incarnation", "RFC 1337", [3]string{"", "", ""}},
	fsm.ViolationRSTFIN:                {"rst_fin", SeverityMedium, "a segment carried both RST and FIN: no stack sends it; a receiver acts on the RST and drops the connection, so it is a crafted probe or a reset attempt", "RFC 9293 §3.1, §3.10.7.4", [3]string{"", "", ""}},
	fsm.ViolationSYNURG:                {"syn_urg", SeverityLow, "a SYN carried the URG flag, which means nothing before any data: a fingerprinting probe or a crafting tool (the receiver still answers the SYN)", "RFC 9293 §3.1, §3.8.5", [3]string{"baroque_SYN", "", ""}},
	fsm.ViolationTimeWaitLate:          {"time_wait_late_segment", SeverityInfo, "data or a FIN reached a side in TIME-WAIT: its final ACK was lost and the peer retransmitted; TIME-WAIT re-acknowledged it, as it exists to do", "RFC 9293 §3.10.7.4, §3.6", [3]string{"", "", "tcp.analysis.retransmission"}},
	fsm.ViolationSYNResend:             {"syn_resend", SeverityInfo, "a side sent its own SYN again (same ISN) on an established connection: a late retransmission or a replayed SYN; the receiver answers with a challenge ACK", "RFC 5961 §4.2; RFC 9293 §3.10.7.4", [3]string{"", "", "tcp.analysis.retransmission"}},
}
