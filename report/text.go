package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// WriteText writes the report for a person: the capture summary, then per
// connection a summary line and both endpoints' timelines side by side.
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	writeTextHead(bw, r, len(r.Connections))
	for i := range r.Connections {
		writeTextConnection(bw, &r.Connections[i])
	}
	return bw.Flush()
}

// WriteTextHead writes what WriteText writes before the connections, for a
// report of n connections whose blocks are written apart from r, one by
// one, with WriteTextConnection (a report too large to hold in memory).
func WriteTextHead(w io.Writer, r *Report, n int) error {
	bw := bufio.NewWriter(w)
	writeTextHead(bw, r, n)
	return bw.Flush()
}

// WriteTextConnection writes c as WriteText writes each connection: a blank
// line, then its block.
func WriteTextConnection(w io.Writer, c *Connection) error {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		bw = bufio.NewWriter(w)
	}
	// A buffered writer (the text spill's) is written to directly: a
	// buffer per connection was an allocation per connection.
	writeTextConnection(bw, c)
	if !ok {
		return bw.Flush()
	}
	return nil
}

func writeTextHead(bw *bufio.Writer, r *Report, n int) {
	c := &r.Capture
	if len(c.Sources) == 0 {
		fmt.Fprintln(bw, "capture  none read") // the errors below say why
	} else {
		fmt.Fprintf(bw, "capture  %s  (%s; %s)\n", strings.Join(c.Sources, ", "), strings.Join(c.Formats, ", "), strings.Join(c.LinkTypes, ", "))
	}
	fmt.Fprintf(bw, "         %d packets, %d TCP, %d skipped, %d truncated; connections: %d", c.Packets, c.TCPPackets, c.Skipped, c.Truncated, n)
	if c.First != "" {
		fmt.Fprintf(bw, "; %s .. %s", c.First, c.Last)
	}
	fmt.Fprintln(bw)
	if k := c.SkippedBy; k != nil {
		fmt.Fprintf(bw, "skipped ")
		sep := " "
		for _, x := range []struct {
			n    uint64
			what string
		}{
			{k.NonIP, "not IP"}, {k.NonTCP, "IP but not TCP"}, {k.Fragment, "IP fragments after the first"},
			{k.Malformed, "malformed headers"}, {k.Short, "headers cut short by the capture"},
			{k.UnsupportedLink, "of a link type not decoded"}, {k.Empty, "empty"},
		} {
			if x.n > 0 {
				fmt.Fprintf(bw, "%s%d %s", sep, x.n, x.what)
				sep = ", "
			}
		}
		fmt.Fprintln(bw)
	}
	if f := c.Flows; f.Evicted > 0 {
		fmt.Fprintf(bw, "flows    %d finished before they ended: %d idle for --idle-timeout, %d at the --max-flows limit (%d held at once at most)\n",
			f.Evicted, f.Evicted-f.EvictedLimit, f.EvictedLimit, f.MaxConcurrent)
	}
	if c.Duplicates > 0 {
		fmt.Fprintf(bw, "dedup    %d copies of segments dropped (--dedup)\n", c.Duplicates)
	}
	if c.Filter != "" {
		fmt.Fprintf(bw, "filter   %s", c.Filter)
		if c.Filtered > 0 {
			fmt.Fprintf(bw, "  (%d frames rejected)", c.Filtered)
		}
		fmt.Fprintln(bw)
	}
	if c.KernelReceived != nil && c.KernelDropped != nil {
		fmt.Fprintf(bw, "kernel   %d frames received by the socket, %d dropped\n", *c.KernelReceived, *c.KernelDropped)
	}
	for _, m := range c.Warnings {
		fmt.Fprintf(bw, "warning  %s\n", m)
	}
	for _, m := range c.Errors {
		fmt.Fprintf(bw, "error    %s\n", m)
	}
	writeFindings(bw, r)
}

func writeTextConnection(bw *bufio.Writer, c *Connection) {
	fmt.Fprintln(bw)
	writeConnection(bw, c)
}

