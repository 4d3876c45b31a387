package anomaly

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// leak counts a stuck half-close (or a FIN-WAIT-2 expiry) where the server
// is the side that never closed: one more CLOSE-WAIT socket its application
// held.
func (e *Engine) leak(f *reassembly.Flow) {
	s := e.services[f.Server]
	if s == nil {
		return
	}
	s.HalfCloseLeaks++
	if s.leaks.cover(f) || s.leakID == 0 {
		s.leakID = f.ID
	}
}

// leakPatterns is CLOSE_WAIT_LEAK_PATTERN (anomalies.md §4): a service that
// left at least LeakPatternMin connections in CLOSE-WAIT leaks sockets.
func (e *Engine) leakPatterns() []Finding {
	var out []Finding
	for _, s := range e.services {
		if s.HalfCloseLeaks < uint64(e.cfg.LeakPatternMin) || e.cfg.LeakPatternMin <= 0 {
			continue
		}
		out = append(out, Finding{Kind: "close_wait_leak_pattern", Severity: SeverityHigh, Confidence: 0.95, Connection: s.leakID, Service: s.Service,
			FirstFrame: s.leaks.first, First: s.leaks.firstT, LastFrame: s.leaks.last, Last: s.leaks.lastT, Count: s.HalfCloseLeaks,
			Explanation: fmt.Sprintf("the service left %d connections in CLOSE-WAIT: after the client's FIN its application never closed them, a file-descriptor leak that ends in accept() failing (EMFILE)", s.HalfCloseLeaks),
			RFC:         "RFC 9293 §3.6; Linux tcp_fin_timeout", Wireshark: "tcp.connection.fin_passive"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstFrame < out[j].FirstFrame })
	return out
}

// halfKey is one source and the service it connects to.
type halfKey struct {
	src     netip.Addr
	service netip.AddrPort
}

// halfClosed counts one source's connections to one service that ended half
// closed, and which side closed.
type halfClosed struct {
	n        uint64
	byClient uint64 // the client sent the only FIN: the server sat in CLOSE-WAIT
	id       uint64
	w        at
}

// maxHalfKeys bounds the (source, service) pairs followed for exhaustion.
const maxHalfKeys = 1 << 16

// halfPairs holds the (source, service) pairs' counts in the order the
// pairs came, indexed by pair, so that when maxHalfKeys are held a cursor
// can go round them (evict) and every run drops the same ones.
type halfPairs struct {
	ix   map[halfKey]int32
	ents []halfEnt
	next int // evict's cursor into ents
}

type halfEnt struct {
	k halfKey
	h halfClosed
}

// evict makes room for a new pair when maxHalfKeys are held: it drops a
// pair that has counted a single connection, the first among the next few
// from the cursor (roundCursor), and returns its position for the new pair,
// or -1 if it found none. The pairs are kept for the whole capture, so
// without it the first 65,536 sources to leave one connection half closed
// (a busy service's clients that shut down their side at the end of the
// capture) kept every later one, an attacker's too, from being counted.
func (t *halfPairs) evict() int {
	i := roundCursor(len(t.ents), &t.next, func(i int) bool { return t.ents[i].h.n == 1 })
	if i >= 0 {
		delete(t.ix, t.ents[i].k)
	}
	return i
}

// halfClosed notes a connection that ended with one FIN only (no RST), for
// half-close exhaustion.
func (e *Engine) halfClosed(f *reassembly.Flow) {
	t := &e.halfOpen
	k := halfKey{f.Client.Addr(), f.Server}
	i, ok := t.ix[k]
	if !ok {
		at := -1
		if len(t.ents) >= maxHalfKeys {
			if at = t.evict(); at < 0 {
				return
			}
		}
		if t.ix == nil {
			t.ix = make(map[halfKey]int32)
		}
		ent := halfEnt{k: k, h: halfClosed{id: f.ID, w: flowAt(f)}}
		if at < 0 {
			at = len(t.ents)
			t.ents = append(t.ents, ent)
		} else {
			t.ents[at] = ent
		}
		i = int32(at)
		t.ix[k] = i
	}
	h := &t.ents[i].h
	h.n++
	if f.Conn.FirstFin == fsm.DirClient {
		h.byClient++
	}
	if h.w.cover(f) {
		h.id = f.ID
	}
}

// exhaustion is half-close exhaustion (issue 4): one source left at least
// HalfCloseExhaustMin connections to one service half closed, each holding
// a socket on the server in CLOSE-WAIT (the source sent FIN and the server
// never closed) or in FIN-WAIT-2 (the server closed and the source never
// did): the denial of service that half-close allows.
func (e *Engine) exhaustion() []Finding {
	var out []Finding
	for i := range e.halfOpen.ents {
		k, h := e.halfOpen.ents[i].k, &e.halfOpen.ents[i].h
		if e.cfg.HalfCloseExhaustMin <= 0 || h.n < uint64(e.cfg.HalfCloseExhaustMin) {
			continue
		}
		sev := SeverityMedium
		if h.n >= 5*uint64(e.cfg.HalfCloseExhaustMin) {
			sev = SeverityHigh
		}
		out = append(out, Finding{Kind: "half_close_exhaustion", Severity: sev, Confidence: 0.9, Connection: h.id, Host: k.src, Role: "client", Service: k.service,
			FirstFrame: h.w.first, First: h.w.firstT, LastFrame: h.w.last, Last: h.w.lastT, Count: h.n,
			Explanation: fmt.Sprintf("%s left %d connections to this service half closed (%d in CLOSE-WAIT on the server, %d in FIN-WAIT-2 on the server): each holds a server socket; many of them exhaust its sockets or memory", k.src, h.n, h.byClient, h.n-h.byClient),
			RFC:         "RFC 9293 §3.6, §3.6.1; Linux tcp_fin_timeout"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FirstFrame < out[j].FirstFrame })
	return out
}
