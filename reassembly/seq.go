package reassembly

import (
	"strings"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// Verdict is the set of tshark tcp.analysis.* flags a packet earned. Each
// bit means exactly what the tshark field of the same name means (Wireshark
// 4.0, epan/dissectors/packet-tcp.c tcp_analyze_sequence_number), so that a
// `-T packets` run can be diffed against `tshark -T fields`. The zero value
// is no verdict.
type Verdict uint16

// The verdicts, in the order Names lists them. As in tshark, a fast or a
// spurious retransmission carries VerdictRetransmission too (tshark adds the
// "retransmission" expert item to both).
const (
	VerdictRetransmission         Verdict = 1 << iota // segment does not advance the sequence space: the fallback class
	VerdictFastRetransmission                         // ≥2 dup ACKs asked for it, within 20 ms of the last ACK
	VerdictSpuriousRetransmission                     // all of it was already acknowledged
	VerdictOutOfOrder                                 // fills in below the highest sequence sent, soon after it (iRTT, or 3 ms)
	VerdictLostSegment                                // starts beyond the next expected sequence: "previous segment not captured"
	VerdictAckLostSegment                             // acknowledges data that was never seen: "ACKed segment that wasn't captured"
	VerdictDuplicateAck                               // same ACK, window and sequence as the previous segment, no data
	VerdictZeroWindow                                 // advertises a zero window
	VerdictZeroWindowProbe                            // one byte at the next sequence while the peer's window is zero
	VerdictZeroWindowProbeAck                         // answers a zero-window probe with a zero window
	VerdictWindowFull                                 // fills the peer's advertised window exactly
	VerdictWindowUpdate                               // only the window changed
	VerdictKeepAlive                                  // zero or one byte one below the next sequence
	VerdictKeepAliveAck                               // answers a keep-alive
	VerdictReusedPorts                                // a SYN with a new ISN on a 4-tuple already in use

	verdictCount = iota
)

var verdictNames = [verdictCount]string{
	"retransmission",
	"fast_retransmission",
	"spurious_retransmission",
	"out_of_order",
	"lost_segment",
	"ack_lost_segment",
	"duplicate_ack",
	"zero_window",
	"zero_window_probe",
	"zero_window_probe_ack",
	"window_full",
	"window_update",
	"keep_alive",
	"keep_alive_ack",
	"reused_ports",
}

// VerdictNames returns the stable names of all verdicts, in bit order: the
// tshark field names without the "tcp.analysis." prefix.
func VerdictNames() []string { return verdictNames[:] }

// Has reports whether all bits of o are set in v.
func (v Verdict) Has(o Verdict) bool { return v&o == o }

// AppendNames appends the names of v's bits to dst in bit order. It does not
// allocate when dst has room.
func (v Verdict) AppendNames(dst []string) []string {
	for i := 0; i < verdictCount; i++ {
		if v&(1<<i) != 0 {
			dst = append(dst, verdictNames[i])
		}
	}
	return dst
}

// String joins the names with commas; the zero value is "none".
func (v Verdict) String() string {
	if v == 0 {
		return "none"
	}
	var buf [verdictCount]string
	return strings.Join(v.AppendNames(buf[:0]), ",")
}

// ParseVerdict returns the verdict bit named name, and false if there is none.
func ParseVerdict(name string) (Verdict, bool) {
	for i, n := range verdictNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// Packet is the sequence analysis of the most recent segment of a flow,
// valid until the next Observe of that flow.
type Packet struct {
	Verdict Verdict
	// Seq is the segment's sequence number relative to its sender's base
	// (the ISN when the SYN was captured, else the first sequence number
	// seen minus one), as tshark's tcp.seq.
	Seq uint32
	// Ack is the acknowledgment number relative to the receiver's base when
	// the ACK flag is set, and the raw field otherwise, as tshark's tcp.ack.
	Ack uint32
	// DupAckNum is the ordinal of a duplicate ACK (tcp.analysis.duplicate_ack_num);
	// valid iff Verdict has VerdictDuplicateAck.
	DupAckNum uint32
	// DupAckFrame is the frame of the last non-duplicate ACK that this one
	// repeats (tcp.analysis.duplicate_ack_frame).
	DupAckFrame uint64
}

// maxUnacked caps the segments remembered as sent but not yet acknowledged
// per direction. Wireshark caps its list at the same number
// (TCP_MAX_UNACKED_SEGMENTS); verdicts depend on the cap (see analyze).
const maxUnacked = 1000

// noWindow is the window of a direction that has sent nothing yet
// (Wireshark starts tcp_flow_t.window at G_MAXUINT32).
const noWindow = ^uint32(0)

// Window-scale states before the shift is known (Wireshark's win_scale).
const (
	wsUnknown int8 = -1 // no SYN seen yet
	wsNone    int8 = -2 // a SYN showed that scaling is not in use
)

// sent is a segment sent and not yet acknowledged: an entry of Wireshark's
// unacked list, plus what Karn's rule needs.
type sent struct {
	seq, end fsm.Seq // end includes SYN and FIN
	ts       int64   // capture time, ns since the Unix epoch
	rexmit   bool    // this range was sent more than once: no RTT sample (Karn)
}

// wire is one direction of Wireshark's sequence analysis (tcp_flow_t and
// tcp_analyze_seq_flow_info_t). Its fields keep Wireshark's meanings, quirks
// included: a sequence number of 0 means "not set", as in the C code.
type wire struct {
	base      fsm.Seq // base_seq: relative numbers count from here
	baseSet   bool
	winScale  int8   // wsUnknown, wsNone, or the shift (at most 14)
	window    uint32 // last raw (unscaled) window field, noWindow before any
	firstAck  bool   // is_first_ack: a SYN was sent and no pure ACK since
	lastFlags Verdict

	// Ordered so that no padding makes every flow larger (issue 7).
	nextSeq         fsm.Seq // highest SEQ+LEN sent (nextseq); 0 = unset
	maxSeqToBeAcked fsm.Seq // highest contiguous SEQ+LEN sent; 0 = unset
	lastAck         fsm.Seq // last ACK field sent (whatever the flags); 0 = unset
	dupAckNum       int32   // -1 silences further ack_lost_segment verdicts
	nextSeqTime     int64
	lastAckTime     int64
	lastNonDupAck   uint64

	unacked []sent // insertion order; at most maxUnacked
}

func (w *wire) reset() {
	u := w.unacked[:0]
	*w = wire{winScale: wsUnknown, window: noWindow, unacked: u}
}

// seqConn is the part of Wireshark's per-conversation analysis
// (struct tcp_analysis) that is not per direction.
type seqConn struct {
	started bool
	mruSyn  int64 // ts_mru_syn: time of the most recent SYN without ACK; 0 = none
	iRTT    int64 // ts_first_rtt: SYN to the first pure ACK; 0 = unknown
}

// Thresholds of tcp_analyze_sequence_number.
const (
	fastRetransWindow = 20 * time.Millisecond // fast retransmission: this soon after the last dup ACK
	oooDefault        = 3 * time.Millisecond  // out of order: this soon, when no iRTT is known
)

// analyze runs the sequence-space analysis of one segment sent by d: the
// Wireshark verdicts, Ostermann-style statistics and capture quality. It is
// the only hook in Observe (besides inheritSeq on reuse) and allocates only
// when the unacked list grows past its capacity, the first RTT sample of a
// direction arrives, or the watch first notes something (Notes).
func (f *Flow) analyze(ts time.Time, d fsm.Dir, s *fsm.Segment, m *Meta) {
	if !f.seq.started {
		f.seq.started = true
		f.Half[0].w.reset()
		f.Half[1].w.reset()
	}
	now := ts.UnixNano()
	f.Pkt = Packet{}
	if m.BadChecksum {
		// Not followed (Meta.BadChecksum): the sequence numbers may be garbage.
		f.Pkt.Seq, f.Pkt.Ack = f.relative(d, s)
		return
	}
	fwd, rev := &f.Half[d], &f.Half[d.Other()]
	// Statistics first: Karn's rule in the unacked list needs to know
	// whether this segment repeats sequence space.
	rexmit, sc := f.account(now, d, s, m)
	v := f.reuse(d, s)
	v = f.verdicts(now, fwd, rev, v, s, m.Frame, rexmit)
	fwd.Stats.count(v)
	f.quality(d, v, sc)
	f.Pkt.Verdict = v
	f.Pkt.Seq, f.Pkt.Ack = f.relative(d, s)
	f.watch(now, d, s, m) // watch.go: per-connection rule checks
}

// relative returns the segment's relative sequence and acknowledgment
// numbers (tshark's tcp.seq and tcp.ack).
func (f *Flow) relative(d fsm.Dir, s *fsm.Segment) (seq, ack uint32) {
	seq = uint32(s.Seq - f.Half[d].w.base)
	ack = uint32(s.Ack)
	if s.Flags&fsm.FlagACK != 0 {
		ack = uint32(s.Ack - f.Half[d.Other()].w.base)
	}
	return seq, ack
}

// reuse applies Wireshark's port-reuse rule (dissect_tcp, before the
// sequence analysis): a SYN without ACK whose sequence number differs from
// the base its sender already has starts a new conversation, with all
// analysis state fresh; a SYN-ACK with a new sequence number is flagged and
// becomes its sender's new base. The flow table may or may not have started
// a new Flow for the same segment (its rule is the RFC's, see
// fsm.Conn.Reusable); inheritSeq carries the analysis across so that this
// rule alone decides here.
func (f *Flow) reuse(d fsm.Dir, s *fsm.Segment) Verdict {
	fw := &f.Half[d].w
	if !fw.baseSet || s.Seq == fw.base {
		return 0
	}
	switch s.Flags & (fsm.FlagSYN | fsm.FlagACK) {
	case fsm.FlagSYN:
		f.Half[0].w.reset()
		f.Half[1].w.reset()
		f.seq.mruSyn, f.seq.iRTT = 0, 0
		return VerdictReusedPorts
	case fsm.FlagSYN | fsm.FlagACK:
		// Wireshark looks the conversation up again with the addresses
		// swapped, finds the same one, and rebases it (issue 16944).
		fw.base = s.Seq
		return VerdictReusedPorts
	}
	return 0
}

// verdicts mirrors tcp_analyze_sequence_number and the bookkeeping around it
// in dissect_tcp, test for test and in the same order, so that precedence
// (which verdict suppresses which) is Wireshark's. v holds verdicts already
// given (reused ports); rexmit says whether the statistics saw this segment
// repeat sequence space, for Karn's rule only.
func (f *Flow) verdicts(now int64, fwd, rev *Half, v Verdict, s *fsm.Segment, frame uint64, rexmit bool) Verdict {
	fw, rw := &fwd.w, &rev.w
	seq, ack, seglen, flags := s.Seq, s.Ack, s.Len, s.Flags
	window := uint32(s.Window)

	// The first segment of a direction fixes its base: the ISN of a SYN,
	// else one below the first sequence number, so that a connection picked
	// up mid-stream still counts from 1 (Wireshark bug 1542). The peer's
	// base comes from the first acknowledgment, when its SYN is missing.
	if !fw.baseSet {
		fw.base, fw.baseSet = seq, true
		if flags&fsm.FlagSYN == 0 {
			fw.base = seq - 1
		}
	}
	if !rw.baseSet && flags&fsm.FlagACK != 0 {
		rw.base, rw.baseSet = ack-1, true
	}

	switch {
	// A zero-window probe is one byte at the next sequence number while
	// the peer advertises a zero window. Nothing else is checked.
	case seglen == 1 && seq == fw.nextSeq && rw.window == 0:
		v |= VerdictZeroWindowProbe
	default:
		v = verdictsFwd(fw, rw, v, seq, ack, seglen, window, flags)
	}

	// finished_fwd: a new acknowledgment number restarts dup-ACK counting.
	if ack != fw.lastAck {
		fw.lastNonDupAck = frame
		fw.dupAckNum = 0
	}

	// ACKED LOST PACKET: the acknowledgment covers data beyond the highest
	// contiguous sequence the peer was seen to send.
	if rw.maxSeqToBeAcked != 0 && rw.maxSeqToBeAcked.LessThan(ack) && flags&fsm.FlagACK != 0 {
		// A hole below the peer's highest segment: say so, and move the
		// mark past it so the same hole is reported once. Wireshark 4.0
		// compares the two as plain unsigned numbers, not in sequence
		// space. (Later releases test ">" here; tshark 4.0.17 behaves as
		// "<", which the crafted cases in seq_test.go pin down.)
		if uint32(rw.maxSeqToBeAcked) < uint32(rw.nextSeq) {
			rw.maxSeqToBeAcked = rw.nextSeq
			v |= VerdictAckLostSegment
		} else {
			// Acknowledged beyond everything the peer was seen to send:
			// once, until the peer's own ACK moves (the peer's dup-ACK
			// counter doubles as the "already said so" mark).
			if rw.dupAckNum == 0 {
				v |= VerdictAckLostSegment
			}
			rw.dupAckNum = -1
		}
	}

	// RETRANSMISSION / FAST RETRANSMISSION / SPURIOUS / OUT-OF-ORDER:
	// a segment with data (or SYN or FIN) that does not advance nextseq.
	if (seglen > 0 || flags&(fsm.FlagSYN|fsm.FlagFIN) != 0) && v&VerdictKeepAlive == 0 {
		v |= retransClass(now, fw, rw, f.seq.iRTT, seq, seglen, flags)
	}

	// Record the segment in the unacked list (only below Wireshark's cap,
	// and only then does a SYN or FIN count in nextseq: a Wireshark quirk
	// kept so that later verdicts agree).
	nextseq := seq.Add(seglen)
	if (seglen > 0 || flags&(fsm.FlagSYN|fsm.FlagFIN) != 0) && len(fw.unacked) < maxUnacked {
		if flags&(fsm.FlagSYN|fsm.FlagFIN) != 0 {
			nextseq++
		}
		if rexmit {
			// Karn: every earlier transmission of this range is now
			// ambiguous too.
			for i := range fw.unacked {
				u := &fw.unacked[i]
				if u.seq.LessThan(nextseq) && seq.LessThan(u.end) {
					u.rexmit = true
				}
			}
		}
		fw.unacked = append(fw.unacked, sent{seq: seq, end: nextseq, ts: now, rexmit: rexmit})
	}

	// nextseq only grows; a zero-window probe does not move it.
	if fw.nextSeq.LessThan(nextseq) || fw.nextSeq == 0 {
		if v&VerdictZeroWindowProbe == 0 {
			fw.nextSeq = nextseq
			fw.nextSeqTime = now
		}
	}
	// maxseqtobeacked follows nextseq only while the segments are
	// contiguous, so a hole stops it.
	if seq == fw.maxSeqToBeAcked || fw.maxSeqToBeAcked == 0 {
		if v&VerdictZeroWindowProbe == 0 {
			fw.maxSeqToBeAcked = fw.nextSeq
		}
	}

	fw.window = window
	fw.lastAck = ack
	fw.lastAckTime = now
	fw.lastFlags = v

	// Forget the peer's segments this acknowledgment covers (whatever the
	// flags: Wireshark does not check ACK here), taking RTT samples from
	// exact, unambiguous acknowledgments (Karn's rule).
	rev.ackUnacked(ack, now)

	// After the analysis, dissect_tcp processes options and flags.
	if s.HasWScale {
		// RFC 7323 §2.3: a shift above 14 is used as 14.
		fw.winScale = int8(min(s.WScale, 14))
	}
	if flags&fsm.FlagSYN != 0 {
		// verify_tcp_window_scaling: scaling is in use only if both SYNs
		// carried the option.
		switch {
		case fw.winScale == wsUnknown:
			fw.winScale, rw.winScale = wsNone, wsNone
		case flags&fsm.FlagACK != 0 && rw.winScale == wsNone:
			fw.winScale = wsNone
		}
		if flags&fsm.FlagACK == 0 {
			f.seq.mruSyn = now
		}
		fw.firstAck = true
	}
	if flags&(fsm.FlagSYN|fsm.FlagACK) == fsm.FlagACK {
		// iRTT: the most recent SYN to the first pure ACK.
		if f.seq.mruSyn != 0 && f.seq.iRTT == 0 {
			f.seq.iRTT = now - f.seq.mruSyn
		}
		fw.firstAck = false
	}
	if v&VerdictDuplicateAck != 0 {
		f.Pkt.DupAckNum = uint32(fw.dupAckNum)
		f.Pkt.DupAckFrame = fw.lastNonDupAck
	}
	return v
}

// verdictsFwd holds the tests between the zero-window probe and
// finished_fwd; it returns early where the C code jumps to finished_fwd.
func verdictsFwd(fw, rw *wire, v Verdict, seq, ack fsm.Seq, seglen, window uint32, flags fsm.Flags) Verdict {
	control := flags&(fsm.FlagSYN|fsm.FlagFIN|fsm.FlagRST) != 0
	// ZERO WINDOW: not on SYN, FIN or RST.
	if window == 0 && !control {
		v |= VerdictZeroWindow
	}
	// LOST PACKET: the segment starts beyond nextseq (not on RST).
	if fw.nextSeq != 0 && fw.nextSeq.LessThan(seq) && flags&fsm.FlagRST == 0 {
		v |= VerdictLostSegment
	}
	// KEEP ALIVE: zero or one byte starting one below nextseq.
	if seglen <= 1 && seq == fw.nextSeq-1 && !control {
		v |= VerdictKeepAlive
	}
	same := seglen == 0 && seq == fw.nextSeq && ack == fw.lastAck && !control
	// WINDOW UPDATE: only the (non-zero) window changed.
	if same && window != 0 && window != fw.window {
		v |= VerdictWindowUpdate
	}
	// WINDOW FULL: the segment ends exactly at the peer's right window
	// edge. The peer's window is scaled unless its last segment was a SYN
	// (issue 14690) or scaling is off; unknown scaling gives no verdict.
	if seglen > 0 && rw.winScale != wsUnknown && !control {
		shift := uint(0)
		if !rw.firstAck && rw.winScale >= 0 {
			shift = uint(rw.winScale)
		}
		if seq.Add(seglen) == rw.lastAck.Add(rw.window<<shift) {
			v |= VerdictWindowFull
		}
	}
	if !same || window != fw.window {
		return v
	}
	switch {
	// KEEP ALIVE ACK: repeats the last ACK right after a keep-alive.
	case window != 0 && rw.lastFlags&VerdictKeepAlive != 0:
		return v | VerdictKeepAliveAck
	// ZERO WINDOW PROBE ACK: repeats a zero window right after a probe.
	case window == 0 && rw.lastFlags&VerdictZeroWindowProbe != 0:
		return v | VerdictZeroWindowProbeAck
	// DUPLICATE ACK: same window, sequence and acknowledgment, no data.
	case window != 0:
		if fw.dupAckNum == -1 {
			fw.dupAckNum = 1 // a silenced ack_lost_segment hole: start again
		} else {
			fw.dupAckNum++
		}
		return v | VerdictDuplicateAck
	}
	return v
}

// retransClass classifies a segment that carries data, SYN or FIN and is
// not a keep-alive: spurious, fast, out-of-order or plain retransmission,
// with Wireshark's precedence (fast retransmission before out-of-order:
// tcp.fastrt_supersedes_ooo defaults to TRUE).
func retransClass(now int64, fw, rw *wire, iRTT int64, seq fsm.Seq, seglen uint32, flags fsm.Flags) Verdict {
	notAdvanced := fw.nextSeq != 0 && seq.LessThan(fw.nextSeq)
	// One byte below nextseq with more than one byte of data follows a
	// zero-window probe: new data, not a retransmission.
	if seglen > 1 && fw.nextSeq-1 == seq {
		notAdvanced = false
	}
	// SPURIOUS: everything in it was acknowledged already.
	if seglen > 0 && rw.lastAck != 0 && seq.Add(seglen).LessThanEq(rw.lastAck) {
		return VerdictSpuriousRetransmission | VerdictRetransmission
	}
	// FAST: at least two dup ACKs asked for exactly this sequence number,
	// the last one less than 20 ms ago. Durations are unsigned in the C
	// code, so a timestamp going backwards never qualifies.
	if notAdvanced && rw.dupAckNum >= 2 && rw.lastAck == seq && uint64(now-rw.lastAckTime) < uint64(fastRetransWindow) {
		return VerdictFastRetransmission | VerdictRetransmission
	}
	// OUT-OF-ORDER: soon after the highest segment (within the iRTT, or
	// 3 ms when unknown) and not ending where it did.
	thresh := uint64(oooDefault)
	if iRTT != 0 {
		thresh = uint64(iRTT)
	}
	end := seq.Add(seglen)
	if flags&(fsm.FlagSYN|fsm.FlagFIN) != 0 {
		end++
	}
	if notAdvanced && uint64(now-fw.nextSeqTime) < thresh && fw.nextSeq != end {
		return VerdictOutOfOrder
	}
	if notAdvanced {
		return VerdictRetransmission
	}
	return 0
}

// ackUnacked removes from h's unacked list what ack covers, as Wireshark
// does on every segment of the reverse direction, and takes an RTT sample
// from a segment it acknowledges exactly and that was sent only once.
//
// It runs on every segment, mostly finding nothing to drop: entries are
// written only when they change or move, so that the list's memory is not
// dirtied for nothing.
func (h *Half) ackUnacked(ack fsm.Seq, now int64) {
	list := h.w.unacked
	if len(list) == 0 {
		return
	}
	n := 0
	for i := range list {
		u := &list[i]
		switch {
		case ack == u.end:
			if !u.rexmit {
				h.Stats.RTT.add(time.Duration(now - u.ts))
			}
			continue // acknowledged: drop it
		case u.seq.LessThan(ack) && ack.LessThanEq(u.end):
			u.seq = ack // partly acknowledged
		case ack.LessThan(u.end):
			// not yet acknowledged
		default:
			continue // acknowledged before: drop it
		}
		if n != i {
			list[n] = *u
		}
		n++
	}
	if n != len(list) {
		h.w.unacked = list[:n]
	}
}

// inheritSeq carries the Wireshark analysis state of old, the incarnation
// this flow replaces, so that the port-reuse rule of reuse decides, as in
// Wireshark, whether the new SYN starts fresh. Statistics start from zero.
func (f *Flow) inheritSeq(old *Flow) {
	f.seq = old.seq
	for d := range f.Half {
		w := old.Half[d].w
		w.unacked = append([]sent(nil), w.unacked...)
		f.Half[d].w = w
	}
}