func hostport(e Endpoint) string { return string(appendHostport(nil, e)) }

// appendHostport appends e as host:port, with an IPv6 host in brackets.
func appendHostport(b []byte, e Endpoint) []byte {
	if strings.Contains(e.IP, ":") {
		b = append(b, '[')
		b = append(b, e.IP...)
		b = append(b, ']')
	} else {
		b = append(b, e.IP...)
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(e.Port), 10)
}

// writeConnection writes a connection's block: its head lines, appended
// by hand (with fmt, its boxed arguments were nine allocations a
// connection, the most of any text report's; issue 7), then its timeline
// table.
func writeConnection(w io.Writer, c *Connection) {
	b := rowBuffer(w, 512)
	b = append(b, '#')
	b = strconv.AppendUint(b, c.ID, 10)
	b = append(b, "  "...)
	b = appendHostport(b, c.Client)
	b = append(b, " -> "...)
	b = appendHostport(b, c.Server)
	b = append(b, "  opened "...)
	b = append(b, c.Handshake...)
	b = append(b, ", closed "...)
	b = append(b, c.Close...)
	if c.ClosedFirst != "" {
		b = append(b, " ("...)
		b = append(b, c.ClosedFirst...)
		b = append(b, " sent FIN first)"...)
	}
	if c.HalfClose {
		b = append(b, " after a half-close with data"...)
	}
	if c.ResetBy != "" {
		b = append(b, " (reset by "...)
		b = append(b, c.ResetBy...)
		b = append(b, ')')
	}
	b = append(b, "  "...)
	b = append(b, (time.Duration(c.DurationUS) * time.Microsecond).String()...)
	b = append(b, "\n    frames "...)
	b = strconv.AppendUint(b, c.FirstFrame, 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, c.LastFrame, 10)
	b = appendTraffic(b, "  client ", c.Packets.Client, c.Bytes.Client, c.PayloadBytes.Client)
	b = appendTraffic(b, "  server ", c.Packets.Server, c.Bytes.Server, c.PayloadBytes.Server)
	b = append(b, "\n    final  client "...)
	b = append(b, c.FinalState.Client...)
	b = append(b, ", server "...)
	b = append(b, c.FinalState.Server...)
	if c.EffectiveMSS != 0 {
		b = append(b, "  effective MSS "...)
		b = strconv.AppendUint(b, uint64(c.EffectiveMSS), 10)
	}
	if c.RolesGuessed {
		b = append(b, "  [roles guessed: "...)
		b = append(b, c.RoleReason...)
		b = append(b, ']')
	}
	b = append(b, '\n')
	if len(c.Violations) > 0 {
		b = append(b, "    violations  "...)
		for i, k := range slices.Sorted(maps.Keys(c.Violations)) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, k...)
			b = append(b, " x"...)
			b = strconv.AppendUint(b, uint64(c.Violations[k]), 10)
		}
		b = append(b, '\n')
	}
	w.Write(b)
	writeTimelines(w, c)
}

// appendTraffic appends one side's "<label>N pkts N B (payload N)".
func appendTraffic(b []byte, label string, pkts, bytes, payload uint64) []byte {
	b = append(b, label...)
	b = strconv.AppendUint(b, pkts, 10)
	b = append(b, " pkts "...)
	b = strconv.AppendUint(b, bytes, 10)
	b = append(b, " B (payload "...)
	b = strconv.AppendUint(b, payload, 10)
	return append(b, ')')
}

type row struct {
	t    Transition
	side int // 0 client, 1 server
}

