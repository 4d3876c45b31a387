//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/report"
)

// proc is a running tcptrace: its stdout lines as they come, and stderr.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	lines  []string
	stderr bytes.Buffer
	ready  chan struct{} // closed at the "listening on" line
	done   chan struct{} // closed when stdout is drained
}

func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(name, args...), ready: make(chan struct{}), done: make(chan struct{})}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	errp, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(errp)
		once := sync.Once{}
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if strings.Contains(sc.Text(), "listening on") {
				once.Do(func() { close(p.ready) })
			}
		}
	}()
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.mu.Unlock()
		}
		close(p.done)
	}()
	return p
}

func (p *proc) output() ([]string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.lines...), p.stderr.String()
}

// stop sends SIGINT and waits for the exit status.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("tcptrace did not exit 20 s after SIGINT")
	}
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

// liveNetwork creates two network namespaces joined by a veth pair: ns a
// holds tl0 (10.97.0.1), ns b holds tl1 (10.97.0.2). Both are deleted when
// the test ends.
func liveNetwork(t *testing.T) (a, b string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the live capture test must run as root in CI")
		}
		t.Skip("live capture needs root (CAP_NET_RAW, and CAP_SYS_ADMIN for network namespaces)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the live capture test needs iproute2's ip in CI")
		}
		t.Skip("the live capture test needs iproute2's ip")
	}
	a = fmt.Sprintf("tcptrace-live-%d-a", os.Getpid())
	b = fmt.Sprintf("tcptrace-live-%d-b", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	for _, ns := range []string{a, b} {
		exec.Command("ip", "netns", "del", ns).Run()
		ip("netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		ip("-n", ns, "link", "set", "lo", "up")
	}
	ip("link", "add", "tl0", "netns", a, "type", "veth", "peer", "name", "tl1", "netns", b)
	ip("-n", a, "addr", "add", "10.97.0.1/24", "dev", "tl0")
	ip("-n", b, "addr", "add", "10.97.0.2/24", "dev", "tl1")
	ip("-n", a, "link", "set", "tl0", "up")
	ip("-n", b, "link", "set", "tl1", "up")
	return a, b
}

// Ports of the scenarios the peers play (TestLivePeer).
const (
	portNormal    = 5001 // the client closes first, after an echo
	portHalfClose = 5002 // the client shuts down its sending side; the server answers, then closes
	portReset     = 5003 // the client aborts with a RST (SO_LINGER 0)
	portRefused   = 5004 // nobody listens: the SYN is answered by a RST
)

// TestLivePeer is not a test: run with TCPTRACE_LIVE_PEER=server or
// client (by TestLiveCapture, inside a namespace), it is the server or the
// client of the scenarios, talking through the kernel's TCP.
func TestLivePeer(t *testing.T) {
	switch os.Getenv("TCPTRACE_LIVE_PEER") {
	case "server":
		livePeerServer(t)
	case "client":
		livePeerClient(t)
	default:
		t.Skip("helper process of TestLiveCapture")
	}
}

func livePeerServer(t *testing.T) {
	var wg sync.WaitGroup
	serve := func(port int, handle func(c net.Conn)) {
		ln, err := net.Listen("tcp4", fmt.Sprintf("10.97.0.2:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ln.Close()
			c, err := ln.Accept()
			if err != nil {
				t.Error(err)
				return
			}
			c.SetDeadline(time.Now().Add(20 * time.Second))
			handle(c)
			c.Close()
		}()
	}
	serve(portNormal, func(c net.Conn) {
		buf := make([]byte, 5)
		io.ReadFull(c, buf)
		c.Write(buf)
		io.Copy(io.Discard, c) // until the client's FIN
	})
	serve(portHalfClose, func(c net.Conn) {
		io.Copy(io.Discard, c) // until the client's FIN
		c.Write([]byte("response after your FIN"))
	})
	serve(portReset, func(c net.Conn) {
		io.Copy(io.Discard, c) // until the RST
	})
	fmt.Println("ready")
	wg.Wait()
}

func livePeerClient(t *testing.T) {
	dial := func(port int) *net.TCPConn {
		c, err := net.DialTimeout("tcp4", fmt.Sprintf("10.97.0.2:%d", port), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		return c.(*net.TCPConn)
	}
	c := dial(portNormal)
	c.Write([]byte("hello"))
	io.ReadFull(c, make([]byte, 5))
	c.Close()

	c = dial(portHalfClose)
	c.Write([]byte("request"))
	c.CloseWrite()
	if b, _ := io.ReadAll(c); string(b) != "response after your FIN" {
		t.Errorf("half-close: read %q", b)
	}
	c.Close()

	c = dial(portReset)
	c.Write([]byte("x"))
	time.Sleep(100 * time.Millisecond)
	c.SetLinger(0)
	c.Close()

	if _, err := net.DialTimeout("tcp4", fmt.Sprintf("10.97.0.2:%d", portRefused), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refused: dial error %v, want ECONNREFUSED", err)
	}
}

// runPeer runs the test binary as a peer inside a namespace.
func runPeer(t *testing.T, ns, role string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run=^TestLivePeer$", "-test.v")
	cmd.Env = append(os.Environ(), "TCPTRACE_LIVE_PEER="+role)
	return cmd
}

// liveExpect is what each scenario must leave in the report.
var liveExpect = map[uint16]struct {
	close        string
	halfClose    bool
	resetBy      string
	final        report.States
	closedFirst  string
	handshakeAny bool
}{
	portNormal:    {close: "three_way|four_way", final: report.States{Client: "TIME-WAIT", Server: "CLOSED"}, closedFirst: "client"},
	portHalfClose: {close: "three_way|four_way", halfClose: true, final: report.States{Client: "TIME-WAIT", Server: "CLOSED"}, closedFirst: "client"},
	portReset:     {close: "reset", resetBy: "client", final: report.States{Client: "CLOSED", Server: "CLOSED"}},
	portRefused:   {close: "refused", resetBy: "server", final: report.States{Client: "CLOSED", Server: "CLOSED"}},
}

func checkLiveConnections(t *testing.T, what string, conns []report.Connection) {
	t.Helper()
	seen := map[uint16]bool{}
	for _, c := range conns {
		want, ok := liveExpect[c.Server.Port]
		if !ok || c.Client.IP != "10.97.0.1" || c.Server.IP != "10.97.0.2" {
			t.Errorf("%s: unexpected connection %s:%d -> %s:%d", what, c.Client.IP, c.Client.Port, c.Server.IP, c.Server.Port)
			continue
		}
		if seen[c.Server.Port] {
			t.Errorf("%s: port %d: connection reported twice", what, c.Server.Port)
		}
		seen[c.Server.Port] = true
		if !strings.Contains(want.close, c.Close) || c.HalfClose != want.halfClose || c.ResetBy != want.resetBy ||
			c.FinalState != want.final || c.ClosedFirst != want.closedFirst || c.RolesGuessed {
			t.Errorf("%s: port %d: close %s half_close %v reset_by %q closed_first %q final %+v guessed %v; want %s %v %q %q %+v",
				what, c.Server.Port, c.Close, c.HalfClose, c.ResetBy, c.ClosedFirst, c.FinalState, c.RolesGuessed,
				want.close, want.halfClose, want.resetBy, want.closedFirst, want.final)
		}
		if c.Server.Port != portRefused && c.Handshake != "three_way" {
			t.Errorf("%s: port %d: handshake %s, want three_way", what, c.Server.Port, c.Handshake)
		}
	}
	for port := range liveExpect {
		if !seen[port] {
			t.Errorf("%s: no connection to port %d", what, port)
		}
	}
}

// TestLiveCapture captures real kernel TCP traffic between two network
// namespaces, on the veth (Ethernet, kernel filter, -w, -Z) and on the any
// pseudo-interface (LINUX_SLL2, streamed with -T jsonl), stops both with
// SIGINT, and checks every connection's close and final states. The -w
// file read back gives the same report.
func TestLiveCapture(t *testing.T) {
	nsA, nsB := liveNetwork(t)
	bin := buildTcptrace(t, t.TempDir())
	// A directory the -Z user can write the -w file into.
	wdir, err := os.MkdirTemp("", "tcptrace-live")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(wdir) })
	os.Chmod(wdir, 0o777)
	wfile := filepath.Join(wdir, "live.pcap")

	args := []string{"netns", "exec", nsA, bin, "-i", "tl0", "-T", "json", "-w", wfile}
	var nobody *user.User
	if u, err := user.Lookup("nobody"); err == nil {
		nobody = u
		args = append(args, "-Z", "nobody")
	} else {
		t.Logf("no user nobody: -Z not tested (%v)", err)
	}
	filterExpr := "tcp and net 10.97.0.0/24"
	eth := startProc(t, "ip", append(args, filterExpr)...)
	any := startProc(t, "ip", "netns", "exec", nsA, bin, "-i", "any", "-T", "jsonl", "--snapshot-interval", "1s", "tcp portrange 5001-5004")
	for name, p := range map[string]*proc{"tl0": eth, "any": any} {
		select {
		case <-p.ready:
		case <-p.done:
			_, e := p.output()
			t.Fatalf("tcptrace -i %s exited: %s", name, e)
		case <-time.After(20 * time.Second):
			_, e := p.output()
			t.Fatalf("tcptrace -i %s not listening after 20 s: %s", name, e)
		}
	}

	server := runPeer(t, nsB, "server")
	sout, err := server.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var serr bytes.Buffer
	server.Stderr = &serr
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Process.Kill() })
	sc := bufio.NewScanner(sout)
	for sc.Scan() && sc.Text() != "ready" {
	}
	go io.Copy(io.Discard, sout)
	if out, err := runPeer(t, nsA, "client").CombinedOutput(); err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	if err := server.Wait(); err != nil {
		t.Fatalf("server: %v\n%s", err, serr.String())
	}

	// Streaming: every connection is written once it has ended, before the
	// capture is stopped.
	var streamed []report.Connection
	deadline := time.Now().Add(15 * time.Second)
	for len(streamed) < len(liveExpect) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		lines, _ := any.output()
		streamed = streamed[:0]
		for _, l := range lines {
			if strings.HasPrefix(l, `{"type":"connection"`) {
				var c report.Connection
				if err := json.Unmarshal([]byte(l), &c); err != nil {
					t.Fatal(err)
				}
				streamed = append(streamed, c)
			}
		}
	}
	if len(streamed) < len(liveExpect) {
		lines, e := any.output()
		t.Fatalf("-T jsonl wrote %d connections before SIGINT, want %d\n%s\n%s", len(streamed), len(liveExpect), strings.Join(lines, "\n"), e)
	}
	time.Sleep(300 * time.Millisecond)

	if code := eth.stop(t); code != exitOK {
		_, e := eth.output()
		t.Fatalf("tcptrace -i tl0 exited %d after SIGINT: %s", code, e)
	}
	if code := any.stop(t); code != exitOK {
		_, e := any.output()
		t.Fatalf("tcptrace -i any exited %d after SIGINT: %s", code, e)
	}

	// The Ethernet capture: one JSON report.
	lines, _ := eth.output()
	var r report.Report
	if err := json.Unmarshal([]byte(strings.Join(lines, "\n")), &r); err != nil {
		t.Fatalf("-i tl0: no JSON report: %v", err)
	}
	checkLiveConnections(t, "-i tl0", r.Connections)
	c := r.Capture
	if !c.Interrupted || c.Filter != filterExpr || c.Packets == 0 || c.Packets != c.TCPPackets || c.LinkTypes[0] != "EN10MB" || c.Sources[0] != "tl0" {
		t.Errorf("-i tl0: capture %+v: want interrupted, only TCP frames (the kernel filter), EN10MB from tl0", c)
	}
	if c.KernelReceived == nil || c.KernelDropped == nil || *c.KernelReceived < c.Packets || *c.KernelDropped != 0 {
		t.Errorf("-i tl0: kernel counters %v/%v for %d packets", c.KernelReceived, c.KernelDropped, c.Packets)
	}
	if nobody != nil {
		fi, err := os.Stat(wfile)
		if err != nil {
			t.Fatal(err)
		}
		if uid := strconv.Itoa(int(fi.Sys().(*syscall.Stat_t).Uid)); uid != nobody.Uid {
			t.Errorf("-w file owned by uid %s, want nobody's %s: -Z did not drop privileges before opening it", uid, nobody.Uid)
		}
	}

	// -w read back: the same report but for where it came from.
	reread := analyze(t, "-r", wfile, filterExpr)
	if reread.Capture.Formats[0] != "pcap-nsec" {
		t.Errorf("-w wrote %v, want pcap-nsec", reread.Capture.Formats)
	}
	strip := func(r *report.Report) []byte {
		c := r.Capture
		c.Sources, c.Formats, c.KernelReceived, c.KernelDropped, c.Interrupted, c.Warnings = nil, nil, nil, nil, false, nil
		b, _ := json.Marshal(report.Report{SchemaVersion: r.SchemaVersion, Tool: r.Tool, Capture: c, Connections: r.Connections})
		return b
	}
	if a, b := strip(&r), strip(reread); !bytes.Equal(a, b) {
		t.Errorf("-w file read back gives another report:\nlive:   %s\nreread: %s", a, b)
	}
	// The warnings say where they come from: now and then the kernel
	// stamps a frame earlier than the one before it (a veth pair's two
	// queues), which the live source reports as the kernel's timestamps
	// going backwards and the file, whose records keep that order, as
	// its timestamps going backwards, as many times.
	if a, b := sourceWarnings(r.Capture.Warnings), sourceWarnings(reread.Capture.Warnings); !slices.Equal(a, b) {
		t.Errorf("-w file read back gives other warnings: live %q, reread %q", r.Capture.Warnings, reread.Capture.Warnings)
	}

	// The any capture: the connections streamed, snapshots, a capture line.
	lines, _ = any.output()
	checkLiveConnections(t, "-i any", streamed)
	var snapshots int
	var last map[string]json.RawMessage
	for _, l := range lines {
		if err := json.Unmarshal([]byte(l), &last); err != nil {
			t.Fatalf("-i any: bad line %q: %v", l, err)
		}
		if string(last["type"]) == `"snapshot"` {
			snapshots++
		}
	}
	if snapshots == 0 {
		t.Error("-i any: no snapshot record")
	}
	var capLine struct {
		Type    string         `json:"type"`
		Capture report.Capture `json:"capture"`
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &capLine)
	if capLine.Type != "capture" || !capLine.Capture.Interrupted || capLine.Capture.LinkTypes[0] != "LINUX_SLL2" || capLine.Capture.Packets != capLine.Capture.TCPPackets {
		t.Errorf("-i any: last line %+v, want the interrupted capture record, LINUX_SLL2, TCP only", capLine)
	}
	for _, c := range streamed {
		if c.EndReason != "closed" {
			t.Errorf("-i any: port %d streamed with end_reason %q, want closed", c.Server.Port, c.EndReason)
		}
	}
}

