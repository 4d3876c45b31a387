package reassembly

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// Note is one per-connection observation of the watch (anomalies.md §5): how
// many times its sender did it and where it first did. The zero value means
// it never happened.
type Note struct {
	Count uint32
	Frame uint64    // first occurrence
	Time  time.Time // capture time of Frame
}

func (n *Note) mark(frame uint64, now int64) {
	if n.Count == 0 {
		n.Frame, n.Time = frame, time.Unix(0, now).UTC()
	}
	if n.Count < ^uint32(0) {
		n.Count++
	}
}

// Span is a stretch of one connection's life: from frame First (capture time
// From) to frame Last (To). Count is what happened inside it (probes,
// keep-alive exchanges); valid iff Last != 0.
type Span struct {
	First, Last uint64
	From, To    time.Time
	Count       uint32
}

// Duration returns To - From.
func (s *Span) Duration() time.Duration { return s.To.Sub(s.From) }

// Notes are what the watch saw one sender do that the anomaly engine turns
// into findings. A Half holds them only once something was seen (Half.Notes
// is nil otherwise), so clean connections pay one pointer; any RST, SYN
// payload, zero window or keep-alive allocates them (736 bytes).
type Notes struct {
	// SYNData counts SYNs that carried payload; TFO is set when such a SYN
	// carried a TCP Fast Open option (RFC 7413), which makes it legitimate.
	SYNData Note
	TFO     bool
	// AckUnseen counts acknowledgments this sender gave for data its peer
	// had not sent: the peer's next new segment started below the ACK
	// (RFC 9293 §3.10.7.4 "If the ACK acks something not yet sent ...";
	// RFC 5961 §5.2). The Note's frame is that of the ACK.
	AckUnseen Note
	// Recision counts advertisements whose right window edge (ACK plus
	// scaled window) moved left by at least one scaled unit, on segments
	// that did not acknowledge less than before (RFC 9293 §3.8.6 SHLD-14:
	// a receiver should not shrink the window; Zeek window_recision).
	Recision Note
	// ZeroWindow is the longest stretch during which every window this
	// sender advertised was zero; an episode still open at the end runs to
	// the flow's last packet. Count is the most probes its peer sent in a
	// row without this sender answering any of them.
	ZeroWindow Span
	// KeepAliveRun is the longest run of keep-alives this sender sent with
	// no segment at all from its peer in between (Count probes).
	KeepAliveRun Span
	// RSTInjection is the first RST of this sender when the injection
	// score of anomalies.md §5 finds it suspect (Count: its score, at
	// least 2; zero otherwise); RSTWhy names the indicators that scored.
	// Some indicators come after the RST (the sender's next TTLs, the
	// receiver's challenge ACK, the sender going on), so both are kept up
	// to date with every such segment and final when the flow ends.
	RSTInjection Note
	RSTWhy       string
	// KeepAliveIdle is the longest stretch without payload in either
	// direction during which this sender's keep-alives were answered
	// (Count exchanges), from the last payload (or the first packet) to the
	// last answered probe.
	KeepAliveIdle Span
	// TTLShift counts changes of this sender's TTL (hop limit) to a new
	// value that persisted for TTLShiftRun segments in a row: a route
	// change, not an injection (anomalies.md §5). The Note's frame is the
	// segment that confirmed the first change, TTLFrom and TTLTo its values.
	TTLShift Note
	// AckTooOld counts acknowledgments this sender gave below
	// SND.UNA - MAX.SND.WND of its receiver: under the highest ACK it had
	// sent by more than the largest window it had advertised (RFC 5961
	// §5.2; a blind data injection guesses the ACK). Only with the window
	// scale known. ACKs above SND.NXT are AckUnseen.
	AckTooOld      Note
	TTLFrom, TTLTo uint8

	// ICMPReject counts ICMP or ICMPv6 destination unreachables that
	// quoted this sender's SYN while it was in SYN-SENT (anomalies.md §5
	// CONN_REJECTED_ICMP; Table.ICMPError). The Note's frame is the first
	// error's; ICMP is what that error said and who sent it.
	ICMPReject Note
	ICMP       ICMPReject

	// RSTRun is this sender's longest run of RSTs each sent less than
	// RSTStormGap after the one before (Zeek's
	// tcp_storm_interarrival_thresh): First and Last are its first and last
	// RST, Count how many it held. The engine calls a run of at least its
	// threshold a RST storm (anomalies.md §5 RST_STORM).
	RSTRun Span

	// Starts of the open zero-window episode and keep-alive run, kept here
	// rather than in every flow: both are rare.
	zeroFrame, kaRunFrame uint64
	zeroNs, kaRunNs       int64

	// The current run of RSTs: its first RST, the last one's time, its length.
	rstFrame        uint64
	rstFirst, rstNs int64
	rstCount        uint32

	// inj is the injection score of this sender's first RST, indicator by
	// indicator.
	inj injScore
}

