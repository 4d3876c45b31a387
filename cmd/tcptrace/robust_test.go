package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// TestDamagedInputStillReports checks the contract of exit codes 0 and 1
// for every kind of damage issue 8 lists, on real captures cut and patched:
// a damaged or unreadable input is named with the file and the byte where
// the damage starts, every packet read before it is still reported, and
// damage that does not stop reading is a warning with exit code 0.
func TestDamagedInputStillReports(t *testing.T) {
	const (
		pcapPath = "../../pcaps/handshake_clean_4way.pcap"
		ngPath   = "../../pcaps/pcapng_clean.pcapng"
		gzPath   = "../../pcaps/handshake_clean_4way.pcap.gz"
	)
	whole, err := os.ReadFile(pcapPath)
	if err != nil {
		t.Fatal(err)
	}
	ng, err := os.ReadFile(ngPath)
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := os.ReadFile(gzPath)
	if err != nil {
		t.Fatal(err)
	}
	n := analyze(t, pcapPath).Capture.Packets
	nng := analyze(t, ngPath).Capture.Packets
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	le := binary.LittleEndian
	// rec[i] is where the pcap record of frame i+1 starts; blk[i] where
	// the pcapng block of frame i+1 (an enhanced packet block) starts.
	var rec, blk []int
	for off := 24; off < len(whole); off += 16 + int(le.Uint32(whole[off+8:])) {
		rec = append(rec, off)
	}
	for off := 0; off < len(ng); off += int(le.Uint32(ng[off+4:])) {
		if le.Uint32(ng[off:]) == 6 {
			blk = append(blk, off)
		}
	}
	if uint64(len(rec)) != n || uint64(len(blk)) != nng || n < 6 || nng < 6 {
		t.Fatalf("walked %d records and %d blocks, want %d and %d", len(rec), len(blk), n, nng)
	}
	patched := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		le.PutUint32(c[off:], v)
		return c
	}
	const k = 5 // the damage is in frame k+1
	// A zero-length record inserted before frame k+1.
	zero := slices.Concat(whole[:rec[k]], whole[rec[k]:rec[k]+8], make([]byte, 8), whole[rec[k]:])
	// Frame k+1 stamped a second before frame k.
	back := patched(whole, rec[k], le.Uint32(whole[rec[k-1]:])-1)
	// A block of an unknown type (with a trailing length) before frame k+1.
	unknown := slices.Concat(ng[:blk[k]], []byte{0xad, 0xde, 0, 0, 16, 0, 0, 0, 1, 2, 3, 4, 16, 0, 0, 0}, ng[blk[k]:])
	gzCut := zipped[:len(zipped)*3/4]

	tests := []struct {
		name    string
		file    string
		code    int
		err     string // the whole message in stderr and capture.errors ("" for none); FILE stands for the path
		warn    string // the start of the one capture.warnings entry, after the directory; "" for none
		conns   int    // connections still reported
		packets uint64 // frames read; 0 with conns 1 means "some but not all"
	}{
		{"truncated in the global header", write("hdr.pcap", whole[:20]), exitFailure,
			"FILE: truncated pcap file header at byte 0: unexpected EOF", "", 0, 0},
		{"truncated mid record header", write("rechdr.pcap", whole[:rec[k]+7]), exitFailure,
			fmt.Sprintf("FILE: truncated packet record header at byte %d: unexpected EOF", rec[k]), "", 1, k},
		{"truncated mid packet", write("cut.pcap", whole[:rec[k]+16+30]), exitFailure,
			fmt.Sprintf("FILE: truncated packet record (46 of its %d bytes present) at byte %d: unexpected EOF", rec[k+1]-rec[k], rec[k]), "", 1, k},
		{"wrong magic", write("magic.pcap", []byte("<!DOCTYPE html><html></html>")), exitFailure,
			"FILE: not a pcap, pcapng or gzip file (first bytes 3c 21 44 4f)", "", 0, 0},
		{"caplen over 256 KiB", write("huge.pcap", patched(whole, rec[k]+8, 300000)), exitFailure,
			fmt.Sprintf("FILE: corrupt packet record at byte %d: captured length 300000 exceeds 262144", rec[k]), "", 1, k},
		{"caplen over the snaplen", write("snap.pcap", patched(whole, 16, 60)), exitOK,
			"", "snap.pcap: captured length exceeds the file's snaplen 60 in ", 1, n},
		{"zero-length record", write("zero.pcap", zero), exitOK, "", "", 1, n + 1},
		{"timestamps going backwards", write("back.pcap", back), exitOK,
			"", fmt.Sprintf("back.pcap: timestamps go backwards 1 time(s), first at frame %d (by ", k+1), 1, n},
		{"pcapng bad block length", write("len.pcapng", patched(ng, blk[k]+4, 0x55)), exitFailure,
			fmt.Sprintf("FILE: bad block length at byte %d: 85 in enhanced packet block", blk[k]), "", 1, k},
		{"pcapng unknown block", write("unknown.pcapng", unknown), exitOK, "", "", 1, nng},
		{"pcapng undefined interface", write("ifid.pcapng", patched(ng, blk[k]+8, 7)), exitFailure,
			fmt.Sprintf("FILE: enhanced packet block refers to undefined interface 7 at byte %d", blk[k]), "", 1, k},
		{"gzip cut short", write("cut.pcap.gz", gzCut), exitFailure,
			"FILE: truncated gzip stream in packet record (", "", 1, 0},
		{"empty file", write("empty.pcap", nil), exitFailure, "FILE: empty capture file", "", 0, 0},
		{"missing file", filepath.Join(dir, "nope.pcap"), exitFailure,
			"open FILE: no such file or directory", "", 0, 0},
		{"directory", dir, exitFailure, "open FILE: is a directory", "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"-T", "json", "-r", tt.file}, nil, &out, &errb)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tt.code, errb.String())
			}
			var r report.Report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("no JSON report written: %v\n%s", err, out.String())
			}
			want := strings.ReplaceAll(tt.err, "FILE", tt.file)
			switch {
			case want == "" && (len(r.Capture.Errors) != 0 || errb.Len() != 0):
				t.Errorf("capture.errors = %q, stderr %q; want none", r.Capture.Errors, errb.String())
			case want != "" && (len(r.Capture.Errors) != 1 || !strings.HasPrefix(r.Capture.Errors[0], want)):
				t.Errorf("capture.errors = %q, want one starting %q", r.Capture.Errors, want)
			case want != "" && !strings.Contains(errb.String(), "tcptrace: "+r.Capture.Errors[0]+"\n"):
				t.Errorf("stderr = %q, want it to carry %q", errb.String(), r.Capture.Errors[0])
			}
			if tt.warn == "" && len(r.Capture.Warnings) != 0 {
				t.Errorf("capture.warnings = %q, want none", r.Capture.Warnings)
			}
			if tt.warn != "" && (len(r.Capture.Warnings) != 1 || !strings.HasPrefix(r.Capture.Warnings[0], filepath.Join(dir, tt.warn))) {
				t.Errorf("capture.warnings = %q, want one starting %q", r.Capture.Warnings, filepath.Join(dir, tt.warn))
			}
			if len(r.Connections) != tt.conns {
				t.Errorf("got %d connections from %d packets, want %d", len(r.Connections), r.Capture.Packets, tt.conns)
			}
			// The text report heads with what was read, or says nothing was.
			var text bytes.Buffer
			run(context.Background(), []string{"-r", tt.file}, nil, &text, io.Discard)
			head, _, _ := strings.Cut(text.String(), "\n")
			wantHead := "capture  none read"
			if len(r.Capture.Sources) > 0 {
				wantHead = "capture  " + tt.file + "  ("
			}
			if !strings.HasPrefix(head, wantHead) {
				t.Errorf("text report heads %q, want %q", head, wantHead)
			}
			if tt.packets != 0 && r.Capture.Packets != tt.packets || tt.packets == 0 && tt.conns > 0 && (r.Capture.Packets == 0 || r.Capture.Packets >= n) {
				t.Errorf("read %d packets, want %d (0: some but not all %d)", r.Capture.Packets, tt.packets, n)
			}
		})
	}
}