// TestLiveErrorsAndFlags covers what needs no traffic: -D, usage errors,
// and a missing interface (exit 1, no report).
func TestLiveErrorsAndFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-D"}, nil, &out, &errb); code != exitOK || !strings.Contains(out.String(), ".lo [") || !strings.Contains(out.String(), ".any ") {
		t.Errorf("-D = %d, %q, want the interfaces with lo and any", code, out.String())
	}
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-i", "lo", "-r", "x.pcap"}, exitUsage, "cannot be combined"},
		{[]string{"-Z", "nobody", "-r", "x.pcap"}, exitUsage, "-Z"},
		{[]string{"--snapshot-interval", "1s", "-r", "x.pcap"}, exitUsage, "jsonl"},
		{[]string{"-w", "-", "-r", "x.pcap"}, exitUsage, "-o"},
		{[]string{"-f", "tcp", "-r", "x.pcap", "udp"}, exitUsage, "twice"},
		{[]string{"-i", "lo", "ether host 1:2:3:4:5:6"}, exitUsage, "not supported"},
		{[]string{"-i", "no-such-if0", "-q"}, exitFailure, "no-such-if0"},
	} {
		out.Reset()
		errb.Reset()
		if code := run(context.Background(), tt.args, nil, &out, &errb); code != tt.code || !strings.Contains(errb.String(), tt.msg) {
			t.Errorf("run(%q) = %d, %q; want %d and a message with %q", tt.args, code, errb.String(), tt.code, tt.msg)
		}
	}
}

