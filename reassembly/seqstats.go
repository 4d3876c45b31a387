package reassembly

import (
	"math"
	"math/bits"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// Half is one direction of a connection: what its sender sent, followed in
// sequence space. It holds Wireshark's per-direction analysis state (for
// the per-packet verdicts), a bounded map of the sequence space seen (for
// Ostermann's retransmission and unique-byte counts and for telling capture
// loss from network loss), and the statistics. It keeps no payload; its
// memory is fixed except for the unacked list, which grows with the
// segments in flight up to maxUnacked entries, and the RTT histogram,
// allocated once RTT samples fall in two buckets.
//
// What a packet touches of its sender's Half and of its peer's comes first
// (the Wireshark state, the rule checks' state, the sequence-space map,
// then the statistics, whose own hot fields lead), so that the lines read
// are contiguous rather than spread over the 816 bytes (issue 7).
type Half struct {
	w     wire
	watch watchDir
	// Notes are what the per-segment rule checks saw this sender do
	// (watch.go); nil when they saw nothing.
	Notes *Notes
	sp    space
	Stats DirStats
}

// DirStats are the statistics of one direction, modelled on Ostermann's
// tcptrace -l (a2b / b2a columns). Counts include every segment the sender
// sent that was captured. The zero value is empty statistics.
//
// The fields are in the order a packet touches them, not the order of the
// report: the first 128 bytes hold what account reads or writes on every
// segment (of the sender, and of its peer on an acknowledgment), the next
// 64 the last IPv4 identifications (every IPv4 segment), and the rest what
// only some segments touch (SYN, FIN or RST, retransmissions, zero
// windows, SACK, RTT samples, verdicts). A flow is some 50 cache lines and
// the read loop misses the cache on most of the ones it touches (issue 7:
// with 2000 connections open, account alone missed five lines a packet).
// Small fields sit together so that no padding makes every flow larger.
type DirStats struct {
	Packets uint64 // segments sent
	last    int64
	// IdleMax is the longest time between two segments of this sender.
	IdleMax     time.Duration
	AckPackets  uint64 // segments with the ACK flag
	PureAcks    uint64 // ACK without payload, SYN, FIN or RST
	DataPackets uint64 // segments with payload ("actual data pkts")
	DataBytes   uint64 // payload bytes, retransmissions included ("actual data bytes")
	PushPackets uint64 // segments with payload and PSH

	// UniqueBytes is payload that repeated no sequence space seen before
	// (Ostermann's "unique bytes sent").
	UniqueBytes uint64
	// TSPackets counts segments with the timestamps option; TSBackwards
	// (below) those whose TSval went backwards (RFC 7323 §5: PAWS would
	// drop them).
	TSPackets              uint64
	MaxSegment, MinSegment uint32 // payload sizes of data segments
	// MaxWindow and MinWindow are the largest and the smallest non-zero
	// window advertised (on segments with ACK or SYN), scaled when both
	// SYNs carried a window-scale option (WindowScaled); a SYN's own
	// window is never scaled (RFC 7323 §2.2), and, as in Ostermann's
	// tcptrace, the first scaled window replaces both extremes the SYN set.
	MaxWindow, MinWindow uint32
	lastWin              uint32
	lastTSval            uint32
	dataStart            fsm.Seq
	synSeq               fsm.Seq
	// PeerMSS is the MSS the receiver announced: the largest segment the
	// sender may send. Valid iff HasPeerMSS.
	PeerMSS      uint16
	HasPeerMSS   bool
	WindowScaled bool
	// HasHandshakeRTT says HandshakeRTT (below) is valid.
	HasHandshakeRTT bool
	// MaxSACKBlocks is the most SACK blocks in one segment.
	MaxSACKBlocks uint8
	atZero        bool
	winSet        bool
	initDone      bool
	dataStarted   bool
	dupIx         uint8
	synAcked      bool // the peer's first acknowledgment of the SYN was seen

	dups [8]dupKey

	first int64
	// InitialWindowBytes and InitialWindowPackets count the payload sent
	// before the peer acknowledged any of it.
	InitialWindowBytes   uint64
	InitialWindowPackets uint64
	SYN                  uint64 // segments with SYN (retransmissions included)
	FIN                  uint64
	RST                  uint64
	// RetransPackets and RetransBytes count segments that repeated sequence
	// space already seen in this direction, and how much of it. As in
	// Ostermann's tcptrace, SYN and FIN occupy one byte each, so a
	// retransmitted SYN counts as one retransmitted byte.
	RetransPackets uint64
	RetransBytes   uint64
	// RetransDataPackets counts those of them that carried payload: a
	// retransmitted SYN or FIN alone is not a data retransmission.
	RetransDataPackets uint64
	// OutOfOrder counts segments that only filled a hole below the highest
	// sequence sent (Ostermann's "outoforder pkts").
	OutOfOrder  uint64
	TSBackwards uint64
	// ZeroWindows counts zero-window advertisements (segments without SYN,
	// FIN or RST advertising a zero window, tshark's zero_window).
	ZeroWindows uint64
	// ZeroWindowTime is the time spent with a zero window advertised, up to
	// the last zero-window advertisement still standing; see
	// Half.ZeroWindowDuration for the total at the end of a flow.
	ZeroWindowTime time.Duration
	zeroSince      int64
	// ZeroWindowProbes counts segments sent while the peer's last window was
	// zero (Ostermann's rule: they are not checked for retransmission).
	ZeroWindowProbes     uint64
	ZeroWindowProbeBytes uint64

	SACKPackets  uint64 // segments with a SACK option
	DSACKPackets uint64 // of which the first block is a D-SACK (RFC 2883); needs Segment.SACKLeft/Right

	TruncatedPackets uint64 // segments whose payload the snaplen cut
	TruncatedBytes   uint64 // their whole payload (the bytes not captured are at most this)
	// Duplicates counts capture duplicates: a segment with the same IPv4
	// identification and sequence number as one of the last 8 (Ostermann's
	// "hardware dups"). IPv6 has no identification; it is never counted.
	Duplicates uint64
	// SuperSegments counts segments larger than PeerMSS: TSO/GSO on the
	// sender or GRO on the receiver glued segments before the capture
	// point saw them. They are capture-point artefacts, not anomalies.
	SuperSegments uint64

	// HandshakeRTT is the time from this side's SYN to the peer's first
	// acknowledgment of it, when the SYN was sent once (Ostermann's "RTT
	// from 3WHS"). Valid iff HasHandshakeRTT.
	HandshakeRTT time.Duration
	synTime      int64
	// RTT holds the round-trip samples of this sender's segments: the time
	// from a segment to the acknowledgment that covers it exactly, for
	// segments sent once (Karn's rule).
	RTT RTT

	// Verdicts counts the segments that earned each verdict, indexed by bit
	// number (see VerdictNames).
	Verdicts [verdictCount]uint32
	// MaxSuperSegment is the largest of the SuperSegments (its payload).
	MaxSuperSegment uint32

	// Capture quality. CaptureLossBytes is data the peer acknowledged but
	// the capture never saw (a hole the peer ACKed past, or an ACK beyond
	// everything seen): the capture point missed it, the network did not.
	// NetworkLossBytes is data a real (not spurious) retransmission sent
	// again, whether the capture saw the first copy or a hole: it was lost
	// on the way to the receiver. Reordered counts holes filled without a
	// retransmission verdict.
	CaptureLossEvents uint64
	CaptureLossBytes  uint64
	NetworkLossEvents uint64
	NetworkLossBytes  uint64
	Reordered         uint64
	HolesDropped      uint64 // holes forgotten because more than maxHoles were open at once
	ackUnseen         uint64 // bytes acknowledged beyond everything seen
}

// dupKey is an IPv4 identification and a sequence number packed in one
// word (id<<32 | seq), so that looking for a capture duplicate among the
// last eight is eight integer compares.
type dupKey uint64

// ZeroWindowDuration returns the time the sender spent advertising a zero
// window, counting a zero window still standing up to end.
func (h *Half) ZeroWindowDuration(end time.Time) time.Duration {
	d := h.Stats.ZeroWindowTime
	if h.Stats.atZero {
		if z := end.UnixNano() - h.Stats.zeroSince; z > 0 {
			d += time.Duration(z)
		}
	}
	return d
}

// MissedBytes returns the sequence space never captured: holes still open
// (whether or not the peer acknowledged them) plus data acknowledged beyond
// everything seen.
func (h *Half) MissedBytes() uint64 {
	n := h.Stats.ackUnseen
	for _, x := range h.sp.holes[:h.sp.n] {
		n += uint64(x.lo.Size(x.hi))
	}
	return n
}

// UnresolvedGapBytes returns the bytes of holes that were neither filled nor
// acknowledged by the end: lost somewhere, and nothing tells where.
func (h *Half) UnresolvedGapBytes() uint64 {
	var n uint64
	for _, x := range h.sp.holes[:h.sp.n] {
		if !x.acked {
			n += uint64(x.lo.Size(x.hi))
		}
	}
	return n
}

// Base returns the sequence number relative numbers count from, and false
// when nothing was seen yet.
func (h *Half) Base() (fsm.Seq, bool) { return h.w.base, h.w.baseSet }

// WindowScale returns Wireshark's window-scale state for this sender: the
// shift, or -1 when no SYN was seen and -2 when scaling is not in use.
func (h *Half) WindowScale() int8 { return h.w.winScale }

func (st *DirStats) count(v Verdict) {
	for v != 0 {
		i := bits.TrailingZeros16(uint16(v))
		st.Verdicts[i]++
		v &^= 1 << i
	}
}

// segScratch carries what account learned about the current segment to
// quality, which needs the verdicts too. It is returned, not kept in the
// Flow: a flow's bytes are cache lines the next packet may miss.
type segScratch struct {
	fill   uint32 // bytes that filled holes the peer had not acknowledged
	rexmit uint32 // bytes of sequence space seen before
}

// account updates the statistics of both directions for one segment sent by
// d. It returns whether the segment repeated sequence space already seen,
// and what quality needs.
func (f *Flow) account(now int64, d fsm.Dir, s *fsm.Segment, m *Meta) (rexmit bool, sc segScratch) {
	h, p := &f.Half[d], &f.Half[d.Other()]
	st := &h.Stats
	if st.Packets > 0 {
		if gap := time.Duration(now - st.last); gap > st.IdleMax {
			st.IdleMax = gap
		}
	} else {
		st.first = now
	}
	st.Packets++
	st.last = now

	flags := s.Flags
	syn, fin := flags&fsm.FlagSYN != 0, flags&fsm.FlagFIN != 0
	if syn {
		st.SYN++
		if st.SYN == 1 {
			st.synSeq, st.synTime = s.Seq, now
		}
	}
	if fin {
		st.FIN++
	}
	if flags&fsm.FlagRST != 0 {
		st.RST++
	}
	if flags&fsm.FlagACK != 0 {
		st.AckPackets++
		if s.Len == 0 && flags&(fsm.FlagSYN|fsm.FlagFIN|fsm.FlagRST) == 0 {
			st.PureAcks++
		}
	}
	if s.Len > 0 {
		st.DataPackets++
		st.DataBytes += uint64(s.Len)
		st.MaxSegment = max(st.MaxSegment, s.Len)
		if st.MinSegment == 0 || s.Len < st.MinSegment {
			st.MinSegment = s.Len
		}
		if flags&fsm.FlagPSH != 0 {
			st.PushPackets++
		}
		if m.Truncated {
			st.TruncatedPackets++
			st.TruncatedBytes += uint64(s.Len)
		}
		if !st.initDone {
			st.InitialWindowBytes += uint64(s.Len)
			st.InitialWindowPackets++
		}
		if !st.dataStarted {
			st.dataStarted, st.dataStart = true, s.Seq
		}
		// The receiver's MSS bounds what may be on the wire (RFC 9293
		// §3.7.1); anything larger was glued at the capture point.
		if pe := &f.Conn.Ep[d.Other()]; pe.HasMSS {
			st.PeerMSS, st.HasPeerMSS = pe.MSS, true
			if s.Len > uint32(pe.MSS) {
				st.SuperSegments++
				st.MaxSuperSegment = max(st.MaxSuperSegment, s.Len)
			}
		}
	}
	if s.SACKCount > 0 {
		st.SACKPackets++
		st.MaxSACKBlocks = max(st.MaxSACKBlocks, s.SACKCount)
		// RFC 2883 §4: a first block below the cumulative ACK reports a
		// duplicate. Needs the block edges from the decoder.
		if s.SACKLeft != s.SACKRight && s.SACKLeft.LessThan(s.Ack) {
			st.DSACKPackets++
		}
	}
	if s.HasTS {
		st.TSPackets++
		if st.TSPackets > 1 && int32(s.TSVal-st.lastTSval) < 0 {
			st.TSBackwards++
		}
		st.lastTSval = s.TSVal
	}
	if !m.IPv6 && m.IPID != 0 && s.Seq != 0 {
		k := dupKey(m.IPID)<<32 | dupKey(s.Seq)
		for _, x := range st.dups {
			if x == k {
				st.Duplicates++
				break
			}
		}
		st.dups[st.dupIx] = k
		st.dupIx = (st.dupIx + 1) % uint8(len(st.dups))
	}
	if flags&fsm.FlagRST == 0 {
		// Ostermann's tcptrace leaves RST segments out of the window
		// statistics (their window is meaningless, often zero).
		f.window(now, d, s)
	}

	if syn || fin || s.Len > 0 {
		if p.Stats.winSet && p.Stats.lastWin == 0 && p.Stats.Packets > 0 {
			// Ostermann: while the peer's window is zero, a segment is a
			// probe and is neither retransmitted nor unique data.
			st.ZeroWindowProbes++
			st.ZeroWindowProbeBytes += uint64(s.Len)
		} else {
			logical := s.LogicalLen()
			rex, fill := h.sp.add(s.Seq, s.Seq.Add(logical), &st.HolesDropped)
			sc.fill, sc.rexmit = fill, rex
			if rex > 0 {
				rexmit = true
				st.RetransPackets++
				st.RetransBytes += uint64(rex)
				if s.Len > 0 {
					st.RetransDataPackets++
				}
			} else if h.sp.filledOnly {
				st.OutOfOrder++
			}
			// Ostermann's unique bytes: the payload that was not a
			// retransmission; a repeated SYN or FIN is not payload.
			n, r := int64(logical), int64(rex)
			if syn {
				n--
				if st.SYN > 1 {
					r--
				}
			}
			if fin {
				n--
				if st.FIN > 1 {
					r--
				}
			}
			if r < n {
				st.UniqueBytes += uint64(n - r)
			}
		}
	}

	if flags&fsm.FlagACK != 0 {
		ack := s.Ack
		ps := &p.Stats
		// Ostermann's RTT from the 3-way handshake: the first ACK of a SYN
		// sent only once. Where the capture's clock went backwards in
		// between (a damaged timestamp) it measures nothing.
		// (The SYN count, a cache line further, is read last.)
		if !ps.synAcked && ack == ps.synSeq+1 && ps.SYN == 1 {
			ps.synAcked = true
			if d := time.Duration(now - ps.synTime); d >= 0 {
				ps.HandshakeRTT, ps.HasHandshakeRTT = d, true
			}
		}
		if !ps.initDone && ps.dataStarted && ps.dataStart.LessThan(ack) {
			ps.initDone = true
		}
		p.sp.acked(ack, ps)
	}
	return rexmit, sc
}

// window records the window advertised by d on a segment without RST.
func (f *Flow) window(now int64, d fsm.Dir, s *fsm.Segment) {
	st := &f.Half[d].Stats
	win := uint32(s.Window)
	me, peer := &f.Conn.Ep[d], &f.Conn.Ep[d.Other()]
	if s.Flags&fsm.FlagSYN == 0 && me.SynSent && peer.SynSent && me.HasWScale && peer.HasWScale {
		win <<= min(me.WScale, 14)
		if !st.WindowScaled && s.Flags&fsm.FlagACK != 0 {
			// Ostermann: the first scaled window replaces the extremes
			// the unscaled SYN set (RFC 7323 §2.2: a SYN's window is never
			// scaled, so it is not comparable with the later ones).
			st.WindowScaled, st.MinWindow, st.MaxWindow = true, win, win
		}
	}
	// The last window counts whatever the flags (Ostermann's win_last, which
	// decides what is a zero-window probe); the extremes only on segments
	// with ACK or SYN, where the field has a meaning.
	st.winSet, st.lastWin = true, win
	if s.Flags&(fsm.FlagACK|fsm.FlagSYN) != 0 {
		st.MaxWindow = max(st.MaxWindow, win)
		if win > 0 && (st.MinWindow == 0 || win < st.MinWindow) {
			st.MinWindow = win
		}
	}
	if s.Flags&(fsm.FlagSYN|fsm.FlagFIN) != 0 {
		return
	}
	switch {
	case win == 0:
		st.ZeroWindows++
		if !st.atZero {
			st.atZero, st.zeroSince = true, now
		}
	case st.atZero:
		st.atZero = false
		st.ZeroWindowTime += time.Duration(max(now-st.zeroSince, 0)) // 0 if the clock went backwards
	}
}

// quality classifies the segment once its verdicts are known. Data the
// network lost shows as a real (not spurious) retransmission: of a segment
// the capture saw (capture point before the loss), or filling a hole
// (capture point after it). A hole filled without a retransmission verdict
// was reordering.
func (f *Flow) quality(d fsm.Dir, v Verdict, sc segScratch) {
	st := &f.Half[d].Stats
	real := v&VerdictRetransmission != 0 && v&VerdictSpuriousRetransmission == 0
	switch {
	case sc.fill > 0 && real:
		st.NetworkLossEvents++
		st.NetworkLossBytes += uint64(sc.fill)
	case sc.fill > 0:
		st.Reordered++
	case sc.rexmit > 0 && real:
		st.NetworkLossEvents++
		st.NetworkLossBytes += uint64(sc.rexmit)
	}
}

// maxHoles bounds the holes remembered per direction.
const maxHoles = 4

// hole is sequence space below the highest sequence seen that no captured
// segment covered.
type hole struct {
	lo, hi fsm.Seq
	acked  bool // the peer acknowledged past lo: the capture missed it
}

// space is the sequence space a direction was seen to use: [lo, hi) minus
// at most maxHoles holes. It replaces Ostermann's unbounded list of
// segment ranges with a fixed-size summary; when more holes are open at
// once the oldest is forgotten (and later bytes in it count as repeats).
type space struct {
	// The fields every segment reads come before the holes.
	started    bool
	n          uint8
	filledOnly bool // the last add only filled holes (or space below lo)
	lo, hi     fsm.Seq
	holes      [maxHoles]hole
}

// add records [s, e) and returns how many of its bytes were seen before and
// how many filled holes the peer had not acknowledged.
func (sp *space) add(s, e fsm.Seq, dropped *uint64) (rexmit, fill uint32) {
	sp.filledOnly = false
	if !sp.started {
		sp.started, sp.lo, sp.hi = true, s, e
		return 0, 0
	}
	if s.LessThan(sp.lo) {
		// Before anything seen: the capture started after it was first
		// sent. New to us, as in Ostermann's tcptrace.
		cut := sp.lo
		if e.LessThan(cut) {
			cut = e
		}
		sp.lo = s
		sp.filledOnly = !sp.hi.LessThan(e)
		s = cut
		if !s.LessThan(e) {
			return 0, 0
		}
	}
	below := e // end of the part below the old hi
	if sp.hi.LessThan(e) {
		if sp.hi.LessThan(s) {
			sp.addHole(hole{lo: sp.hi, hi: s}, dropped)
			below = s
		} else {
			below = sp.hi
		}
		sp.hi = e
	}
	if !s.LessThan(below) {
		return 0, 0
	}
	length := s.Size(below)
	var filled uint32
	for i := 0; i < int(sp.n); i++ {
		x := &sp.holes[i]
		lo, hi := x.lo, x.hi
		if lo.LessThan(s) {
			lo = s
		}
		if below.LessThan(hi) {
			hi = below
		}
		if !lo.LessThan(hi) {
			continue
		}
		n := lo.Size(hi)
		filled += n
		if !x.acked {
			fill += n
		}
		switch {
		case lo == x.lo && hi == x.hi:
			sp.removeHole(i)
			i--
		case lo == x.lo:
			x.lo = hi
		case hi == x.hi:
			x.hi = lo
		default:
			rest := hole{lo: hi, hi: x.hi, acked: x.acked}
			x.hi = lo
			sp.addHole(rest, dropped)
		}
	}
	if filled > 0 && filled == length {
		sp.filledOnly = true
	}
	return length - filled, fill
}

func (sp *space) addHole(x hole, dropped *uint64) {
	if int(sp.n) == maxHoles {
		// Forget an acknowledged hole if there is one (its loss is counted
		// already), else the lowest.
		i := 0
		for j := range sp.holes {
			if sp.holes[j].acked {
				i = j
				break
			}
			if sp.holes[j].lo.LessThan(sp.holes[i].lo) {
				i = j
			}
		}
		sp.removeHole(i)
		*dropped++
	}
	sp.holes[sp.n] = x
	sp.n++
}

func (sp *space) removeHole(i int) {
	copy(sp.holes[i:], sp.holes[i+1:sp.n])
	sp.n--
}

// acked processes an acknowledgment of this direction's data: holes it
// passes and data beyond everything seen were received by the peer but not
// captured.
func (sp *space) acked(ack fsm.Seq, st *DirStats) {
	if !sp.started {
		return
	}
	for i := range sp.holes[:sp.n] {
		x := &sp.holes[i]
		if !x.acked && x.lo.LessThan(ack) {
			x.acked = true
			st.CaptureLossEvents++
			st.CaptureLossBytes += uint64(x.lo.Size(x.hi))
		}
	}
	if sp.hi.LessThan(ack) {
		n := uint64(sp.hi.Size(ack))
		st.CaptureLossEvents++
		st.CaptureLossBytes += n
		st.ackUnseen += n
		sp.hi = ack
	}
}

// RTT summarizes round-trip samples: exact minimum, maximum, mean and
// standard deviation, and percentiles from a log-scale histogram (8 buckets
// per power of two of microseconds: within 6%), so memory stays fixed. The
// histogram is sparse while few buckets are in use (a connection's RTTs
// rarely spread over more than a handful: 8 bytes a bucket, sorted, in 136
// bytes), and turns dense (rttBuckets counters, about 1 KiB) only past
// rttSparseMax buckets; a direction without samples holds neither.
//
// The latest samples that fell in one bucket are counted in the RTT itself
// (run, in bucket runBucket) and go into the histogram only when a sample
// lands in another bucket: the histogram is a separate object, a cache
// miss on most acknowledgments (issue 7: RTT.addBin was 5 % of the read
// loop), while consecutive round trips of a connection mostly share a
// bucket. The counts are the histogram's plus the run's.
type RTT struct {
	Samples   uint64
	Min, Max  time.Duration
	sum       float64 // seconds
	sumSq     float64
	sparse    *rttSparse // nil before the first sample outside the run and once dense
	hist      *rttHist
	run       uint32 // samples in bucket runBucket not yet in the histogram
	runBucket uint16
}

// rttBuckets covers 0 to 2^36 µs (19 hours).
const rttBuckets = 8 + 33*8

type rttHist [rttBuckets]uint32

// rttBin is one non-empty bucket of a sparse histogram.
type rttBin struct {
	bucket uint16
	count  uint32
}

// rttSparseMax is the most buckets a sparse histogram holds; one more and
// it turns dense.
const rttSparseMax = 16

// rttSparse is a sparse histogram: its first n bins, sorted by bucket.
type rttSparse struct {
	n    int
	bins [rttSparseMax]rttBin
}

func rttBucket(d time.Duration) int {
	us := uint64(d / time.Microsecond)
	if us < 8 {
		return int(us)
	}
	e := bits.Len64(us) - 1 // ≥ 3
	i := 8 + (e-3)*8 + int((us>>(e-3))&7)
	return min(i, rttBuckets-1)
}

// rttBucketMid returns the middle of bucket i.
func rttBucketMid(i int) time.Duration {
	if i < 8 {
		return time.Duration(i)*time.Microsecond + time.Microsecond/2
	}
	e := (i-8)/8 + 3
	sub := uint64((i - 8) % 8)
	lo := (8 + sub) << (e - 3)
	width := uint64(1) << (e - 3)
	return time.Duration(lo)*time.Microsecond + time.Duration(width)*time.Microsecond/2
}

func (r *RTT) add(d time.Duration) {
	if d < 0 {
		return // timestamps went backwards
	}
	if r.Samples == 0 || d < r.Min {
		r.Min = d
	}
	r.Max = max(r.Max, d)
	r.Samples++
	x := d.Seconds()
	r.sum += x
	r.sumSq += x * x
	b := rttBucket(d)
	if r.run > 0 && int(r.runBucket) == b && r.run < math.MaxUint32 {
		r.run++
		return
	}
	if r.run > 0 {
		r.addBin(int(r.runBucket), r.run)
	}
	r.run, r.runBucket = 1, uint16(b)
}

// addBin counts n samples in bucket b: in the sparse bins while they hold
// at most rttSparseMax buckets, in the dense histogram past that.
func (r *RTT) addBin(b int, n uint32) {
	if r.hist != nil {
		r.hist[b] += n
		return
	}
	if r.sparse == nil {
		r.sparse = new(rttSparse)
	}
	// Sparse: find the bucket, or where it goes, from the end (RTTs
	// drift slowly, so the match is usually near).
	sp := r.sparse
	bins := sp.bins[:sp.n]
	i := len(bins)
	for i > 0 && int(bins[i-1].bucket) > b {
		i--
	}
	if i > 0 && int(bins[i-1].bucket) == b {
		bins[i-1].count += n
		return
	}
	if sp.n == rttSparseMax {
		r.densify()
		r.hist[b] += n
		return
	}
	copy(sp.bins[i+1:sp.n+1], bins[i:])
	sp.bins[i] = rttBin{uint16(b), n}
	sp.n++
}

// densify moves the sparse bins into a dense histogram.
func (r *RTT) densify() {
	r.hist = new(rttHist)
	if sp := r.sparse; sp != nil {
		for _, x := range sp.bins[:sp.n] {
			r.hist[x.bucket] += x.count
		}
		r.sparse = nil
	}
}

// Avg returns the mean sample.
func (r *RTT) Avg() time.Duration {
	if r.Samples == 0 {
		return 0
	}
	return time.Duration(r.sum / float64(r.Samples) * 1e9)
}

// Stddev returns the population standard deviation of the samples.
func (r *RTT) Stddev() time.Duration {
	if r.Samples < 2 {
		return 0
	}
	n := float64(r.Samples)
	v := r.sumSq/n - (r.sum/n)*(r.sum/n)
	if v <= 0 {
		return 0
	}
	return time.Duration(math.Sqrt(v) * 1e9)
}

// Quantile returns the q-quantile (0 < q ≤ 1) of the samples, from the
// histogram, clamped to the exact minimum and maximum.
func (r *RTT) Quantile(q float64) time.Duration {
	if r.Samples == 0 {
		return 0
	}
	if r.run > 0 {
		// Answer from a copy with the run moved into the histogram, so
		// that reading leaves r as it is (a flow still held may be read
		// for a snapshot, and add it again).
		c := *r
		c.run = 0
		var sp rttSparse
		var h rttHist
		switch {
		case r.hist != nil:
			h = *r.hist
			c.hist = &h
		case r.sparse != nil:
			sp = *r.sparse
			c.sparse = &sp
		default:
			c.sparse = &sp
		}
		c.addBin(int(r.runBucket), r.run)
		return c.Quantile(q)
	}
	rank := uint64(math.Ceil(q * float64(r.Samples)))
	var seen uint64
	if r.hist == nil {
		for _, x := range r.sparse.bins[:r.sparse.n] {
			seen += uint64(x.count)
			if seen >= rank {
				return min(max(rttBucketMid(int(x.bucket)), r.Min), r.Max)
			}
		}
		return r.Max
	}
	for i, c := range r.hist {
		seen += uint64(c)
		if seen >= rank && c > 0 {
			return min(max(rttBucketMid(i), r.Min), r.Max)
		}
	}
	return r.Max
}
