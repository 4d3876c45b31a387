package report

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/capture"
	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// typedConnection is a connection line of JSON Lines as it was encoded by
// encoding/json before connEncoder (issue 7): the reference the typed form
// is checked against.
type typedConnection struct {
	Type string `json:"type"`
	Connection
}

// checkEncoding compares connEncoder's output for c, plain and typed,
// compact and indented with three prefixes, with encoding/json's.
func checkEncoding(t *testing.T, name string, e *connEncoder, c *Connection) {
	t.Helper()
	checkEncoder(t, name, c, func(dst []byte, typed, indent bool, prefix string) []byte {
		return e.appendConnection(dst, c, typed, indent, prefix)
	})
}

// checkEncoder compares enc's output, plain and typed, compact and
// indented with three prefixes, with encoding/json's for c.
func checkEncoder(t *testing.T, name string, c *Connection, enc func(dst []byte, typed, indent bool, prefix string) []byte) {
	t.Helper()
	plain, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	typed, err := json.Marshal(typedConnection{Type: "connection", Connection: *c})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typed bool
		want  []byte
	}{{false, plain}, {true, typed}} {
		if got := enc(nil, tc.typed, false, ""); !bytes.Equal(got, tc.want) {
			t.Fatalf("%s: typed=%v compact:\n got %s\nwant %s\n%s", name, tc.typed, got, tc.want, firstDiff(got, tc.want))
		}
		for _, prefix := range []string{"", "  ", "    ", "\t# "} {
			want := appendIndent(nil, tc.want, prefix)
			// Appended after other bytes, as the encoder is used.
			got := enc([]byte("x"), tc.typed, true, prefix)
			if !bytes.Equal(got[1:], want) {
				t.Fatalf("%s: typed=%v indented with %q:\n got %s\nwant %s\n%s", name, tc.typed, prefix, got[1:], want, firstDiff(got[1:], want))
			}
		}
	}
}

// firstDiff says where got and want part.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return "first difference at byte " + strconv.Itoa(i) + ": got …" + string(got[max(0, i-40):min(len(got), i+40)]) + "… want …" + string(want[max(0, i-40):min(len(want), i+40)]) + "…"
}

// captureConnections runs every capture in pcaps/ through the flow table,
// as tcptrace reads it, and returns the records of all their connections
// and the finished flows they were built from (never recycled, so intact).
func captureConnections(t *testing.T) ([]Connection, []*reassembly.Flow) {
	t.Helper()
	var conns []Connection
	var flows []*reassembly.Flow
	var files int
	err := filepath.WalkDir("../pcaps", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(d.Name(), ".gz")
		if d.IsDir() || !(strings.HasSuffix(name, ".pcap") || strings.HasSuffix(name, ".pcapng")) {
			return nil
		}
		files++
		for _, verify := range []bool{false, true} {
			src, err := capture.Open(path, capture.Options{ICMPErrors: true, VerifyChecksums: verify})
			if err != nil {
				t.Logf("%s: %v", path, err) // a deliberately broken capture
				return nil
			}
			tb := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) {
				conns = append(conns, NewConnection(f))
				flows = append(flows, f)
			})
			var p capture.Packet
			var last time.Time
			for src.Next(&p) {
				if p.ICMP.Type != 0 {
					tb.ICMPError(p.TS, p.Frame, p.Src, p.Dst, p.Seg.Seq, p.ICMP.SeqQuoted, reassembly.ICMPReject{From: p.ICMP.From, Type: p.ICMP.Type, Code: p.ICMP.Code, V6: p.ICMP.V6})
				} else {
					tb.Observe(p.TS, p.Src, p.Dst, p.Seg, reassembly.Meta{Frame: p.Frame, WireLen: p.WireLen, IPLen: p.IPLen, Truncated: p.Truncated, IPv6: p.IPv6, Tunneled: p.Tunneled, IPID: p.IPID, TTL: p.TTL, BadChecksum: p.Checksum == capture.ChecksumBad})
				}
				if p.TS.After(last) {
					last = p.TS
				}
			}
			tb.Flush(last)
			src.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 || len(conns) < 50 {
		t.Fatalf("read %d connections from %d captures in pcaps/: too few to test with", len(conns), files)
	}
	return conns, flows
}

