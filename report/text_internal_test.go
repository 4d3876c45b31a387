package report

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
)

// timelineRowsFmt is writeTimelines' table as it was written with fmt,
// the reference TestTimelineRows holds the hand-appended rows to.
func timelineRowsFmt(w io.Writer, c *Connection) {
	rows := mergedTimeline(c)
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
	}
	if rows < 1000 {
		t.Errorf("only %d timeline rows compared", rows)
	}
}
