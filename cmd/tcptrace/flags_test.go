package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagErrors checks that a bad flag is named on stderr with exit code 2:
// pflag, with ContinueOnError, prints nothing itself.
func TestFlagErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus", "x.pcap"}, "unknown flag: --bogus"},
		{[]string{"--msl", "soon", "x.pcap"}, `"soon" is neither a number of seconds nor a duration`},
		{[]string{"--msl", "-5", "x.pcap"}, "out of range"},
		{[]string{"-T", "xml", "x.pcap"}, `unknown format "xml"`},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), tt.args, nil, &out, &errb); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", tt.args, code, exitUsage)
		}
		if !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: stderr %q does not say %q", tt.args, errb.String(), tt.want)
		}
	}
}

// TestMSLSeconds checks that --msl takes a bare number of seconds, as the
// RFC 9293 reading "--msl 120" (2MSL = 240 s) is written, and that it moves
// TIME-WAIT's end: close_3way.pcap's last frame comes 21 µs after the client
// enters TIME-WAIT, so TIME-WAIT is still running at the end of the capture
// with any MSL in seconds, and a 1 µs MSL (2MSL = 2 µs) ends it.
func TestMSLSeconds(t *testing.T) {
	final := func(msl string) map[string]string {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"-T", "json", "--msl", msl, "../../pcaps/close_3way.pcap"}, nil, &out, &errb); code != exitOK {
			t.Fatalf("--msl %s: exit %d: %s", msl, code, errb.String())
		}
		var r struct {
			Connections []struct {
				FinalState map[string]string `json:"final_state"`
			} `json:"connections"`
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil || len(r.Connections) != 1 {
			t.Fatalf("--msl %s: %v, %d connections", msl, err, len(r.Connections))
		}
		return r.Connections[0].FinalState
	}
	for _, msl := range []string{"120", "2m", "30"} {
		if got := final(msl); got["client"] != "TIME-WAIT" {
			t.Errorf("--msl %s: client ends in %s, want TIME-WAIT", msl, got["client"])
		}
	}
	if got := final("0.000001"); got["client"] != "CLOSED" {
		t.Errorf("--msl 0.000001: client ends in %s, want CLOSED", got["client"])
	}
}

// TestOutputDash checks that -o - writes the report on stdout, as -r - and
// -w - name stdin and stdout, and creates no file named "-"; and that -w -
// with -o - is refused, both would write to stdout.
func TestOutputDash(t *testing.T) {
	abs, err := filepath.Abs("../../pcaps/close_3way.pcap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-q", "-T", "jsonl", "-o", "-", abs}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `"type":"connection"`) {
		t.Errorf("-o -: stdout holds no connection line: %q", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
		t.Errorf(`-o - created a file named "-"`)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"-w", "-", "-o", "-", abs}, nil, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "-w - writes the pcap on stdout") {
		t.Errorf("-w - -o -: exit %d, stderr %q; want a usage error", code, errb.String())
	}
}
