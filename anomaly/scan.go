package anomaly

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// Probe kinds of a port scan: how one connection attempt looked, named as
// nmap's scan types.
const (
	probeSYN     = iota // a SYN answered by SYN-ACK that the opener never completed (nmap -sS on an open port)
	probeClosed         // a SYN refused or unanswered (any SYN-based scan of a closed or filtered port)
	probeConnect        // a completed handshake that carried no data (nmap -sT)
	probeFIN            // FIN without ACK (nmap -sF)
	probeNull           // no flags (nmap -sN)
	probeXmas           // FIN+PSH+URG (nmap -sX)
	probeACK            // a bare ACK opening nothing (nmap -sA, -sW)
	probeKinds
)

var probeNames = [probeKinds]string{"syn", "syn_closed", "connect", "fin", "null", "xmas", "ack"}

// maxScanPairs bounds the (source, target) pairs followed, and maxScanPorts
// the ports remembered per pair: enough to decide, not a port list.
const (
	maxScanPairs = 1 << 16
	maxScanPorts = 4096
)

type scanKey struct{ src, dst netip.Addr }

// scanPair is one source probing one target host within one window.
type scanPair struct {
	start                 time.Time
	ports                 portSet
	open                  portSet // ports that answered with SYN-ACK
	probes                [probeKinds]uint64
	attempts, withData    uint64
	conn                  uint64
	firstFrame, lastFrame uint64
	first, last           time.Time
}

// portSet is a set of ports: the first few inline, a map past them. Most
// pairs followed are one refused or reset connection between two hosts
// that never probe anything else, and up to maxScanPairs of them are held:
// two maps each made the pairs the largest thing the engine kept on a
// long capture (issue 7: 34 MB at 20 M packets).
type portSet struct {
	n    int
	few  [4]uint16
	many map[uint16]struct{}
}

func (s *portSet) len() int {
	if s.many != nil {
		return len(s.many)
	}
	return s.n
}

func (s *portSet) add(p uint16) {
	if s.many != nil {
		s.many[p] = struct{}{}
		return
	}
	for _, q := range s.few[:s.n] {
		if q == p {
			return
		}
	}
	if s.n < len(s.few) {
		s.few[s.n] = p
		s.n++
		return
	}
	s.many = make(map[uint16]struct{}, 2*len(s.few))
	for _, q := range s.few {
		s.many[q] = struct{}{}
	}
	s.many[p] = struct{}{}
}

// scanOne is a pair of one connection so far, kept in 48 bytes: most pairs
// followed (one refused or reset connection between two hosts, among the
// normal traffic of a busy capture) never see a second one, and up to
// maxScanPairs of them are held (issue 7: the pairs were the engine state
// that grew most with a capture's length). A second connection, or judging
// the pair, makes it a scanPair with the same content.
type scanOne struct {
	start, last           int64 // the connection's first and last packet, Unix ns
	firstFrame, lastFrame uint64
	conn                  uint64
	port                  uint16
	kind                  int8 // probe kind, or -1
	open, data            bool
}

// pair returns the scanPair holding o's connection.
func (o *scanOne) pair() *scanPair {
	first := time.Unix(0, o.start).UTC()
	p := &scanPair{start: first, first: first, firstFrame: o.firstFrame, conn: o.conn,
		lastFrame: o.lastFrame, last: time.Unix(0, o.last).UTC(), attempts: 1}
	p.ports.add(o.port)
	if o.open {
		p.open.add(o.port)
	}
	if o.kind >= 0 {
		p.probes[o.kind]++
	}
	if o.data {
		p.withData++
	}
	return p
}

// take removes k's pair from s and returns it (nil if none).
func (s *scans) take(k scanKey) *scanPair {
	if p := s.pairs[k]; p != nil {
		delete(s.pairs, k)
		return p
	}
	if o, ok := s.ones[k]; ok {
		delete(s.ones, k)
		return o.pair()
	}
	return nil
}

