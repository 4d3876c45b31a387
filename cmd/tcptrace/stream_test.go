package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/capture"
)

// writeOpenConns writes a pcap of n connections that stay open (a
// handshake, one request and its acknowledgment) from 198.51.100.7 to
// 192.0.2.1:80, one starting every 5 ms.
func writeOpenConns(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "open.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.NewWriter(f, capture.LinkTypeEthernet, 65535, false)
	if err != nil {
		t.Fatal(err)
	}
	const syn, ack, psh = 0x02, 0x10, 0x08
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := range n {
		port := uint16(10000 + i)
		c, s := uint32(i)*7919, uint32(i)*104729+1
		segs := []struct {
			fromClient bool
			flags      byte
			seq, ack   uint32
			payload    int
		}{
			{true, syn, c, 0, 0},
			{false, syn | ack, s, c + 1, 0},
			{true, ack, c + 1, s + 1, 0},
			{true, ack | psh, c + 1, s + 1, 10},
			{false, ack, s + 1, c + 11, 0},
		}
		for j, sg := range segs {
			fr := make([]byte, 14+20+20+sg.payload)
			binary.BigEndian.PutUint16(fr[12:], 0x0800)
			ip := fr[14:]
			ip[0], ip[8], ip[9] = 0x45, 64, 6
			binary.BigEndian.PutUint16(ip[2:], uint16(40+sg.payload))
			cli, srv := []byte{198, 51, 100, 7}, []byte{192, 0, 2, 1}
			sp, dp := port, uint16(80)
			if !sg.fromClient {
				cli, srv, sp, dp = srv, cli, dp, sp
			}
			copy(ip[12:], cli)
			copy(ip[16:], srv)
			tcp := ip[20:]
			binary.BigEndian.PutUint16(tcp[0:], sp)
			binary.BigEndian.PutUint16(tcp[2:], dp)
			binary.BigEndian.PutUint32(tcp[4:], sg.seq)
			binary.BigEndian.PutUint32(tcp[8:], sg.ack)
			tcp[12], tcp[13] = 5<<4, sg.flags
			binary.BigEndian.PutUint16(tcp[14:], 64240)
			ts := t0.Add(time.Duration(i)*5*time.Millisecond + time.Duration(j)*500*time.Microsecond)
			if err := w.Write(ts, fr, uint32(len(fr))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestJSONStreamed checks -T json on more than streamAfter connections: the
// document is streamed (its members in stream order, the first streamAfter
// connections in id order), and its connections are exactly the records
// -T jsonl writes (connections that stay open finish at the end of the
// capture in both).
func TestJSONStreamed(t *testing.T) {
	const n = streamAfter + 400
	path := writeOpenConns(t, n)
	var js, jl, errb bytes.Buffer
	if code := run(context.Background(), []string{"-q", "-T", "json", path}, nil, &js, &errb); code != exitOK {
		t.Fatalf("-T json: exit code %d: %s", code, errb.String())
	}
	if code := run(context.Background(), []string{"-q", "-T", "jsonl", path}, nil, &jl, &errb); code != exitOK {
		t.Fatalf("-T jsonl: exit code %d: %s", code, errb.String())
	}
	var doc struct {
		Connections []map[string]any `json:"connections"`
		Capture     map[string]any   `json:"capture"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatalf("-T json does not parse: %v", err)
	}
	// Streamed: the capture block, known only at the end, comes last
	// (report's TestJSONStream checks the whole order).
	if c, k := bytes.Index(js.Bytes(), []byte("\n  \"connections\": [")), bytes.Index(js.Bytes(), []byte("\n  \"capture\": {")); c < 0 || k < c {
		t.Errorf("-T json is not streamed: connections at byte %d, capture at %d", c, k)
	}
	var lines []map[string]any
	var capLine map[string]any
	sc := bufio.NewScanner(&jl)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		switch m["type"] {
		case "connection":
			delete(m, "type")
			lines = append(lines, m)
		case "capture":
			capLine = m
		}
	}
	if len(doc.Connections) != n || len(lines) != n {
		t.Fatalf("%d connections in -T json, %d in -T jsonl, want %d", len(doc.Connections), len(lines), n)
	}
	for i := 1; i < streamAfter; i++ {
		if doc.Connections[i]["id"].(float64) < doc.Connections[i-1]["id"].(float64) {
			t.Fatalf("the first %d connections are not in id order: %v after %v", streamAfter, doc.Connections[i]["id"], doc.Connections[i-1]["id"])
		}
	}
	byID := func(s []map[string]any) {
		sort.Slice(s, func(i, j int) bool { return s[i]["id"].(float64) < s[j]["id"].(float64) })
	}
	byID(doc.Connections)
	byID(lines)
	for i := range lines {
		if !reflect.DeepEqual(doc.Connections[i], lines[i]) {
			t.Fatalf("connection %v differs:\n-T json  %v\n-T jsonl %v", lines[i]["id"], doc.Connections[i], lines[i])
		}
		if id := lines[i]["id"].(float64); id != float64(i+1) {
			t.Fatalf("connection ids skip: %v at %d", id, i)
		}
	}
	if !reflect.DeepEqual(doc.Capture, capLine["capture"]) {
		t.Errorf("capture %v, want %v", doc.Capture, capLine["capture"])
	}
}
