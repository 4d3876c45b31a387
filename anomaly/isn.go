package anomaly

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"net/netip"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// Role is the part a host played in the connection whose ISN is sampled:
// RoleClient for the sender of a SYN without ACK, RoleServer for the sender
// of a SYN-ACK (anomalies.md §0). It is fsm.Dir, so callers pass the flow
// table's direction as is.
type Role = fsm.Dir

// The two roles. Samples are keyed by role as well as address: on loopback
// or behind NAT one IP hosts several ISN generators (anomalies.md §3.1).
const (
	RoleClient = fsm.DirClient
	RoleServer = fsm.DirServer
)

// Tuple is a connection's 4-tuple seen from the host that chose the ISN:
// Local is that host's address and port, Remote the peer's. For a client
// sample it is (SYN source, SYN destination); for a server sample (SYN-ACK
// source, SYN-ACK destination).
type Tuple struct {
	Local, Remote netip.AddrPort
}

// ISNSample is one ISN choice observed on the wire.
type ISNSample struct {
	// Host chose the ISN: the source of the SYN (client) or SYN-ACK
	// (server).
	Host netip.Addr
	// Role says whether Host sent a bare SYN or a SYN-ACK. A simultaneous
	// open gives two client samples.
	Role Role
	// Tuple is the connection seen from Host. Its Local address is taken
	// to be Host and is not compared.
	Tuple Tuple
	// ISN is the sequence number of the SYN or SYN-ACK.
	ISN uint32
	// Time is the capture time of the SYN (client), or of the SYN the
	// SYN-ACK answers (server; nmap's convention of probe send times),
	// falling back to the SYN-ACK's own time.
	Time time.Time
	// PrevSndNxt is the end of the sequence space Host used in the
	// previous incarnation of Tuple (its FIN's seq + 1), valid iff
	// HasPrevSndNxt. With it the tracker recognizes Linux's TIME-WAIT
	// reuse ISN, PrevSndNxt + 65537 (tcp_minisocks.c).
	PrevSndNxt    uint32
	HasPrevSndNxt bool
	// PeerISN is, for a SYN-ACK, the ISN of the SYN it answers (its
	// acknowledgment number minus one), valid iff HasPeerISN. With it the
	// tracker tells the same SYN-ACK seen twice, before and after a NAT,
	// from a generator that repeats its ISNs (copies).
	PeerISN    uint32
	HasPeerISN bool
}

// ISNKind is the type of an ISNFinding.
type ISNKind uint8

// Finding kinds. Their text forms are stable JSON names.
const (
	// ISNPredictable ("isn_predictable"): a host's ISNs can be predicted
	// from its earlier ones (anomalies.md §3.2).
	ISNPredictable ISNKind = iota + 1
	// ISNGeneratorHint ("isn_generator_hint", info): what consecutive
	// incarnations of one 4-tuple reveal about a host's ISN clock
	// (anomalies.md §3.5).
	ISNGeneratorHint
	// CraftedConstantISN ("crafted_constant_isn", low): one ISN value in
	// many SYNs from many source addresses, the mark of a spoofed flood
	// tool with a fixed sequence number (anomalies.md §3.4).
	CraftedConstantISN
)

// String returns the JSON name of k, or "ISNKind(n)" for an unknown value.
func (k ISNKind) String() string {
	switch k {
	case ISNPredictable:
		return "isn_predictable"
	case ISNGeneratorHint:
		return "isn_generator_hint"
	case CraftedConstantISN:
		return "crafted_constant_isn"
	}
	return fmt.Sprintf("ISNKind(%d)", uint8(k))
}

// MarshalText returns k.String().
func (k ISNKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Severity ranks a finding (anomalies.md §0). The zero value is SeverityInfo.
type Severity uint8

// Severities, least severe first.
const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// String returns "info", "low", "medium", "high" or "critical", or
// "Severity(n)" for an unknown value.
func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	case SeverityCritical:
		return "critical"
	}
	return fmt.Sprintf("Severity(%d)", uint8(s))
}

// MarshalText returns s.String().
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Scope says which of a host's samples an ISNPredictable finding is about.
type Scope uint8