// TestEncodeConnectionCaptures checks connEncoder, from the Connection and
// straight from the flow (appendFlow), against encoding/json on every
// connection of every capture in pcaps/, and JSONStream and JSONLines,
// Connection and Flow, against what they wrote with encoding/json.
func TestEncodeConnectionCaptures(t *testing.T) {
	conns, flows := captureConnections(t)
	var e connEncoder
	var maps, rtts, notes int
	for i := range conns {
		c := &conns[i]
		checkEncoding(t, c.Start+" "+c.Client.IP, &e, c)
		checkEncoder(t, "flow "+c.Start+" "+c.Client.IP, c, func(dst []byte, typed, indent bool, prefix string) []byte {
			return e.appendFlow(dst, flows[i], typed, indent, prefix)
		})
		if len(c.Violations) > 0 || len(c.Stats.Client.Analysis) > 0 {
			maps++
		}
		if c.Stats.Client.RTT != nil {
			rtts++
		}
		if len(c.Quality.Notes) > 0 {
			notes++
		}
	}
	t.Logf("%d connections: %d with violations or analysis, %d with an RTT, %d with notes", len(conns), maps, rtts, notes)
	if maps == 0 || rtts == 0 || notes == 0 {
		t.Error("the captures no longer exercise maps, RTTs or notes")
	}

	var stream, lines, fstream, flines, wantStream, wantLines bytes.Buffer
	s := NewJSONStream(&stream, SchemaVersion, "test")
	j := NewJSONLines(&lines)
	fs := NewJSONStream(&fstream, SchemaVersion, "test")
	fj := NewJSONLines(&flines)
	for i := range conns {
		if err := s.Connection(&conns[i]); err != nil {
			t.Fatal(err)
		}
		if err := j.Connection(conns[i]); err != nil {
			t.Fatal(err)
		}
		if err := fs.Flow(flows[i]); err != nil {
			t.Fatal(err)
		}
		if err := fj.Flow(flows[i]); err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			wantStream.WriteByte(',')
		}
		b, _ := json.Marshal(&conns[i])
		wantStream.WriteString("\n    ")
		wantStream.Write(appendIndent(nil, b, "    "))
		json.NewEncoder(&wantLines).Encode(typedConnection{Type: "connection", Connection: conns[i]})
	}
	s.Close(Capture{}, nil, nil)
	fs.Close(Capture{}, nil, nil)
	for _, tc := range []struct {
		name          string
		stream, lines *bytes.Buffer
	}{{"Connection", &stream, &lines}, {"Flow", &fstream, &flines}} {
		_, got, _ := strings.Cut(tc.stream.String(), `"connections": [`)
		got, _, _ = strings.Cut(got, "\n  ],\n  \"rollups\"")
		if got != wantStream.String() {
			t.Errorf("JSONStream.%s: connections differ from encoding/json's:\n%s", tc.name, firstDiff([]byte(got), wantStream.Bytes()))
		}
		if !bytes.Equal(tc.lines.Bytes(), wantLines.Bytes()) {
			t.Errorf("JSONLines.%s: connections differ from encoding/json's:\n%s", tc.name, firstDiff(tc.lines.Bytes(), wantLines.Bytes()))
		}
	}
}

// TestEncodeConnectionRandom checks connEncoder against encoding/json on
// records whose every field, nested ones included, is set by reflection to
// random values: a field connEncoder leaves out, or a type it does not
// know, fails here.
func TestEncodeConnectionRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var e connEncoder
	for i := range 5000 {
		var c Connection
		fillRandom(t, r, reflect.ValueOf(&c).Elem(), "Connection")
		checkEncoding(t, "random record "+strconv.Itoa(i), &e, &c)
	}
}

