package filter_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tcptrace/tcptrace/filter"
	"golang.org/x/net/bpf"
)

// linkNames are tcpdump's -y names for the supported link types.
var linkNames = map[uint16]string{
	filter.LinkTypeEthernet: "EN10MB", filter.LinkTypeLinuxSLL: "LINUX_SLL", filter.LinkTypeLinuxSLL2: "LINUX_SLL2",
	filter.LinkTypeRaw: "RAW", filter.LinkTypeIPv4: "IPV4", filter.LinkTypeIPv6: "IPV6",
	filter.LinkTypeNull: "NULL", filter.LinkTypeLoop: "LOOP", 12: "RAW(12)",
}

var allLinkTypes = []uint16{1, 113, 276, 101, 228, 229, 0, 108, 12}

// libpcapProgram returns libpcap's optimized program for expr, as tcpdump -r
// compiles it for a capture file of that link type (tcpdump -r FILE -dd), or
// tcpdump's error message. With iface set it compiles for that live interface.
func libpcapProgram(t testing.TB, tcpdump, expr string, linkType uint16, iface string) ([]bpf.RawInstruction, string) {
	t.Helper()
	var args []string
	if iface != "" {
		args = []string{"-dd", "-i", iface}
	} else {
		args = []string{"-dd", "-r", emptyCapture(t, linkType)}
	}
	cmd := exec.Command(tcpdump, append(args, "--", expr)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, strings.TrimSpace(stderr.String())
	}
	var prog []bpf.RawInstruction
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var ins bpf.RawInstruction
		if _, err := fmt.Sscanf(line, "{ %v, %v, %v, %v },", &ins.Op, &ins.Jt, &ins.Jf, &ins.K); err != nil {
			t.Fatalf("tcpdump -dd %q: cannot parse %q: %v", expr, line, err)
		}
		prog = append(prog, ins)
	}
	return prog, ""
}

var (
	emptyMu   sync.Mutex
	emptyDir  string
	emptyCaps = map[uint16]string{}
)

// emptyCapture returns a pcap file of the link type with no packets, for
// tcpdump to compile against.
func emptyCapture(t testing.TB, linkType uint16) string {
	emptyMu.Lock()
	defer emptyMu.Unlock()
	if p, ok := emptyCaps[linkType]; ok {
		return p
	}
	if emptyDir == "" {
		d, err := os.MkdirTemp("", "filtertest")
		if err != nil {
			t.Fatal(err)
		}
		emptyDir = d
	}
	p := filepath.Join(emptyDir, fmt.Sprintf("empty%d.pcap", linkType))
	if err := writePcap(p, linkType, nil); err != nil {
		t.Fatal(err)
	}
	emptyCaps[linkType] = p
	return p
}