// Scopes.
const (
	// ScopeGlobal: all of the host's distinct-tuple samples.
	ScopeGlobal Scope = iota
	// ScopePerPeer: only the samples toward one peer address. The host's
	// F() ignores ports, so anyone sharing that peer's address (the same
	// NAT) can predict its ISNs toward the peer (anomalies.md §3.2 T5).
	ScopePerPeer
)

// String returns "global" or "per_peer", or "Scope(n)" for an unknown value.
func (s Scope) String() string {
	switch s {
	case ScopeGlobal:
		return "global"
	case ScopePerPeer:
		return "per_peer"
	}
	return fmt.Sprintf("Scope(%d)", uint8(s))
}

// MarshalText returns s.String().
func (s Scope) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// NmapSeq is nmap's 2nd-generation SEQ triple and Difficulty label over a
// series (see NmapTSeq), valid iff OK.
type NmapSeq struct {
	GCD   uint32
	ISR   int
	SP    int
	Label string
	OK    bool
}

// Predictor indices into ISNFinding.Predictors (anomalies.md §3.2 T4).
const (
	PredLast      = iota // P0: the last ISN again
	PredStep             // P1: last ISN + median step per connection
	PredClock            // P2: last ISN + median rate × elapsed time
	PredStepClock        // P3: last ISN + Theil–Sen fit of step on elapsed time
)

// RFCISN is the reference every ISN finding cites.
const RFCISN = "RFC 9293 §3.4.1; RFC 6528"

// ISNFinding is one conclusion of an ISNTracker. Which fields are set
// depends on Kind; the rest are zero.
type ISNFinding struct {
	Kind ISNKind
	// Subtype names the test or generator: for ISNPredictable "zero",
	// "constant", "repeated", "low_entropy", "near_constant",
	// "counter_step", "counter_time" or "counter_step_time", the last four
	// with "+lattice(g)" appended when the increments sit on a lattice of
	// spacing g ≥ 64; for ISNGeneratorHint "clock_4us",
	// "clock_linux_64ns", "linux_timewait_reuse" or "not_clock_monotone";
	// empty for CraftedConstantISN.
	Subtype  string
	Severity Severity
	// Tentative marks an ISNPredictable finding made from a single
	// prediction (n = 4); its severity is capped at medium.
	Tentative bool
	// Confidence is 1 − p of the test that decided, and EvidenceLog10 is
	// −log10 p (it keeps its resolution when Confidence rounds to 1).
	Confidence    float64
	EvidenceLog10 float64
	// Host chose the ISNs (invalid for CraftedConstantISN, which spans
	// hosts), in Role.
	Host netip.Addr
	Role Role
	// Scope and, valid iff Scope is ScopePerPeer, Peer.
	Scope Scope
	Peer  netip.Addr
	// N is the number of samples the finding rests on: distinct-tuple
	// samples (ISNPredictable), same-tuple pairs (ISNGeneratorHint) or
	// SYNs (CraftedConstantISN).
	N int
	// M is the number of one-step-ahead predictions (N − 3; 0 below 4).
	M int
	// HEst is the median of Bits, valid iff M > 0: the bits an attacker
	// must still guess per ISN.
	HEst float64
	// Bits holds b_j = log2(1 + 2|e_j|/g_eff) for each prediction in
	// time order.
	Bits []float64
	// Predictors counts how often each predictor (PredLast … PredStepClock)
	// was the closest.
	Predictors [4]int
	// GCD is the lattice spacing g most predictions hit or, when none
	// did, the gcd of all increments (1 for random ISNs, 0 for a
	// constant one).
	GCD uint32
	// RateHz is the median ISN advance per second between samples
	// (ISNPredictable) or between incarnations (ISNGeneratorHint).
	RateHz float64
	// Repeats is T2's r (samples minus distinct values) and StuckBits
	// T3's k (bits equal in every sample; 0 below 16 samples).
	Repeats   int
	StuckBits int
	// Nmap is nmap's SEQ triple over the same samples, and Class1 and
	// Class1Index the 1st-generation nmap class (C, 64K, i800, TD, RI, TR).
	Nmap        NmapSeq
	Class1      string
	Class1Index uint32
	// ISN is the repeated value (CraftedConstantISN, and ISNPredictable
	// zero or constant) and Sources the number of distinct source
	// addresses that sent it (CraftedConstantISN only).
	ISN     uint32
	Sources int
	// FirstTime and LastTime bound the samples (capture time, UTC).
	FirstTime, LastTime time.Time
	// Explanation is one sentence a person can act on.
	Explanation string
	// RFC cites the rule: RFCISN.
	RFC string
}

