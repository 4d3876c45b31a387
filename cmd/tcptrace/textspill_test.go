package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// TestTextSpill checks the text report of more connections than it holds in
// memory (spillAfter): the head and the findings come first, as always, and
// then every connection's block exactly once, the same block that the JSON
// report's connection renders to.
func TestTextSpill(t *testing.T) {
	const n = spillAfter + 1500
	// Bare SYNs from n ports of 198.51.100.7 to 192.0.2.1:80.
	var frames [][]byte
	for i := range n {
		c := netip.AddrPortFrom(netip.MustParseAddr("198.51.100.7"), uint16(10000+i))
		frames = append(frames, hostile{}.frame(c, netip.MustParseAddrPort("192.0.2.1:80"), uint32(i)*7919, 0, 0x02, nil, nil))
	}
	path := writeFrames(t, frames)

	var text, js, errb bytes.Buffer
	if code := run(context.Background(), []string{"-q", path}, nil, &text, &errb); code != exitOK {
		t.Fatalf("exit code %d: %s", code, errb.String())
	}
	if code := run(context.Background(), []string{"-q", "-T", "json", path}, nil, &js, &errb); code != exitOK {
		t.Fatalf("-T json: exit code %d: %s", code, errb.String())
	}
	var r report.Report
	if err := json.Unmarshal(js.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Connections) != n {
		t.Fatalf("JSON report has %d connections, want %d", len(r.Connections), n)
	}
	out := text.String()
	first := strings.Index(out, "\n\n#")
	if first < 0 {
		t.Fatalf("no connection block in\n%.2000s", out)
	}
	head, body := out[:first], out[first:]
	if !strings.Contains(head, "connections: "+strconv.Itoa(n)+";") || !strings.Contains(head, "findings (worst first)") {
		t.Errorf("head of the report lacks the count or the findings:\n%s", head)
	}
	var want []string
	for i := range r.Connections {
		var b bytes.Buffer
		if err := report.WriteTextConnection(&b, &r.Connections[i]); err != nil {
			t.Fatal(err)
		}
		want = append(want, b.String())
	}
	got := strings.Split(body, "\n\n#")[1:] // a block has no blank line
	for i := range got {
		got[i] = "\n#" + got[i] + "\n"
	}
	got[len(got)-1] = strings.TrimSuffix(got[len(got)-1], "\n")
	if len(got) != n {
		t.Fatalf("text report has %d connection blocks, want %d", len(got), n)
	}
	for i := range spillAfter {
		if got[i] != want[i] {
			t.Fatalf("block %d = %q, want %q (the blocks held before the spill come in id order)", i, got[i], want[i])
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the text report's connection blocks are not those of the JSON report's connections")
	}
}
