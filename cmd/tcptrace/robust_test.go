package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// TestDamagedInputStillReports checks the contract of exit code 1: a damaged
// or unreadable input is named with what went wrong, and every packet read
// before the damage is still reported.
func TestDamagedInputStillReports(t *testing.T) {
	whole, err := os.ReadFile("../../pcaps/handshake_clean_4way.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cut := write("cut.pcap", whole[:len(whole)-30]) // the last record loses its end
	n := analyze(t, "-r", "../../pcaps/handshake_clean_4way.pcap").Capture.Packets
	empty := write("empty.pcap", nil)
	tests := []struct {
		name      string
		file      string
		code      int
		errSubstr string // in stderr and capture.errors
		conns     int    // connections still reported
		packets   uint64
	}{
		{"truncated mid packet", cut, exitFailure, "byte", 1, n - 1},
		{"missing file", filepath.Join(dir, "nope.pcap"), exitFailure, "no such file", 0, 0},
		{"directory", dir, exitFailure, "directory", 0, 0},
		{"empty file", empty, exitFailure, "empty", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"-T", "json", "-r", tt.file}, nil, &out, &errb)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d", code, tt.code)
			}
			if !strings.Contains(errb.String(), tt.errSubstr) {
				t.Errorf("stderr = %q, want it to mention %q", errb.String(), tt.errSubstr)
			}
			var r report.Report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("no JSON report written: %v\n%s", err, out.String())
			}
			if len(r.Capture.Errors) != 1 || !strings.Contains(r.Capture.Errors[0], tt.errSubstr) {
				t.Errorf("capture.errors = %q, want one naming %q", r.Capture.Errors, tt.errSubstr)
			}
			if len(r.Connections) != tt.conns || r.Capture.Packets != tt.packets {
				t.Errorf("got %d connections from %d packets, want %d from %d", len(r.Connections), r.Capture.Packets, tt.conns, tt.packets)
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