// ISNConfig holds an ISNTracker's limits and its false-alarm level. Zero
// fields take the defaults.
type ISNConfig struct {
	// Alpha is the false-alarm probability per host and role for
	// ISNPredictable under "ISNs uniform and independent" (default 1e-6):
	// with N hosts expect N·Alpha false alarms.
	Alpha float64
	// MaxHosts bounds the (address, role) pairs tracked (default 65536).
	// Samples of further hosts are dropped and counted in
	// ISNStats.DroppedHosts: a spoofed flood can fill the table.
	MaxHosts int
	// MaxSamplesPerHost bounds a host's distinct-tuple samples (default
	// 1024). The oldest are evicted (ISNStats.Evicted), with their tuple,
	// so a tuple not seen for 1024 connections counts as new again.
	MaxSamplesPerHost int
	// MaxSamples bounds the distinct-tuple samples over all hosts (default
	// 1<<17, about 16 MB, so that memory stays bounded by open connections
	// rather than growing with a capture's total: issue 7). Past it,
	// samples for new tuples are dropped (ISNStats.DroppedBudget).
	MaxSamples int
	// Window is how many of the most recent increments the predictors
	// are fit on (default 32). It bounds Findings' cost to O(n·Window²)
	// per host (Theil–Sen), and lets the fit follow a generator that
	// changes (a reboot); the predictions stay out of sample.
	Window int
}

// ISNStats counts what an ISNTracker saw, skipped and dropped.
type ISNStats struct {
	// Samples is the number of Add and AddSample calls.
	Samples uint64
	// Retransmissions were dropped as repeats of an attempt: same tuple
	// and ISN within 130 s.
	Retransmissions uint64
	// Reincarnations were later connections on a tuple already seen; they
	// feed only the same-tuple hints.
	Reincarnations uint64
	// Hosts is the number of (address, role) pairs tracked.
	Hosts int
	// DroppedHosts counts samples dropped because MaxHosts was reached,
	// DroppedBudget those dropped because MaxSamples was, and Evicted the
	// oldest samples dropped to respect MaxSamplesPerHost.
	DroppedHosts  uint64
	DroppedBudget uint64
	Evicted       uint64
	// CraftedEvicted counts SYNs dropped early from the 60 s window of the
	// crafted-constant check because it held craftedCap SYNs.
	CraftedEvicted uint64
	// Copies were dropped as the same SYN or SYN-ACK seen twice, once on
	// each side of a NAT (copies).
	Copies uint64
}

// Defaults and fixed rule parameters.
const (
	defaultAlpha      = 1e-6
	defaultMaxHosts   = 65536
	defaultMaxPerHost = 1024
	defaultMaxSamples = 1 << 17
	defaultWindow     = 32

	// retransWindow: "same 4-tuple and same ISN within 130 s = one
	// attempt" (anomalies.md §3.1); Linux gives up on a SYN after
	// 1+2+…+64 = 127 s (tcp_syn_retries 6).
	retransWindow = 130 * time.Second

	// hintMaxGap: a same-tuple pair further apart than this is not
	// classified. Linux's 64 ns clock wraps 2^32 in 274 s, so past
	// 2^32/1.6e7 s ≈ 268 s its rate can no longer be read off the
	// difference and would look "not clock-monotone".
	hintMaxGap = 260 * time.Second

	// craftedWindow, craftedSYNs, craftedSources: CRAFTED_CONSTANT_ISN
	// fires for one ISN value in ≥ 10 SYNs from ≥ 5 source IPs within
	// 60 s (anomalies.md §3.4).
	craftedWindow  = 60 * time.Second
	craftedSYNs    = 10
	craftedSources = 5
	// craftedCap bounds the SYNs held in the 60 s window. Past it the
	// oldest leave early, which can only hide a flood slower than
	// craftedCap SYNs per minute spread over more ISN values than that.
	craftedCap = 65536
	// craftedMaxFindings bounds the distinct crafted ISN values reported.
	craftedMaxFindings = 1024
)

