package capture_test

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/tcptrace/tcptrace/capture"
)

// needRoot skips a test that opens packet sockets and network namespaces,
// except in CI, where it must run.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("ip"); err == nil || os.Getenv("CI") != "true" {
			if err != nil {
				t.Skip("needs iproute2's ip")
			}
			return
		}
		t.Fatal("live capture tests need iproute2's ip in CI")
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("live capture tests must run as root in CI")
	}
	t.Skip("live capture needs root (CAP_NET_RAW, CAP_SYS_ADMIN for namespaces)")
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// newNetns creates a network namespace with its loopback up, deleted when
// the test ends.
func newNetns(t *testing.T, tag string) string {
	t.Helper()
	name := fmt.Sprintf("tcptrace-cap-%d-%s", os.Getpid(), tag)
	exec.Command("ip", "netns", "del", name).Run()
	ipCmd(t, "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	ipCmd(t, "-n", name, "link", "set", "lo", "up")
	return name
}

// inNetns runs fn on a thread moved into the named namespace: the sockets
// fn opens live there, wherever they are used afterwards.
func inNetns(t *testing.T, name string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatalf("setns %s: %v", name, err)
	}
	defer func() {
		// A thread that cannot go home stays locked, and dies with the goroutine.
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	fn()
}

// tcpTraffic opens a connection from the namespace's loopback to itself
// and sends n one-byte segments, each on its own (TCP_NODELAY).
func tcpTraffic(t *testing.T, n int) (client, server netip.AddrPort) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for range n {
		if _, err := c.Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond) // one segment per write
	}
	return netip.MustParseAddrPort(c.LocalAddr().String()), netip.MustParseAddrPort(ln.Addr().String())
}

// TestLiveLoopback captures real TCP traffic on a namespace's loopback:
// every segment once (the outgoing copy skipped), kernel timestamps, and no
// allocation per packet.
func TestLiveLoopback(t *testing.T) {
	needRoot(t)
	ns := newNetns(t, "lo")
	inNetns(t, ns, func() {
		l, err := capture.OpenLive("lo", capture.LiveConfig{Promiscuous: true})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if l.LinkType() != capture.LinkTypeEthernet {
			t.Fatalf("LinkType() = %v, want EN10MB", l.LinkType())
		}
		if err := l.Start(nil); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		client, server := tcpTraffic(t, 300)
		var p capture.Packet
		if !l.Next(&p) {
			t.Fatalf("Next() = false: %v", l.Err())
		}
		// The SYN comes first, once: the loopback's outgoing copy is skipped.
		if p.Src != client || p.Dst != server || p.Seg.Flags.String() != "S" {
			t.Errorf("first packet %v > %v %v, want the SYN %v > %v", p.Src, p.Dst, p.Seg.Flags, client, server)
		}
		if d := p.TS.Sub(start); d < -time.Second || d > 10*time.Second {
			t.Errorf("timestamp %v is %v from the start of the test", p.TS, d)
		}
		if !l.Next(&p) || p.Src != server || p.Seg.Flags.String() != "S." {
			t.Errorf("second packet %v > %v %v, want the SYN-ACK", p.Src, p.Dst, p.Seg.Flags)
		}
		for range 5 {
			l.Next(&p)
		}
		if allocs := testing.AllocsPerRun(100, func() {
			if !l.Next(&p) {
				t.Fatalf("Next() = false: %v", l.Err())
			}
		}); allocs != 0 {
			t.Errorf("Next allocates %v times per packet, want 0", allocs)
		}
		st := l.Stats()
		if st.Source != "lo" || st.Format != "af_packet" || !st.Live || st.TCP != st.Packets-st.Skipped || st.KernelReceived < st.Packets || st.KernelDropped != 0 {
			t.Errorf("Stats() = %+v", st)
		}
		if st.LinkTypes[0] != "EN10MB" || st.First.IsZero() || st.Last.Before(st.First) {
			t.Errorf("Stats() link types %v, span %v..%v", st.LinkTypes, st.First, st.Last)
		}
	})
}

