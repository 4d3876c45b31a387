package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strings"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// The pictures exist twice, by design: here in Go, for --svg (one
// connection, files a person opens or pastes into a document), and in the
// HTML report's script (html.js), which draws the same figures from the
// compact per-connection JSON only when a connection is opened, so that a
// report of 100 000 connections carries no SVG at all until one is looked
// at. Both follow the same layout (the constants below, repeated in
// html.js) and emit the same elements with the same classes, one per
// packet, segment, SACK block and so on; TestBrowserReport checks that the
// browser's drawing has exactly the element counts of this one.

// Ladder layout (html.js: LADDER).
const (
	ladderW     = 820 // picture width
	ladderXC    = 250 // client lifeline
	ladderXS    = 610 // server lifeline
	ladderTop   = 64  // first row
	ladderRow   = 28  // row height
	ladderSlant = 14  // how far an arrow falls between the lifelines
)

// Time-sequence graph layout (html.js: TSEQ).
const (
	tseqW = 820
	tseqH = 440
	tseqL = 80 // plot area
	tseqR = tseqW - 20
	tseqT = 44
	tseqB = tseqH - 50
)

// svgStyle is the look of both pictures when they stand alone; the HTML
// report's stylesheet has the same rules.
const svgStyle = `text{font:12px sans-serif;fill:#222}.host{font-weight:bold}.time,.frame{fill:#777;font-size:11px}
.life{stroke:#444;stroke-width:2}.pkt{stroke:#1f5fa8;stroke-width:1.3}.pkt.s2c{stroke:#2a8a3e}
.pkt.rexmit{stroke:#d62728;stroke-width:2}.pkt.rst{stroke:#8b0000;stroke-dasharray:5 3}
.lbl{font:11px monospace}.state{font-weight:bold;fill:#6a3d9a}.state.inferred{font-style:italic;fill:#9c7bbf}
.elided{stroke:#999;stroke-dasharray:4 4}.note{fill:#777;font-style:italic}
.axis{stroke:#333}.grid{stroke:#e4e4e4}.tick{font-size:10px;fill:#555}.title{font-weight:bold}
.seg{stroke:#1f3f7a;stroke-width:1.4;fill:none}.seg.rexmit{stroke:#d62728;stroke-width:2}.seg.ooo{stroke:#ff7f0e}
.seg.probe{stroke:#8c564b}.seg.syn,.seg.fin{stroke:#6a3d9a}.rst{stroke:#8b0000;stroke-width:2}
.ackline{stroke:#2ca02c;fill:none;stroke-width:1.3}.winline{stroke:#d4a017;fill:none;stroke-width:1.3}
.sack{stroke:#9467bd;stroke-width:3}.sack.dsack{stroke:#e377c2}.dupack{fill:#2ca02c}
.zwin{fill:#d62728;fill-opacity:.12}.gap{fill:#999;fill-opacity:.15}`

type svgWriter struct {
	w *bufio.Writer
}

func (s svgWriter) printf(format string, a ...any) { fmt.Fprintf(s.w, format, a...) }

func (s svgWriter) text(class string, x, y float64, anchor, body string) {
	s.printf(`<text class="%s" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`+"\n", class, x, y, anchor, html.EscapeString(body))
}

// packetLabel is a ladder arrow's label, tcpdump's way: flags, relative
// sequence, acknowledgment, payload length.
func packetLabel(p *TracePacket) string {
	lbl := fmt.Sprintf("%s %d", p.Flags, p.Seq)
	if p.Flags&fsm.FlagACK != 0 {
		lbl += fmt.Sprintf(" ack %d", p.Ack)
	}
	if p.Len > 0 {
		lbl += fmt.Sprintf(" len %d", p.Len)
	}
	return lbl
}

