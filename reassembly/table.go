package reassembly

import (
	"net/netip"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// Key is a flow's canonical 4-tuple: A sorts before B, so both directions of
// a connection map to the same key. It is comparable and pointer-free.
type Key struct {
	A, B netip.AddrPort
}

// MakeKey returns the canonical key of a segment from src to dst.
func MakeKey(src, dst netip.AddrPort) Key {
	if less(dst, src) {
		return Key{dst, src}
	}
	return Key{src, dst}
}

func less(a, b netip.AddrPort) bool {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c < 0
	}
	return a.Port() < b.Port()
}

// Config tunes the flow table.
type Config struct {
	FSM fsm.Config
	// IdleTimeout evicts a flow that has seen no packet for this long, by
	// capture time (Zeek's tcp_inactivity_timeout is 5 minutes).
	IdleTimeout time.Duration
	// MaxFlows bounds the flows held at once; when it is reached the least
	// recently active flow is evicted. 0 means no bound. The default,
	// DefaultMaxFlows, keeps a SYN flood of random tuples in bounded memory.
	MaxFlows int
	// KeepSteps, when positive, keeps up to this many packets of each flow
	// (the first half and the last half, counting what was left out) for
	// ladder diagrams. It costs memory per packet; 0 keeps none.
	KeepSteps int
}

// DefaultMaxFlows is the default Config.MaxFlows. A held flow costs about
// 3.5 KiB of heap (BenchmarkOpenFlowBytes; some 4.5 KiB of resident memory
// with the garbage collector's headroom at GOGC=30, 4.1 KiB measured per
// flow of a SYN flood), so 8192 of them take some 37 MiB; with the findings
// engine's own bounded state, a flood of millions of random tuples stays
// under 300 MiB (bench/synflood.sh). Connections already over (closed, in
// TIME-WAIT, reset or refused) go first, then attempts nobody answered,
// then open ones, each kind least recently active first (Table.lru).
const DefaultMaxFlows = 8192

// DefaultConfig returns the defaults documented in README.md.
func DefaultConfig() Config {
	return Config{FSM: fsm.DefaultConfig(), IdleTimeout: 5 * time.Minute, MaxFlows: DefaultMaxFlows}
}

// Meta is what the flow table needs of a packet beyond its addresses and
// segment.
type Meta struct {
	Frame     uint64
	WireLen   uint32 // frame bytes on the wire
	IPLen     uint32 // IP total length
	Truncated bool   // the snaplen cut the TCP payload
	IPv6      bool
	Tunneled  bool // carried inside a tunnel (Teredo, GTP-U, VXLAN, L2TP, GRE, IP-in-IP)
	// IPID is the IPv4 identification (0 for IPv6), used to recognise
	// capture duplicates (DirStats.Duplicates).
	IPID uint16
	// TTL is the IPv4 TTL or IPv6 hop limit, for the injection score of
	// resets (watch.go).
	TTL uint8
	// BadChecksum marks a segment whose TCP checksum failed verification.
	// It is counted (and given to the Zeek view, which records it as
	// Zeek does) but not stepped through the state machine, as Zeek and
	// Suricata drop such segments by default.
	BadChecksum bool
}

// EndReason says why a flow left the table.
type EndReason uint8

// End reasons.
const (
	EndCapture EndReason = iota // still in the table at the end of the capture
	EndIdle                     // evicted, not over, after IdleTimeout without packets
	EndLimit                    // evicted, not over, because MaxFlows was reached
	EndReused                   // a new SYN started a new incarnation of the 4-tuple
	// EndClosed: over (closed, reset, refused or abandoned) when it left:
	// quiet for FinishEnded, or already over when the idle timeout or the
	// MaxFlows limit made it leave (see evict).
	EndClosed
)

var endNames = [...]string{"end_of_capture", "idle_timeout", "flow_limit", "tuple_reused", "closed"}

// String returns the stable report name.
func (r EndReason) String() string {
	if int(r) < len(endNames) {
		return endNames[r]
	}
	return "unknown"
}

