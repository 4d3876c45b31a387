package filter_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tcptrace/tcptrace/filter"
)

// captureExprs are run through tcpdump and through Filter on every capture in
// TestMatchesTcpdump, and also checked in TestSameAsLibpcap.
var captureExprs = []string{
	"",
	"tcp",
	"udp",
	"icmp",
	"ip",
	"ip6",
	"host 10.0.0.1",
	"src host 10.0.0.1",
	"dst host 10.0.0.2 or src host 192.168.1.77",
	"net 10.0.0.0/8",
	"src net 192.168.0.0 mask 255.255.0.0",
	"dst net 10",
	"port 80",
	"tcp port 443 or udp port 53",
	"src port 1234",
	"portrange 1000-2000",
	"tcp dst portrange 1-1024",
	"host 2001:db8::1",
	"ip6 net 2001:db8::/32",
	"vlan",
	"vlan 10",
	"vlan and tcp port 80",
	"vlan 10 and vlan 20 and host 10.0.0.1",
	"not vlan and ip6",
	"vlan or tcp",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) != 0",
	"tcp[13] = 2",
	"tcp[tcpflags] & tcp-rst != 0 or tcp[tcpflags] & tcp-fin != 0",
	"not (tcp or udp)",
	"!(port 80 || port 443) && tcp",
	"src or dst port 80",
	"src and dst host 10.0.0.1",
	"greater 100",
	"less 64",
	"host 10.0.0.1 and (port 80 or 1234)",
	"port 80 or 443 or 22",
	"icmp[icmptype] = icmp-echo",
	"ip[6:2] & 0x1fff != 0",
	"udp[4:2] > 10",
	"sctp",
	"icmp6",
	"ip6 and tcp",
	"len >= 60 and tcp",
	"tcp port 22 and tcp[13] & 0x10 != 0",
	"net fe80::/10",
	"ether[12:2] = 0x800",
	"host 10.0.0.1 or 10.0.0.2 and not port 22",
	"port 21 or port 22 or port 502",
	"net 192.168.0.0/16 and not port 22",
	"ip6 and port 21",
	"tcp[tcpflags] & (tcp-syn|tcp-fin) != 0 and not src net 10.99.0.0/24",
	"host fd00:99::1 or host 10.99.0.1",
}

// capture is a pcap file to compare on.
type capture struct {
	name string
	path string
}

// syntheticCaptures writes one capture per link type from the synthetic
// frames, each frame also cut short at the offsets where the tested fields
// end, with timestamps that tell the records apart.
func syntheticCaptures(t *testing.T) []capture {
	dir := t.TempDir()
	var out []capture
	for _, lt := range allLinkTypes {
		var recs []record
		for i, f := range framesFor(lt) {
			add := func(n int) {
				recs = append(recs, record{sec: uint32(1700000000 + len(recs)), frac: uint32(i), wireLen: uint32(len(f)), data: f[:n]})
			}
			add(len(f))
			for _, n := range []int{1, 4, 13, 14, 16, 20, 22, 23, 24, 26, 30, 34, 36, 38, 42, 47, 50, 54, 56, 58, 60, 64, 68} {
				if n < len(f) {
					add(n)
				}
			}
		}
		p := filepath.Join(dir, linkNames[lt]+".pcap")
		if err := writePcap(p, lt, recs); err != nil {
			t.Fatal(err)
		}
		out = append(out, capture{"synthetic " + linkNames[lt], p})
	}
	return out
}

// corpusCaptures are real captures, where present: the project's pcaps/ (Linux
// SLL and SLL2 from "-i any", VLAN, QinQ, IPv6, pcapng) and the shared Zeek
// corpus (VLAN mixed with MPLS, IPv6, Teredo and GTP tunnels, small snap
// lengths, pcapng).
var corpusCaptures = []string{
	"../pcaps/sll_any.pcap",
	"../pcaps/sll2_any.pcap",
	"../pcaps/vlan_clean.pcap",
	"../pcaps/qinq_clean.pcap",
	"../pcaps/ipv6_clean.pcap",
	"../pcaps/loopback.pcap",
	"../pcaps/handshake_clean_4way.pcap",
	"../pcaps/pcapng_clean.pcapng",
	"/work/shared/corpus/zeek/pcaps/mixed-vlan-mpls.pcap",
	"/work/shared/corpus/zeek/pcaps/ftp/ipv6.pcap",
	"/work/shared/corpus/zeek/pcaps/tunnels/Teredo.pcap",
	"/work/shared/corpus/zeek/pcaps/tunnels/gtp/gtp2_different_udp_port.pcap",
	"/work/shared/corpus/zeek/pcaps/tcp/retransmit-fast009.pcap",
	"/work/shared/corpus/zeek/pcaps/krb/optional-service-name.pcap",
	"/work/shared/corpus/zeek/pcaps/tcp/http-on-irc-port-missing-syn.pcapng",
	"/work/shared/corpus/zeek/pcaps/modbus/modbus-and-non-modbus-p502.pcap",
	"/work/shared/corpus/zeek/pcaps/ssh/ssh.client-side-half-duplex.pcap",
	"/work/shared/corpus/zeek/pcaps/wikipedia.pcap",
}