// injScore is the injection score of a sender's first RST (anomalies.md §5),
// kept indicator by indicator because three of them are decided by the
// segments that follow it.
type injScore struct {
	frame uint64 // the RST
	ns    int64
	chAck fsm.Seq // the receiver's RCV.NXT before the RST (the sender's SND.NXT as seen)
	// The RST's IPv4 identification (valid iff v4; also Flow.IPIDs) and
	// the sender's run it is compared with.
	id, runID uint16
	// TTL: the RST's, the sender's baseline, the points (2 for one hop, 3
	// for more; 0 when the RST matched the baseline or there was none), and
	// what the sender's later segments said: ttlPending until one came back
	// to the baseline (ttlBack) or TTLShiftRun in a row kept the RST's TTL
	// (ttlStayed: a route change, the points withdrawn). ttlRun counts those.
	ttl, ttlBase, ttlPts, ttlState, ttlRun uint8
	v4                                     bool
	idOff                                  bool // IP ID > 1000 off an incrementing run: 2
	tsBack                                 bool // TSval behind the previous one (PAWS): 2
	kept                                   bool // the sender went on after its RST: 3
	// chWait: the receiver may still answer with a challenge ACK (within
	// ChallengeACKWait of the RST); challenge: it did, 1 point.
	chWait, challenge bool
}

// States of injScore.ttlState.
const (
	ttlPending = iota
	ttlBack
	ttlStayed
)

// ChallengeACKWait is how long after a RST the receiver's challenge ACK
// counts towards the RST's injection score (anomalies.md §5: "R answered
// with a challenge ACK"). Linux sends it at once, subject only to its
// per-socket rate limit (tcp_invalid_ratelimit, 500 ms, for the next one).
const ChallengeACKWait = time.Second

// points returns the score: every indicator that holds, the TTL's only
// while no run of later segments at the RST's TTL withdrew it.
func (j *injScore) points() uint32 {
	p := uint32(0)
	if j.ttlState != ttlStayed {
		p += uint32(j.ttlPts)
	}
	if j.idOff {
		p += 2
	}
	if j.tsBack {
		p += 2
	}
	if j.kept {
		p += 3
	}
	if j.challenge {
		p++
	}
	return p
}

// why names the indicators that scored, and a TTL that was withdrawn.
func (j *injScore) why() string {
	var parts []string
	if j.ttlPts > 0 {
		switch j.ttlState {
		case ttlBack:
			parts = append(parts, fmt.Sprintf("TTL %d against %d on its other segments, and its next segment was back at %d", j.ttl, j.ttlBase, j.ttlBase))
		case ttlPending:
			// A forged RST is usually the last segment seen from its
			// "sender": the points stand, unconfirmed.
			parts = append(parts, fmt.Sprintf("TTL %d against %d on its other segments (no later segment of the sender came back to %d to confirm it)", j.ttl, j.ttlBase, j.ttlBase))
		}
	}
	if j.idOff {
		parts = append(parts, fmt.Sprintf("IP ID %d off its run at %d", j.id, j.runID))
	}
	if j.tsBack {
		parts = append(parts, "TSval behind its previous one")
	}
	if j.kept {
		parts = append(parts, "the sender kept sending after it")
	}
	if j.challenge {
		parts = append(parts, "the receiver answered with a challenge ACK (RFC 5961 §3.2)")
	}
	if j.ttlPts > 0 && j.ttlState == ttlStayed {
		parts = append(parts, fmt.Sprintf("its TTL %d not scored: the sender's next %d segments kept it (a route change)", j.ttl, TTLShiftRun))
	}
	return strings.Join(parts, ", ")
}