// fillRandom sets v, and everything in it, to random values. Zero values,
// nil pointers and nil or empty maps and slices come often, for omitempty.
func fillRandom(t *testing.T, r *rand.Rand, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				t.Fatalf("%s.%s: unexported field; extend fillRandom and connEncoder", path, f.Name)
			}
			fillRandom(t, r, v.Field(i), path+"."+f.Name)
		}
	case reflect.String:
		v.SetString(randomString(r))
	case reflect.Bool:
		v.SetBool(r.IntN(2) == 1)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		switch r.IntN(4) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(int64(r.Uint64()) >> (64 - v.Type().Bits()))
		case 2:
			v.SetInt(r.Int64N(1000) - 500)
		default:
			v.SetInt([]int64{math.MinInt64, math.MaxInt64, -1}[r.IntN(3)] >> (64 - v.Type().Bits()))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		switch r.IntN(4) {
		case 0:
			v.SetUint(0)
		case 1:
			v.SetUint(r.Uint64() >> (64 - v.Type().Bits()))
		case 2:
			v.SetUint(r.Uint64N(1000))
		default:
			v.SetUint(math.MaxUint64 >> (64 - v.Type().Bits()))
		}
	case reflect.Pointer:
		if r.IntN(3) == 0 {
			v.SetZero()
			return
		}
		p := reflect.New(v.Type().Elem())
		fillRandom(t, r, p.Elem(), path)
		v.Set(p)
	case reflect.Map:
		switch r.IntN(3) {
		case 0:
			v.SetZero()
		case 1:
			v.Set(reflect.MakeMap(v.Type()))
		default:
			m := reflect.MakeMap(v.Type())
			for range 1 + r.IntN(6) {
				k, x := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
				fillRandom(t, r, k, path+"[key]")
				fillRandom(t, r, x, path+"[value]")
				m.SetMapIndex(k, x)
			}
			v.Set(m)
		}
	case reflect.Slice:
		switch r.IntN(3) {
		case 0:
			v.SetZero()
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, r.IntN(2)))
		default:
			s := reflect.MakeSlice(v.Type(), 1+r.IntN(4), 4)
			for i := range s.Len() {
				fillRandom(t, r, s.Index(i), path+"[]")
			}
			v.Set(s)
		}
	default:
		t.Fatalf("%s: kind %s; extend fillRandom and connEncoder", path, v.Kind())
	}
}

// stringPieces are what random strings are made of: plain text, what
// encoding/json escapes (quotes, backslashes, control characters, <, >, &,
// U+2028, U+2029, invalid UTF-8) and what it does not (DEL, non-ASCII).
var stringPieces = []string{
	"", "a", "SYN-SENT", "10.0.0.1", "2001:db8::1", " ", "z9_-.:/",
	`"`, `\`, `\"`, "<", ">", "&", "</script>", "\x00", "\x01", "\b", "\f", "\n", "\r", "\t", "\x1f", "\x7f",
	"é", "日本語", "😀", "\u2028", "\u2029", "\u2027", "\u202a", "\ufffd", "\ufeff",
	"\xff", "\x80", "\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf",
}

func randomString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(8) {
		if r.IntN(8) == 0 {
			b.WriteByte(byte(r.IntN(256)))
		} else {
			b.WriteString(stringPieces[r.IntN(len(stringPieces))])
		}
	}
	return b.String()
}

// TestAppendJSONString checks appendJSONString against encoding/json on
// every one- and two-byte string and on the random strings.
func TestAppendJSONString(t *testing.T) {
	check := func(s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
	for a := range 256 {
		check(string([]byte{byte(a)}))
		for b := range 256 {
			check(string([]byte{byte(a), byte(b)}))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		check(randomString(r))
	}
}

// FuzzAppendJSONString compares appendJSONString with encoding/json.
func FuzzAppendJSONString(f *testing.F) {
	f.Add("a<b>&\"\\\x00\u2028\xff日")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestTime checks Time's hand-written formatting against Format, over
// random instants of 1970 to 2200 (as captures hold) and of years Format
// is left to (before 0, after 9999), in several zones.
func TestTime(t *testing.T) {
	if Time(time.Time{}) != "" {
		t.Errorf("Time(zero) = %q, want \"\"", Time(time.Time{}))
	}
	zones := []*time.Location{time.UTC, time.FixedZone("x", 5*3600+1800), time.FixedZone("y", -8*3600), time.Local}
	r := rand.New(rand.NewPCG(3, 4))
	lo, hi := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), time.Date(2200, 12, 31, 23, 59, 59, 999999999, time.UTC).UnixNano()
	check := func(tm time.Time) {
		if got, want := Time(tm), tm.UTC().Format(TimeLayout); got != want {
			t.Fatalf("Time(%v) = %q, want %q", tm, got, want)
		}
	}
	for range 200000 {
		check(time.Unix(0, lo+r.Int64N(hi-lo)).In(zones[r.IntN(len(zones))]))
	}
	for range 20000 {
		year := r.IntN(13000) - 1500
		check(time.Date(year, time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), zones[r.IntN(len(zones))]))
	}
	for _, tm := range []time.Time{time.Unix(0, 0), time.Unix(0, 1), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("z", -3600))} {
		check(tm)
	}
}