// Flow is one incarnation of a TCP connection: its endpoints, state machine
// and counters. A Flow handed to the done callback is final; the table no
// longer touches it.
type Flow struct {
	// The fields up to seq are the ones every packet reads or writes, in
	// the first four cache lines of the flow (after the allocator's 8-byte
	// header; 248 bytes): a flow is some 50 lines, and with thousands of
	// connections open most of those a packet touches miss the cache
	// (issue 7).
	Key    Key
	Client netip.AddrPort
	// slot is the flow's entry in the table's LRU list (Table.lru).
	slot int32
	// hash is the key's hash in the table's index (index.go), kept for
	// removal.
	hash         uint32
	LastFrame    uint64
	Last         time.Time
	Packets      [2]uint64 // per sender (fsm.Dir)
	Bytes        [2]uint64 // frame bytes on the wire
	IPBytes      [2]uint64
	PayloadBytes [2]uint64 // TCP payload, retransmissions included
	// Pkt is the sequence analysis of the most recent segment of this flow,
	// valid until the next Observe of it.
	Pkt Packet
	seq seqConn

	ID          uint64 // 1-based, in order of first frame
	Server      netip.AddrPort
	Incarnation int // 1 for the first use of the 4-tuple in the capture, 2 for the next...
	// PrevSndNxt is, for an incarnation after the first, where each
	// endpoint's sequence space ended in the previous one (its
	// fsm.Endpoint.SndNxt, past its FIN), indexed by this flow's fsm.Dir;
	// valid iff HasPrevSndNxt. Linux picks the ISN of a connection that
	// reuses a TIME-WAIT 4-tuple from it (anomaly.ISNSample.PrevSndNxt).
	PrevSndNxt    [2]fsm.Seq
	HasPrevSndNxt [2]bool
	// RoleReason says how the roles were chosen when RolesGuessed.
	RoleReason string

	Conn fsm.Conn
	// Zeek follows the flow with Zeek's rules for conn_state and history.
	Zeek ZeekConn

	FirstFrame   uint64
	First        time.Time
	Truncated    [2]uint64 // segments whose payload the snaplen cut
	BadChecksums [2]uint64 // segments that failed checksum verification (not stepped)
	IPv6         bool
	Tunneled     bool
	// RolesGuessed is set when no SYN showed who opened the connection
	// (beside the other flags, so that no padding makes every Flow larger).
	RolesGuessed bool

	End EndReason

	// Half is each sender's sequence space: Wireshark's verdict state,
	// Ostermann-style statistics and capture quality (seq.go, seqstats.go).
	Half [2]Half

	// Steps holds the packets kept for ladder diagrams (Config.KeepSteps):
	// the first ones, then, after StepsElided left out, the most recent.
	// They are in capture order once the flow has left the table; until
	// then the most recent ones are a ring (see keep).
	Steps       []Step
	StepsElided uint64
	stepsNext   int // the oldest of the most recent steps, in the ring Steps[len(Steps)/2:]
}

// Dir returns the direction of a segment sent by src.
func (f *Flow) Dir(src netip.AddrPort) fsm.Dir {
	if src == f.Client {
		return fsm.DirClient
	}
	return fsm.DirServer
}

// Stats counts what the table did.
type Stats struct {
	Flows         uint64 // flows created (incarnations included)
	Evicted       uint64 // flows evicted for idleness or the MaxFlows limit before they were over
	EvictedLimit  uint64 // of which for the limit
	Reused        uint64 // new incarnations of a 4-tuple
	MaxConcurrent int
}

// Table is the flow table. Not safe for concurrent use.
type Table struct {
	cfg Config
	// ix finds a held flow by key (index.go).
	ix   flowIndex
	done func(*Flow)
	// lru holds three doubly linked lists of flows, each in the order of
	// their last packet, head the least recently active: connections over
	// (lruOver: both sides closed or in TIME-WAIT, see settled), which wait
	// out TIME-WAIT or FinishEnded's quiet; attempts nobody answered yet
	// (lruAttempt: a SYN and nothing back); and the other, open ones
	// (lruOpen). The MaxFlows limit takes the least recently active flow
	// of the first of these lists that has one, so that neither a busy
	// link's thousands of closed connections in TIME-WAIT nor a SYN flood's
	// spoofed attempts push out an open connection that is merely quiet
	// (it would come back as a second, mid-stream record, and its first
	// part as a false half_open or half_close_pending). The least recently
	// active flow of the table is the oldest of the heads, by frame number
	// (oldest). The links are indices into one dense slice: moving a flow
	// to a tail on each of its packets then writes a few neighbouring
	// 16-byte entries that stay in cache, where links inside the 3.4 KiB
	// flows cost two cache misses a packet (issue 7: 7 % of the read
	// loop). free holds the slots not in use.
	lru        []lruNode
	free       []int32
	head, tail [lruLists]int32 // per list; -1 when empty
	// spare holds flows handed back by Recycle for create to reuse.
	spare chan *Flow
	// past remembers the 4-tuples of flows that left (past.go).
	past  pastTuples
	stats Stats
	now   time.Time
	// nextSweep is when idle flows are next looked for: a second after
	// the last look (the zero Time before any, so the first packet looks).
	// Comparing with it costs a tenth of the time.Time.Sub it replaces
	// (130 instructions a packet, 4 % of Observe).
	nextSweep time.Time
}