// settle brings RSTInjection and RSTWhy up to date with n.inj: the RST is
// suspect from a score of 2.
func (n *Notes) settle() {
	j := &n.inj
	p := j.points()
	if p < 2 {
		n.RSTInjection, n.RSTWhy = Note{}, ""
		return
	}
	n.RSTInjection = Note{Count: p, Frame: j.frame, Time: time.Unix(0, j.ns).UTC()}
	n.RSTWhy = j.why()
}

// RSTStormGap is the most time between two RSTs of one sender that keeps
// them in one run (Zeek's tcp_storm_interarrival_thresh, 1 s).
const RSTStormGap = time.Second

// rstRun accounts a RST of the sender whose notes are n, sent at now in
// frame, and keeps its longest run of RSTs in n.RSTRun.
func rstRun(n *Notes, frame uint64, now int64) {
	if n.rstCount == 0 || now-n.rstNs >= int64(RSTStormGap) {
		n.rstFrame, n.rstFirst, n.rstCount = frame, now, 0
	}
	n.rstNs = now
	if n.rstCount < ^uint32(0) {
		n.rstCount++
	}
	if n.rstCount > n.RSTRun.Count {
		n.RSTRun = Span{First: n.rstFrame, Last: frame, From: time.Unix(0, n.rstFirst).UTC(), To: time.Unix(0, now).UTC(), Count: n.rstCount}
	}
}

// watchDir is the per-sender state of the watch: a handful of numbers, no
// payload. Ordered by size so that no padding makes every flow larger
// (issue 7; TestFlowSizeClass).
type watchDir struct {
	pendFrame uint64
	pendNs    int64

	// Payload and answered keep-alives since: the keep-alive-only idle stretch.
	lastPayload int64
	payFrame    uint64

	sndMax  fsm.Seq // highest SEQ+SEG.LEN this sender sent; valid iff sent
	lastAck fsm.Seq // highest ACK it sent; valid iff edgeSet
	edge    fsm.Seq // right window edge it last advertised; valid iff edgeSet
	maxWin  uint32  // largest scaled window it advertised; valid iff edgeSet
	pend    fsm.Seq // an ACK it sent beyond the peer's sndMax; valid iff pendSet

	// Zero-window episode (this sender advertises zero).
	probes uint32 // peer probes since this sender's last segment, during the episode

	// Keep-alives this sender sent with no reply, and their first one.
	kaRun  uint32
	kaExch uint32

	lastTS uint32 // its last TSval; valid iff tsSet

	// Its first SYN-ACK's IPv4 identification (the nmap IP-ID class of
	// its host, Flow.IPIDs), and where that SYN-ACK was: frames after the
	// flow's first and microseconds after its first packet, so that a
	// flow pays 8 bytes rather than 16 for it; valid iff saSet.
	saFrame, saUs uint32
	saID          uint16

	// Injection score inputs: the sender's TTL baseline (the value of its
	// first segment and how many agreed), its last IP ID and TSval, and
	// whether it sent a RST (and kept sending after it).
	lastID             uint16
	ttl, ttlSame, segs uint8
	ttlNew, ttlRun     uint8 // a TTL off the baseline and how many segments in a row carried it

	sent, edgeSet, pendSet, zero, synack bool
	idRun                                bool // IP IDs so far incremented by at most 10 a segment
	tsSet, rstSent, afterRST             bool
	kaPending                            bool // a keep-alive waits for its answer
	saSet                                bool
}

// SentSYNACK reports whether this sender sent a segment with SYN and ACK.
func (h *Half) SentSYNACK() bool { return h.watch.synack }

func (h *Half) notes() *Notes {
	if h.Notes == nil {
		h.Notes = new(Notes)
	}
	return h.Notes
}

