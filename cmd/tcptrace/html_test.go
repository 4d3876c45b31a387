package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/report"
)

// svgElem is one element of a drawing: its name, classes, attributes and
// the text of its <title> child or its own text.
type svgElem struct {
	name, class, text string
	attr              map[string]string
}

// parseSVG returns the elements of an SVG document in document order; it
// fails the test when the document is not well-formed XML.
func parseSVG(t *testing.T, what string, data []byte) []svgElem {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out []svgElem
	var stack []int // indexes into out of the open elements
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed: %v", what, err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			e := svgElem{name: x.Name.Local, attr: map[string]string{}}
			for _, a := range x.Attr {
				e.attr[a.Name.Local] = a.Value
			}
			e.class = e.attr["class"]
			out = append(out, e)
			stack = append(stack, len(out)-1)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				continue
			}
			top := &out[stack[len(stack)-1]]
			if top.name == "title" && len(stack) > 1 {
				top = &out[stack[len(stack)-2]] // a tooltip describes its parent
			}
			top.text += string(x)
		}
	}
	return out
}

// withClass returns the elements whose class list holds every one of
// classes.
func withClass(es []svgElem, classes ...string) []svgElem {
	var out []svgElem
	for _, e := range es {
		have := strings.Fields(e.class)
		ok := true
		for _, c := range classes {
			found := false
			for _, h := range have {
				found = found || h == c
			}
			ok = ok && found
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// runPictures runs tcptrace with --svg ID and -o in a fresh directory and
// returns that directory.
func runPictures(t *testing.T, id int, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args = append([]string{"-q", "--svg", fmt.Sprint(id), "-o", filepath.Join(dir, "report.html")}, args...)
	if code := run(context.Background(), args, nil, &out, &errb); code != exitOK {
		t.Fatalf("tcptrace %v exited %d: %s", args, code, errb.String())
	}
	return dir
}

func readSVG(t *testing.T, dir string, id int, kind string) []svgElem {
	t.Helper()
	name := filepath.Join(dir, fmt.Sprintf("conn-%d-%s.svg", id, kind))
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return parseSVG(t, name, data)
}

// TestSVGLadder checks --svg's ladder diagram against the packets: one
// arrow per packet in the right direction, retransmissions marked exactly
// on the frames -T packets calls retransmissions, and each side's states
// written where the timeline says they change.
func TestSVGLadder(t *testing.T) {
	const file = "../../pcaps/seq/loss_retransmit.pcap"
	dir := runPictures(t, 1, "-T", "text", file)
	es := readSVG(t, dir, 1, "ladder")
	pkts := ourPackets(t, file)
	arrows := withClass(es, "pkt")
	if len(arrows) != len(pkts) {
		t.Fatalf("%d arrows, want one per packet: %d", len(arrows), len(pkts))
	}
	rexmit := map[uint64]bool{}
	for _, p := range pkts {
		for _, a := range p.Analysis {
			if a == "retransmission" {
				rexmit[p.Frame] = true
			}
		}
	}
	if len(rexmit) == 0 {
		t.Fatal("the capture has no retransmission: the fixture changed")
	}
	for i, a := range arrows {
		p := pkts[i]
		if !strings.HasPrefix(a.text, fmt.Sprintf("frame %d,", p.Frame)) {
			t.Errorf("arrow %d is %q, want frame %d", i, a.text, p.Frame)
		}
		// Client to server runs left to right.
		var x1, x2 float64
		fmt.Sscan(a.attr["x1"], &x1)
		fmt.Sscan(a.attr["x2"], &x2)
		ltr := x1 < x2
		if (p.Dir == "client") != ltr || (p.Dir == "client") != strings.Contains(a.class, "c2s") {
			t.Errorf("frame %d (%s): arrow %s -> %s, class %q", p.Frame, p.Dir, a.attr["x1"], a.attr["x2"], a.class)
		}
		if strings.Contains(a.class, "rexmit") != rexmit[p.Frame] {
			t.Errorf("frame %d: class %q, retransmission %v", p.Frame, a.class, rexmit[p.Frame])
		}
	}

	// The states: close_3way's client goes SYN-SENT, ESTABLISHED,
	// FIN-WAIT-1, then FIN-WAIT-2 and TIME-WAIT on one segment.
	dir = runPictures(t, 1, "-T", "text", "../../pcaps/close_3way.pcap")
	es = readSVG(t, dir, 1, "ladder")
	var client, server []string
	for _, e := range withClass(es, "state") {
		if e.attr["text-anchor"] == "end" {
			client = append(client, e.text)
		} else {
			server = append(server, e.text)
		}
	}
	wantC := []string{"CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2 → TIME-WAIT", "TIME-WAIT"}
	wantS := []string{"LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED", "CLOSED"} // the last is the final state
	if strings.Join(client, "|") != strings.Join(wantC, "|") || strings.Join(server, "|") != strings.Join(wantS, "|") {
		t.Errorf("states written:\nclient %q\nserver %q\nwant\nclient %q\nserver %q", client, server, wantC, wantS)
	}
	labels := withClass(es, "lbl")
	if len(labels) != 10 || labels[0].text != "S 0" || labels[1].text != "S. 0 ack 1" || labels[3].text != "P. 1 ack 1 len 5" {
		t.Errorf("labels = %+v", labels)
	}
}

// TestSVGTimeSequence checks the time-sequence graph: an I-beam per segment
// of the data direction, red exactly on the retransmissions, a SACK bar per
// SACK-carrying duplicate ACK, the ACK and window lines, and shaded
// zero-window periods where the receiver advertised none.
func TestSVGTimeSequence(t *testing.T) {
	const file = "../../pcaps/seq/loss_retransmit.pcap"
	dir := runPictures(t, 1, "-T", "json", file)
	es := readSVG(t, dir, 1, "tseq")
	pkts := ourPackets(t, file)
	var segs, dups int
	rexmit := map[string]bool{}
	for _, p := range pkts {
		if p.Dir == "client" && (p.Len > 0 || p.Frame == 1) {
			segs++ // data, and the SYN
		}
		for _, a := range p.Analysis {
			switch {
			case a == "retransmission" && p.Dir == "client":
				rexmit[fmt.Sprintf("frame %d,", p.Frame)] = true
			case a == "duplicate_ack" && p.Dir == "server":
				dups++
			}
		}
	}
	r := analyze(t, file)
	if r.Connections[0].ClosedFirst == "client" {
		segs++ // the client's FIN occupies a sequence number
	}
	if got := len(withClass(es, "seg")); got != segs {
		t.Errorf("%d segments drawn, want %d", got, segs)
	}
	red := withClass(es, "seg", "rexmit")
	if len(red) != len(rexmit) {
		t.Errorf("%d retransmissions drawn, want %d", len(red), len(rexmit))
	}
	for _, e := range red {
		if !rexmit[strings.SplitAfter(e.text, ",")[0]] {
			t.Errorf("marked as retransmitted: %q", e.text)
		}
	}
	if got := len(withClass(es, "sack")); got != dups || dups == 0 {
		t.Errorf("%d SACK bars, want one per duplicate ACK (%d): Linux SACKs every one", got, dups)
	}
	if len(withClass(es, "ackline")) != 1 || len(withClass(es, "winline")) != 1 {
		t.Error("want one ACK line and one window line")
	}
	if len(withClass(es, "zwin")) != 0 {
		t.Error("zero-window period drawn on a capture without one")
	}
	// The retransmitted segment at 18825 is drawn below the segments sent
	// before it: y grows downwards, sequence numbers upwards.
	var y18825, yLast float64
	for _, e := range withClass(es, "seg") {
		var x0, y0 float64
		fmt.Sscanf(e.attr["d"], "M%f,%f", &x0, &y0)
		if strings.Contains(e.text, "seq 18825:") && strings.Contains(e.class, "rexmit") {
			y18825 = y0
		}
		if strings.Contains(e.text, "seq 40001:") && !strings.Contains(e.class, "rexmit") {
			yLast = y0
		}
	}
	if !(y18825 > yLast && yLast > 0) {
		t.Errorf("retransmission of 18825 at y=%v, segment 40001 at y=%v: want it lower", y18825, yLast)
	}

	dir = runPictures(t, 1, "-T", "json", "../../pcaps/seq/zero_window.pcap")
	es = readSVG(t, dir, 1, "tseq")
	zw := withClass(es, "zwin")
	if len(zw) == 0 || !strings.Contains(zw[0].text, "zero window advertised by the server") {
		t.Errorf("zero-window periods: %+v", zw)
	}
}

// TestPicturesCut checks --ladder-packets: the pictures say how many packets
// were left out, and the HTML data carries the count.
func TestPicturesCut(t *testing.T) {
	dir := runPictures(t, 1, "-T", "html", "--ladder-packets", "10", "../../pcaps/seq/loss_retransmit.pcap")
	es := readSVG(t, dir, 1, "ladder")
	if n := len(withClass(es, "pkt")); n != 10 {
		t.Errorf("%d arrows with --ladder-packets 10", n)
	}
	notes := withClass(es, "note")
	if len(withClass(es, "elided")) != 1 || len(notes) == 0 || !strings.Contains(notes[0].text, "54 packets not kept") {
		t.Errorf("elision not shown: %+v", notes)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-q", "--svg", "2", "-o", filepath.Join(t.TempDir(), "r.txt"), "../../pcaps/close_3way.pcap"}, nil, &out, &errb); code != exitFailure ||
		!strings.Contains(errb.String(), "no connection #2") {
		t.Errorf("--svg of a connection the capture lacks: exit %d, %q", code, errb.String())
	}
	if len(withClass(readSVG(t, dir, 1, "tseq"), "gap")) != 1 {
		t.Error("time-sequence graph: no gap for the packets not kept")
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	d := pageData(t, page)
	if len(d.Conns) != 1 || d.Conns[0].El != 54 || len(d.Conns[0].P) != 10 || d.Conns[0].Head != 5 || d.LadderPackets != 10 {
		t.Errorf("page data: %+v", d)
	}
}

// pageJSON is the part of the HTML report's data the tests read.
type pageJSON struct {
	LadderPackets int `json:"ladder_packets"`
	Findings      []report.Finding
	Conns         []struct {
		ID   uint64    `json:"id"`
		P    [][]int64 `json:"p"`
		Head int       `json:"head"`
		El   uint64    `json:"el"`
	} `json:"conns"`
}

var dataBlock = regexp.MustCompile(`(?s)<script type="application/json" id="tcptrace-data">(.*?)</script>`)

func pageData(t *testing.T, page []byte) *pageJSON {
	t.Helper()
	m := dataBlock.FindSubmatch(page)
	if m == nil {
		t.Fatal("no data block in the page")
	}
	var d pageJSON
	if err := json.Unmarshal(m[1], &d); err != nil {
		t.Fatalf("page data: %v", err)
	}
	return &d
}

// TestHTMLSelfContained checks that the page loads nothing from elsewhere.
func TestHTMLSelfContained(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-q", "-T", "html", "../../pcaps/refused.pcap"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	page := out.String()
	// The only URL is the SVG namespace, which is a name, not a fetch.
	rest := strings.ReplaceAll(page, "http://www.w3.org/2000/svg", "")
	for _, bad := range []string{"http://", "https://", "src=", "<link", "@import", "url(http"} {
		if strings.Contains(rest, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	d := pageData(t, out.Bytes())
	if len(d.Findings) != 1 || d.Findings[0].Kind != "conn_refused" || len(d.Conns) != 1 || len(d.Conns[0].P) != 2 {
		t.Errorf("page data: %+v", d)
	}
}

// chromium returns the browser, or skips when it is absent outside CI.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run must install it")
	}
	t.Skip("chromium not installed")
	return ""
}

// headless runs chromium on url with extra arguments (--dump-dom,
// --screenshot=...) and returns its standard output.
func headless(t *testing.T, browser, url string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--user-data-dir=" + t.TempDir(), "--hide-scrollbars", "--virtual-time-budget=10000"}
	cmd := exec.CommandContext(ctx, browser, append(append(base, args...), url)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.Bytes()
}

var (
	htmlAttr = regexp.MustCompile(`<html[^>]*>`)
	// A drawn row and a drawn SVG (the script's source holds the same tags
	// as strings, but not with these attribute values).
	listRow  = regexp.MustCompile(`<tr class="row( open)?" data-id="\d+"`)
	svgStart = regexp.MustCompile(`<svg xmlns="http://www.w3.org/2000/svg" class="\w+" width="\d+"`)
	figure   = regexp.MustCompile(`(?s)<div class="figure" id="(bars|ladder|tseq)">(.*?</svg>)`)
)

// TestBrowserReport opens generated reports in headless chromium from
// file://: the page must render without a script error, open the
// connection a #conn-ID fragment names, and draw its ladder and
// time-sequence graph with exactly the elements --svg's Go drawing has
// (the two implementations must agree). It also opens a page of 100 000
// connections, and saves screenshots to look at.
func TestBrowserReport(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	shots := filepath.Join(os.TempDir(), "tcptrace-browser-test")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// Several fixtures read as one capture: connections with findings,
	// the loss and retransmission capture as #4, cut to 40 packets.
	var args []string
	for _, f := range []string{"close_3way.pcap", "refused.pcap", "rst_fin_wait2_timeout.pcap", "seq/loss_retransmit.pcap", "simultaneous_close.pcap", "seq/zero_window.pcap"} {
		args = append(args, "-r", filepath.Join("../../pcaps", f))
	}
	out := filepath.Join(dir, "report.html")
	var stdout, errb bytes.Buffer
	if code := run(context.Background(), append([]string{"-q", "-T", "html", "-o", out, "--svg", "4", "--ladder-packets", "40"}, args...), nil, &stdout, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	page, _ := os.ReadFile(out)
	if d := pageData(t, page); len(d.Conns) != 6 || d.Conns[3].El == 0 {
		t.Fatalf("expected 6 connections, #4 cut: %+v", d.Conns)
	}

	dom := headless(t, browser, "file://"+out+"#conn-4", "--dump-dom")
	root := htmlAttr.Find(dom)
	if !bytes.Contains(root, []byte(`data-ready="1"`)) || !bytes.Contains(root, []byte(`data-errors=""`)) || !bytes.Contains(root, []byte(`data-open="4"`)) {
		t.Fatalf("page did not render cleanly: %s", root)
	}
	if !bytes.Contains(dom, []byte(`id="cut"`)) {
		t.Error("the page does not say that connection #4's packets were cut")
	}
	if n := len(listRow.FindAll(dom, -1)); n != 6 {
		t.Errorf("%d connection rows, want 6", n)
	}
	if !bytes.Contains(dom, []byte(`href="#conn-2"`)) {
		t.Error("no finding links to connection #2 (refused)")
	}
	drawn := map[string][]svgElem{}
	for _, m := range figure.FindAllSubmatch(dom, -1) {
		drawn[string(m[1])] = parseSVG(t, "browser "+string(m[1]), m[2])
	}
	if len(drawn) != 3 {
		t.Fatalf("figures drawn: %d, want bars, ladder and tseq", len(drawn))
	}
	if n := len(withClass(drawn["bars"], "bar")); n < 4 {
		t.Errorf("%d state bars", n)
	}
	gold := map[string][]svgElem{"ladder": readSVG(t, dir, 4, "ladder"), "tseq": readSVG(t, dir, 4, "tseq")}
	for kind, classes := range map[string][]string{
		"ladder": {"pkt", "c2s", "s2c", "rexmit", "rst", "lbl", "state", "inferred", "time", "frame", "elided", "note", "life"},
		"tseq":   {"seg", "rexmit", "ooo", "probe", "syn", "fin", "sack", "dsack", "dupack", "ackline", "winline", "zwin", "gap", "rst", "grid"},
	} {
		for _, c := range classes {
			if g, b := len(withClass(gold[kind], c)), len(withClass(drawn[kind], c)); g != b {
				t.Errorf("%s: %d elements of class %q in the browser, %d in --svg's drawing", kind, b, c, g)
			}
		}
	}
	if n := len(withClass(drawn["ladder"], "pkt")); n != 40 {
		t.Errorf("%d arrows drawn, want the 40 kept", n)
	}
	if n := len(withClass(drawn["tseq"], "seg", "rexmit")); n == 0 {
		t.Error("no retransmission drawn for the loss capture")
	}
	// A zoomed view from the address: the 10-20 ms burst of the loss
	// capture, the time axis labelled within it.
	dom = headless(t, browser, "file://"+out+"#conn-4/t=10000-20000", "--dump-dom")
	if root := htmlAttr.Find(dom); !bytes.Contains(root, []byte(`data-errors=""`)) || !bytes.Contains(root, []byte(`data-open="4"`)) {
		t.Fatalf("zoomed view: %s", root)
	}
	m := figure.FindAllSubmatch(dom, -1)
	if len(m) != 3 || string(m[2][1]) != "tseq" {
		t.Fatalf("zoomed view: %d figures", len(m))
	}
	var ticks []string
	for _, e := range withClass(parseSVG(t, "zoomed tseq", m[2][2]), "tick") {
		if e.attr["y"] == "406.0" { // the time axis
			ticks = append(ticks, e.text)
			var v float64
			if _, err := fmt.Sscan(e.text, &v); err != nil || v < 0.01 || v > 0.02 {
				t.Errorf("zoomed to 10-20 ms, time tick %q", e.text)
			}
		}
	}
	if len(ticks) < 3 {
		t.Errorf("zoomed time axis ticks: %q", ticks)
	}
	shot := filepath.Join(shots, "report-conn-4.png")
	headless(t, browser, "file://"+out+"#conn-4", "--window-size=1200,2400", "--screenshot="+shot)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)

	if testing.Short() {
		return
	}
	// 100 000 connections: the list and one connection must still work.
	big := filepath.Join(dir, "big.html")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	hp := report.NewHTMLPage(200)
	r := syntheticReport(100000)
	traces := syntheticTraces(100000)
	for i := range r.Connections {
		if err := hp.Add(&r.Connections[i], traces[r.Connections[i].ID]); err != nil {
			t.Fatal(err)
		}
	}
	if err := hp.Write(f, r); err != nil {
		t.Fatal(err)
	}
	f.Close()
	start := time.Now()
	dom = headless(t, browser, "file://"+big+"#conn-99999", "--dump-dom")
	t.Logf("100 000 connections: %d bytes of HTML, opened in %v", fileSize(big), time.Since(start))
	root = htmlAttr.Find(dom)
	if !bytes.Contains(root, []byte(`data-ready="1"`)) || !bytes.Contains(root, []byte(`data-errors=""`)) || !bytes.Contains(root, []byte(`data-open="99999"`)) {
		t.Fatalf("100 000 connections: %s", root)
	}
	if n := len(listRow.FindAll(dom, -1)); n != 100 {
		t.Errorf("100 000 connections: %d rows drawn, want one page of 100", n)
	}
	if n := len(svgStart.FindAll(dom, -1)); n != 3 {
		t.Errorf("100 000 connections: %d SVGs in the page, want the opened connection's 3", n)
	}
}

// syntheticReport returns n three-packet connections (SYN, RST-ACK).
func syntheticReport(n int) *report.Report {
	r := &report.Report{Tool: "tcptrace test", Capture: report.Capture{Sources: []string{"synthetic"}, Formats: []string{"pcap"}, LinkTypes: []string{"EN10MB"}}}
	for i := 1; i <= n; i++ {
		r.Connections = append(r.Connections, report.Connection{ID: uint64(i),
			Client:    report.Endpoint{IP: "10.0.0.1", Port: uint16(1024 + i%60000), InitialState: "CLOSED"},
			Server:    report.Endpoint{IP: "10.0.0.2", Port: 80, InitialState: "LISTEN"},
			Handshake: "incomplete", Close: "refused", Start: "2026-01-01T00:00:00.000000000Z", DurationUS: 100,
			FinalState: report.States{Client: "CLOSED", Server: "LISTEN"}, Packets: report.Pair{Client: 1, Server: 1}})
	}
	return r
}

func syntheticTraces(n int) map[uint64]*report.Trace {
	out := make(map[uint64]*report.Trace, n)
	for i := 1; i <= n; i++ {
		out[uint64(i)] = &report.Trace{ID: uint64(i), Client: "10.0.0.1:1", Server: "10.0.0.2:80", DurationUS: 100, WScale: [2]int8{-1, -1},
			Initial: [2]fsm.State{fsm.StateClosed, fsm.StateListen}, Final: [2]fsm.State{fsm.StateClosed, fsm.StateListen}, Head: 2,
			Timeline: [2][]report.TraceTransition{
				{{US: 0, Frame: uint64(2 * i), From: fsm.StateClosed, To: fsm.StateSynSent, Cause: "sent SYN (active open)"}, {US: 100, Frame: uint64(2*i + 1), From: fsm.StateSynSent, To: fsm.StateClosed, Cause: "received RST"}},
				{}},
			Packets: []report.TracePacket{
				{US: 0, Frame: uint64(2 * i), Dir: fsm.DirClient, Flags: fsm.FlagSYN, Win: 64240},
				{US: 100, Frame: uint64(2*i + 1), Dir: fsm.DirServer, Flags: fsm.FlagRST | fsm.FlagACK, Ack: 1}}}
	}
	return out
}

func fileSize(name string) int64 {
	st, err := os.Stat(name)
	if err != nil {
		return -1
	}
	return st.Size()
}

// TestTextLadderSignedSeq checks that the text ladder writes sequence and
// acknowledgment numbers below a side's base as negative offsets, as the
// SVG ladder and -T trace do: the SYN-ACK of synack_wrong_ack.pcap (made by
// pcaps/findings.sh) acknowledges the client's ISS - 999, and the client's
// RST answers with that sequence number (RFC 9293 §3.10.7.3). An unsigned
// label printed 4294966297.
func TestTextLadderSignedSeq(t *testing.T) {
	out := string(runFormat(t, "text", "--ladder=all", "../../pcaps/findings/synack_wrong_ack.pcap"))
	for _, want := range []string{" S. 0 ack -999 ", " R -999 "} {
		if !strings.Contains(out, want) {
			t.Errorf("ladder lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "42949") {
		t.Errorf("ladder prints a negative offset unsigned:\n%s", out)
	}
}
