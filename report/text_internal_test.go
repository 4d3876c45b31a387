package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// timelineRowsFmt is writeTimelines' table as it was written with fmt,
// the reference TestTimelineRows holds the hand-appended rows to.
func timelineRowsFmt(w io.Writer, c *Connection) {
	var rows []row
	for m := (merger{c.Timeline.Client, c.Timeline.Server}); ; {
		r, ok := m.next()
		if !ok {
			break
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return
	}
	start, _ := time.Parse(time.RFC3339Nano, c.Start)
	fmt.Fprintf(w, "    %7s  %11s  %-30s %-30s %s\n", "frame", "+seconds", "client", "server", "cause")
	for _, r := range rows {
		at, _ := time.Parse(time.RFC3339Nano, r.t.Time)
		mark := " "
		if r.t.Inferred {
			mark = "~"
		}
		cell := fmt.Sprintf("%s%s -> %s", mark, r.t.From, r.t.To)
		left, right := cell, ""
		if r.side == 1 {
			left, right = "", cell
		}
		fmt.Fprintf(w, "    %7d  %11.6f  %-30s %-30s %s\n", r.t.Frame, at.Sub(start).Seconds(), left, right, r.t.Cause)
	}
}

// TestTimelineRows compares the text report's timeline tables, appended by
// hand, with fmt's on every connection of the captures in pcaps/ and on
// rows fmt pads differently: wide frame numbers and offsets, a time before
// the start, a state pair wider than its column, an unparsable start.
func TestTimelineRows(t *testing.T) {
	conns, _ := captureConnections(t)
	odd := Connection{Start: "2026-12-07T00:00:10Z", Timeline: Timeline{
		Client: []Transition{
			{Frame: 1, Time: "2026-12-07T00:00:09.5Z", From: "CLOSED", To: "SYN-SENT", Cause: "sent SYN §3.10"},
			{Frame: 123456789012, Time: "2026-12-08T03:46:50.123456789Z", From: "FIN-WAIT-1-AND-A-VERY-LONG-NAME", To: "TIME-WAIT", Cause: "x", Inferred: true},
		},
		Server: []Transition{
			{Frame: 2, Time: "2026-12-07T00:00:10.000001Z", From: "LISTEN", To: "SYN-RECEIVED", Cause: ""},
			{Frame: 9999999, Time: "2026-12-07T00:00:10.000001Z", From: "SYN-RECEIVED", To: "ESTABLISHED-BUT-WIDER-THAN-THIRTY", Cause: "y", Inferred: true},
		},
	}}
	bad := odd
	bad.Start = "not a time"
	conns = append(conns, odd, bad, Connection{})
	rows := 0
	for i := range conns {
		c := &conns[i]
		var got, want bytes.Buffer
		writeTimelines(&got, c)
		timelineRowsFmt(&want, c)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("connection %d (%s): timeline rows differ from fmt's:\ngot:\n%s\nwant:\n%s", i, c.Start, got.Bytes(), want.Bytes())
		}
		rows += bytes.Count(got.Bytes(), []byte{'\n'})
		// Through a bufio.Writer, the rows are appended in its free
		// space (rowBuffer): one too small for them (flushed, then the
		// rows grow past it) and one with room, each after a prefix.
		for _, size := range []int{16, 1 << 16} {
			var out bytes.Buffer
			bw := bufio.NewWriterSize(&out, size)
			bw.WriteString("prefix\n")
			writeTimelines(bw, c)
			bw.Flush()
			if !bytes.Equal(out.Bytes(), append([]byte("prefix\n"), want.Bytes()...)) {
				t.Fatalf("connection %d through a %d-byte bufio.Writer:\n%s\nwant:\n%s", i, size, out.Bytes(), want.Bytes())
			}
		}
	}
	if rows < 1000 {
		t.Errorf("only %d timeline rows compared", rows)
	}
}

// TestTimelineRowsAllocs: written to a bufio.Writer with room, a
// connection's timeline table allocates nothing, and its whole block one
// string (issue 7).
func TestTimelineRowsAllocs(t *testing.T) {
	conns, _ := captureConnections(t)
	var c *Connection
	for i := range conns {
		if n := len(conns[i].Timeline.Client) + len(conns[i].Timeline.Server); n >= 6 {
			c = &conns[i]
			break
		}
	}
	if c == nil {
		t.Fatal("no connection with 6 transitions in pcaps/")
	}
	bw := bufio.NewWriterSize(io.Discard, 1<<16)
	if n := testing.AllocsPerRun(100, func() { writeTimelines(bw, c) }); n != 0 {
		t.Errorf("writeTimelines to a bufio.Writer: %v allocations, want 0", n)
	}
	// The whole block: one allocation, the duration's string.
	c.Violations = nil
	if n := testing.AllocsPerRun(100, func() { writeConnection(bw, c) }); n > 1 {
		t.Errorf("writeConnection to a bufio.Writer: %v allocations, want at most 1", n)
	}
}