// TestLivePermission: without CAP_NET_RAW, -i fails with exit 1 and says
// what to do.
func TestLivePermission(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the permission test must run as root in CI (to become nobody)")
		}
		t.Skip("needs root, to run tcptrace as nobody")
	}
	dir, err := os.MkdirTemp("", "tcptrace-perm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := buildTcptrace(t, dir)
	cmd := exec.Command(bin, "-i", "lo")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure || !strings.Contains(string(out), "cap_net_raw") || !strings.Contains(string(out), "root") {
		t.Errorf("tcptrace -i lo as nobody: %v, %q; want exit 1 saying to run as root or grant cap_net_raw", err, out)
	}
}

// backwardsRE finds the count in a live or file source's warning that
// timestamps went backwards.
var backwardsRE = regexp.MustCompile(`^(?:[^:]*: )?(?:kernel )?timestamps (?:went|go) backwards (\d+) time`)

// sourceWarnings gives warnings as TestLiveCapture compares a live
// capture's with its -w file's: the timestamps going backwards as their
// count, any other as it is (none is expected of either source here).
func sourceWarnings(ws []string) []string {
	var out []string
	for _, w := range ws {
		if m := backwardsRE.FindStringSubmatch(w); m != nil {
			w = "timestamps backwards " + m[1]
		}
		out = append(out, w)
	}
	return out
}
