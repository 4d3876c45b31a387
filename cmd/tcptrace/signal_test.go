//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestSignals runs the built binary the way a user does: interrupted while
// it waits on a pipe, and writing into a pipe whose reader has gone.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tcptrace and gencap")
	}
	dir := t.TempDir()
	bin := buildTcptrace(t, dir)
	gen := goBuild(t, dir, "gencap", "../../tools/gencap")
	capFile := filepath.Join(dir, "mixed.pcap")
	if out, err := exec.Command(gen, "-q", "-packets", "20000", "-conns", "1000", "-concurrent", "100", "-o", capFile).CombinedOutput(); err != nil {
		t.Fatalf("gencap: %v\n%s", err, out)
	}
	whole, err := os.ReadFile(capFile)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("sigint_while_stdin_blocks", func(t *testing.T) {
		// Fewer packets than the 4096 between two looks at the context,
		// so every packet written is read before the interrupt is seen.
		const k = 2500
		part := sigPrefix(t, whole, k)
		prefix := filepath.Join(dir, "prefix.pcap")
		if err := os.WriteFile(prefix, part, 0o644); err != nil {
			t.Fatal(err)
		}
		want, err := exec.Command(bin, "-T", "json", prefix).Output()
		if err != nil {
			t.Fatalf("tcptrace %s: %v", prefix, err)
		}

		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer pw.Close()
		cmd := exec.Command(bin, "-T", "json", "-r", "-")
		var stdout, stderr bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = pr, &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pr.Close()
		if _, err := pw.Write(part); err != nil {
			t.Fatal(err)
		}
		// Wait until tcptrace has taken every byte out of the pipe, then
		// give it time to decode them and block in the next read.
		for deadline := time.Now().Add(10 * time.Second); sigUnread(t, pw) > 0; {
			if time.Now().After(deadline) {
				t.Fatalf("tcptrace left %d bytes unread in its stdin pipe", sigUnread(t, pw))
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		sigStop(t, cmd, os.Interrupt, 10*time.Second, &stderr, "while its read of stdin was blocked (the pipe stayed open)")
		var got, full struct {
			Capture struct {
				Packets     uint64 `json:"packets"`
				Interrupted bool   `json:"interrupted"`
			} `json:"capture"`
			Connections json.RawMessage `json:"connections"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("report after SIGINT is not complete JSON: %v\n%.300s", err, stdout.String())
		}
		if err := json.Unmarshal(want, &full); err != nil {
			t.Fatal(err)
		}
		if !got.Capture.Interrupted || got.Capture.Packets != k {
			t.Errorf("capture: interrupted %v, packets %d; want true, %d", got.Capture.Interrupted, got.Capture.Packets, k)
		}
		if !bytes.Equal(got.Connections, full.Connections) {
			t.Errorf("connections after SIGINT differ from the report of the %d packets written (%d vs %d bytes of JSON)", k, len(got.Connections), len(full.Connections))
		}
	})

	t.Run("sigterm_while_reading_a_file", func(t *testing.T) {
		big := filepath.Join(dir, "big.pcap")
		if out, err := exec.Command(gen, "-q", "-packets", "600000", "-conns", "20000", "-concurrent", "500", "-o", big).CombinedOutput(); err != nil {
			t.Fatalf("gencap: %v\n%s", err, out)
		}
		fi, err := os.Stat(big)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-T", "json", "-q", big)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Signal once the file is being read: past its first MiB, short
		// of its last.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			if pos := sigReadPos(cmd.Process.Pid, big); pos > 1<<20 && pos < fi.Size()-1<<20 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("tcptrace was not seen reading %s within 30 s", big)
			}
		}
		sigStop(t, cmd, syscall.SIGTERM, 30*time.Second, &stderr, "while it read a file")
		var got struct {
			Capture struct {
				Packets     uint64 `json:"packets"`
				Interrupted bool   `json:"interrupted"`
				Flows       struct {
					Connections uint64 `json:"connections"`
				} `json:"flows"`
			} `json:"capture"`
			Connections []json.RawMessage `json:"connections"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("report after SIGTERM is not complete JSON: %v\n%.300s", err, stdout.String())
		}
		c := got.Capture
		if !c.Interrupted || c.Packets == 0 || c.Packets >= 600000 || c.Flows.Connections == 0 || uint64(len(got.Connections)) != c.Flows.Connections {
			t.Errorf("capture: interrupted %v, %d packets, %d connections (%d listed); want true, some of 600000, all listed", c.Interrupted, c.Packets, c.Flows.Connections, len(got.Connections))
		}
	})

	t.Run("stdout_closed_early", func(t *testing.T) {
		for _, format := range []string{"text", "json", "jsonl"} {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "-T", format, capFile) // tcptrace big.pcap | head -1
			var stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = pw, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			line, err := bufio.NewReader(pr).ReadString('\n')
			pr.Close()
			if err != nil || line == "" {
				t.Errorf("-T %s: first line %q: %v", format, line, err)
			}
			if !sigWait(t, cmd, 30*time.Second) {
				t.Fatalf("-T %s: tcptrace did not exit within 30 s of its stdout closing", format)
			}
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if !(ws.Exited() && ws.ExitStatus() == 0) && !(ws.Signaled() && ws.Signal() == syscall.SIGPIPE) {
				t.Errorf("-T %s: %v, want exit 0 or killed by SIGPIPE", format, cmd.ProcessState)
			}
			if s := stderr.String(); strings.Contains(s, "panic") || strings.Contains(s, "goroutine ") || strings.Contains(s, "broken pipe") {
				t.Errorf("-T %s: stderr has a panic, a stack trace or a broken pipe:\n%.2000s", format, s)
			}
		}
	})
}

// sigPrefix returns the pcap global header and the first k records of
// capture.
func sigPrefix(t *testing.T, capture []byte, k int) []byte {
	t.Helper()
	off := 24
	for range k {
		if off+16 > len(capture) {
			t.Fatalf("capture has fewer than %d records", k)
		}
		off += 16 + int(binary.LittleEndian.Uint32(capture[off+8:]))
	}
	return capture[:off]
}

// sigStop sends sig to cmd and expects it to exit with exitOK within d;
// when says what it was doing, for the failure message.
func sigStop(t *testing.T, cmd *exec.Cmd, sig os.Signal, d time.Duration, stderr *bytes.Buffer, when string) {
	t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	if !sigWait(t, cmd, d) {
		t.Fatalf("tcptrace did not exit within %v of %v %s; stderr: %s", d, sig, when, stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("exit code %d after %v, want %d; stderr: %s", code, sig, exitOK, stderr.String())
	}
}

// sigReadPos returns the offset of process pid in its open file path, or
// -1 while it has none.
func sigReadPos(pid int, path string) int64 {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err != nil || target != path {
			continue
		}
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, fd.Name()))
		if err != nil {
			return -1
		}
		var pos int64
		if _, err := fmt.Sscanf(string(info), "pos: %d", &pos); err == nil {
			return pos
		}
	}
	return -1
}

// sigUnread returns the bytes waiting in the pipe that w writes to
// (FIONREAD, which Linux answers for either end of a pipe).
func sigUnread(t *testing.T, w *os.File) int {
	t.Helper()
	var n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, w.Fd(), syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("FIONREAD: %v", e)
	}
	return int(n)
}

// sigWait waits up to d for cmd to exit; if it does not, it kills it and
// returns false.
func sigWait(t *testing.T, cmd *exec.Cmd, d time.Duration) bool {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("wait: %v", err)
		}
		return true
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		return false
	}
}