// packetTitle is the tooltip of a packet: frame, time and verdicts.
func packetTitle(p *TracePacket) string {
	s := fmt.Sprintf("frame %d, +%.6f s, %s: %s seq %d:%d", p.Frame, float64(p.US)/1e6, p.Dir, p.Flags, p.Seq, p.End())
	if p.Flags&fsm.FlagACK != 0 {
		s += fmt.Sprintf(" ack %d", p.Ack)
	}
	s += fmt.Sprintf(" win %d", p.Win)
	if p.SACKs > 0 {
		s += fmt.Sprintf(" sack %d:%d (%d blocks)", p.SACKLeft, p.SACKRight, p.SACKs)
	}
	if p.Verdict != 0 {
		s += " [" + p.Verdict.String() + "]"
	}
	return s
}

// arrowFills are the colours of the ladder's arrowheads (markers cannot
// take their line's colour in SVG 1.1): client to server, server to
// client, retransmission, reset; as the .pkt rules of svgStyle.
var arrowFills = [...]string{"#1f5fa8", "#2a8a3e", "#d62728", "#8b0000"}

// packetClass returns a ladder arrow's classes and its arrowhead (an index
// in arrowFills).
func packetClass(p *TracePacket) (string, int) {
	c, arrow := "pkt c2s", 0
	if p.Dir == fsm.DirServer {
		c, arrow = "pkt s2c", 1
	}
	if p.Verdict&reassembly.VerdictRetransmission != 0 {
		c, arrow = c+" rexmit", 2
	}
	if p.Flags&fsm.FlagRST != 0 {
		c, arrow = c+" rst", 3
	}
	return c, arrow
}

// ladderMarks returns, per side, the states to write beside each kept
// packet (by index), and the transitions that have no kept packet of their
// own (timers, inferences, elided frames). As in the text ladder, a
// transition is never written above the endpoint's previous one.
func ladderMarks(t *Trace) (marks [2]map[int][]TraceTransition, orphans [2][]TraceTransition) {
	index := make(map[uint64]int, len(t.Packets))
	for i := range t.Packets {
		if _, ok := index[t.Packets[i].Frame]; !ok {
			index[t.Packets[i].Frame] = i
		}
	}
	for d := range t.Timeline {
		marks[d] = make(map[int][]TraceTransition)
		last := 0
		for _, x := range t.Timeline[d] {
			i, ok := index[x.Frame]
			if !ok || strings.Contains(x.Cause, "timer") || strings.Contains(x.Cause, "stopped") {
				orphans[d] = append(orphans[d], x)
				continue
			}
			last = max(last, i)
			marks[d][last] = append(marks[d][last], x)
		}
	}
	return marks, orphans
}

func stateList(ts []TraceTransition) (string, bool) {
	parts := make([]string, len(ts))
	inferred := false
	for i, x := range ts {
		parts[i] = x.To.String()
		if x.Inferred {
			parts[i] = "~" + parts[i]
			inferred = true
		}
	}
	return strings.Join(parts, " → "), inferred
}