// writeTimelines prints both timelines merged in time order, the client's
// transitions in the left column and the server's in the right. Inferred
// transitions are marked with '~'.
func writeTimelines(w io.Writer, c *Connection) {
	n := len(c.Timeline.Client) + len(c.Timeline.Server)
	if n == 0 {
		return
	}
	start, _ := time.Parse(time.RFC3339Nano, c.Start)
	// The rows are appended by hand, as fmt's "    %7d  %11.6f  %-30s
	// %-30s %s\n" would write them (states are ASCII, so padding by bytes
	// is padding by runes): with fmt they were most of the text report's
	// time on a large capture (issue 7). TestTimelineRows compares them.
	b := rowBuffer(w, len(timelineHead)+100*n)
	b = append(b, timelineHead...)
	var num [32]byte
	for m := (merger{c.Timeline.Client, c.Timeline.Server}); ; {
		r, ok := m.next()
		if !ok {
			break
		}
		at, _ := time.Parse(time.RFC3339Nano, r.t.Time)
		b = append(b, "    "...)
		b = appendRight(b, strconv.AppendUint(num[:0], r.t.Frame, 10), 7)
		b = append(b, "  "...)
		b = appendRight(b, strconv.AppendFloat(num[:0], at.Sub(start).Seconds(), 'f', 6, 64), 11)
		b = append(b, "  "...)
		if r.side == 1 {
			b = append(b, spaces[:31]...) // the client's column, empty
		}
		cell := len(b)
		if r.t.Inferred {
			b = append(b, '~')
		} else {
			b = append(b, ' ')
		}
		b = append(b, r.t.From...)
		b = append(b, " -> "...)
		b = append(b, r.t.To...)
		for len(b)-cell < 30 {
			b = append(b, ' ')
		}
		if r.side == 0 {
			b = append(b, spaces[:32]...) // the server's column, empty, between two spaces
		} else {
			b = append(b, ' ')
		}
		b = append(b, r.t.Cause...)
		b = append(b, '\n')
	}
	w.Write(b)
}

// rowBuffer returns an empty buffer for about n bytes to be appended and
// written to w at once: w's own free space when w is a bufio.Writer (the
// text spill's and the report's), flushed first if it has less, so that a
// connection's rows cost no allocation (issue 7: a buffer per connection
// was half the bytes a text report of a SYN flood allocated). A Flush
// error stays in w and is returned by its next Write.
func rowBuffer(w io.Writer, n int) []byte {
	bw, ok := w.(*bufio.Writer)
	if !ok {
		return make([]byte, 0, n)
	}
	if bw.Available() < n {
		bw.Flush()
	}
	return bw.AvailableBuffer()
}

// merger merges the two timelines by time, keeping each endpoint's own
// order (a held receipt can be dated after the frame that caused it).
type merger struct{ cl, sv []Transition }

// next returns the next row, or false after the last.
func (m *merger) next() (row, bool) {
	cl, sv := m.cl, m.sv
	if len(cl) == 0 && len(sv) == 0 {
		return row{}, false
	}
	takeClient := len(sv) == 0
	if len(cl) > 0 && len(sv) > 0 {
		a, b := &cl[0], &sv[0]
		takeClient = a.Time < b.Time || a.Time == b.Time && a.Frame <= b.Frame // RFC 3339 nano in UTC sorts as time
	}
	if takeClient {
		m.cl = cl[1:]
		return row{cl[0], 0}, true
	}
	m.sv = sv[1:]
	return row{sv[0], 1}, true
}

// timelineHead is the head of a connection's timeline table.
var timelineHead = fmt.Sprintf("    %7s  %11s  %-30s %-30s %s\n", "frame", "+seconds", "client", "server", "cause")