// NewTable returns an empty table. done is called with every flow when it
// leaves the table (reuse, eviction, Flush), in that order of events.
func NewTable(cfg Config, done func(*Flow)) *Table {
	return &Table{cfg: cfg, ix: newFlowIndex(), done: done, head: [lruLists]int32{-1, -1, -1}, tail: [lruLists]int32{-1, -1, -1}, spare: make(chan *Flow, spareFlows)}
}

// spareFlows is how many recycled flows the table keeps for reuse: most of
// what a consumer hands back at once (cmd/tcptrace's pipeline holds up to
// some 700 finished flows, batches of 64 waiting before and inside its two
// stages); a flow recycled past it is left to the garbage collector.
const spareFlows = 512

// Recycle hands back a flow the done callback received once nothing refers
// to it any more (its record written, no ladder or picture kept), so that
// a later flow reuses its memory and its slices' capacity. Reusing flows
// halves what a run allocates, and so what the garbage collector does
// (issue 7: a flow is 3.4 KiB; a 100,000-connection capture allocated 350
// MB of them). Recycle may be called from another goroutine than the one
// using the table; a flow must be recycled at most once, and not used by
// the caller afterwards. When the table already holds enough spares the
// flow is left to the garbage collector.
func (t *Table) Recycle(f *Flow) {
	select {
	case t.spare <- f:
	default:
	}
}

// newFlow returns a zeroed flow, reusing a recycled one when there is one:
// the capacity of its timelines, step list, unacknowledged-segment lists
// and sparse RTT histograms is kept, their contents cleared.
func (t *Table) newFlow() *Flow {
	var f *Flow
	select {
	case f = <-t.spare:
	default:
		return new(Flow)
	}
	tl := f.Conn.Timeline
	steps := f.Steps[:0]
	var un [2][]sent
	var sp [2]*rttSparse
	for d := range f.Half {
		un[d] = f.Half[d].w.unacked[:0]
		if p := f.Half[d].Stats.RTT.sparse; p != nil {
			*p = rttSparse{}
			sp[d] = p
		}
	}
	*f = Flow{}
	f.Conn.Timeline[0], f.Conn.Timeline[1] = tl[0][:0], tl[1][:0]
	f.Steps = steps
	for d := range f.Half {
		f.Half[d].w.unacked = un[d]
		f.Half[d].Stats.RTT.sparse = sp[d]
	}
	return f
}

// lruNode is one entry of the LRU list.
type lruNode struct {
	f          *Flow
	prev, next int32 // -1 at the ends
}

// The LRU lists (Table.lru), in the order the MaxFlows limit takes from.
const (
	lruOver = iota
	lruAttempt
	lruOpen
	lruLists
)

// oldest returns the list l whose flow at slot s[l] had its last packet
// first (-1 when every s[l] is -1: no flow). Frame numbers only grow, so
// merging the lists by them gives the order one list of all flows would
// have.
func (t *Table) oldest(s *[lruLists]int32) int {
	l := -1
	for i, x := range s {
		if x >= 0 && (l < 0 || t.lru[x].f.LastFrame < t.lru[s[l]].f.LastFrame) {
			l = i
		}
	}
	return l
}

// first returns the least recently active flow, or nil.
func (t *Table) first() *Flow {
	if l := t.oldest(&t.head); l >= 0 {
		return t.lru[t.head[l]].f
	}
	return nil
}

// lruWalk visits the flows from the least recently active, merging the
// lists. Its flow may be removed before next is called again.
type lruWalk struct {
	t   *Table
	cur [lruLists]int32
}

func (t *Table) walk() lruWalk { return lruWalk{t, t.head} }

// next returns the next flow, or nil at the end.
func (w *lruWalk) next() *Flow {
	l := w.t.oldest(&w.cur)
	if l < 0 {
		return nil
	}
	n := &w.t.lru[w.cur[l]]
	w.cur[l] = n.next // step past it now, so that removing it leaves the walk valid
	return n.f
}

// Stats returns the table's counters.
func (t *Table) Stats() Stats { return t.stats }