// WriteLadderSVG draws the connection as the textbook ladder figure: the
// client's and the server's lifelines, one sloping arrow per kept packet
// labelled with its flags, relative seq/ack and length (retransmissions in
// red, resets dashed), and each side's new state written beside its
// lifeline where it changes.
func WriteLadderSVG(w io.Writer, t *Trace) error {
	marks, orphans := ladderMarks(t)
	rows := len(t.Packets) + len(orphans[0]) + len(orphans[1])
	if t.Elided > 0 {
		rows++
	}
	height := ladderTop + rows*ladderRow + 56
	s := svgWriter{bufio.NewWriter(w)}
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" class="ladder" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", ladderW, height, ladderW, height)
	s.printf("<style>%s</style>\n", svgStyle)
	s.printf(`<rect width="100%%" height="100%%" fill="#fff"/>` + "\n")
	s.printf("<defs>")
	for i, fill := range arrowFills {
		s.printf(`<marker id="ah-%d-%d" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0L10,5L0,10z" fill="%s"/></marker>`, t.ID, i, fill)
	}
	s.printf("</defs>\n")
	s.text("host", ladderXC, 18, "middle", "client "+t.Client)
	s.text("host", ladderXS, 18, "middle", "server "+t.Server)
	s.text("state", ladderXC-8, ladderTop-20, "end", t.Initial[0].String())
	s.text("state", ladderXS+8, ladderTop-20, "start", t.Initial[1].String())
	bottom := float64(height - 36)
	s.printf(`<line class="life" x1="%d" y1="%d" x2="%d" y2="%.1f"/>`+"\n", ladderXC, ladderTop-30, ladderXC, bottom)
	s.printf(`<line class="life" x1="%d" y1="%d" x2="%d" y2="%.1f"/>`+"\n", ladderXS, ladderTop-30, ladderXS, bottom)
	row := 0
	for i := range t.Packets {
		if t.Elided > 0 && i == t.Head {
			y := float64(ladderTop + row*ladderRow + ladderSlant/2)
			s.printf(`<line class="elided" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`+"\n", ladderXC, y, ladderXS, y)
			s.text("note", (ladderXC+ladderXS)/2, y-5, "middle", fmt.Sprintf("… %d packets not kept (--ladder-packets) …", t.Elided))
			row++
		}
		p := &t.Packets[i]
		y0 := float64(ladderTop + row*ladderRow)
		y1 := y0 + ladderSlant
		x0, x1 := float64(ladderXC), float64(ladderXS)
		if p.Dir == fsm.DirServer {
			x0, x1 = x1, x0
		}
		class, arrow := packetClass(p)
		s.printf(`<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" marker-end="url(#ah-%d-%d)"><title>%s</title></line>`+"\n",
			class, x0, y0, x1, y1, t.ID, arrow, html.EscapeString(packetTitle(p)))
		mx, my := (x0+x1)/2, (y0+y1)/2-5
		angle := math.Atan2(y1-y0, x1-x0) * 180 / math.Pi
		if p.Dir == fsm.DirServer {
			angle -= 180 // keep the label upright
		}
		s.printf(`<text class="lbl" x="%.1f" y="%.1f" text-anchor="middle" transform="rotate(%.2f %.1f %.1f)">%s</text>`+"\n", mx, my, angle, mx, my+5, html.EscapeString(packetLabel(p)))
		s.text("time", 8, y0+4, "start", fmt.Sprintf("%.6f", float64(p.US)/1e6))
		s.text("frame", ladderW-6, y0+4, "end", fmt.Sprintf("#%d", p.Frame))
		for d := range marks {
			ms := marks[d][i]
			if len(ms) == 0 {
				continue
			}
			// A sender changes state where its arrow leaves, a receiver
			// where the arrow arrives.
			y := y1
			if fsm.Dir(d) == p.Dir {
				y = y0
			}
			label, inferred := stateList(ms)
			class := "state"
			if inferred {
				class += " inferred"
			}
			if d == int(fsm.DirClient) {
				s.text(class, ladderXC-8, y+4, "end", label)
			} else {
				s.text(class, ladderXS+8, y+4, "start", label)
			}
		}
		row++
	}
	for d := range orphans {
		for _, x := range orphans[d] {
			y := float64(ladderTop + row*ladderRow + ladderSlant/2)
			label, inferred := stateList([]TraceTransition{x})
			class := "state"
			if inferred {
				class += " inferred"
			}
			s.text("time", 8, y+4, "start", fmt.Sprintf("%.6f", float64(x.US)/1e6))
			if d == int(fsm.DirClient) {
				s.text(class, ladderXC-8, y+4, "end", label)
				s.text("note", ladderXC+8, y+4, "start", x.Cause)
			} else {
				s.text(class, ladderXS+8, y+4, "start", label)
				s.text("note", ladderXS-8, y+4, "end", x.Cause)
			}
			row++
		}
	}
	s.text("state final", ladderXC-8, bottom+16, "end", t.Final[0].String())
	s.text("state final", ladderXS+8, bottom+16, "start", t.Final[1].String())
	s.printf("</svg>\n")
	return s.w.Flush()
}