// appendRight appends s to b right-aligned in width columns, as fmt pads
// a number.
func appendRight(b, s []byte, width int) []byte {
	for pad := width - len(s); pad > 0; pad-- {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// WriteLadder draws a flow as a ladder (sequence) diagram: one arrow per
// kept packet between the client's and the server's lifelines, labelled
// with tcpdump-style flags, relative seq/ack and length, and each side's new
// state written beside it on the frame that caused it.
func WriteLadder(w io.Writer, f *reassembly.Flow) error {
	bw := bufio.NewWriter(w)
	c := &f.Conn
	const width = 44 // arrow length between the lifelines
	// Relative sequence numbers as the SVG ladder and tshark's tcp.seq.
	base, haveBase := seqBases(f)
	// Transitions by the frame that caused them.
	marks := [2]map[uint64][]string{{}, {}}
	// A transition is written on the row of the frame that caused it, but
	// never above the endpoint's previous one: a FIN received while the
	// endpoint's own FIN was crossing it takes effect after that FIN.
	for d, tl := range c.Timeline {
		var row uint64
		for _, t := range tl {
			s := t.To.String()
			if t.Inferred {
				s = "~" + s
			}
			row = max(row, t.Frame)
			marks[d][row] = append(marks[d][row], s)
		}
	}
	initial := func(d fsm.Dir) string {
		tl := c.Timeline[d]
		if len(tl) > 0 {
			return tl[0].From.String()
		}
		return c.Ep[d].State.String()
	}
	fmt.Fprintf(bw, "ladder of connection #%d (relative sequence numbers; ~ marks inferred states)\n", f.ID)
	fmt.Fprintf(bw, "%-24s %-22s%*s%s\n", "", "client "+f.Client.String(), width-20, "", "server "+f.Server.String())
	fmt.Fprintf(bw, "%24s %6s |%s| %s\n", initial(fsm.DirClient), "", strings.Repeat(" ", width), initial(fsm.DirServer))
	start := f.First
	for i, s := range f.Steps {
		if f.StepsElided > 0 && i == len(f.Steps)/2 {
			fmt.Fprintf(bw, "%24s %6s |%s| \n", "", "", center(fmt.Sprintf("... %d packets not shown ...", f.StepsElided), width))
		}
		peer := s.Dir.Other()
		// Signed, as in the SVG ladder and -T trace: a keep-alive probe or
		// a segment from before the SYN sits below its side's base (-1),
		// not 4 GiB above it.
		lbl := s.Flags.String() + " " + strconv.FormatInt(rel(s.Seq, base[s.Dir]), 10)
		if s.Flags&fsm.FlagACK != 0 && haveBase[peer] {
			lbl += " ack " + strconv.FormatInt(rel(s.Ack, base[peer]), 10)
		}
		if s.Len > 0 {
			lbl += fmt.Sprintf(" len %d", s.Len)
		}
		var arrow string
		body := " " + lbl + " "
		if pad := width - 2 - len(body); pad > 0 {
			body = strings.Repeat("-", pad/2) + body + strings.Repeat("-", pad-pad/2)
		}
		if s.Dir == fsm.DirClient {
			arrow = "-" + body + ">"
		} else {
			arrow = "<" + body + "-"
		}
		left := strings.Join(marks[fsm.DirClient][s.Frame], ",")
		right := strings.Join(marks[fsm.DirServer][s.Frame], ",")
		fmt.Fprintf(bw, "%24s %6.3f |%s| %s  #%d\n", left, s.Time.Sub(start).Seconds(), arrow, right, s.Frame)
	}
	// Transitions with no kept packet of their own (timers, late inferences).
	for d, tl := range c.Timeline {
		for _, t := range tl {
			if kept(f.Steps, t.Frame) && !strings.Contains(t.Cause, "timer") && !strings.Contains(t.Cause, "stopped") {
				continue
			}
			side := "client"
			if d == int(fsm.DirServer) {
				side = "server"
			}
			fmt.Fprintf(bw, "%24s %6.3f  %s -> %s (%s)\n", side, t.Time.Sub(start).Seconds(), t.From, t.To, t.Cause)
		}
	}
	fmt.Fprintf(bw, "%24s %6s |%s| %s\n", c.Ep[fsm.DirClient].State, "", strings.Repeat(" ", width), c.Ep[fsm.DirServer].State)
	return bw.Flush()
}

func kept(steps []reassembly.Step, frame uint64) bool {
	for _, s := range steps {
		if s.Frame == frame {
			return true
		}
	}
	return false
}

func center(s string, n int) string {
	if len(s) >= n {
		return s
	}
	l := (n - len(s)) / 2
	return strings.Repeat(" ", l) + s + strings.Repeat(" ", n-len(s)-l)
}