// TestEncodeConnectionAllocs checks that writing a connection with a warmed
// JSONStream or JSONLines allocates nothing (issue 7), and writing a
// flow's record at most once: the Zeek history string, which
// reassembly.ZeekConn.Verdict builds.
func TestEncodeConnectionAllocs(t *testing.T) {
	conns, flows := captureConnections(t)
	s := NewJSONStream(io.Discard, SchemaVersion, "test")
	j := NewJSONLines(io.Discard)
	for i := range conns { // warm the buffers up to the largest record
		s.Connection(&conns[i])
		j.Connection(conns[i])
		s.Flow(flows[i])
		j.Flow(flows[i])
	}
	for _, f := range flows {
		if n := testing.AllocsPerRun(10, func() { s.Flow(f) }); n > 1 {
			t.Fatalf("JSONStream.Flow: %v allocations, want at most 1", n)
		}
		if n := testing.AllocsPerRun(10, func() { j.Flow(f) }); n > 1 {
			t.Fatalf("JSONLines.Flow: %v allocations, want at most 1", n)
		}
	}
	for i := range conns {
		c := &conns[i]
		if n := testing.AllocsPerRun(10, func() { s.Connection(c) }); n != 0 {
			t.Fatalf("JSONStream.Connection: %v allocations, want 0", n)
		}
		if n := testing.AllocsPerRun(10, func() { j.Connection(*c) }); n != 0 {
			t.Fatalf("JSONLines.Connection: %v allocations, want 0", n)
		}
	}
}

// failWriter fails every write after the first n.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, io.ErrShortWrite
	}
	w.n--
	return len(p), nil
}

// TestJSONLinesStickyError checks that a failed write ends JSON Lines for
// every kind of line, connection lines (written by hand) and the others
// (by json.Encoder) alike, as when json.Encoder wrote them all.
func TestJSONLinesStickyError(t *testing.T) {
	for _, first := range []string{"connection", "capture"} {
		w := &failWriter{n: 1}
		j := NewJSONLines(w)
		if err := j.Connection(Connection{}); err != nil {
			t.Fatal(err)
		}
		var err error
		if first == "connection" {
			err = j.Connection(Connection{})
		} else {
			err = j.Capture(Capture{})
		}
		if err == nil {
			t.Fatalf("%s: no error from a failed write", first)
		}
		w.n = 10 // the writer works again: JSONLines must not use it
		if err := j.Connection(Connection{}); err == nil {
			t.Errorf("after a failed %s line: Connection wrote", first)
		}
		if err := j.Finding(Finding{}); err == nil {
			t.Errorf("after a failed %s line: Finding wrote", first)
		}
		if w.n != 10 {
			t.Errorf("after a failed %s line: %d more writes", first, 10-w.n)
		}
	}
}

