package anomaly

import (
	"fmt"
	"net/netip"
	"slices"
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
//
// Pairs are held for two windows (10 minutes), so on a busy link the cap,
// not the window, decides how many: the 2M-packet benchmark (57 s, some
// 350 refused or reset pairs a second) opens 19 909, and a capture ten
// times as long would hold over 200 000. At 1<<16 the tables were then the
// engine's state that grew most with a capture's length (1.4 MB at 57 s,
// 7 MB past 3 minutes; issue 7 wants the same peak memory at ten times the
// packets). At 1<<14 they stop at 1.8 MB, 1.4 of it within 57 s. What it
// costs: when the tables are full, a pair of one connection is replaced
// after about cap/rate seconds (evict), 45 s at that rate. A scan's own pair
// keeps its second probe if it comes sooner: nmap's -T1 waits 15 s between
// probes (so up to 1000 new pairs a second of other traffic), -T2 0.4 s;
// -T0's 5 minutes outlasted the old cap as well at that rate.
const (
	maxScanPairs = 1 << 14
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

// scanOne is a pair in compact form: connections to at most len(ports)
// distinct ports, counted in bytes, none of them earlier (by first frame)
// than the one that opened the pair, so that its window starts at first.
// Up to maxScanPairs pairs are held for two windows, and on a long capture
// the cap is reached: most pairs are one refused or reset connection
// between two hosts, or one such probe followed by the same client's
// ordinary connections to the same server, and never anything like a scan
// (issue 7: held as a *scanPair and a map entry each, the pairs were 20 MB
// of the engine's 58 at 20 M packets, the state that grew most with a
// capture's length). It is pointer-free, and the tables hold it packed
// (oneRec), so they are not scanned by the garbage collector. A fifth
// port, the 256th connection, an earlier one or offsets that do not pack
// give the pair its full form (pair), as does judging a pair that may be
// a scan.
type scanOne struct {
	first, last           int64 // the first connection's first and the latest one's last packet, Unix ns
	firstFrame, lastFrame uint64
	conn                  uint64
	ports                 [4]uint16 // ports[:nports] are the distinct ports probed
	nports                uint8
	open                  uint8 // bit i: ports[i] answered with SYN-ACK
	attempts, withData    uint8
	probes                [probeKinds]uint8
}

// oneMax is the most connections a scanOne counts: its counters are bytes,
// and none of them exceeds attempts.
const oneMax = 255

// pair returns the scanPair holding o's connections.
func (o *scanOne) pair() *scanPair {
	first := utc(o.first)
	p := &scanPair{start: first, first: first, firstFrame: o.firstFrame, conn: o.conn,
		lastFrame: o.lastFrame, last: utc(o.last), attempts: uint64(o.attempts), withData: uint64(o.withData)}
	for i, port := range o.ports[:o.nports] {
		p.ports.add(port)
		if o.open>>i&1 != 0 {
			p.open.add(port)
		}
	}
	for i, n := range o.probes {
		p.probes[i] = uint64(n)
	}
	return p
}

// fits reports whether o can take one more connection, f to port, without
// losing count.
func (o *scanOne) fits(f *reassembly.Flow, port uint16) bool {
	if o.attempts >= oneMax || f.FirstFrame < o.firstFrame {
		return false
	}
	return o.nports < uint8(len(o.ports)) || slices.Contains(o.ports[:o.nports], port)
}

// add counts one more connection of the pair, to port; o.fits(f, port)
// must hold (or o be new). It mirrors scans.flow's update of a scanPair.
func (o *scanOne) add(f *reassembly.Flow, port uint16, kind int, data bool) {
	i := slices.Index(o.ports[:o.nports], port)
	if i < 0 {
		i = int(o.nports)
		o.ports[i] = port
		o.nports++
	}
	if f.Half[fsm.DirServer].SentSYNACK() {
		o.open |= 1 << i
	}
	o.attempts++
	if kind >= 0 {
		o.probes[kind]++
	}
	if data {
		o.withData++
	}
	if f.LastFrame > o.lastFrame {
		o.lastFrame, o.last = f.LastFrame, f.Last.UnixNano()
	}
}

// oneKey is a pair of two IPv6 addresses packed for the compact pairs'
// table: pointer-free, like the table's entries, and 32 bytes instead of
// 48. A pair of two IPv4 addresses, most of them, is packed further into a
// uint64 (see onePos). Addresses with a zone (never made by capture) and
// pairs of an IPv4 and an IPv6 address (nor these: both come from one
// packet) are not packed; their pairs take the full form at once.
type oneKey struct{ src, dst [16]byte }

func (k oneKey) unpack() scanKey { return scanKey{netip.AddrFrom16(k.src), netip.AddrFrom16(k.dst)} }

func unpack4(k uint64) scanKey {
	return scanKey{netip.AddrFrom4([4]byte{byte(k >> 56), byte(k >> 48), byte(k >> 40), byte(k >> 32)}),
		netip.AddrFrom4([4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)})}
}

// onePos says where a pair's compact form lives: ones (IPv4 pairs, key
// k4), ones6 (IPv6 pairs, key k6), or nowhere (packed false).
type onePos struct {
	k4     uint64
	k6     oneKey
	v4     bool
	packed bool
}

func posOf(k scanKey) onePos {
	switch {
	case k.src.Is4() && k.dst.Is4():
		s, d := k.src.As4(), k.dst.As4()
		return onePos{k4: uint64(s[0])<<56 | uint64(s[1])<<48 | uint64(s[2])<<40 | uint64(s[3])<<32 |
			uint64(d[0])<<24 | uint64(d[1])<<16 | uint64(d[2])<<8 | uint64(d[3]), v4: true, packed: true}
	case k.src.Is6() && k.dst.Is6() && k.src.Zone() == "" && k.dst.Zone() == "":
		return onePos{k6: oneKey{k.src.As16(), k.dst.As16()}, packed: true}
	}
	return onePos{}
}

func (s *scans) one(at onePos) (scanOne, bool) {
	var r oneRec
	var ok bool
	switch {
	case at.v4:
		r, ok = s.ones.get(at.k4)
	case at.packed:
		r, ok = s.ones6.get(at.k6)
	}
	if !ok {
		return scanOne{}, false
	}
	return r.unpack(), true
}

// setOne holds o as k's pair, at at: packed, or in full form if its
// offsets do not fit oneRec.
func (s *scans) setOne(k scanKey, at onePos, o scanOne) {
	r, ok := pack(&o)
	switch {
	case !ok:
		s.dropOne(at)
		s.pairs[k] = o.pair()
	case at.v4:
		s.ones.put(at.k4, r)
	default:
		s.ones6.put(at.k6, r)
	}
}

func (s *scans) dropOne(at onePos) {
	if at.v4 {
		s.ones.del(at.k4)
	} else {
		s.ones6.del(at.k6)
	}
}

// held is the number of pairs held, of either form.
func (s *scans) held() int { return len(s.pairs) + s.ones.len() + s.ones6.len() }

// maybeScan reports whether a pair with these counts passes judge's test.
func (e *Engine) maybeScan(ports int, withData, attempts uint64) bool {
	return ports >= e.cfg.ScanMinPorts && float64(withData) <= e.cfg.ScanMaxCompleted*float64(attempts)
}

// judgedPair is a pair to judge and its first frame, the order of judging.
type judgedPair struct {
	k     scanKey
	frame uint64
}

// judgeOnes is judgeBefore's pass over one table of compact pairs. It
// walks the entries from the last, so that deleting one (which moves the
// last into its place) skips none.
func judgeOnes[K comparable](s *scans, e *Engine, t *oneTable[K], unpack func(K) scanKey, ns int64, all bool, judged []judgedPair) []judgedPair {
	for i := t.len() - 1; i >= 0; i-- {
		x := &t.ents[i]
		if !all && x.r.first > ns {
			continue
		}
		if e.maybeScan(int(x.r.nports), uint64(x.r.withData), uint64(x.r.attempts)) {
			// Rare: ScanMinPorts is at most 4. The full form holds it.
			o := x.r.unpack()
			sk := unpack(x.k)
			s.pairs[sk] = o.pair()
			judged = append(judged, judgedPair{sk, o.firstFrame})
		}
		if !all {
			t.deleteAt(i)
		}
	}
	return judged
}

// judgeBefore judges the pairs (of either form) that began at or before
// t, or all of them, in order of first frame, so that findings come out
// the same on every run. Only a pair that may be a scan is sorted and
// judged; the others are dropped (when not all) or left for the garbage
// collector (at the end): judging them finds nothing, and the end of a long
// capture holds maxScanPairs of them (issue 7: sorting and expanding them
// all took 20 MB at once, the run's peak).
func (s *scans) judgeBefore(e *Engine, t time.Time, all bool) {
	var judged []judgedPair
	for k, p := range s.pairs {
		if !all && p.start.After(t) {
			continue
		}
		if e.maybeScan(p.ports.len(), p.withData, p.attempts) {
			judged = append(judged, judgedPair{k, p.firstFrame})
		} else if !all {
			delete(s.pairs, k)
		}
	}
	ns := t.UnixNano()
	judged = judgeOnes(s, e, &s.ones, unpack4, ns, all, judged)
	judged = judgeOnes(s, e, &s.ones6, oneKey.unpack, ns, all, judged)
	sort.Slice(judged, func(i, j int) bool { return judged[i].frame < judged[j].frame })
	for _, x := range judged {
		s.judge(e, x.k, s.pairs[x.k])
	}
}

// scans finds port scans (issue 4): one source touching many ports of one
// host within a window, few of the connections carrying data. Zeek's
// scan.zeek (Scan::Port_Scan) uses the same shape: 15 ports in 5 minutes.
type scans struct {
	pairs map[scanKey]*scanPair // pairs in full form
	ones  oneTable[uint64]      // pairs in compact form (most): two IPv4 addresses
	ones6 oneTable[oneKey]      // ... any other two
	found map[scanKey]*Finding
	order []scanKey
	swept time.Time // when expire last looked
	next4 int       // evict's cursors into ones and ones6
	next6 int
}

// evict makes room for a new pair when maxScanPairs are held, and reports
// whether it did: it drops a compact pair of a single connection, the
// first among the next few of a cursor that goes round each table (the
// larger first; roundCursor), so the same capture drops the same pairs on
// every run. Without it, every pair that began while the tables were full
// was left out, a scanner's too, until the sweep judged pairs two windows
// old: a server on the Internet draws one refused or unanswered probe from
// a great many sources, and those fill the tables. A pair of one
// connection is the least likely to be part of a scan, and a scan's own
// pair gains its second connection within moments.
func (s *scans) evict() bool {
	if s.ones6.len() > s.ones.len() {
		return evictOne(&s.ones6, &s.next6) || evictOne(&s.ones, &s.next4)
	}
	return evictOne(&s.ones, &s.next4) || evictOne(&s.ones6, &s.next6)
}

// evictOne deletes the first entry of t that counts a single connection
// among the next few from *next (roundCursor).
func evictOne[K comparable](t *oneTable[K], next *int) bool {
	i := roundCursor(t.len(), next, func(i int) bool { return t.ents[i].r.attempts == 1 })
	if i >= 0 {
		t.deleteAt(i)
	}
	return i >= 0
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
	at := posOf(k)
	p := s.pairs[k]
	var o scanOne
	held := p != nil
	if !held {
		o, held = s.one(at)
	}
	if kind < 0 && !held {
		return // ordinary traffic between hosts not (yet) seen probing
	}
	if held {
		start := o.first
		if p != nil {
			start = p.start.UnixNano()
		}
		if f.First.UnixNano()-start >= int64(e.cfg.ScanWindow) {
			// The flow began after the pair's window: judge the pair,
			// and the flow opens a new one.
			if p == nil {
				s.dropOne(at)
				if e.maybeScan(int(o.nports), uint64(o.withData), uint64(o.attempts)) {
					p = o.pair()
				}
			}
			if p != nil {
				s.judge(e, k, p)
			}
			p, held = nil, false
		}
	}
	port := f.Server.Port()
	if !held {
		if s.held() >= maxScanPairs && !s.evict() {
			return // left out: the cap bounds memory
		}
		if s.pairs == nil {
			s.pairs = make(map[scanKey]*scanPair)
		}
		o = scanOne{first: f.First.UnixNano(), last: f.Last.UnixNano(), firstFrame: f.FirstFrame, lastFrame: f.LastFrame, conn: f.ID}
		o.add(f, port, kind, data)
		if at.packed {
			s.setOne(k, at, o)
		} else {
			s.pairs[k] = o.pair()
		}
		return
	}
	if p == nil {
		if o.fits(f, port) {
			o.add(f, port, kind, data)
			s.setOne(k, at, o)
			return
		}
		// A fifth port, the 256th connection or one that began before
		// the pair's first: the pair takes its full form.
		s.dropOne(at)
		p = o.pair()
		s.pairs[k] = p
	}
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
	s.judgeBefore(e, now.Add(-2*e.cfg.ScanWindow), false)
}

// finish judges the pairs still open and returns the scans found, in order
// of discovery.
func (s *scans) finish(e *Engine) []Finding {
	s.judgeBefore(e, time.Time{}, true)
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