// diffExprs are compared with libpcap's own programs on every synthetic frame cut
// at every length, on every link type. They add corner cases to captureExprs.
var diffExprs = []string{
	"tcp or udp", "ip and tcp", "ip6 and udp", "sctp", "icmp6", "not ip", "not ip6 and not ip",
	"host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 and not 10.0.0.2", "src 10.0.0.1", "dst 10.0.0.2",
	"host 10.0.0", "host 10.0", "net 10", "net 192.168.1", "net 10.0.0.0/8 or net 192.168.1.0/24",
	"net 0.0.0.0/0", "ip net 10.0.0.0/31", "src net 10.0.0.0 mask 255.255.255.252", "ip src host 10.0.0.1",
	"ip6 host fe80::1", "src host 2001:db8::1", "dst net 2001:db8::/64", "net ::/0", "net fe80::/10",
	"ip6 src or dst net 2001:db8::/127", "host ::1", "src and dst net 2001:db8::/32",
	"port 53", "udp port 53", "sctp port 80", "tcp src port 80", "dst port 1234 or 5555",
	"src or dst port 80", "src and dst port 53", "port 0", "port 65535", "port 0x50", "port 0120",
	"portrange 80-443", "portrange 443-80", "udp portrange 53-53", "src portrange 1000-1999", "portrange 80",
	"sctp portrange 1-100", "tcp src and dst portrange 0-65535",
	"vlan", "vlan 10", "vlan 20", "vlan 4095", "vlan 0", "vlan and vlan", "vlan 100 and vlan 10 and ip",
	"vlan and ip6 and tcp port 80", "not vlan", "not vlan 10 and tcp", "vlan or ip", "ip or vlan",
	"(vlan and tcp) or udp", "vlan 10 or vlan 20", "vlan and host 10.0.0.1", "vlan and portrange 1-1024",
	"vlan and tcp[13] = 2", "vlan and ip[9] = 6", "vlan and ip6[6] = 17",
	"tcp[13] = 2", "tcp[13] & 2 != 0", "tcp[tcpflags] == tcp-syn|tcp-ack", "tcp[13] > 16", "tcp[13] < 3",
	"tcp[13] <= 2", "tcp[13] >= 0x12", "tcp[0:2] = 80", "tcp[2:2] = 80", "tcp[4:4] = 1000",
	"tcp[12] & 0xf0 = 0x50", "tcp[(tcp[12] >> 4) * 4] = 0", "tcp[tcp[12] >> 2] = 0",
	"udp[0:2] = 53", "udp[4:2] > 8", "icmp[0] = 8", "icmp[icmptype] != icmp-echo",
	"icmp[icmpcode] = 1", "sctp[0:2] = 80", "ip[0] & 0xf > 5", "ip[9] = 47", "ip[2:2] > 40",
	"ip6[6] = 58", "ip6[40] = 0", "ip[16:4] = 0x0a000002", "ether[12:2] = 0x800", "ether[0] & 1 = 0",
	"link[14] = 0x45", "len > 60", "len = 54", "len - 14 > 40", "greater 60", "less 60", "greater 0",
	"len * 2 > 100", "ip[2:2] - len < 0", "1 = 1", "1 = 2 or tcp", "tcp[13] & 0 = 0",
	"0 / tcp[13] = 0", "tcp[13] * 0 = 0", "tcp[13] + 0 = 2", "tcp[13] | 0 = 2", "tcp[13] - 0 = 2",
	"tcp[13] / 2 = 1", "tcp[13] % 3 = 2", "tcp[13] ^ 3 = 1", "tcp[13] << 1 = 4", "tcp[13] >> 1 = 1",
	"tcp[13] / (tcp[13] - 2) = 0", "tcp[13] % tcp[12] = 2", "1 + tcp[0] = 5", "tcp[0] + udp[0] = 5",
	"tcp[udp[0]] = 1", "ip[0] = 0x45 and ip[udp[0]] = 1", "0 - tcp[13] = 0xfffffffe", "7 % 4 * 2 = len",
	"1 ^ 2 + 3 = 4", "1 + 2 ^ 3 = 2", "6 & 3 ^ 5 = 6", "2 | 1 ^ 1 = 2", "0 - 1 - 1 = 0xfffffffe",
	"tcp[13] = 2 or tcp[13] = 18 and tcp", "not tcp[13] = 2", "!tcp[13] = 2 && tcp", "not not tcp",
	"host 10.0.0.1 and (port 80 or port 1234) or icmp", "(host 10.0.0.1 or host 10.0.0.2) and not port 22",
	"port 80 or (443)", "port 80 and not (443 or 22)", "host 10.0.0.1 or (10.0.0.2 and 192.168.1.77)",
	"tcp and (port 80 or 443)", "ip6 or (tcp and port 22)", "((tcp))", "(((tcp[13]))) = 2",
	"tcp[13] & (tcp-syn|tcp-fin) != 0", "tcp[tcpflags] & (tcp-rst|tcp-push|tcp-urg|tcp-ece|tcp-cwr) != 0",
	"ip and ip6", "tcp and udp", "ip[100000] = 1", "tcp[65535] = 1", "ip[0xffffffff] = 1", "tcp[0xfffffff0] = 0",
	"ether[0xffffffff] = 0", "ether[0x10000:2] = 0", "ip[65536:4] = 0",
}

// TestSameAsLibpcap runs libpcap's program (from tcpdump -dd) and ours on every
// synthetic frame cut at every length, for every expression and link type. This
// checks more than matching logic: a test that reads past the captured bytes
// rejects the packet, so the tests must come in libpcap's order.
func TestSameAsLibpcap(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	exprs := append(append([]string{}, captureExprs...), diffExprs...)
	if testing.Short() || raceEnabled {
		exprs = captureExprs
	}
	for _, lt := range allLinkTypes {
		frames := framesFor(lt)
		t.Run(linkNames[lt], func(t *testing.T) {
			t.Parallel()
			for _, expr := range exprs {
				compareWithLibpcap(t, tcpdump, expr, lt, frames, "")
			}
		})
	}
}

