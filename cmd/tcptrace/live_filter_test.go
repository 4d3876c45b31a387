package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/capture"
	"github.com/tcptrace/tcptrace/filter"
	"github.com/tcptrace/tcptrace/report"
)

// pcapRecord is one record of a pcap file, its timestamp in microseconds.
type pcapRecord struct {
	us   int64
	wire uint32
	data string
}

// readPcapRecords reads a pcap file (either byte order, micro- or
// nanosecond timestamps) without the package under test.
func readPcapRecords(t *testing.T, path string) []pcapRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 {
		t.Fatalf("%s: %d bytes, no pcap header", path, len(b))
	}
	var order binary.ByteOrder = binary.LittleEndian
	nsec := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
	case 0xa1b23c4d:
		nsec = true
	default:
		order = binary.BigEndian
		nsec = binary.BigEndian.Uint32(b) == 0xa1b23c4d
	}
	var out []pcapRecord
	for off := 24; off+16 <= len(b); {
		sec, frac := int64(order.Uint32(b[off:])), int64(order.Uint32(b[off+4:]))
		n, wire := int(order.Uint32(b[off+8:])), order.Uint32(b[off+12:])
		if nsec {
			frac /= 1000
		}
		out = append(out, pcapRecord{sec*1e6 + frac, wire, string(b[off+16 : off+16+n])})
		off += 16 + n
	}
	return out
}

// filterCaptures are the captures the filter test runs on: the fixtures of
// every link type in pcaps/, and mixed traffic from the Zeek corpus when
// present (UDP, ICMP, IPv6, VLAN and MPLS, Teredo).
func filterCaptures(t *testing.T) []string {
	files := []string{
		"../../pcaps/close_3way.pcap", "../../pcaps/refused.pcap", "../../pcaps/rst_established.pcap",
		"../../pcaps/vlan_clean.pcap", "../../pcaps/qinq_clean.pcap", "../../pcaps/sll_any.pcap",
		"../../pcaps/sll2_any.pcap", "../../pcaps/ipv6_clean.pcap", "../../pcaps/loopback.pcap",
		"../../pcaps/nanosecond.pcap", "../../pcaps/pcapng_clean.pcapng",
	}
	for _, f := range []string{"wikipedia.pcap", "mixed-vlan-mpls.pcap", "tunnels/Teredo.pcap", "ftp/ipv6.pcap"} {
		p := filepath.Join(corpusDir, f)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		} else if os.Getenv("CI") == "true" {
			t.Fatalf("zeek corpus capture %s: %v", p, err)
		}
	}
	return files
}

// filterExprs are the expressions the filter test compares with tcpdump.
var filterExprs = []string{
	"tcp",
	"ip",
	"ip6",
	"not tcp",
	"udp",
	"icmp or icmp6",
	"host 10.99.0.1",
	"src host 10.99.0.2",
	"dst net 10.99.0.0/24",
	"net 10.99.0.0 mask 255.255.255.0",
	"host fd00:99::1",
	"port 8002",
	"tcp dst port 8002 or tcp src port 8025",
	"portrange 8000-8010",
	"src portrange 40000-40030",
	"tcp port 80 or tcp port 443",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)",
	"tcp[tcpflags] & (tcp-fin|tcp-rst) != 0",
	"tcp[13] & 4 != 0",
	"ip6 and tcp dst port 8023",
	"vlan",
	"vlan and host 10.99.0.1",
	"greater 100",
	"less 80",
	"len >= 60 and tcp",
	"ip[8] > 63",
	"ip and not port 22",
	"(src host 10.99.0.1 and dst port 8002) or (ip6 and tcp)",
	"! (tcp or udp)",
}

