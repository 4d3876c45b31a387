package reassembly

import (
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
// is nil otherwise), so clean connections pay one pointer.
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
	// KeepAliveIdle is the longest stretch without payload in either
	// direction during which this sender's keep-alives were answered
	// (Count exchanges), from the last payload (or the first packet) to the
	// last answered probe.
	KeepAliveIdle Span
}

// watchDir is the per-sender state of the watch: a handful of numbers, no
// payload.
type watchDir struct {
	sndMax  fsm.Seq // highest SEQ+SEG.LEN this sender sent; valid iff sent
	lastAck fsm.Seq // highest ACK it sent; valid iff edgeSet
	edge    fsm.Seq // right window edge it last advertised; valid iff edgeSet
	pend    fsm.Seq // an ACK it sent beyond the peer's sndMax; valid iff pendSet

	sent, edgeSet, pendSet, zero, synack bool

	pendFrame uint64
	pendNs    int64

	// Zero-window episode (this sender advertises zero).
	zeroFrame uint64
	zeroNs    int64
	probes    uint32 // peer probes since this sender's last segment, during the episode

	// Keep-alives this sender sent with no reply, and their first one.
	kaRun      uint32
	kaRunFrame uint64
	kaRunNs    int64

	// Payload and answered keep-alives since: the keep-alive-only idle stretch.
	lastPayload int64
	payFrame    uint64
	kaExch      uint32
	kaLastFrame uint64
	kaLastNs    int64
	kaPending   bool // a keep-alive waits for its answer
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
		w.synack = true
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
		pw.kaLastFrame, pw.kaLastNs = m.Frame, now
		if pw.kaExch >= 2 {
			kaIdle(f, p, pw)
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
		edge := s.Ack.Add(uint32(s.Window) << shift)
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
			w.zero, w.zeroFrame, w.zeroNs = true, m.Frame, now
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
			w.kaRunFrame, w.kaRunNs = m.Frame, now
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
	if end := s.Seq.Add(s.LogicalLen()); !rst && (!w.sent || w.sndMax.LessThan(end)) {
		w.sndMax, w.sent = end, true
	}
}

// keepRun records w's current run of unanswered keep-alives if it is the
// longest so far.
func keepRun(h *Half, w *watchDir, frame uint64, now int64) {
	n := h.notes()
	if w.kaRun > n.KeepAliveRun.Count {
		n.KeepAliveRun = Span{First: w.kaRunFrame, From: time.Unix(0, w.kaRunNs).UTC(), Last: frame, To: time.Unix(0, now).UTC(), Count: w.kaRun}
	}
}

// kaIdle records the payload-free stretch that ends with the prober's last
// answered keep-alive, if it is the longest so far.
func kaIdle(f *Flow, h *Half, w *watchDir) {
	a, b := &f.Half[0].watch, &f.Half[1].watch
	if b.lastPayload > a.lastPayload {
		a = b
	}
	start, first := a.lastPayload, a.payFrame
	if start == 0 {
		start, first = f.First.UnixNano(), f.FirstFrame
	}
	n := h.notes()
	if d := w.kaLastNs - start; d > int64(n.KeepAliveIdle.Duration()) || n.KeepAliveIdle.Last == 0 {
		n.KeepAliveIdle = Span{First: first, From: time.Unix(0, start).UTC(), Last: w.kaLastFrame, To: time.Unix(0, w.kaLastNs).UTC(), Count: w.kaExch}
	}
}

// zeroSpan records the open zero-window episode of w, up to frame, if it is
// the longest so far.
func zeroSpan(h *Half, w *watchDir, frame uint64, now int64) {
	if now == w.zeroNs {
		return
	}
	n := h.notes()
	if d := time.Duration(now - w.zeroNs); d > n.ZeroWindow.Duration() {
		c := n.ZeroWindow.Count
		n.ZeroWindow = Span{First: w.zeroFrame, From: time.Unix(0, w.zeroNs).UTC(), Last: frame, To: time.Unix(0, now).UTC(), Count: c}
	}
}