// Len returns the number of flows held.
func (t *Table) Len() int { return t.ix.n }

// Observe accounts one segment from src to dst captured at ts, and returns
// its flow and the direction it travelled. It allocates only when a flow is
// created without a recycled one to reuse, and as analyze says.
func (t *Table) Observe(ts time.Time, src, dst netip.AddrPort, seg fsm.Segment, m Meta) (*Flow, fsm.Dir) {
	if ts.After(t.now) {
		t.now = ts
	}
	k := MakeKey(src, dst)
	h64 := t.ix.hash64(k) // the index keeps 32 bits; the memory of past tuples all 64 (create)
	h := uint32(h64)
	f := t.ix.find(k, h, t.lru)
	bareSYN := seg.Flags&(fsm.FlagSYN|fsm.FlagACK|fsm.FlagRST|fsm.FlagFIN) == fsm.FlagSYN
	if f != nil && bareSYN {
		d := f.Dir(src)
		if f.Conn.Reusable(d, seg.Seq, ts, t.cfg.IdleTimeout) {
			f.Conn.EndForReuse(m.Frame, ts)
			old := f
			// The new incarnation takes what it needs of the old one
			// before the old one is handed over: the done callback may
			// recycle it at once.
			f = t.start(k, h, src, dst, seg, m, ts)
			f.Incarnation = old.Incarnation + 1
			f.inheritSeq(old) // seq.go: Wireshark's own reuse rule decides for the verdicts
			f.inheritSndNxt(old)
			t.remove(old, EndReused)
			t.insert(f)
			t.stats.Reused++
		}
	}
	if f == nil {
		f = t.create(k, h64, src, dst, seg, m, ts)
	}
	d := f.Dir(src)
	f.LastFrame, f.Last = m.Frame, ts
	f.Packets[d]++
	f.Bytes[d] += uint64(m.WireLen)
	f.IPBytes[d] += uint64(m.IPLen)
	f.PayloadBytes[d] += uint64(seg.Len)
	if m.Truncated {
		f.Truncated[d]++
	}
	f.Zeek.Observe(ts, d, src.Port(), dst.Port(), &seg, &m)
	f.analyze(ts, d, &seg, &m) // seq.go: sequence-space verdicts and statistics
	if m.BadChecksum {
		f.BadChecksums[d]++
		t.touch(f)
		return f, d
	}
	f.Conn.Step(m.Frame, ts, d, seg)
	t.touch(f) // after Step, which may have closed it
	if t.cfg.KeepSteps > 0 {
		f.keep(t.cfg.KeepSteps, Step{Frame: m.Frame, Time: ts, Dir: d, Flags: seg.Flags, Seq: seg.Seq, Ack: seg.Ack, Len: seg.Len, Win: seg.Window,
			Verdict: f.Pkt.Verdict, SACKCount: seg.SACKCount, SACKLeft: seg.SACKLeft, SACKRight: seg.SACKRight})
	}
	if !ts.Before(t.nextSweep) {
		t.nextSweep = ts.Add(time.Second)
		t.sweep(ts)
	}
	return f, d
}

// inheritSndNxt sets f.PrevSndNxt from old, the previous incarnation of
// its 4-tuple: each endpoint is matched by address and port, whichever
// role it had there.
func (f *Flow) inheritSndNxt(old *Flow) {
	for d, a := range [2]netip.AddrPort{f.Client, f.Server} {
		if e := &old.Conn.Ep[old.Dir(a)]; e.Sent {
			f.PrevSndNxt[d], f.HasPrevSndNxt[d] = e.SndNxt, true
		}
	}
}

// create adds a flow for a first segment from src to dst, choosing the roles;
// h64 is the key's hash64.
func (t *Table) create(k Key, h64 uint64, src, dst netip.AddrPort, seg fsm.Segment, m Meta, ts time.Time) *Flow {
	if t.cfg.MaxFlows > 0 && t.ix.n >= t.cfg.MaxFlows {
		// The least recently active flow of the first list that has one
		// (Table.lru).
		for _, i := range t.head {
			if i >= 0 {
				t.evict(t.lru[i].f, EndLimit)
				break
			}
		}
	}
	f := t.start(k, uint32(h64), src, dst, seg, m, ts)
	if u, ok := t.past.recall(h64); ok {
		// A SYN opens the tuple's next incarnation; any other first
		// segment continues the last one, which left the table idle or
		// evicted (its second record).
		f.Incarnation = int(u.uses)
		if seg.Flags&fsm.FlagSYN != 0 {
			f.Incarnation++
		}
		f.reusePast(src, &seg, &u)
	}
	t.insert(f)
	return f
}

