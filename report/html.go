package report

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"sort"
	"strconv"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// The HTML report is one file with its stylesheet and script inline, and
// no reference to anything outside it, so that it works from file:// and
// offline. The data is one JSON document in a <script
// type="application/json"> block: the capture, rollups and findings, and a
// compact record per connection with its kept packets as arrays of numbers.
// The script lists the connections a page at a time (filtered and sorted in
// memory) and draws a connection's state bars, ladder diagram and
// time-sequence graph only when it is opened (a click, or a #conn-ID
// fragment), so the page stays light with 100 000 connections. The drawing
// code mirrors svg.go: see the comment there.

//go:embed html.css
var htmlCSS string

//go:embed html.js
var htmlJS string

// htmlConn is a connection's record in the HTML report's JSON: short keys,
// states as fsm.State numbers (htmlData.States), causes as indexes into
// htmlData.Causes, packets and transitions as arrays (html.js reads them).
type htmlConn struct {
	ID         uint64            `json:"id"`
	Client     string            `json:"c"`
	Server     string            `json:"s"`
	Handshake  string            `json:"hs"`
	Close      string            `json:"cl"`
	Initial    [2]uint8          `json:"is"` // fsm.State, whose JSON is its name
	Final      [2]uint8          `json:"fs"`
	Start      string            `json:"t0"`
	DurationUS int64             `json:"dur"`
	Packets    [2]uint64         `json:"np"`
	Bytes      [2]uint64         `json:"nb"`
	Payload    [2]uint64         `json:"pl"`
	ZeekState  string            `json:"zs"`
	History    string            `json:"zh"`
	EndReason  string            `json:"er"`
	Guessed    string            `json:"rg,omitempty"`
	Violations map[string]uint32 `json:"v,omitempty"`
	WScale     *[2]int8          `json:"ws,omitempty"`
	Timeline   *[2]htmlRows      `json:"tl,omitempty"`
	Steps      htmlRows          `json:"p,omitempty"`
	Head       int               `json:"head,omitempty"`
	Elided     uint64            `json:"el,omitempty"`
}

// htmlRows is a list of rows of integers already in JSON.
type htmlRows []byte

// MarshalJSON returns the rows as they are.
func (r htmlRows) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("[]"), nil
	}
	return r, nil
}

// htmlData is the document's JSON, without its connections (which are
// streamed after it, one at a time).
type htmlData struct {
	Tool          string        `json:"tool"`
	Capture       Capture       `json:"capture"`
	Rollups       []Rollup      `json:"rollups"`
	Findings      []htmlFinding `json:"findings"`
	States        []string      `json:"states"`
	Verdicts      []string      `json:"verdicts"`
	LadderPackets int           `json:"ladder_packets"`
}

// htmlFinding is a finding with the text saying what it is about
// (Finding.Where), so that the page prints what the text report prints.
type htmlFinding struct {
	Finding
	Where string `json:"where"`
}

// appendRow appends one JSON array of integers.
func appendRow(b []byte, xs ...int64) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, x, 10)
	}
	return append(b, ']')
}

// packetRows encodes kept packets as
// [µs, frame, dir<<8|flags, seq, ack, len, win, verdict(, sacks, sackLeft, sackRight)].
func packetRows(t *Trace) htmlRows {
	b := make([]byte, 0, 40*len(t.Packets)+2)
	b = append(b, '[')
	for i := range t.Packets {
		p := &t.Packets[i]
		if i > 0 {
			b = append(b, ',')
		}
		row := []int64{p.US, int64(p.Frame), int64(p.Dir)<<8 | int64(p.Flags), p.Seq, p.Ack, int64(p.Len), int64(p.Win), int64(p.Verdict)}
		if p.SACKs > 0 {
			row = append(row, int64(p.SACKs), p.SACKLeft, p.SACKRight)
		}
		b = appendRow(b, row...)
	}
	return append(b, ']')
}

// causes interns the transitions' causes (a few dozen constant strings).
type causes struct {
	index map[string]int
	list  []string
}

func (c *causes) id(s string) int64 {
	if i, ok := c.index[s]; ok {
		return int64(i)
	}
	c.index[s] = len(c.list)
	c.list = append(c.list, s)
	return int64(len(c.list) - 1)
}

// timelineRows encodes both sides' transitions as
// [µs, frame, from, to, cause, inferred].
func timelineRows(t *Trace, cs *causes) *[2]htmlRows {
	var out [2]htmlRows
	for d, tl := range t.Timeline {
		b := []byte{'['}
		for i, x := range tl {
			if i > 0 {
				b = append(b, ',')
			}
			inf := int64(0)
			if x.Inferred {
				inf = 1
			}
			b = appendRow(b, x.US, int64(x.Frame), int64(x.From), int64(x.To), cs.id(x.Cause), inf)
		}
		out[d] = append(b, ']')
	}
	return &out
}

func stateOf(name string) uint8 {
	s, _ := fsm.ParseState(name)
	return uint8(s)
}