// niceStep returns a tick spacing of 1, 2 or 5 times a power of ten that
// cuts span into about n intervals.
func niceStep(span float64, n int) float64 {
	if span <= 0 {
		return 1
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	switch r := raw / mag; {
	case r <= 1:
		return mag
	case r <= 2:
		return 2 * mag
	case r <= 5:
		return 5 * mag
	}
	return 10 * mag
}

// tseqScale is the time-sequence graph's mapping from (µs, relative
// sequence) to the picture.
type tseqScale struct {
	t0, t1, lo, hi float64
}

func (sc tseqScale) x(us int64) float64 {
	return tseqL + (float64(us)-sc.t0)/(sc.t1-sc.t0)*(tseqR-tseqL)
}

func (sc tseqScale) y(seq int64) float64 {
	return tseqB - (float64(seq)-sc.lo)/(sc.hi-sc.lo)*(tseqB-tseqT)
}

// newTseqScale fits the graph of d's data: the time of every kept packet,
// and the sequence space of d's segments, of the peer's ACKs and SACK
// blocks; the advertised window's edge (ACK plus window) widens it at most
// fourfold, and is clipped above that, so a large window does not flatten
// the data into a line.
func newTseqScale(t *Trace, d fsm.Dir) tseqScale {
	sc := tseqScale{t0: math.Inf(1), t1: math.Inf(-1), lo: math.Inf(1), hi: math.Inf(-1)}
	wmax := math.Inf(-1)
	see := func(v int64) { sc.lo, sc.hi = min(sc.lo, float64(v)), max(sc.hi, float64(v)) }
	for i := range t.Packets {
		p := &t.Packets[i]
		sc.t0, sc.t1 = min(sc.t0, float64(p.US)), max(sc.t1, float64(p.US))
		switch {
		case p.Dir == d && p.End() > p.Seq:
			see(p.Seq)
			see(p.End())
		case p.Dir != d && p.Flags&fsm.FlagACK != 0:
			see(p.Ack)
			wmax = max(wmax, float64(p.Ack+int64(p.Win)))
			if p.SACKs > 0 {
				see(p.SACKLeft)
				see(p.SACKRight)
			}
		}
	}
	if math.IsInf(sc.t0, 1) {
		sc.t0, sc.t1 = 0, 1
	}
	if sc.t1 <= sc.t0 {
		sc.t1 = sc.t0 + 1
	}
	if math.IsInf(sc.lo, 1) {
		sc.lo, sc.hi = 0, 1
	}
	if sc.hi <= sc.lo {
		sc.hi = sc.lo + 1
	}
	sc.hi = max(sc.hi, min(wmax, sc.hi+3*(sc.hi-sc.lo)))
	pad := (sc.hi - sc.lo) * 0.04
	sc.lo, sc.hi = sc.lo-pad, sc.hi+pad
	return sc
}

// segClass is a time-sequence segment's classes.
func segClass(p *TracePacket) string {
	c := "seg"
	switch {
	case p.Verdict&reassembly.VerdictRetransmission != 0:
		c += " rexmit"
	case p.Verdict&reassembly.VerdictOutOfOrder != 0:
		c += " ooo"
	case p.Verdict&reassembly.VerdictZeroWindowProbe != 0:
		c += " probe"
	}
	if p.Flags&fsm.FlagSYN != 0 {
		c += " syn"
	}
	if p.Flags&fsm.FlagFIN != 0 {
		c += " fin"
	}
	return c
}

// zeroWindows returns the periods, as [from, to] µs pairs, in which the
// peer of d advertised a zero window: from a segment with window 0 (not a
// SYN, FIN or RST, as tshark's zero_window) to its next segment with a
// window, or the last kept packet.
func zeroWindows(t *Trace, d fsm.Dir) [][2]int64 {
	var out [][2]int64
	start := int64(-1)
	for i := range t.Packets {
		p := &t.Packets[i]
		if p.Dir == d {
			continue
		}
		switch {
		case p.Win == 0 && p.Flags&(fsm.FlagSYN|fsm.FlagFIN|fsm.FlagRST) == 0:
			if start < 0 {
				start = p.US
			}
		case p.Win > 0 && start >= 0:
			out = append(out, [2]int64{start, p.US})
			start = -1
		}
	}
	if start >= 0 && len(t.Packets) > 0 {
		out = append(out, [2]int64{start, t.Packets[len(t.Packets)-1].US})
	}
	return out
}

// WriteTimeSeqSVG draws the time-sequence graph of what d sent, as
// Ostermann's tcptrace (and xplot) do: time across, relative sequence
// number up; each segment a vertical I-beam from its first to past its last
// byte (retransmissions red, out-of-order orange, zero-window probes
// brown, SYN and FIN purple), the peer's cumulative ACK as a green step
// line and the edge of its advertised window (ACK plus window) as a yellow
// one, its SACK blocks as violet bars (D-SACKs pink), duplicate ACKs as
// dots, zero-window periods shaded red and the packets the flow table did
// not keep shaded grey.
func WriteTimeSeqSVG(w io.Writer, t *Trace, d fsm.Dir) error {
	sc := newTseqScale(t, d)
	s := svgWriter{bufio.NewWriter(w)}
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" class="tseq" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", tseqW, tseqH, tseqW, tseqH)
	s.printf("<style>%s</style>\n", svgStyle)
	s.printf(`<rect width="100%%" height="100%%" fill="#fff"/>` + "\n")
	clip := fmt.Sprintf("clip-%d-%d", t.ID, d)
	s.printf(`<defs><clipPath id="%s"><rect x="%d" y="%d" width="%d" height="%d"/></clipPath></defs>`+"\n", clip, tseqL, tseqT, tseqR-tseqL, tseqB-tseqT)
	from, to := t.Client, t.Server
	if d == fsm.DirServer {
		from, to = to, from
	}
	s.text("title", tseqL, 20, "start", fmt.Sprintf("#%d time-sequence graph: %s %s → %s", t.ID, d, from, to))
	s.text("note", tseqR, 36, "end", "segments (red: retransmitted), ACK (green), window (yellow), SACK (violet)")
	// Axes, grid and ticks.
	step := niceStep(sc.t1-sc.t0, 6)
	for v := math.Ceil(sc.t0/step) * step; v <= sc.t1; v += step {
		x := sc.x(int64(v))
		s.printf(`<line class="grid" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>`+"\n", x, tseqT, x, tseqB)
		s.text("tick", x, tseqB+16, "middle", trimFloat(v/1e6))
	}
	step = niceStep(sc.hi-sc.lo, 6)
	for v := math.Ceil(sc.lo/step) * step; v <= sc.hi; v += step {
		y := sc.y(int64(v))
		s.printf(`<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`+"\n", tseqL, y, tseqR, y)
		s.text("tick", tseqL-6, y+4, "end", trimFloat(v))
	}
	s.printf(`<path class="axis" d="M%d,%dV%dH%d" fill="none"/>`+"\n", tseqL, tseqT, tseqB, tseqR)
	s.text("tick", (tseqL+tseqR)/2, tseqH-12, "middle", "time since the first packet (s)")
	s.printf(`<text class="tick" transform="translate(14 %d) rotate(-90)" text-anchor="middle">relative sequence number</text>`+"\n", (tseqT+tseqB)/2)

	s.printf(`<g clip-path="url(#%s)">`+"\n", clip)
	for _, z := range zeroWindows(t, d) {
		x0, x1 := sc.x(z[0]), sc.x(z[1])
		s.printf(`<rect class="zwin" x="%.1f" y="%d" width="%.1f" height="%d"><title>zero window advertised by the %s, +%.6f s to +%.6f s</title></rect>`+"\n",
			x0, tseqT, max(x1-x0, 2), tseqB-tseqT, d.Other(), float64(z[0])/1e6, float64(z[1])/1e6)
	}
	if t.Elided > 0 && t.Head > 0 && t.Head < len(t.Packets) {
		x0, x1 := sc.x(t.Packets[t.Head-1].US), sc.x(t.Packets[t.Head].US)
		s.printf(`<rect class="gap" x="%.1f" y="%d" width="%.1f" height="%d"><title>%d packets not kept (--ladder-packets)</title></rect>`+"\n",
			x0, tseqT, max(x1-x0, 2), tseqB-tseqT, t.Elided)
	}
	var ack, win strings.Builder
	for i := range t.Packets {
		p := &t.Packets[i]
		if p.Dir == d || p.Flags&fsm.FlagACK == 0 {
			continue
		}
		x, ya, yw := sc.x(p.US), sc.y(p.Ack), sc.y(p.Ack+int64(p.Win))
		if ack.Len() == 0 {
			fmt.Fprintf(&ack, "M%.1f,%.1f", x, ya)
			fmt.Fprintf(&win, "M%.1f,%.1f", x, yw)
		} else {
			fmt.Fprintf(&ack, "H%.1fV%.1f", x, ya)
			fmt.Fprintf(&win, "H%.1fV%.1f", x, yw)
		}
	}
	if ack.Len() > 0 {
		end := sc.x(int64(sc.t1))
		s.printf(`<path class="winline" d="%sH%.1f"/>`+"\n", win.String(), end)
		s.printf(`<path class="ackline" d="%sH%.1f"/>`+"\n", ack.String(), end)
	}
	for i := range t.Packets {
		p := &t.Packets[i]
		x := sc.x(p.US)
		switch {
		case p.Dir != d && p.SACKs > 0:
			class := "sack"
			if p.SACKRight <= p.Ack {
				class += " dsack"
			}
			s.printf(`<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"><title>%s</title></line>`+"\n", class, x+2, sc.y(p.SACKLeft), x+2, sc.y(p.SACKRight), html.EscapeString(packetTitle(p)))
		case p.Dir != d && p.Verdict&reassembly.VerdictDuplicateAck != 0:
			s.printf(`<circle class="dupack" cx="%.1f" cy="%.1f" r="2.5"><title>%s</title></circle>`+"\n", x, sc.y(p.Ack), html.EscapeString(packetTitle(p)))
		}
	}
	for i := range t.Packets {
		p := &t.Packets[i]
		if p.Dir != d {
			continue
		}
		x := sc.x(p.US)
		if p.Flags&fsm.FlagRST != 0 {
			y := sc.y(p.Seq)
			s.printf(`<path class="rst" d="M%.1f,%.1fl8,8m0,-8l-8,8"><title>%s</title></path>`+"\n", x-4, y-4, html.EscapeString(packetTitle(p)))
		}
		if p.End() <= p.Seq {
			continue
		}
		y0, y1 := sc.y(p.Seq), sc.y(p.End())
		s.printf(`<path class="%s" d="M%.1f,%.1fH%.1fM%.1f,%.1fV%.1fM%.1f,%.1fH%.1f"><title>%s</title></path>`+"\n",
			segClass(p), x-3, y0, x+3, x, y0, y1, x-3, y1, x+3, html.EscapeString(packetTitle(p)))
	}
	s.printf("</g>\n</svg>\n")
	return s.w.Flush()
}

// trimFloat prints a tick value without trailing zeros.
func trimFloat(v float64) string {
	if math.Abs(v) < 1e-12 {
		return "0"
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.6f", v), "0"), ".")
}