// watch runs the per-segment rule checks of anomalies.md §5 that need every
// segment: SYN with data, ACK of data never sent, window recision, zero-window
// stalls and keep-alives. It is called from analyze, after the verdicts, for
// every segment of d that is followed (not one with a bad checksum).
func (f *Flow) watch(now int64, d fsm.Dir, s *fsm.Segment, m *Meta) {
	h, p := &f.Half[d], &f.Half[d.Other()]
	w, pw := &h.watch, &p.watch
	flags := s.Flags
	v := f.Pkt.Verdict
	rst := flags&fsm.FlagRST != 0
	probe := v&(VerdictKeepAlive|VerdictZeroWindowProbe) != 0

	// RFC 9293 §3.10.7.3 accepts data on a SYN, but a stack delivers it
	// only with TCP Fast Open (RFC 7413); anything else is a crafted probe
	// or an evasion attempt (Zeek SYN_with_data).
	if flags&fsm.FlagSYN != 0 && s.Len > 0 && !rst {
		n := h.notes()
		n.SYNData.mark(m.Frame, now)
		n.TFO = n.TFO || s.TFO
	}

	if flags&(fsm.FlagSYN|fsm.FlagACK) == fsm.FlagSYN|fsm.FlagACK {
		if !w.synack && !m.IPv6 {
			f.sampleSYNACK(w, m, now)
		}
		w.synack = true
	}
	if pn := p.Notes; pn != nil && pn.inj.chWait {
		challengeACK(pn, w, s, now)
	}

	// The peer answered: its keep-alive run and its zero-window probe run
	// end here.
	pw.kaRun = 0
	w.probes = 0
	if pw.kaPending && !rst && flags&fsm.FlagACK != 0 && (v&VerdictKeepAliveAck != 0 || s.Ack == pw.sndMax) {
		// The keep-alive was answered with an ACK of everything the prober
		// sent (anomalies.md §5: probe + ACK with ack == prober's snd_max).
		pw.kaPending = false
		pw.kaExch++
		if pw.kaExch >= 2 {
			kaIdle(f, p, pw, m.Frame, now)
		}
	}

	// ACK of data never sent: this segment shows where the sender's new
	// data starts; an earlier ACK from the peer beyond that point covered
	// data the sender had not sent.
	if pw.pendSet && !rst && !probe && w.sent && s.Seq == w.sndMax {
		if s.Seq.LessThan(pw.pend) {
			n := p.notes()
			n.AckUnseen.mark(pw.pendFrame, pw.pendNs)
		}
		pw.pendSet = false
	} else if pw.pendSet && w.sent && !rst && !s.Seq.LessThan(pw.pend) {
		pw.pendSet = false // the data was sent: the capture missed it
	}
	if flags&fsm.FlagACK != 0 && !rst && pw.sent && pw.sndMax.LessThan(s.Ack) && !w.pendSet {
		w.pend, w.pendSet, w.pendFrame, w.pendNs = s.Ack, true, m.Frame, now
	}

	// Window recision: the right edge ACK + (window << scale) moves left.
	// Only with the scale known (both SYNs seen), never on SYN, FIN or RST,
	// and only from a segment that acknowledges no less than before, so a
	// reordered old ACK is not a recision.
	if flags&fsm.FlagACK != 0 && flags&(fsm.FlagSYN|fsm.FlagFIN|fsm.FlagRST) == 0 && h.w.winScale != wsUnknown {
		shift := uint(0)
		if h.w.winScale > 0 {
			shift = uint(h.w.winScale)
		}
		win := uint32(s.Window) << shift
		edge := s.Ack.Add(win)
		// RFC 5961 §5.2: acceptable only if SND.UNA - MAX.SND.WND <=
		// SEG.ACK; the receiver drops it and sends a challenge ACK. Its
		// SND.UNA is the highest ACK it accepted, never beyond what it sent
		// (an ACK of unseen data did not move it).
		una := w.lastAck
		if pw.sent && pw.sndMax.LessThan(una) {
			una = pw.sndMax
		}
		if w.edgeSet && s.Ack.LessThan(fsm.Seq(uint32(una)-w.maxWin)) {
			h.notes().AckTooOld.mark(m.Frame, now)
		}
		if win > w.maxWin || !w.edgeSet {
			w.maxWin = win
		}
		if w.edgeSet && !s.Ack.LessThan(w.lastAck) {
			if edge.LessThan(w.edge) && edge.Size(w.edge) >= 1<<shift {
				h.notes().Recision.mark(m.Frame, now)
			}
		}
		if !w.edgeSet || !s.Ack.LessThan(w.lastAck) {
			w.edge, w.lastAck, w.edgeSet = edge, s.Ack, true
		}
	}

	// Zero-window episodes of this sender, and the peer's probes into them.
	if flags&(fsm.FlagSYN|fsm.FlagFIN|fsm.FlagRST) == 0 && flags&fsm.FlagACK != 0 {
		switch {
		case s.Window == 0 && !w.zero:
			w.zero = true
			n := h.notes()
			n.zeroFrame, n.zeroNs = m.Frame, now
		case s.Window != 0 && w.zero:
			w.zero = false
			zeroSpan(h, w, m.Frame, now)
		}
	}
	if w.zero {
		zeroSpan(h, w, m.Frame, now)
	}
	if pw.zero && (probe || s.Len > 0) {
		pw.probes++
		if n := p.notes(); pw.probes > n.ZeroWindow.Count {
			n.ZeroWindow.Count = pw.probes
		}
		zeroSpan(p, pw, m.Frame, now)
	}

	// Keep-alives: a probe while the peer's window is open (one into a zero
	// window is a persist probe, anomalies.md §5).
	if v&VerdictKeepAlive != 0 && !pw.zero {
		if w.kaRun == 0 {
			n := h.notes()
			n.kaRunFrame, n.kaRunNs = m.Frame, now
		}
		w.kaRun++
		w.kaPending = true
		if w.kaRun > 1 {
			keepRun(h, w, m.Frame, now)
		}
	}

	if s.Len > 0 && v&VerdictKeepAlive == 0 {
		w.lastPayload, w.payFrame = now, m.Frame
		w.kaExch, pw.kaExch = 0, 0
	}
	if rst {
		rstRun(h.notes(), m.Frame, now)
	}
	injection(h, w, s, m, now)
	if end := s.Seq.Add(s.LogicalLen()); !rst && (!w.sent || w.sndMax.LessThan(end)) {
		w.sndMax, w.sent = end, true
	}
}