// TestLiveAnyCooked captures on the any pseudo-interface: frames come with
// a synthesized LINUX_SLL2 header, and a filter compiled for LINUX_SLL2 runs
// in the kernel once rewritten for the cooked socket.
func TestLiveAnyCooked(t *testing.T) {
	needRoot(t)
	ns := newNetns(t, "any")
	inNetns(t, ns, func() {
		var hdr []byte
		var calls int
		l, err := capture.OpenLive(capture.AnyInterface, capture.LiveConfig{Options: capture.Options{
			Frame: func(link capture.LinkType, ts time.Time, data []byte, wire uint32) capture.FrameAction {
				calls++
				if hdr == nil {
					hdr = append([]byte(nil), data[:20]...)
				}
				return capture.FrameKeep
			},
		}})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if l.LinkType() != capture.LinkTypeLinuxSLL2 {
			t.Fatalf("LinkType() = %v, want LINUX_SLL2", l.LinkType())
		}
		// Only TCP segments from port 7 or to it... of IPv4: udp sent
		// alongside must not reach user space.
		prog, err := bpf.Assemble([]bpf.Instruction{
			bpf.LoadAbsolute{Off: 0, Size: 2},                            // SLL2 protocol
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: 3}, // IPv4
			bpf.LoadAbsolute{Off: 20 + 9, Size: 1},                       // IP protocol
			bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 6, SkipTrue: 1},      // TCP
			bpf.RetConstant{Val: 262144},
			bpf.RetConstant{Val: 0},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Start(prog); err != nil {
			t.Fatal(err)
		}
		u, err := net.Dial("udp4", "127.0.0.1:9")
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		for range 20 {
			u.Write([]byte("not tcp"))
		}
		_, server := tcpTraffic(t, 10)
		var p capture.Packet
		for range 10 {
			if !l.Next(&p) {
				t.Fatalf("Next() = false: %v", l.Err())
			}
			if p.Src.Port() != server.Port() && p.Dst.Port() != server.Port() {
				t.Errorf("packet %v > %v is not of the test connection", p.Src, p.Dst)
			}
		}
		if st := l.Stats(); st.Skipped != 0 || calls != int(st.Packets) {
			t.Errorf("%d frames seen, %d skipped: the UDP datagrams passed the kernel filter", calls, st.Skipped)
		}
		lo, err := net.InterfaceByName("lo")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := binary.BigEndian.Uint16(hdr[0:2]), uint16(0x0800); got != want {
			t.Errorf("SLL2 protocol = %#x, want %#x", got, want)
		}
		if got := binary.BigEndian.Uint32(hdr[4:8]); got != uint32(lo.Index) {
			t.Errorf("SLL2 interface index = %d, want lo's %d", got, lo.Index)
		}
		if got := binary.BigEndian.Uint16(hdr[8:10]); got != unix.ARPHRD_LOOPBACK {
			t.Errorf("SLL2 hardware type = %d, want %d", got, unix.ARPHRD_LOOPBACK)
		}
		if hdr[10] != unix.PACKET_HOST || hdr[11] != 6 {
			t.Errorf("SLL2 packet type %d, address length %d, want %d and 6", hdr[10], hdr[11], unix.PACKET_HOST)
		}
	})
}

// TestLiveVLAN captures 802.1Q frames arriving on a veth: the tag the
// kernel moved out of the frame is put back, as libpcap does.
func TestLiveVLAN(t *testing.T) {
	needRoot(t)
	a, b := newNetns(t, "va"), newNetns(t, "vb")
	ipCmd(t, "link", "add", "tv0", "netns", a, "type", "veth", "peer", "name", "tv1", "netns", b)
	ipCmd(t, "-n", a, "link", "set", "tv0", "up")
	ipCmd(t, "-n", b, "link", "set", "tv1", "up")
	// A SYN from 10.97.5.1:40000 to 10.97.5.2:7007 on VLAN 5, as the bytes
	// on the wire (checksums are not verified).
	frame := []byte{
		0x02, 0, 0, 0, 0, 0x0a, 0x02, 0, 0, 0, 0, 0x0b, // MACs
		0x81, 0x00, 0x00, 0x05, 0x08, 0x00, // 802.1Q VLAN 5, IPv4
		0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 97, 5, 1, 10, 97, 5, 2,
		0x9c, 0x40, 0x1b, 0x5f, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	}
	var l *capture.Live
	inNetns(t, a, func() {
		var err error
		if l, err = capture.OpenLive("tv0", capture.LiveConfig{}); err != nil {
			t.Fatal(err)
		}
		if err := l.Start(nil); err != nil {
			t.Fatal(err)
		}
	})
	defer l.Close()
	inNetns(t, b, func() {
		ifc, err := net.InterfaceByName("tv1")
		if err != nil {
			t.Fatal(err)
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		to := &unix.SockaddrLinklayer{Ifindex: ifc.Index, Halen: 6}
		copy(to.Addr[:], frame[:6])
		if err := unix.Sendto(fd, frame, 0, to); err != nil {
			t.Fatal(err)
		}
	})
	var p capture.Packet
	if !l.Next(&p) {
		t.Fatalf("Next() = false: %v", l.Err())
	}
	want := netip.MustParseAddrPort("10.97.5.2:7007")
	if p.VLAN != 5 || p.Dst != want || p.WireLen != uint32(len(frame)) || p.CapLen != uint32(len(frame)) {
		t.Errorf("packet to %v on VLAN %d, %d of %d bytes; want to %v on VLAN 5, %d bytes", p.Dst, p.VLAN, p.CapLen, p.WireLen, want, len(frame))
	}
}

// TestLiveErrors: a missing interface is named.
func TestLiveErrors(t *testing.T) {
	_, err := capture.OpenLive("no-such-if0", capture.LiveConfig{})
	if err == nil || !strings.Contains(err.Error(), "no-such-if0") {
		t.Errorf("OpenLive(no-such-if0) = %v, want an error naming it", err)
	}
}