// hostKey identifies one ISN generator: an address in a role. Findings
// reports hosts by it; the table holds them as hostID.
type hostKey struct {
	addr netip.Addr
	role Role
}

// hostID is a hostKey packed for hostTable: pointer-free, so that the
// table is not scanned by the GC and its hash does not chase netip.Addr's
// zone pointer (issue 7: up to MaxHosts entries). A zone, which a capture
// never gives but a caller may, is kept as its index in ISNTracker.zones,
// so that fe80::1%a and fe80::1%b stay two hosts, as they are two
// netip.Addr values.
type hostID struct {
	addr [16]byte
	zone uint32 // 1 + index into ISNTracker.zones; 0 for none
	role Role
	kind uint8 // addrInvalid, addr4 or addr6: what As16 cannot tell apart
	// pad is always 0. Named, not blank, and no implicit padding, so that
	// hostID is plain memory: == and maphash.Comparable take its bytes
	// as they are (a blank field would be skipped, field by field).
	pad uint16
}

// hostID.kind values.
const (
	addrInvalid = iota
	addr4
	addr6
)

// id packs (a, role). With intern false a zone the tracker has not seen
// yet reports !ok: no host can have it. With intern true it is added.
func (tr *ISNTracker) id(a netip.Addr, role Role, intern bool) (hostID, bool) {
	id := hostID{addr: a.As16(), role: role}
	switch {
	case a.Is4():
		id.kind = addr4
	case a.Is6():
		id.kind = addr6
		if z := a.Zone(); z != "" {
			n, ok := tr.zoneIDs[z]
			if !ok {
				if !intern {
					return id, false
				}
				if tr.zoneIDs == nil {
					tr.zoneIDs = make(map[string]uint32)
				}
				tr.zones = append(tr.zones, z)
				n = uint32(len(tr.zones))
				tr.zoneIDs[z] = n
			}
			id.zone = n
		}
	}
	return id, true
}

// key unpacks id into the netip.Addr it was made from (same zone handle,
// so == and Compare agree with the original).
func (tr *ISNTracker) key(id hostID) hostKey {
	var a netip.Addr
	switch id.kind {
	case addr4:
		a = netip.AddrFrom16(id.addr).Unmap()
	case addr6:
		a = netip.AddrFrom16(id.addr)
		if id.zone > 0 {
			a = a.WithZone(tr.zones[id.zone-1])
		}
	}
	return hostKey{a, id.role}
}

// tupleKey is a Tuple packed for a host's map: pointer-free (netip.Addr
// holds a pointer the GC would scan and the map hash would chase) and 24
// bytes instead of 64. The local address is the host's own and is left out.
type tupleKey struct {
	remote       [16]byte
	lport, rport uint16
	is4          bool
}

func keyOf(t Tuple) tupleKey {
	r := t.Remote.Addr()
	return tupleKey{r.As16(), t.Local.Port(), t.Remote.Port(), r.Is4()}
}

// peer returns the remote address of k.
func (k tupleKey) peer() netip.Addr {
	a := netip.AddrFrom16(k.remote)
	if k.is4 {
		return a.Unmap()
	}
	return a
}

// isnSample is one distinct-tuple sample of S_H. Its fields are ordered
// so that it packs into 48 bytes (56 with the latest attempt as a nested
// tupleState, whose uint32 left 4 bytes of padding): up to MaxSamples of
// them are held, 6 MB at the default (issue 7).
type isnSample struct {
	ns int64 // capture time, Unix ns
	// lastNS and lastISN are the latest attempt on key (see last): the
	// sample itself until the tuple is used again.
	lastNS  int64
	isn     uint32
	lastISN uint32
	key     tupleKey
}

// last returns the latest attempt on e's tuple.
func (e *isnSample) last() tupleState { return tupleState{e.lastISN, e.lastNS} }

// setLast records t as the latest attempt on e's tuple.
func (e *isnSample) setLast(t tupleState) { e.lastISN, e.lastNS = t.isn, t.ns }