// TestFilterMatchesTcpdump runs tcptrace -r FILE -w OUT EXPR and tcpdump
// -r FILE -w OUT EXPR and expects the same frames (bytes, lengths and
// microsecond timestamps, in order), and a report counting exactly them.
func TestFilterMatchesTcpdump(t *testing.T) {
	tcpdump := needTool(t, "tcpdump")
	var compared atomic.Int64
	t.Run("captures", func(t *testing.T) {
		for _, file := range filterCaptures(t) {
			t.Run(filepath.Base(file), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				for i, expr := range filterExprs {
					theirs := filepath.Join(dir, "tcpdump.pcap")
					if out, err := exec.Command(tcpdump, "-r", file, "-w", theirs, expr).CombinedOutput(); err != nil {
						t.Logf("%s: tcpdump refuses: %v %s", expr, err, bytes.TrimSpace(out))
						continue
					}
					ours := filepath.Join(dir, "tcptrace.pcap")
					var out, errb bytes.Buffer
					if code := run(context.Background(), []string{"-q", "-T", "json", "-r", file, "-w", ours, expr}, nil, &out, &errb); code != exitOK {
						t.Errorf("%s: tcptrace exit %d: %s", expr, code, errb.String())
						continue
					}
					var r report.Report
					if err := json.Unmarshal(out.Bytes(), &r); err != nil {
						t.Fatalf("%s: %v", expr, err)
					}
					want, got := readPcapRecords(t, theirs), readPcapRecords(t, ours)
					if len(got) != len(want) || r.Capture.Packets != uint64(len(want)) || r.Capture.Filter != expr {
						t.Errorf("%s: tcptrace kept %d frames (report: %d, filter %q), tcpdump %d", expr, len(got), r.Capture.Packets, r.Capture.Filter, len(want))
						continue
					}
					for k := range want {
						if got[k] != want[k] {
							t.Errorf("%s: frame %d of the kept ones differs from tcpdump's", expr, k+1)
							break
						}
					}
					if i == 0 && r.Capture.Packets+r.Capture.Filtered == 0 {
						t.Errorf("%s: nothing read", expr)
					}
					compared.Add(1)
				}
			})
		}
	})
	t.Logf("%d capture×expression pairs compared", compared.Load())
	if compared.Load() < 20*5 {
		t.Errorf("only %d capture×expression pairs compared", compared.Load())
	}
}

// TestFilterRefused: an expression the compiler does not support, or one
// tcpdump would refuse, is a usage error naming the problem.
func TestFilterRefused(t *testing.T) {
	for _, tt := range []struct{ expr, msg string }{
		{"ether host 00:11:22:33:44:55", `"ether host"`},
		{"arp", `"arp"`},
		{"port http", "not supported"},
		{"tcp and (", "filter"},
		{"ip6 and tcp[tcpflags] & tcp-push != 0", "rejects all packets"}, // tcp[] is IPv4 only, as in libpcap
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"-r", "../../pcaps/close_3way.pcap", tt.expr}, nil, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), tt.msg) || out.Len() != 0 {
			t.Errorf("tcptrace -r FILE %q = %d, stderr %q; want %d naming %s and no report", tt.expr, code, errb.String(), exitUsage, tt.msg)
		}
	}
	// -f is the same as trailing arguments, and filters positional files too.
	a := analyze(t, "-f", "tcp[tcpflags] & tcp-syn != 0", "../../pcaps/close_3way.pcap")
	b := analyze(t, "-r", "../../pcaps/close_3way.pcap", "tcp[tcpflags]", "&", "tcp-syn", "!=", "0")
	if a.Capture.Packets != 2 || b.Capture.Packets != 2 || a.Capture.Filtered != 8 {
		t.Errorf("SYN filter kept %d and %d frames (%d filtered), want 2 and 2 (8)", a.Capture.Packets, b.Capture.Packets, a.Capture.Filtered)
	}
}

// TestWriteReadBack: the -w file read back gives the same report, but for
// its name (and its format, for pcapng or gzip input: -w writes pcap).
func TestWriteReadBack(t *testing.T) {
	dir := t.TempDir()
	for _, file := range []string{
		"../../pcaps/close_3way.pcap", "../../pcaps/nanosecond.pcap", "../../pcaps/sll2_any.pcap",
		"../../pcaps/qinq_clean.pcap", "../../pcaps/time_wait_reuse.pcap", "../../pcaps/pcapng_clean.pcapng",
		"../../pcaps/handshake_clean_4way.pcap.gz",
	} {
		w := filepath.Join(dir, filepath.Base(file)+".w.pcap")
		orig := analyze(t, "-r", file, "-w", w)
		back := analyze(t, "-r", w)
		if f := orig.Capture.Formats[0]; (f == "pcap" || f == "pcap-nsec") && back.Capture.Formats[0] != f {
			t.Errorf("%s: -w wrote %s, want %s", file, back.Capture.Formats[0], f)
		}
		orig.Capture.Sources, back.Capture.Sources = nil, nil
		orig.Capture.Formats, back.Capture.Formats = nil, nil
		a, _ := json.Marshal(orig)
		b, _ := json.Marshal(back)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the -w file read back gives another report:\n%s\n%s", file, a, b)
		}
	}
}