// keysBefore returns the keys of the pairs (of either kind) that began at
// or before t, or all of them, in order of first frame: the order in which
// they are judged, so that findings come out the same on every run.
func (s *scans) keysBefore(t time.Time, all bool) []scanKey {
	type kf struct {
		k     scanKey
		frame uint64
	}
	var old []kf
	for k, p := range s.pairs {
		if all || !p.start.After(t) {
			old = append(old, kf{k, p.firstFrame})
		}
	}
	ns := t.UnixNano()
	for k, o := range s.ones {
		if all || o.start <= ns {
			old = append(old, kf{k, o.firstFrame})
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].frame < old[j].frame })
	keys := make([]scanKey, len(old))
	for i := range old {
		keys[i] = old[i].k
	}
	return keys
}

// scans finds port scans (issue 4): one source touching many ports of one
// host within a window, few of the connections carrying data. Zeek's
// scan.zeek (Scan::Port_Scan) uses the same shape: 15 ports in 5 minutes.
type scans struct {
	pairs map[scanKey]*scanPair
	ones  map[scanKey]scanOne // pairs of one connection so far
	found map[scanKey]*Finding
	order []scanKey
	swept time.Time // when expire last looked
}

// probe classifies a finished flow as a scan probe, and reports whether it
// carried data.
func probe(f *reassembly.Flow) (kind int, data bool) {
	c := &f.Conn
	v := c.Violations()
	switch {
	case v[fsm.ViolationNullFlags] > 0:
		return probeNull, false
	case v[fsm.ViolationXmas] > 0:
		return probeXmas, false
	case v[fsm.ViolationFINNoACK] > 0:
		return probeFIN, false
	}
	data = f.PayloadBytes[fsm.DirClient]+f.PayloadBytes[fsm.DirServer] > 0
	cl := &f.Half[fsm.DirClient].Stats
	if c.Midstream {
		if !data && cl.Packets == cl.PureAcks && cl.Packets > 0 && cl.Packets <= 2 {
			return probeACK, false
		}
		return -1, data
	}
	if !c.Ep[fsm.DirClient].SynSent || c.SimOpen {
		return -1, data
	}
	if reached(c, fsm.DirClient, fsm.StateEstablished) && reached(c, fsm.DirServer, fsm.StateEstablished) {
		if data {
			return -1, true
		}
		return probeConnect, false
	}
	if f.Half[fsm.DirServer].SentSYNACK() {
		return probeSYN, data
	}
	return probeClosed, data
}

func (s *scans) flow(e *Engine, f *reassembly.Flow, now time.Time) {
	s.expire(e, now)
	kind, data := probe(f)
	k := scanKey{f.Client.Addr(), f.Server.Addr()}
	p := s.pairs[k]
	if p == nil {
		if o, ok := s.ones[k]; ok {
			// A second connection: the pair takes its full form.
			delete(s.ones, k)
			p = o.pair()
			s.pairs[k] = p
		}
	}
	if kind < 0 && p == nil {
		return // ordinary traffic between hosts not (yet) seen probing
	}
	if p != nil && f.First.Sub(p.start) >= e.cfg.ScanWindow {
		s.judge(e, k, p)
		p = nil
	}
	if p == nil {
		if len(s.pairs)+len(s.ones) >= maxScanPairs {
			return // left out: the cap bounds memory
		}
		if s.pairs == nil {
			s.pairs = make(map[scanKey]*scanPair)
			s.ones = make(map[scanKey]scanOne)
		}
		s.ones[k] = scanOne{start: f.First.UnixNano(), last: f.Last.UnixNano(), firstFrame: f.FirstFrame, lastFrame: f.LastFrame,
			conn: f.ID, port: f.Server.Port(), kind: int8(kind), open: f.Half[fsm.DirServer].SentSYNACK(), data: data}
		return
	}
	port := f.Server.Port()
	if p.ports.len() < maxScanPorts {
		p.ports.add(port)
		if f.Half[fsm.DirServer].SentSYNACK() {
			p.open.add(port)
		}
	}
	p.attempts++
	if kind >= 0 {
		p.probes[kind]++
	}
	if data {
		p.withData++
	}
	if f.FirstFrame < p.firstFrame {
		p.firstFrame, p.first, p.conn = f.FirstFrame, f.First, f.ID
	}
	if f.LastFrame > p.lastFrame {
		p.lastFrame, p.last = f.LastFrame, f.Last
	}
}