// keepRun records w's current run of unanswered keep-alives if it is the
// longest so far.
func keepRun(h *Half, w *watchDir, frame uint64, now int64) {
	n := h.notes()
	if w.kaRun > n.KeepAliveRun.Count {
		n.KeepAliveRun = Span{First: n.kaRunFrame, From: time.Unix(0, n.kaRunNs).UTC(), Last: frame, To: time.Unix(0, now).UTC(), Count: w.kaRun}
	}
}

// kaIdle records the payload-free stretch that ends with the prober's last
// answered keep-alive, if it is the longest so far.
func kaIdle(f *Flow, h *Half, w *watchDir, frame uint64, now int64) {
	a, b := &f.Half[0].watch, &f.Half[1].watch
	if b.lastPayload > a.lastPayload {
		a = b
	}
	start, first := a.lastPayload, a.payFrame
	if start == 0 {
		start, first = f.First.UnixNano(), f.FirstFrame
	}
	n := h.notes()
	if d := now - start; d > int64(n.KeepAliveIdle.Duration()) || n.KeepAliveIdle.Last == 0 {
		n.KeepAliveIdle = Span{First: first, From: time.Unix(0, start).UTC(), Last: frame, To: time.Unix(0, now).UTC(), Count: w.kaExch}
	}
}

// zeroSpan records the open zero-window episode of w, up to frame, if it is
// the longest so far.
func zeroSpan(h *Half, w *watchDir, frame uint64, now int64) {
	n := h.notes()
	if now == n.zeroNs {
		return
	}
	if d := time.Duration(now - n.zeroNs); d > n.ZeroWindow.Duration() {
		c := n.ZeroWindow.Count
		n.ZeroWindow = Span{First: n.zeroFrame, From: time.Unix(0, n.zeroNs).UTC(), Last: frame, To: time.Unix(0, now).UTC(), Count: c}
	}
}