// start makes the flow of a first segment from src to dst, choosing the
// roles, without adding it to the table. h is the key's hash.
func (t *Table) start(k Key, h uint32, src, dst netip.AddrPort, seg fsm.Segment, m Meta, ts time.Time) *Flow {
	t.stats.Flows++
	f := t.newFlow()
	f.hash = h
	f.ID, f.Key, f.Incarnation, f.FirstFrame, f.First, f.IPv6, f.Tunneled = t.stats.Flows, k, 1, m.Frame, ts, m.IPv6, m.Tunneled
	f.Conn.Reset(t.cfg.FSM)
	switch {
	case seg.Flags&(fsm.FlagSYN|fsm.FlagACK) == fsm.FlagSYN:
		// RFC 9293 §3.5: the sender of the first SYN is the active opener.
		f.Client, f.Server = src, dst
	case seg.Flags&(fsm.FlagSYN|fsm.FlagACK) == fsm.FlagSYN|fsm.FlagACK:
		// The SYN was not captured; the SYN-ACK answers it.
		f.Client, f.Server = dst, src
		f.RolesGuessed, f.RoleReason = true, "first captured segment is a SYN-ACK: its receiver opened the connection"
	default:
		f.RolesGuessed = true
		f.Client, f.Server, f.RoleReason = guessRoles(src, dst)
	}
	return f
}

// insert adds a flow made by start to the table.
func (t *Table) insert(f *Flow) {
	t.append(f)
	t.ix.insert(f.hash, f.slot)
	if n := t.ix.n; n > t.stats.MaxConcurrent {
		t.stats.MaxConcurrent = n
	}
}

// guessRoles picks client and server for a connection picked up mid-stream
// from the ports, as Zeek and Wireshark do: a well-known port (below 1024)
// or a non-ephemeral port facing an ephemeral one is the server.
func guessRoles(src, dst netip.AddrPort) (client, server netip.AddrPort, why string) {
	sp, dp := src.Port(), dst.Port()
	switch {
	case dp < 1024 && sp >= 1024:
		return src, dst, "no SYN captured: the well-known port is the server"
	case sp < 1024 && dp >= 1024:
		return dst, src, "no SYN captured: the well-known port is the server"
	case dp < 32768 && sp >= 32768:
		return src, dst, "no SYN captured: the non-ephemeral port is the server"
	case sp < 32768 && dp >= 32768:
		return dst, src, "no SYN captured: the non-ephemeral port is the server"
	}
	return src, dst, "no SYN captured: the sender of the first captured segment is taken as the client"
}

// sweep evicts flows idle for longer than the idle timeout.
func (t *Table) sweep(now time.Time) {
	if t.cfg.IdleTimeout <= 0 {
		return
	}
	for f := t.first(); f != nil && now.Sub(f.Last) > t.cfg.IdleTimeout; f = t.first() {
		t.evict(f, EndIdle)
	}
}

// evict finishes f for why (EndIdle or EndLimit) and hands it over. A
// connection that Finish shows over, both sides closed or in TIME-WAIT, or
// an attempt abandoned or refused (see settled), lost nothing by leaving:
// it leaves as EndClosed and is not counted as evicted. On a busy link most
// flows the limit takes are of that kind, closed ones waiting out TIME-WAIT
// (2 MSL, RFC 9293 §3.6.1) or the quiet of FinishEnded, and counting them
// would report thousands of connections cut short that were not.
func (t *Table) evict(f *Flow, why EndReason) {
	f.Conn.Finish(t.now)
	if settled(&f.Conn) {
		t.remove(f, EndClosed)
		return
	}
	t.stats.Evicted++
	if why == EndLimit {
		t.stats.EvictedLimit++
	}
	t.remove(f, why)
}

// remove takes f out of the table and hands it to the done callback.
func (t *Table) remove(f *Flow, why EndReason) {
	f.End = why
	if why != EndReused && why != EndCapture {
		// A new incarnation has its predecessor in hand; after the end
		// of the capture nothing comes.
		t.past.remember(t.ix.hash64(f.Key), f)
	}
	t.ix.delete(f.hash, f.slot)
	t.unlink(f)
	f.orderSteps()
	if t.done != nil {
		t.done(f)
	}
}