// TestWriteJSONMarshalIndent holds WriteJSON, which encodes connections by
// hand, to the bytes json.MarshalIndent writes for the same Report (what it
// wrote before): every connection of every capture in pcaps/, findings and
// rollups with strings that encoding/json escapes, and the empty and nil
// lists, which it writes as [] and null.
func TestWriteJSONMarshalIndent(t *testing.T) {
	conns, _ := captureConnections(t)
	odd := "a<b>&c\u2028d\"e\\f\x01é"
	full := Report{SchemaVersion: SchemaVersion, Tool: "tcptrace " + odd, Connections: conns,
		Capture:  Capture{Sources: []string{"x.pcap", odd}, Formats: []string{"pcap"}, LinkTypes: []string{"EN10MB"}, Packets: 7, First: "2026-12-07T00:00:00Z"},
		Rollups:  []Rollup{{Service: "10.0.0.2:443", Connections: 3, HandshakeSuccess: 2.0 / 3}},
		Findings: []Finding{{Kind: "half_close", Severity: "high", Confidence: 0.9, Host: odd, Count: 1}, {Kind: "port_scan"}},
	}
	cases := map[string]Report{
		"captures":  full,
		"one":       {SchemaVersion: SchemaVersion, Tool: "t", Connections: conns[:1], Rollups: []Rollup{}, Findings: []Finding{}},
		"empty":     {SchemaVersion: SchemaVersion, Tool: "t", Connections: []Connection{}, Rollups: []Rollup{}, Findings: []Finding{}},
		"nil lists": {},
	}
	for name, r := range cases {
		want, err := json.MarshalIndent(&r, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		var got bytes.Buffer
		if err := WriteJSON(&got, &r); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			i := 0
			for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
				i++
			}
			lo := max(0, i-200)
			t.Errorf("%s: WriteJSON differs from json.MarshalIndent at byte %d of %d (want %d):\ngot  ...%s\nwant ...%s", name, i, got.Len(), len(want),
				got.Bytes()[lo:min(got.Len(), i+100)], want[lo:min(len(want), i+100)])
		}
	}
	if len(conns) < 100 {
		t.Errorf("only %d connections from pcaps/", len(conns))
	}
}

// TestHolesForgotten: a sender whose segments leave six holes open at once
// (loss before the capture point) has two forgotten, then a retransmission
// fills the oldest: tcptrace counts it as retransmitted (Ostermann's tool,
// keeping every range, as new), and the record says so, in holes_forgotten
// and a note, the same from both encoders.
func TestHolesForgotten(t *testing.T) {
	var got *reassembly.Flow
	tb := reassembly.NewTable(reassembly.DefaultConfig(), func(f *reassembly.Flow) { got = f })
	cli, srv := netip.MustParseAddrPort("192.0.2.1:40000"), netip.MustParseAddrPort("198.51.100.2:80")
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	frame := uint64(0)
	send := func(from, to netip.AddrPort, s fsm.Segment) {
		frame++
		ts = ts.Add(time.Millisecond)
		tb.Observe(ts, from, to, s, reassembly.Meta{Frame: frame, WireLen: 54 + s.Len, IPLen: 40 + s.Len})
	}
	const isnC, isnS = 1000, 5000
	send(cli, srv, fsm.Segment{Flags: fsm.FlagSYN, Seq: isnC, Window: 1000})
	send(srv, cli, fsm.Segment{Flags: fsm.FlagSYN | fsm.FlagACK, Seq: isnS, Ack: isnC + 1, Window: 1000})
	send(cli, srv, fsm.Segment{Flags: fsm.FlagACK, Seq: isnC + 1, Ack: isnS + 1, Window: 1000})
	for i := range 7 { // 1-101, 201-301, ... 1201-1301: holes at 101, 301, ..., 1101
		send(cli, srv, fsm.Segment{Flags: fsm.FlagACK, Seq: isnC + 1 + fsm.Seq(200*i), Ack: isnS + 1, Len: 100, Window: 1000})
	}
	send(cli, srv, fsm.Segment{Flags: fsm.FlagACK, Seq: isnC + 101, Ack: isnS + 1, Len: 100, Window: 1000}) // fills the first hole
	tb.Flush(ts)
	if got == nil {
		t.Fatal("no flow")
	}
	st := &got.Half[fsm.DirClient].Stats
	if st.HolesDropped != 2 || st.RetransBytes != 100 || st.UniqueBytes != 700 {
		t.Errorf("holes dropped %d, retransmitted %d, unique %d; want 2, 100, 700", st.HolesDropped, st.RetransBytes, st.UniqueBytes)
	}
	c := NewConnection(got)
	if q := c.Quality.Client; q.HolesForgotten != 2 || len(c.Quality.Notes) != 1 || c.Quality.Notes[0] != "client"+noteHolesForgotten {
		t.Errorf("quality %+v, notes %q", q, c.Quality.Notes)
	}
	var e connEncoder
	checkEncoding(t, "holes", &e, &c)
	checkEncoder(t, "holes flow", &c, func(dst []byte, typed, indent bool, prefix string) []byte {
		return e.appendFlow(dst, got, typed, indent, prefix)
	})
}