// judge closes a pair's window: a port scan if enough ports and few
// connections with data.
func (s *scans) judge(e *Engine, k scanKey, p *scanPair) {
	delete(s.pairs, k)
	if p.ports.len() < e.cfg.ScanMinPorts || float64(p.withData) > e.cfg.ScanMaxCompleted*float64(p.attempts) {
		return
	}
	a := s.found[k]
	if a == nil {
		if s.found == nil {
			s.found = make(map[scanKey]*Finding)
		}
		a = &Finding{Kind: "port_scan", Severity: SeverityMedium, Confidence: 0.9, Host: k.src, Role: "scanner", Connection: p.conn,
			FirstFrame: p.firstFrame, First: p.first, RFC: "RFC 9293 §3.10.7.1", Zeek: "Scan::Port_Scan", Scan: &ScanFinding{Target: k.dst}}
		s.found[k] = a
		s.order = append(s.order, k)
	}
	sc := a.Scan
	sc.Ports += p.ports.len()
	sc.Open += p.open.len()
	sc.Attempts += p.attempts
	sc.WithData += p.withData
	for i, n := range p.probes {
		sc.Probes[i] += n
	}
	a.Count = sc.Attempts
	if p.lastFrame > a.LastFrame {
		a.LastFrame, a.Last = p.lastFrame, p.last
	}
	if sc.Ports >= 5*e.cfg.ScanMinPorts {
		a.Confidence = 0.99
	}
	sc.Types = sc.types()
	a.Explanation = fmt.Sprintf("%s probed %d ports of %s (%s scan; %d answered SYN-ACK, %d of %d attempts carried data): reconnaissance; check what answered",
		k.src, sc.Ports, k.dst, strings.Join(sc.Types, "+"), sc.Open, sc.WithData, sc.Attempts)
}

// expire judges, at most every quarter window of capture time, the pairs
// whose window started two windows before now (the latest packet's time).
// A pair is otherwise judged only when its source probes the same target
// again or at the end, and most pairs (one refused connection between two
// hosts) never recur: held to the end, they made the memory of a long
// capture grow with its length (issue 7). A flow joins a pair only if it
// began inside the pair's window, so after two windows only a connection
// that lasted a whole window could still have joined; it opens a new pair
// instead.
func (s *scans) expire(e *Engine, now time.Time) {
	if now.Sub(s.swept) < e.cfg.ScanWindow/4 {
		return
	}
	s.swept = now
	for _, k := range s.keysBefore(now.Add(-2*e.cfg.ScanWindow), false) {
		s.judge(e, k, s.take(k))
	}
}

// finish judges the pairs still open and returns the scans found, in order
// of discovery.
func (s *scans) finish(e *Engine) []Finding {
	for _, k := range s.keysBefore(time.Time{}, true) {
		s.judge(e, k, s.take(k))
	}
	out := make([]Finding, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, *s.found[k])
	}
	return out
}

// ScanFinding is the evidence of a port scan: the target, how many distinct
// ports were probed and answered (per scan window, summed over the windows
// judged a scan), and the scan types seen (nmap's names:
// syn, connect, fin, null, xmas, ack), most used first.
type ScanFinding struct {
	Target   netip.Addr
	Types    []string
	Ports    int
	Open     int    // ports that answered with SYN-ACK
	Attempts uint64 // connections from the scanner to the target
	WithData uint64 // ... of which carried payload
	Probes   [probeKinds]uint64
}

// types names the scan types the probes show, most used first. A SYN to a
// closed port looks the same in a SYN scan and a connect scan; only the open
// ports tell them apart (a SYN scan never completes the handshake, a connect
// scan does), so refused SYNs count as a SYN scan only when no open port
// says otherwise.
func (sc *ScanFinding) types() []string {
	n := sc.Probes
	switch {
	case n[probeSYN] > 0:
		n[probeSYN] += n[probeClosed]
	case n[probeConnect] > 0:
		n[probeConnect] += n[probeClosed]
	default:
		n[probeSYN] = n[probeClosed]
	}
	n[probeClosed] = 0
	var out []string
	for i, c := range n {
		if c > 0 {
			out = append(out, probeNames[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return n[probeIndex(out[i])] > n[probeIndex(out[j])] })
	return out
}

func probeIndex(name string) int {
	for i, n := range probeNames {
		if n == name {
			return i
		}
	}
	return 0
}
