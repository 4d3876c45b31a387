package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"

	"github.com/tcptrace/tcptrace/reassembly"
)

// JSONStream writes the JSON report (the Report document) one connection at
// a time, so that a report of any size is never held in memory: the head
// (schema_version, tool) first, then each connection as it is handed over,
// then rollups, findings and capture, which are known only at the end. The
// document has the fields WriteJSON gives, in that order and with the same
// indentation; connections come in the order they were handed over
// (docs/schema.md). Not safe for concurrent use.
type JSONStream struct {
	w    *bufio.Writer
	buf  bytes.Buffer  // one value, compact
	enc  *json.Encoder // into buf
	out  []byte        // one value, indented
	conn connEncoder   // connections, by hand (issue 7)
	n    int           // connections written
	err  error         // the first write error; later calls return it
}

// NewJSONStream writes the head of the document to w and returns the stream.
func NewJSONStream(w io.Writer, schemaVersion, tool string) *JSONStream {
	s := newJSONStream(w)
	s.w.WriteString("{\n")
	s.field("schema_version", schemaVersion, true)
	s.field("tool", tool, true)
	s.w.WriteString("  \"connections\": [")
	return s
}

// newJSONStream returns a stream on w that has written nothing yet.
func newJSONStream(w io.Writer) *JSONStream {
	s := &JSONStream{w: bufio.NewWriterSize(w, 64<<10)}
	s.enc = json.NewEncoder(&s.buf)
	return s
}

// Connection writes c as the next element of connections.
func (s *JSONStream) Connection(c *Connection) error {
	if s.err != nil {
		return s.err
	}
	if s.n > 0 {
		s.w.WriteByte(',')
	}
	s.w.WriteString("\n    ")
	// Indented as it is written, not encoded compact by reflection and
	// then indented by appendIndent: that was most of the 1.8 s of 8.4 s
	// CPU that encoding took on a 2M-packet capture (issue 7).
	s.out = s.conn.appendConnection(s.out[:0], c, false, true, "    ")
	// bufio.Writer's errors are sticky: the last write returns any.
	if _, err := s.w.Write(s.out); err != nil {
		s.err = err
	}
	s.n++
	return s.err
}

// Flow writes the record of the finished flow f as the next element of
// connections: the bytes Connection writes for NewConnection(f), encoded
// straight from f (encodeflow.go). f is only read.
func (s *JSONStream) Flow(f *reassembly.Flow) error {
	if s.err != nil {
		return s.err
	}
	if s.n > 0 {
		s.w.WriteByte(',')
	}
	s.w.WriteString("\n    ")
	s.out = s.conn.appendFlow(s.out[:0], f, false, true, "    ")
	if _, err := s.w.Write(s.out); err != nil {
		s.err = err
	}
	s.n++
	return s.err
}

// Close writes the rest of the document (rollups, findings, capture) and
// flushes it. A nil rollups or findings is written as an empty list.
func (s *JSONStream) Close(c Capture, rollups []Rollup, findings []Finding) error {
	if s.err != nil {
		return s.err
	}
	if s.n > 0 {
		s.w.WriteString("\n  ")
	}
	s.w.WriteString("],\n")
	if rollups == nil {
		rollups = []Rollup{}
	}
	if findings == nil {
		findings = []Finding{}
	}
	s.field("rollups", rollups, true)
	s.field("findings", findings, true)
	s.field("capture", c, false)
	s.w.WriteString("}\n")
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

// field writes one top-level member of the document.
func (s *JSONStream) field(name string, v any, comma bool) {
	s.buf.Reset()
	if err := s.enc.Encode(v); err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	s.w.WriteString("  \"" + name + "\": ")
	s.out = appendIndent(s.out[:0], bytes.TrimSuffix(s.buf.Bytes(), []byte{'\n'}), "  ")
	s.w.Write(s.out)
	if comma {
		s.w.WriteByte(',')
	}
	s.w.WriteByte('\n')
}