// TestStdinAndGzip reads the same capture three ways and expects the same
// connections.
func TestStdinAndGzip(t *testing.T) {
	plain := analyze(t, "-r", "../../pcaps/handshake_clean_4way.pcap")
	gz := analyze(t, "-r", "../../pcaps/handshake_clean_4way.pcap.gz")
	f, err := os.Open("../../pcaps/handshake_clean_4way.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-T", "json", "-r", "-"}, f, &out, &errb); code != exitOK {
		t.Fatalf("stdin: exit %d: %s", code, errb.String())
	}
	var stdin report.Report
	if err := json.Unmarshal(out.Bytes(), &stdin); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(plain.Connections)
	for name, r := range map[string]*report.Report{"gzip": gz, "stdin": &stdin} {
		if got, _ := json.Marshal(r.Connections); !bytes.Equal(got, want) {
			t.Errorf("%s: connections differ from the plain file's", name)
		}
	}
	if stdin.Capture.Sources[0] != "stdin" || gz.Capture.Formats[0] != "pcap+gzip" {
		t.Errorf("sources/formats = %v/%v", stdin.Capture.Sources, gz.Capture.Formats)
	}
}

// TestUsageErrors checks exit code 2.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-T", "xml", "x.pcap"},
		{"--msl", "0s", "x.pcap"},
		{"--no-such-flag"},
		{"--ladder", "-T", "json", "x.pcap"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, nil, &out, &errb); code != exitUsage {
			t.Errorf("run(%q) = %d, want %d (stderr %q)", args, code, exitUsage, errb.String())
		}
	}
}

// TestCountStops checks that -c stops after N packets and says so.
func TestCountStops(t *testing.T) {
	r := analyze(t, "-c", "3", "-r", "../../pcaps/handshake_clean_4way.pcap")
	if r.Capture.Packets != 3 || !r.Capture.Interrupted {
		t.Errorf("packets = %d interrupted = %v, want 3 and true", r.Capture.Packets, r.Capture.Interrupted)
	}
	if len(r.Connections) != 1 || r.Connections[0].FinalState.Client != "ESTABLISHED" {
		t.Errorf("connections = %+v, want one, client ESTABLISHED", r.Connections)
	}
}