// liveExprs are compared with libpcap's program for a live Linux socket, where
// "vlan" reads the tag from packet metadata.
var liveExprs = []string{
	"vlan", "vlan 10", "vlan 20", "vlan and tcp", "vlan 10 and tcp", "vlan and vlan",
	"vlan 100 and vlan 10 and ip", "vlan and vlan 20 and port 80", "vlan and ip[9] = 6",
	"vlan and tcp[13] = 2", "vlan and host 10.0.0.1", "vlan and portrange 1-1024",
	"not vlan", "not vlan 5 or tcp[13] = 2", "vlan or ip", "ip or vlan", "(vlan and tcp) or udp",
	"vlan 10 or vlan 20", "vlan and ip6 and tcp port 80", "vlan and len > 60",
	"tcp", "port 80", "host 10.0.0.1", "tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", "ip6 and udp",
}

// TestSameAsLibpcapLive compares CompileKernel with the program libpcap builds
// for a live capture on the loopback interface, on frames with their outer tag
// in the frame and in metadata, cut at every length.
func TestSameAsLibpcapLive(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	if _, msg := libpcapProgram(t, tcpdump, "tcp", 1, "lo"); msg != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tcpdump -i lo -d: %s", msg)
		}
		t.Skipf("tcpdump -i lo -d: %s", msg)
	}
	frames := framesFor(filter.LinkTypeEthernet)
	for _, expr := range liveExprs {
		compareWithLibpcap(t, tcpdump, expr, filter.LinkTypeEthernet, frames, "lo")
	}
}

func compareWithLibpcap(t *testing.T, tcpdump, expr string, lt uint16, frames [][]byte, iface string) {
	t.Helper()
	lib, libErr := libpcapProgram(t, tcpdump, expr, lt, iface)
	var prog []bpf.Instruction
	var err error
	if iface != "" {
		prog, err = filter.CompileKernel(expr, lt, 262144)
	} else {
		prog, err = filter.Compile(expr, lt, 262144)
	}
	var unsup *filter.UnsupportedError
	switch {
	case errors.As(err, &unsup):
		t.Errorf("Compile(%q, %d): %v", expr, lt, err)
		return
	case libErr != "" && err == nil:
		t.Errorf("Compile(%q, %d) succeeded; tcpdump says %s", expr, lt, libErr)
		return
	case libErr != "":
		return
	case err != nil:
		t.Errorf("Compile(%q, %d) = %v; tcpdump compiles it", expr, lt, err)
		return
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatalf("Assemble(Compile(%q)): %v", expr, err)
	}
	if !reflect.DeepEqual(raw, lib) {
		t.Errorf("%s %q: program differs from libpcap's\nours:\n%s\nlibpcap:\n%s", linkNames[lt], expr, disasm(raw), disasm(lib))
	}
	type variant struct {
		data    []byte
		present bool
		tci     uint16
	}
	for _, f := range frames {
		vs := []variant{{data: f}}
		if iface != "" && len(f) >= 18 && (f[12] == 0x81 || f[12] == 0x88) {
			// The kernel moved the outer tag into metadata.
			s := append(append([]byte{}, f[:12]...), f[16:]...)
			vs = append(vs, variant{data: s, present: true, tci: uint16(f[14])<<8 | uint16(f[15])})
		}
		for _, v := range vs {
			for n := 0; n <= len(v.data); n++ {
				d := v.data[:n]
				var want, got bool
				if iface == "" {
					want = filter.RunFile(lib, d, uint32(len(v.data))) != 0
					got = filter.RunFile(raw, d, uint32(len(v.data))) != 0
				} else {
					want = filter.Run(lib, d, uint32(len(v.data)), v.present, v.tci) != 0
					got = filter.Run(raw, d, uint32(len(v.data)), v.present, v.tci) != 0
				}
				if got != want {
					t.Errorf("%s %q: frame % x (vlan meta %v %#x) cut to %d bytes: we say %v, libpcap says %v\nours:\n%s\nlibpcap:\n%s",
						linkNames[lt], expr, v.data, v.present, v.tci, n, got, want, disasm(raw), disasm(lib))
					return
				}
			}
		}
	}
}

// disasm prints a program like tcpdump -d.
func disasm(prog []bpf.RawInstruction) string {
	var b strings.Builder
	for i, r := range prog {
		ins := r.Disassemble()
		s := fmt.Sprint(ins)
		if st, ok := ins.(fmt.Stringer); ok {
			s = st.String()
		}
		fmt.Fprintf(&b, "(%03d) %-24s {%#x %d %d %#x}\n", i, s, r.Op, r.Jt, r.Jf, r.K)
	}
	return b.String()
}