// injection scores a RST against its sender's earlier segments (anomalies.md
// §5, injection score): a TTL off the baseline (2 for one hop, 3 for more),
// an IP ID far off an incrementing run (2), a TSval behind the previous one
// (2). What follows the RST scores too: the sender going on after it (3),
// and its later segments deciding the TTL points (see injAfter). A score of
// 2 or more is noted; the baseline needs 4 earlier segments, 90 % of them
// with one TTL.
func injection(h *Half, w *watchDir, s *fsm.Segment, m *Meta, now int64) {
	rst := s.Flags&fsm.FlagRST != 0
	if w.rstSent && !rst {
		injAfter(h, w, s, m)
	}
	if rst && !w.rstSent {
		w.rstSent = true
		n := h.notes()
		j := &n.inj
		j.frame, j.ns, j.ttl = m.Frame, now, m.TTL
		j.id, j.runID, j.v4 = m.IPID, w.lastID, !m.IPv6
		if w.segs >= 4 && int(w.ttlSame)*10 >= int(w.segs)*9 && m.TTL != w.ttl {
			j.ttlBase, j.ttlPts = w.ttl, 3
			if d := int(m.TTL) - int(w.ttl); d == 1 || d == -1 {
				j.ttlPts = 2
			}
		}
		if w.segs >= 4 && w.idRun && !m.IPv6 && m.IPID != 0 {
			d := m.IPID - w.lastID
			j.idOff = d > 1000 && -d > 1000
		}
		j.tsBack = s.HasTS && w.tsSet && int32(s.TSVal-w.lastTS) < 0
		// RFC 5961 §3.2: a RST in the window but not at RCV.NXT draws
		// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> from its receiver. As an
		// observer sees it, the receiver's RCV.NXT is all the sender sent.
		// A RST exactly there is accepted and answered by nothing, so an
		// ACK after it crossed it on the wire.
		j.chAck, j.chWait = w.sndMax, w.sent && s.Seq != w.sndMax
		n.settle()
		return
	}
	if rst {
		return
	}
	// Baselines from the sender's ordinary segments.
	if w.segs == 0 {
		w.ttl, w.idRun = m.TTL, true
	} else if d := m.IPID - w.lastID; d > 10 {
		w.idRun = false
	}
	ttlShift(h, w, m, now)
	if w.segs < ^uint8(0) { // both saturate together, keeping the ratio
		w.segs++
		if m.TTL == w.ttl {
			w.ttlSame++
		}
	}
	w.lastID = m.IPID
	if s.HasTS {
		w.lastTS, w.tsSet = s.TSVal, true
	}
}

// injAfter scores what the sender of a RST did after it, on each of its
// later segments other than RSTs.
func injAfter(h *Half, w *watchDir, s *fsm.Segment, m *Meta) {
	n := h.Notes // set by its RST
	if n == nil {
		return
	}
	j := &n.inj
	changed := false
	if !w.afterRST && (s.Len > 0 || s.Flags&fsm.FlagFIN != 0 || s.Flags&(fsm.FlagSYN|fsm.FlagACK) == fsm.FlagSYN|fsm.FlagACK) {
		// Its stack kept sending after "its" RST: someone else sent it
		// (RFC 9293 §3.10.5: the stack that aborts deletes the TCB). A
		// bare SYN is not that: a client that reset an unacceptable
		// SYN-ACK sends its SYN again (§3.10.7.3).
		w.afterRST, j.kept, changed = true, true, true
	}
	// The TTL points stand only if the sender's next segments come back
	// to the baseline (anomalies.md §5); TTLShiftRun of them in a row at
	// the RST's TTL are a route change (TTL_SHIFT), and the RST merely the
	// first segment on the new route. A third value decides nothing.
	if j.ttlPts > 0 && j.ttlState == ttlPending {
		switch m.TTL {
		case j.ttlBase:
			j.ttlState, changed = ttlBack, true
		case j.ttl:
			if j.ttlRun++; j.ttlRun >= TTLShiftRun {
				j.ttlState, changed = ttlStayed, true
			}
		default:
			j.ttlRun = 0
		}
	}
	if changed {
		n.settle()
	}
}