// tcpdumpKeeps runs tcpdump -r path -w - expr and returns the records it keeps,
// or its error message.
func tcpdumpKeeps(t *testing.T, tcpdump, path, expr string) (uint16, []record, string) {
	t.Helper()
	args := []string{"-r", path, "-w", "-"}
	if expr != "" {
		args = append(args, "--", expr)
	}
	cmd := exec.Command(tcpdump, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, nil, strings.TrimSpace(stderr.String())
	}
	lt, recs, err := readPcap(out)
	if err != nil {
		t.Fatalf("tcpdump -r %s -w - %q: %v", path, expr, err)
	}
	return lt, recs, ""
}

// TestMatchesTcpdump checks, record for record, that Filter keeps the packets
// "tcpdump -r FILE EXPR" keeps, on synthetic captures of every supported link
// type (with truncated records) and on real ones.
func TestMatchesTcpdump(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	caps := syntheticCaptures(t)
	dir := t.TempDir()
	corpus := corpusCaptures
	if testing.Short() || raceEnabled {
		corpus = corpus[:4]
	}
	for i, p := range corpus {
		// Work on a copy, as tcpdump rewrites it: the originals may be
		// regenerated while the test runs.
		dst := filepath.Join(dir, fmt.Sprintf("%d.pcap", i))
		if out, err := exec.Command(tcpdump, "-r", p, "-w", dst).CombinedOutput(); err != nil {
			t.Logf("%s: skipped: %s", p, bytes.TrimSpace(out))
			continue
		}
		caps = append(caps, capture{filepath.Base(p), dst})
	}
	var mu sync.Mutex
	linkTypes := map[uint16]bool{}
	compared := 0
	t.Run("group", func(t *testing.T) {
		for _, c := range caps {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				b, err := os.ReadFile(c.path)
				if err != nil {
					t.Fatal(err)
				}
				lt, all, err := readPcap(b)
				if err != nil {
					t.Fatal(err)
				}
				n := compareCapture(t, tcpdump, c.path, lt, all)
				mu.Lock()
				linkTypes[lt] = true
				compared += n
				mu.Unlock()
			})
		}
	})
	if len(linkTypes) < 5 {
		t.Errorf("compared on %d link types, want at least 5", len(linkTypes))
	}
	t.Logf("%d (capture, expression) pairs on %d captures of %d link types", compared, len(caps), len(linkTypes))
}

// compareCapture compares Filter with tcpdump for every expression on one
// capture, whose records are all. It returns the number of expressions compared.
func compareCapture(t *testing.T, tcpdump, path string, lt uint16, all []record) int {
	compared := 0
	for _, expr := range captureExprs {
		f, err := filter.New(expr, lt)
		_, want, msg := tcpdumpKeeps(t, tcpdump, path, expr)
		var unsup *filter.UnsupportedError
		switch {
		case errors.As(err, &unsup):
			t.Errorf("New(%q, %d): %v", expr, lt, err)
			continue
		case msg != "" && err == nil:
			t.Errorf("New(%q, %d) succeeded; tcpdump says %s", expr, lt, msg)
			continue
		case msg != "":
			continue
		case err != nil:
			t.Errorf("New(%q, %d) = %v; tcpdump reads the file with it", expr, lt, err)
			continue
		}
		var got []record
		for _, r := range all {
			if f.MatchLen(r.data, int(r.wireLen)) {
				got = append(got, r)
			}
		}
		compared++
		for i := 0; i < len(got) || i < len(want); i++ {
			switch {
			case i >= len(want):
				t.Errorf("%q: we keep extra record %v", expr, got[i])
			case i >= len(got):
				t.Errorf("%q: we drop record %v", expr, want[i])
			case !equalRecords(got[i], want[i]):
				t.Errorf("%q: record %d is %v; tcpdump's is %v", expr, i, got[i], want[i])
			default:
				continue
			}
			break
		}
	}
	return compared
}
