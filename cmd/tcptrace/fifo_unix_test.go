//go:build unix

package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/report"
)

// TestInterruptFIFO sends SIGINT to tcptrace blocked reading a FIFO whose
// writer stalls: the report of what was read is written whole, marked
// interrupted, and the exit status is 0.
func TestInterruptFIFO(t *testing.T) {
	dir := t.TempDir()
	bin := buildTcptrace(t, dir)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	whole, err := os.ReadFile("../../pcaps/close_3way.pcap")
	if err != nil {
		t.Fatal(err)
	}
	const k = 6 // records written before the writer stalls
	off := 24
	for range k {
		off += 16 + int(binary.LittleEndian.Uint32(whole[off+8:]))
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"-r fifo", []string{"-T", "json", "-r", fifo}},
		{"stdin", []string{"-T", "json", "-r", "-"}},
		{"jsonl", []string{"-T", "jsonl", "-r", fifo, "tcp"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			var w *os.File
			if tt.name == "stdin" {
				r, pw, err := os.Pipe()
				if err != nil {
					t.Fatal(err)
				}
				cmd.Stdin, w = r, pw
				defer r.Close()
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			if w == nil {
				if w, err = os.OpenFile(fifo, os.O_WRONLY, 0); err != nil { // waits for tcptrace to open it
					t.Fatal(err)
				}
			}
			defer w.Close()
			if _, err := w.Write(whole[:off]); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second) // read, then blocked waiting for more
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("tcptrace: %v after SIGINT; stderr %s", err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("tcptrace still blocked 10 s after SIGINT")
			}
			var c report.Capture
			if tt.name == "jsonl" {
				lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
				var l struct{ Capture report.Capture }
				if err := json.Unmarshal([]byte(lines[len(lines)-1]), &l); err != nil {
					t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
				}
				c = l.Capture
				if n := strings.Count(stdout.String(), `{"type":"connection"`); n != 1 {
					t.Errorf("%d connection lines, want 1", n)
				}
			} else {
				var r report.Report
				if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
					t.Fatalf("no complete JSON report after SIGINT: %v\n%s", err, stdout.String())
				}
				c = r.Capture
				if len(r.Connections) != 1 || r.Connections[0].Packets.Client+r.Connections[0].Packets.Server != k {
					t.Errorf("connections %+v, want the one of the %d packets read", r.Connections, k)
				}
			}
			if !c.Interrupted || c.Packets != k || len(c.Errors) != 0 {
				t.Errorf("capture: interrupted %v, packets %d, errors %q; want true, %d, none", c.Interrupted, c.Packets, c.Errors, k)
			}
		})
	}
}