// challengeACK gives the RST of the peer (whose notes are pn) its
// challenge-ACK point when this segment s, sent by the RST's receiver with
// watch state w, is one (RFC 5961 §3.2): a bare ACK, no payload, of the
// receiver's RCV.NXT as it stood before the RST, at its SND.NXT, within
// ChallengeACKWait of the RST. A keep-alive (SND.NXT - 1) is not one.
func challengeACK(pn *Notes, w *watchDir, s *fsm.Segment, now int64) {
	j := &pn.inj
	if now-j.ns > int64(ChallengeACKWait) {
		j.chWait = false
		return
	}
	if s.Flags&(fsm.FlagSYN|fsm.FlagFIN|fsm.FlagRST|fsm.FlagPSH|fsm.FlagURG|fsm.FlagACK) != fsm.FlagACK || s.Len != 0 ||
		s.Ack != j.chAck || w.sent && s.Seq != w.sndMax {
		return
	}
	j.chWait, j.challenge = false, true
	pn.settle()
}

// TTLShiftRun is how many segments in a row must carry a new TTL before it
// counts as a route change (anomalies.md §5: a change that persists for at
// least 3 packets is TTL_SHIFT, not injection).
const TTLShiftRun = 3

// ttlShift follows the TTL of w's non-RST segments: TTLShiftRun of them in a
// row at one value off the baseline move the baseline there and are noted
// as a TTL shift. A lone segment off the baseline (a forged one) is not.
func ttlShift(h *Half, w *watchDir, m *Meta, now int64) {
	switch {
	case w.segs == 0 || m.TTL == w.ttl:
		w.ttlRun = 0
		return
	case w.ttlRun > 0 && m.TTL == w.ttlNew:
		w.ttlRun++
	default:
		w.ttlNew, w.ttlRun = m.TTL, 1
	}
	if w.ttlRun < TTLShiftRun {
		return
	}
	n := h.notes()
	if n.TTLShift.Count == 0 {
		n.TTLFrom, n.TTLTo = w.ttl, m.TTL
	}
	n.TTLShift.mark(m.Frame, now)
	// The new route is the baseline now, as if its segments had come first.
	w.ttl, w.ttlSame, w.segs, w.ttlRun = m.TTL, w.ttlRun-1, w.ttlRun-1, 0
}

// sampleSYNACK keeps the IPv4 identification of a sender's first SYN-ACK
// and where it was, relative to the flow's first packet. A SYN-ACK more
// than 2^32 frames or about 71 minutes after it is not kept.
func (f *Flow) sampleSYNACK(w *watchDir, m *Meta, now int64) {
	df, dus := m.Frame-f.FirstFrame, (now-f.First.UnixNano())/1000
	if m.Frame < f.FirstFrame || df > math.MaxUint32 || dus < 0 || dus > math.MaxUint32 {
		return
	}
	w.saFrame, w.saUs, w.saID, w.saSet = uint32(df), uint32(dus), m.IPID, true
}

// IPID is the IPv4 identification of one segment and where it was.
type IPID struct {
	Frame uint64
	Time  time.Time
	ID    uint16
}

// IPIDs appends to dst the IPv4 identification of the first SYN-ACK that d
// sent in f or, if it sent none, of its first RST: the replies from which
// the anomaly engine classifies a host's IP-ID sequence the way nmap does
// (anomalies.md §1: TI, the SYN-ACKs of an open port, and CI, the RSTs of a
// closed one). A RST after its own SYN-ACK is no such reply: it aborts an
// established connection, and Linux gives it the socket's own counter (it
// sends SYN-ACKs and closed-port RSTs with ID 0), so mixing it in made a
// plain Linux server look random (RD). IPv6 segments have none.
func (f *Flow) IPIDs(d fsm.Dir, dst []IPID) []IPID {
	h := &f.Half[d]
	if w := &h.watch; w.saSet {
		return append(dst, IPID{Frame: f.FirstFrame + uint64(w.saFrame), Time: f.First.Add(time.Duration(w.saUs) * time.Microsecond), ID: w.saID})
	}
	if n := h.Notes; n != nil && n.inj.v4 && n.inj.frame != 0 && !h.watch.synack {
		dst = append(dst, IPID{Frame: n.inj.frame, Time: time.Unix(0, n.inj.ns).UTC(), ID: n.inj.id})
	}
	return dst
}