// connectionHeadFmt is writeConnection's head lines as they were written
// with fmt, the reference TestConnectionHead holds the hand-appended ones
// to.
func connectionHeadFmt(w io.Writer, c *Connection) {
	hp := func(e Endpoint) string {
		if strings.Contains(e.IP, ":") {
			return fmt.Sprintf("[%s]:%d", e.IP, e.Port)
		}
		return fmt.Sprintf("%s:%d", e.IP, e.Port)
	}
	dur := time.Duration(c.DurationUS) * time.Microsecond
	fmt.Fprintf(w, "#%d  %s -> %s  opened %s, closed %s", c.ID, hp(c.Client), hp(c.Server), c.Handshake, c.Close)
	if c.ClosedFirst != "" {
		fmt.Fprintf(w, " (%s sent FIN first)", c.ClosedFirst)
	}
	if c.HalfClose {
		fmt.Fprint(w, " after a half-close with data")
	}
	if c.ResetBy != "" {
		fmt.Fprintf(w, " (reset by %s)", c.ResetBy)
	}
	fmt.Fprintf(w, "  %s\n", dur)
	fmt.Fprintf(w, "    frames %d-%d  client %d pkts %d B (payload %d)  server %d pkts %d B (payload %d)\n",
		c.FirstFrame, c.LastFrame, c.Packets.Client, c.Bytes.Client, c.PayloadBytes.Client, c.Packets.Server, c.Bytes.Server, c.PayloadBytes.Server)
	fmt.Fprintf(w, "    final  client %s, server %s", c.FinalState.Client, c.FinalState.Server)
	if c.EffectiveMSS != 0 {
		fmt.Fprintf(w, "  effective MSS %d", c.EffectiveMSS)
	}
	if c.RolesGuessed {
		fmt.Fprintf(w, "  [roles guessed: %s]", c.RoleReason)
	}
	fmt.Fprintln(w)
	if len(c.Violations) > 0 {
		keys := slices.Sorted(maps.Keys(c.Violations))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s x%d", k, c.Violations[k])
		}
		fmt.Fprintf(w, "    violations  %s\n", strings.Join(parts, ", "))
	}
}

// TestConnectionHead compares the text report's connection heads,
// appended by hand, with fmt's on every connection of the captures in
// pcaps/ (each optional part among them) and on a made-up one with every
// part at once and numbers at their widest.
func TestConnectionHead(t *testing.T) {
	conns, _ := captureConnections(t)
	all := Connection{ID: math.MaxUint64, Client: Endpoint{IP: "2001:db8::1", Port: 65535}, Server: Endpoint{IP: "192.0.2.1"},
		Handshake: "3-way", Close: "reset", ClosedFirst: "server", HalfClose: true, ResetBy: "client", DurationUS: math.MaxInt64,
		FirstFrame: math.MaxUint64, LastFrame: 0, Packets: Pair{1, math.MaxUint64}, Bytes: Pair{math.MaxUint64, 0}, PayloadBytes: Pair{7, 8},
		FinalState: States{"TIME-WAIT", "CLOSED"}, EffectiveMSS: 65535, RolesGuessed: true, RoleReason: "lower port",
		Violations: map[string]uint32{"b": math.MaxUint32, "a": 1, "c": 0}}
	conns = append(conns, all, Connection{})
	optional := []string{"sent FIN first", "half-close with data", "reset by", "effective MSS", "roles guessed", "violations"}
	parts := map[string]int{}
	for i := range conns {
		c := &conns[i]
		c.Timeline = Timeline{} // TestTimelineRows has them
		var got, want bytes.Buffer
		writeConnection(&got, c)
		connectionHeadFmt(&want, c)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("connection %d: head differs from fmt's:\ngot:\n%s\nwant:\n%s", i, got.Bytes(), want.Bytes())
		}
		for _, p := range optional {
			if bytes.Contains(got.Bytes(), []byte(p)) {
				parts[p]++
			}
		}
	}
	for _, p := range optional {
		if parts[p] < 2 {
			t.Errorf("%q in %d heads, want some from pcaps/ as well", p, parts[p])
		}
	}
}