// HTMLPage gathers the connections of an HTML report as they finish, each
// encoded at once into its compact record (a few hundred bytes, and about
// 40 per kept packet), so that a run holds per connection only what the
// page will carry, not the Connection or the Trace.
type HTMLPage struct {
	ladderPackets int
	causes        causes
	recs          []htmlRec
}

type htmlRec struct {
	id uint64
	b  []byte
}

// NewHTMLPage returns an empty page. ladderPackets is the per-connection
// packet limit the traces are kept with, which the page quotes when a
// connection was cut.
func NewHTMLPage(ladderPackets int) *HTMLPage {
	return &HTMLPage{ladderPackets: ladderPackets, causes: causes{index: make(map[string]int), list: []string{}}}
}

// Add encodes one connection and its pictures' data; t may be nil (the
// connection is then listed with no packets).
func (h *HTMLPage) Add(c *Connection, t *Trace) error {
	hc := htmlConn{ID: c.ID, Client: hostport(c.Client), Server: hostport(c.Server), Handshake: c.Handshake, Close: c.Close,
		Initial: [2]uint8{stateOf(c.Client.InitialState), stateOf(c.Server.InitialState)},
		Final:   [2]uint8{stateOf(c.FinalState.Client), stateOf(c.FinalState.Server)},
		Start:   c.Start, DurationUS: c.DurationUS, Packets: [2]uint64{c.Packets.Client, c.Packets.Server},
		Bytes: [2]uint64{c.Bytes.Client, c.Bytes.Server}, Payload: [2]uint64{c.PayloadBytes.Client, c.PayloadBytes.Server},
		ZeekState: c.Zeek.ConnState, History: c.Zeek.History, EndReason: c.EndReason, Violations: c.Violations}
	if c.RolesGuessed {
		hc.Guessed = c.RoleReason
	}
	if t != nil {
		hc.Initial = [2]uint8{uint8(t.Initial[0]), uint8(t.Initial[1])}
		hc.Final = [2]uint8{uint8(t.Final[0]), uint8(t.Final[1])}
		hc.Timeline = timelineRows(t, &h.causes)
		hc.Steps = packetRows(t)
		hc.Head, hc.Elided = t.Head, t.Elided
		ws := t.WScale
		hc.WScale = &ws
	}
	b, err := json.Marshal(hc)
	if err != nil {
		return err
	}
	h.recs = append(h.recs, htmlRec{c.ID, b})
	return nil
}

// Write writes the page: r's capture, rollups and findings, and the
// connections added, in id order (r.Connections is not read).
func (h *HTMLPage) Write(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	title := "tcptrace report"
	if len(r.Capture.Sources) > 0 {
		title += ": " + r.Capture.Sources[0]
	}
	fmt.Fprintf(bw, "<!DOCTYPE html>\n<html lang=\"en\" data-ready=\"0\" data-errors=\"\">\n<head>\n<meta charset=\"utf-8\">\n")
	fmt.Fprintf(bw, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%s</title>\n", html.EscapeString(title))
	// No external resource may load: the policy forbids any fetch, so a
	// slip shows up as a console error in the browser test.
	fmt.Fprintf(bw, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n")
	fmt.Fprintf(bw, "<style>\n%s\n%s\n</style>\n</head>\n<body>\n", svgStyle, htmlCSS)
	fmt.Fprintf(bw, "<noscript>This report draws with JavaScript; the same data is in tcptrace -T json.</noscript>\n")
	fmt.Fprintf(bw, "<main id=\"app\"></main>\n<script type=\"application/json\" id=\"tcptrace-data\">")
	head := htmlData{Tool: r.Tool, Capture: r.Capture, Rollups: r.Rollups, Findings: make([]htmlFinding, len(r.Findings)), Verdicts: reassembly.VerdictNames(), LadderPackets: h.ladderPackets}
	for i := range r.Findings {
		head.Findings[i] = htmlFinding{r.Findings[i], r.Findings[i].Where()}
	}
	for s := fsm.StateUnknown; s <= fsm.StateTimeWait; s++ {
		head.States = append(head.States, s.String())
	}
	if head.Rollups == nil {
		head.Rollups = []Rollup{}
	}
	// encoding/json escapes <, > and & inside strings, so nothing in the
	// data can close the script element.
	hb, err := json.Marshal(head)
	if err != nil {
		return err
	}
	bw.Write(hb[:len(hb)-1])
	bw.WriteString(`,"conns":[`)
	sort.Slice(h.recs, func(i, j int) bool { return h.recs[i].id < h.recs[j].id })
	for i, rec := range h.recs {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(rec.b)
	}
	bw.WriteString(`],"causes":`)
	cb, err := json.Marshal(h.causes.list)
	if err != nil {
		return err
	}
	bw.Write(cb)
	fmt.Fprintf(bw, "}</script>\n<script>\n%s\n</script>\n</body>\n</html>\n", htmlJS)
	return bw.Flush()
}