// tupleState is the latest attempt on a tuple: its ISN and first time.
type tupleState struct {
	isn uint32
	ns  int64
}

// hintAgg aggregates same-tuple pairs of one hint class.
type hintAgg struct {
	count       int
	first, last int64
	rates       []float64 // at most hintRates, for the median
}

const hintRates = 64

// Same-tuple hint classes (anomalies.md §3.5), indices into host.hints.
const (
	hintClock4us = iota
	hintLinux64ns
	hintTimeWait
	hintNotMonotone
	numHints
)

var hintNames = [numHints]string{"clock_4us", "clock_linux_64ns", "linux_timewait_reuse", "not_clock_monotone"}

// host is the state of one ISN generator.
//
// Up to MaxHosts of them are held, and most (the clients of a busy capture)
// have a sample or two: a host is kept small and pointer-free (issue 7).
// Its ring, S_H in arrival order, is a segment of the tracker's arena, so
// a host with one sample costs its 48 bytes, a 48-byte sample and 8 bytes
// of hostTable slots, and no heap object of its own (the map of *host with
// a ring slice each took 207). The ring holds every tuple the host has a
// sample of, so a tuple is looked up by scanning the ring while it is
// short, and through an index (tuple to ring position) once it is longer;
// the same-tuple hints are allocated on the first reuse.
type host struct {
	id    hostID
	seg   segment // the ring's storage
	n     uint32  // len(ring)
	head  uint32  // ring[head] is the oldest once the ring is full
	index int32   // 1 + index into ISNTracker.indexes; 0 while n <= indexFrom
	hints int32   // 1 + index into ISNTracker.hints; 0 until a tuple is reused
}

// indexFrom is the ring length past which a host's tuples are indexed.
const indexFrom = 16

// host returns the state of (a, role), or nil.
func (tr *ISNTracker) host(a netip.Addr, role Role) *host {
	id, ok := tr.id(a, role, false)
	if !ok {
		return nil
	}
	i := tr.hosts.find(id)
	if i < 0 {
		return nil
	}
	return tr.hosts.at(i)
}

// ring returns h's samples, a view into the arena valid until the next
// AddSample.
func (tr *ISNTracker) ring(h *host) []isnSample {
	return tr.arena.view(h.seg, int(h.n))
}

// tupleIndex returns h's index, or nil.
func (tr *ISNTracker) tupleIndex(h *host) *tupleIndex {
	if h.index == 0 {
		return nil
	}
	return &tr.indexes[h.index-1]
}

// find returns the position in ring, h's, of the sample of k, or -1.
func (tr *ISNTracker) find(h *host, ring []isnSample, k tupleKey) int {
	if x := tr.tupleIndex(h); x != nil {
		return x.find(ring, k)
	}
	for i := range ring {
		if ring[i].key == k {
			return i
		}
	}
	return -1
}

// tupleIndex maps a host's tuples to their ring positions: an open-
// addressing table (linear probing) of positions + 1, the keys read from
// the ring. A map[tupleKey]int32 did the same, but the ring's evictions
// (a delete and an insert per sample once the ring is full) left the
// map's tombstones behind and grew each busy host's map to some 5000
// slots: 5 MB for 32 servers on a long capture (issue 7). This one has
// no tombstones (deletion shifts entries back) and 2 to 4 slots per
// sample: 16 KiB per host at MaxSamplesPerHost.
type tupleIndex struct {
	slots []int32 // ring position + 1; 0 is empty
	n     int
	seed  maphash.Seed // per host, so crafted tuples cannot be made to collide
}

func newTupleIndex(ring []isnSample) tupleIndex {
	x := tupleIndex{seed: maphash.MakeSeed()}
	x.rehash(ring)
	return x
}

// rehash rebuilds x from ring, with at least four slots per sample so that
// it takes the ring's growth to twice its length before the next.
func (x *tupleIndex) rehash(ring []isnSample) {
	x.slots = make([]int32, 1<<bits.Len(uint(4*len(ring)-1)))
	x.n = 0
	for i := range ring {
		x.insert(ring, ring[i].key, i)
	}
}

func (x *tupleIndex) home(k tupleKey) int {
	return int(maphash.Comparable(x.seed, k)) & (len(x.slots) - 1)
}

