package report_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
)

// streamConns returns the connections of a few handshakes, one of them
// reset, as the flow table hands them over.
func streamConns(t testing.TB, n int) []report.Connection {
	t.Helper()
	var out []report.Connection
	tb := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { out = append(out, report.NewConnection(f)) })
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	srv := netip.MustParseAddrPort("10.0.0.2:443")
	for i := range n {
		cli := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(40000+i))
		ts := t0.Add(time.Duration(i) * time.Millisecond)
		m := reassembly.Meta{Frame: uint64(3*i + 1), WireLen: 60, IPLen: 40}
		tb.Observe(ts, cli, srv, fsm.Segment{Flags: fsm.FlagSYN, Seq: 1000, Window: 64240}, m)
		m.Frame++
		tb.Observe(ts.Add(time.Millisecond), srv, cli, fsm.Segment{Flags: fsm.FlagSYN | fsm.FlagACK, Seq: 5000, Ack: 1001, Window: 64240}, m)
		m.Frame++
		flags := fsm.FlagACK
		if i%2 == 1 {
			flags = fsm.FlagRST
		}
		tb.Observe(ts.Add(2*time.Millisecond), cli, srv, fsm.Segment{Flags: flags, Seq: 1001, Ack: 5001, Window: 502}, m)
	}
	tb.Flush(t0.Add(time.Second))
	return out
}

// TestJSONStream checks that the streamed document holds what WriteJSON
// writes, keys in stream order, indented as WriteJSON indents.
func TestJSONStream(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		conns := streamConns(t, n)
		r := report.Report{SchemaVersion: report.SchemaVersion, Tool: "tcptrace test", Connections: conns,
			Capture:  report.Capture{Sources: []string{"x.pcap"}, Formats: []string{"pcap"}, LinkTypes: []string{"EN10MB"}, Packets: uint64(3 * n)},
			Rollups:  []report.Rollup{{Service: "10.0.0.2:443", Connections: uint64(n)}},
			Findings: nil,
		}
		var buf bytes.Buffer
		s := report.NewJSONStream(&buf, r.SchemaVersion, r.Tool)
		for i := range conns {
			if err := s.Connection(&conns[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(r.Capture, r.Rollups, r.Findings); err != nil {
			t.Fatal(err)
		}
		var got report.Report
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("n=%d: streamed document does not parse: %v\n%s", n, err, buf.String())
		}
		want := r
		want.Findings = []report.Finding{}
		if want.Connections == nil {
			want.Connections = []report.Connection{}
		}
		var classic bytes.Buffer
		if err := report.WriteJSON(&classic, &want); err != nil {
			t.Fatal(err)
		}
		var wantBack report.Report
		if err := json.Unmarshal(classic.Bytes(), &wantBack); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, wantBack) {
			t.Errorf("n=%d: streamed document = %+v, want %+v", n, got, wantBack)
		}
		// Same indentation as WriteJSON: compacting and re-indenting gives
		// the document back byte for byte.
		var compact, again bytes.Buffer
		if err := json.Compact(&compact, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&again, compact.Bytes(), "", "  "); err != nil {
			t.Fatal(err)
		}
		again.WriteByte('\n')
		if !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Errorf("n=%d: streamed document is not indented as json.Indent would:\n%s", n, buf.String())
		}
		var keys []string
		dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
		dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		if got, want := strings.Join(keys, ","), "schema_version,tool,connections,rollups,findings,capture"; got != want {
			t.Errorf("n=%d: keys %s, want %s", n, got, want)
		}
	}
}

// BenchmarkJSONStream is the -T json encoding of one connection record
// (report.JSONStream: connEncoder, indenting as it writes).
func BenchmarkJSONStream(b *testing.B) {
	conns := streamConns(b, 2)
	s := report.NewJSONStream(io.Discard, report.SchemaVersion, "tcptrace bench")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Connection(&conns[1]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJSONLines is the -T jsonl encoding of one connection record.
func BenchmarkJSONLines(b *testing.B) {
	conns := streamConns(b, 2)
	j := report.NewJSONLines(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := j.Connection(conns[1]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewConnection builds one connection record from a finished flow.
func BenchmarkNewConnection(b *testing.B) {
	var flows []*reassembly.Flow
	tb := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { flows = append(flows, f) })
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cli, srv := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:443")
	tb.Observe(t0, cli, srv, fsm.Segment{Flags: fsm.FlagSYN, Seq: 1000, Window: 64240}, reassembly.Meta{Frame: 1})
	tb.Observe(t0.Add(time.Millisecond), srv, cli, fsm.Segment{Flags: fsm.FlagSYN | fsm.FlagACK, Seq: 5000, Ack: 1001, Window: 64240}, reassembly.Meta{Frame: 2})
	tb.Observe(t0.Add(2*time.Millisecond), cli, srv, fsm.Segment{Flags: fsm.FlagACK, Seq: 1001, Ack: 5001, Window: 502}, reassembly.Meta{Frame: 3})
	tb.Flush(t0.Add(time.Second))
	b.ReportAllocs()
	for b.Loop() {
		report.NewConnection(flows[0])
	}
}

// BenchmarkJSONStreamFlow is the -T json encoding of one connection record
// straight from its flow (JSONStream.Flow), as a streamed document writes
// most records.
func BenchmarkJSONStreamFlow(b *testing.B) {
	var flows []*reassembly.Flow
	tb := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { flows = append(flows, f) })
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cli, srv := netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:443")
	tb.Observe(t0, cli, srv, fsm.Segment{Flags: fsm.FlagSYN, Seq: 1000, Window: 64240}, reassembly.Meta{Frame: 1})
	tb.Observe(t0.Add(time.Millisecond), srv, cli, fsm.Segment{Flags: fsm.FlagSYN | fsm.FlagACK, Seq: 5000, Ack: 1001, Window: 64240}, reassembly.Meta{Frame: 2})
	tb.Observe(t0.Add(2*time.Millisecond), cli, srv, fsm.Segment{Flags: fsm.FlagACK, Seq: 1001, Ack: 5001, Window: 502}, reassembly.Meta{Frame: 3})
	tb.Flush(t0.Add(time.Second))
	s := report.NewJSONStream(io.Discard, report.SchemaVersion, "tcptrace bench")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Flow(flows[0]); err != nil {
			b.Fatal(err)
		}
	}
}