// TestJSONLinesStreaming: with -T jsonl a connection is written as soon as
// it has ended and been quiet, not only at the end; the records are the
// ones -T json gives, but for end_reason.
func TestJSONLinesStreaming(t *testing.T) {
	files := []string{"../../pcaps/close_3way.pcap", "../../pcaps/refused.pcap", "../../pcaps/rst_established.pcap"}
	var args []string
	for _, f := range files {
		args = append(args, "-r", f)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), append([]string{"-T", "jsonl"}, args...), nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	whole := analyze(t, args...)
	all := strings.Split(strings.TrimSpace(out.String()), "\n")
	var lines []string // the connection lines
	for _, l := range all {
		if strings.HasPrefix(l, `{"type":"connection"`) {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(whole.Connections) {
		t.Fatalf("%d connection lines for %d connections", len(lines), len(whole.Connections))
	}
	for i, l := range lines {
		var c report.Connection
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatal(err)
		}
		// The captures were made seconds apart: each connection but the
		// last has ended and been quiet when the next capture begins.
		want := "closed"
		if i == len(lines)-1 {
			want = "end_of_capture"
		}
		if c.ID != uint64(i+1) || c.EndReason != want {
			t.Errorf("line %d: connection %d, end_reason %q; want %d, %q", i+1, c.ID, c.EndReason, i+1, want)
		}
		c.EndReason = whole.Connections[i].EndReason
		a, _ := json.Marshal(c)
		b, _ := json.Marshal(whole.Connections[i])
		if !bytes.Equal(a, b) {
			t.Errorf("connection %d streamed differs from -T json's:\n%s\n%s", i+1, a, b)
		}
	}
	if last := all[len(all)-1]; !strings.HasPrefix(last, `{"type":"capture"`) {
		t.Errorf("last line %q, want the capture record", last)
	}
}

// TestSnapshotRecords: --snapshot-interval lists the connections still open
// every interval of capture time.
func TestSnapshotRecords(t *testing.T) {
	// Unanswered SYNs retransmitted for seconds: open all along.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-T", "jsonl", "--snapshot-interval", "1s", "-r", "../../pcaps/retransmit_syn.pcap"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var snaps []report.Snapshot
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(l, `{"type":"snapshot"`) {
			var s report.Snapshot
			if err := json.Unmarshal([]byte(l), &s); err != nil {
				t.Fatal(err)
			}
			snaps = append(snaps, s)
		}
	}
	if len(snaps) == 0 {
		t.Fatalf("no snapshot in\n%s", out.String())
	}
	s := snaps[0]
	if s.Open != 1 || len(s.Connections) != 1 || s.Connections[0].ID != 1 || s.Connections[0].State.Client == "" || s.Connections[0].Packets.Client == 0 {
		t.Errorf("snapshot %+v, want connection 1 with its states and packets", s)
	}
}

// TestTapAllocs: the per-frame hook (user-space filter, -w) allocates
// nothing once the filter for the link type is compiled.
func TestTapAllocs(t *testing.T) {
	whole, err := os.ReadFile("../../pcaps/close_3way.pcap")
	if err != nil {
		t.Fatal(err)
	}
	frame := whole[24+16 : 24+16+int(binary.LittleEndian.Uint32(whole[24+8:]))]
	p, err := openPcapOut(filepath.Join(t.TempDir(), "w.pcap"), nil, 1, 65535)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	tp := &tap{expr: "tcp port 8002", userspace: true, filters: make(map[capture.LinkType]*filter.Filter), pcap: p}
	ts := time.Unix(1, 0)
	if tp.frame(capture.LinkTypeEthernet, ts, frame, uint32(len(frame))) != capture.FrameKeep {
		t.Fatal("the SYN to port 8002 was not kept")
	}
	if n := testing.AllocsPerRun(100, func() { tp.frame(capture.LinkTypeEthernet, ts, frame, uint32(len(frame))) }); n != 0 {
		t.Errorf("tap.frame allocates %v times per frame, want 0", n)
	}
}