// Flush finishes every flow still held, as of capture time now (normally the
// last packet's timestamp), oldest first.
func (t *Table) Flush(now time.Time) {
	if now.After(t.now) {
		t.now = now
	}
	for f := t.first(); f != nil; f = t.first() {
		f.Conn.Finish(t.now)
		t.remove(f, EndCapture)
	}
}

// Each calls fn for every flow still held, least recently active first,
// without removing it (for periodic snapshots).
func (t *Table) Each(fn func(*Flow)) {
	for w := t.walk(); ; {
		f := w.next()
		if f == nil {
			return
		}
		fn(f)
	}
}

// append gives f a slot at the most recently active end of the list.
func (t *Table) append(f *Flow) {
	var i int32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		i = int32(len(t.lru))
		t.lru = append(t.lru, lruNode{})
	}
	f.slot = i
	t.lru[i].f = f
	t.link(i, lruOpen)
}

// link puts slot i at the tail of list l.
func (t *Table) link(i int32, l int) {
	n := &t.lru[i]
	n.prev, n.next = t.tail[l], -1
	if t.tail[l] >= 0 {
		t.lru[t.tail[l]].next = i
	} else {
		t.head[l] = i
	}
	t.tail[l] = i
}

// unhook takes slot i out of its list, keeping it. A slot with no
// neighbour on a side is that end of its list, which tells which list.
func (t *Table) unhook(i int32) {
	n := &t.lru[i]
	if n.prev >= 0 {
		t.lru[n.prev].next = n.next
	} else {
		for l := range t.head {
			if t.head[l] == i {
				t.head[l] = n.next
				break
			}
		}
	}
	if n.next >= 0 {
		t.lru[n.next].prev = n.prev
	} else {
		for l := range t.tail {
			if t.tail[l] == i {
				t.tail[l] = n.prev
				break
			}
		}
	}
}

// unlink takes f out of the list and frees its slot.
func (t *Table) unlink(f *Flow) {
	i := f.slot
	t.unhook(i)
	t.lru[i] = lruNode{}
	t.free = append(t.free, i)
	f.slot = -1
}

// touch moves f to the most recently active end of its list: lruOver
// once its states are settled (as they are, before Finish; a rejected RST
// can bring a flow back, fsm.Conn.disown), lruAttempt while one side has
// sent a SYN and the other nothing, lruOpen otherwise.
func (t *Table) touch(f *Flow) {
	l := lruOpen
	switch {
	case settled(&f.Conn):
		l = lruOver
	case unanswered(&f.Conn):
		l = lruAttempt
	}
	if i := f.slot; i != t.tail[l] {
		t.unhook(i)
		t.link(i, l)
	}
}

// Step is one packet of a flow, kept for ladder diagrams and
// time-sequence graphs when Config.KeepSteps is set. It holds no payload and
// no pointer into the capture buffer.
type Step struct {
	Frame uint64
	Time  time.Time
	Dir   fsm.Dir
	Flags fsm.Flags
	Seq   fsm.Seq
	Ack   fsm.Seq
	Len   uint32
	Win   uint16 // raw window field, unscaled
	// Verdict is the sequence analysis of the packet (Flow.Pkt.Verdict).
	Verdict Verdict
	// SACKCount is the number of SACK blocks it carried; SACKLeft and
	// SACKRight are the first block's edges (fsm.Segment), raw.
	SACKCount uint8
	SACKLeft  fsm.Seq
	SACKRight fsm.Seq
}

// keep records s, holding at most n steps: the first n/2 and the latest
// n-n/2. Once Steps is full, the latest are a ring in Steps[n/2:] whose
// oldest element is at stepsNext: a packet costs one copy, not a shift of
// the whole window. orderSteps puts them back in order.
func (f *Flow) keep(n int, s Step) {
	if len(f.Steps) < n {
		f.Steps = append(f.Steps, s)
		return
	}
	tail := f.Steps[n/2:]
	tail[f.stepsNext] = s
	f.stepsNext++
	if f.stepsNext == len(tail) {
		f.stepsNext = 0
	}
	f.StepsElided++
}

// orderSteps rotates the ring of the most recent steps into capture order.
func (f *Flow) orderSteps() {
	k := f.stepsNext
	if k == 0 {
		return
	}
	tail := f.Steps[len(f.Steps)/2:]
	oldest := append([]Step(nil), tail[k:]...)
	copy(tail[len(tail)-k:], tail[:k])
	copy(tail, oldest)
	f.stepsNext = 0
}