func (x *tupleIndex) find(ring []isnSample, k tupleKey) int {
	mask := len(x.slots) - 1
	for i := x.home(k); x.slots[i] != 0; i = (i + 1) & mask {
		if p := int(x.slots[i]) - 1; ring[p].key == k {
			return p
		}
	}
	return -1
}

// insert adds k, which ring already holds at position pos and x does
// not, to x. Past half full, x is rebuilt larger (from ring, k included).
func (x *tupleIndex) insert(ring []isnSample, k tupleKey, pos int) {
	if 2*(x.n+1) > len(x.slots) {
		x.rehash(ring)
		return
	}
	mask := len(x.slots) - 1
	i := x.home(k)
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = int32(pos + 1)
	x.n++
}

// remove deletes k, whose sample ring still holds, from x. Entries after
// it in its probe run move back, so that no lookup stops early.
func (x *tupleIndex) remove(ring []isnSample, k tupleKey) {
	mask := len(x.slots) - 1
	i := x.home(k)
	for x.slots[i] != 0 && ring[x.slots[i]-1].key != k {
		i = (i + 1) & mask
	}
	if x.slots[i] == 0 {
		return
	}
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		h := x.home(ring[x.slots[j]-1].key)
		if (j > i && (h <= i || h > j)) || (j < i && h <= i && h > j) {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = 0
	x.n--
}

// ISNTracker scores the ISN generators of the hosts in a capture
// (anomalies.md §3): Add or AddSample each SYN and SYN-ACK, then call
// Findings. The zero value is ready to use with the default ISNConfig. It
// is not safe for concurrent use.
type ISNTracker struct {
	cfg ISNConfig
	// Neither hosts nor arena holds a pointer (but their page lists):
	// the GC has next to nothing to scan in them.
	hosts   hostTable
	zones   []string // the zones in hostIDs, in order of arrival
	zoneIDs map[string]uint32
	arena   arena
	indexes []tupleIndex        // of the hosts with more than indexFrom samples
	hints   [][numHints]hintAgg // of the hosts that reused a tuple
	total   int                 // distinct-tuple samples held
	stats   ISNStats
	crafted crafted
	copies  copies
}

// NewISNTracker returns a tracker with the limits in c (zero fields take
// the defaults).
func NewISNTracker(c ISNConfig) *ISNTracker {
	return &ISNTracker{cfg: c}
}

func (tr *ISNTracker) config() ISNConfig {
	c := tr.cfg
	if c.Alpha <= 0 {
		c.Alpha = defaultAlpha
	}
	if c.MaxHosts <= 0 {
		c.MaxHosts = defaultMaxHosts
	}
	if c.MaxSamplesPerHost <= 0 {
		c.MaxSamplesPerHost = defaultMaxPerHost
	}
	if c.MaxSamples <= 0 {
		c.MaxSamples = defaultMaxSamples
	}
	if c.Window < 3 {
		c.Window = defaultWindow
	}
	return c
}

// Add records that host, in role, chose isn for the connection tuple at
// capture time t. It is AddSample without the TIME-WAIT hint.
func (tr *ISNTracker) Add(host netip.Addr, role Role, tuple Tuple, isn uint32, t time.Time) {
	tr.AddSample(ISNSample{Host: host, Role: role, Tuple: tuple, ISN: isn, Time: t})
}

// AddSample records one ISN choice. A repeat of an attempt (same tuple and
// ISN within 130 s: a retransmitted SYN or SYN-ACK) is dropped. A later
// connection on a tuple already seen feeds only the same-tuple hints, so
// that RFC 6528's per-tuple clock and Linux's TIME-WAIT reuse, both
// predictable by design, never enter the statistics (anomalies.md §3.1).
// Samples may arrive slightly out of time order; Findings sorts them.
func (tr *ISNTracker) AddSample(s ISNSample) {
	c := tr.config()
	tr.stats.Samples++
	ns := s.Time.UnixNano()
	if s.Role == RoleClient {
		// The flood check runs before the host table so a table filled
		// by spoofed sources cannot hide the flood.
		tr.crafted.add(s.ISN, s.Host, ns, &tr.stats)
	}
	if tr.copies.seen(s, ns) {
		tr.stats.Copies++
		return
	}
	hi := int32(-1)
	id, ok := tr.id(s.Host, s.Role, false)
	if ok { // else its zone is new, and so is the host
		hi = tr.hosts.find(id)
	}
	if hi < 0 {
		if tr.hosts.n >= c.MaxHosts {
			tr.stats.DroppedHosts++
			return
		}
		// A new zone is interned only now, so that the zones stay
		// bounded by MaxHosts.
		id, _ = tr.id(s.Host, s.Role, true)
		hi = tr.hosts.add(id)
	}
	h := tr.hosts.at(hi)
	ring := tr.ring(h)
	tk := keyOf(s.Tuple)
	if i := tr.find(h, ring, tk); i >= 0 {
		ts := ring[i].last()
		gap := ns - ts.ns
		if s.ISN == ts.isn && gap <= int64(retransWindow) && gap >= -int64(retransWindow) {
			tr.stats.Retransmissions++
			return
		}
		tr.stats.Reincarnations++
		tr.hint(h, ts, s, ns)
		ring[i].setLast(tupleState{s.ISN, ns})
		return
	}
	e := isnSample{ns: ns, lastNS: ns, isn: s.ISN, lastISN: s.ISN, key: tk}
	if len(ring) < c.MaxSamplesPerHost {
		if tr.total >= c.MaxSamples {
			tr.stats.DroppedBudget++
			return
		}
		if n := int(h.n); n == tr.arena.capOf(h.seg, n) {
			h.seg = tr.arena.grow(h.seg, int(h.n), c.MaxSamplesPerHost)
		}
		h.n++
		ring = tr.ring(h)
		ring[h.n-1] = e
		tr.total++
		switch n := len(ring); {
		case h.index != 0:
			tr.indexes[h.index-1].insert(ring, tk, n-1)
		case n > indexFrom:
			tr.indexes = append(tr.indexes, newTupleIndex(ring))
			h.index = int32(len(tr.indexes))
		}
	} else {
		// The oldest sample makes way, and its tuple is forgotten.
		x := tr.tupleIndex(h)
		old := &ring[h.head]
		if x != nil {
			x.remove(ring, old.key)
		}
		*old = e
		if x != nil {
			x.insert(ring, tk, int(h.head))
		}
		h.head = (h.head + 1) % uint32(len(ring))
		tr.stats.Evicted++
	}
}

// hint classifies a same-tuple pair (anomalies.md §3.5): the earlier
// attempt prev and the new sample s at ns.
func (tr *ISNTracker) hint(h *host, prev tupleState, s ISNSample, ns int64) {
	dt := time.Duration(ns - prev.ns)
	adv := s.ISN - prev.isn
	rate := float64(adv) / max(dt.Seconds(), 1e-6)
	var c int
	switch {
	case s.HasPrevSndNxt && s.ISN == s.PrevSndNxt+65537:
		// Linux tcp_timewait_state_process / tcp_twsk_unique:
		// isn = tw_snd_nxt + 65535 + 2. Deterministic by design.
		c = hintTimeWait
	case dt <= 0 || dt > hintMaxGap:
		return
	case rate >= 2.0e5 && rate <= 3.0e5:
		// RFC 9293 §3.4.1 MUST-8: M ticks every ~4 µs (250 kHz).
		c = hintClock4us
	case rate >= 1.5e7 && rate <= 1.6e7:
		// Linux secure_seq.c seq_scale: ktime_get_real_ns() >> 6.
		c = hintLinux64ns
	default:
		c = hintNotMonotone
	}
	if h.hints == 0 {
		tr.hints = append(tr.hints, [numHints]hintAgg{})
		h.hints = int32(len(tr.hints))
	}
	a := &tr.hints[h.hints-1][c]
	if a.count == 0 {
		a.first = ns
	}
	a.count++
	a.first = min(a.first, ns)
	a.last = max(a.last, ns)
	if len(a.rates) < hintRates {
		a.rates = append(a.rates, rate)
	}
}

// Stats returns the tracker's counters.
func (tr *ISNTracker) Stats() ISNStats {
	s := tr.stats
	s.Hosts = tr.hosts.n
	return s
}
