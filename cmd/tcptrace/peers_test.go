package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// tsharkPrefs are the options every comparison runs tshark with: no name
// resolution, and tshark's own Teredo heuristic (off by default) so that it
// finds Teredo on any UDP port by content, as tcptrace and Zeek do.
var tsharkPrefs = []string{"-n", "-o", "teredo.heuristic_teredo:TRUE"}

// corpusDir is the Zeek conformance corpus shared beside the repository.
const corpusDir = "../../../shared/corpus/zeek/pcaps"

// suitesDir holds the captures of other projects' test suites and examples,
// which tools/suites.sh fetches from Debian's packages (.ci/run does).
const suitesDir = "../../testdata/suites"

// haveCorpus reports whether the Zeek corpus is beside the repository, or
// the suites fetched, for a file of either. Outside CI the tests that read
// them check pcaps/ alone without them, so a documented deviation found
// only there is not expected then.
func haveCorpus(file string) bool {
	dir := ""
	switch {
	case strings.HasPrefix(file, "corpus/"):
		dir = corpusDir
	case strings.HasPrefix(file, "testdata/suites/"):
		dir = suitesDir
	default:
		return true
	}
	_, err := os.Stat(dir)
	return err == nil
}

// suiteBroken lists the files of the suites that are broken on purpose or
// by accident, with the start of the error tcptrace gives (after the
// path). The tests that compare with peers leave them out;
// TestSuiteBrokenFiles checks the errors and what is still reported.
var suiteBroken = map[string]struct {
	err     string
	packets uint64 // read before the damage
}{
	// A record whose length field was damaged: tshark and tcpdump stop after frame 1 as well.
	"pcapfix/usr_share_doc_pcapfix_examples_test_damaged.pcap":                   {"truncated packet record (8772 of its 16912 bytes present) at byte 114", 1},
	"pcapfix/usr_share_doc_pcapfix_examples_test_without_pcap_header.pcap":       {"not a pcap, pcapng or gzip file (first bytes 00 00 00 00)", 0},
	"python3-dpkt/usr_share_doc_python3-dpkt_examples_data_truncated_dns_2.pcap": {"truncated packet record header at byte 240", 1},
	// Compressed twice; tshark and tcpdump refuse them too.
	"python3-libtrace/usr_share_doc_python3-libtrace_examples_anon-v4.pcap.gz": {"not a pcap, pcapng or gzip file (gzip inside gzip", 0},
	"python3-libtrace/usr_share_doc_python3-libtrace_examples_anon-v6.pcap.gz": {"not a pcap, pcapng or gzip file (gzip inside gzip", 0},
	// A second section of pcapng version 2.0, which tshark refuses too.
	"golang-github-google-gopacket-dev/usr_share_gocode_src_github.com_google_gopacket_pcapgo_tests_be_test901.pcapng": {"unsupported pcapng version at byte 480: 2.0", 1},
	"golang-github-google-gopacket-dev/usr_share_gocode_src_github.com_google_gopacket_pcapgo_tests_le_test901.pcapng": {"unsupported pcapng version at byte 480: 2.0", 1},
	// libpcap's reader tests: versions and a section header that tshark and tcpdump refuse too.
	"src-libpcap/tests_pcap-invalid-version-1.pcap":  {"unsupported pcap version at byte 4: 1.4", 0},
	"src-libpcap/tests_pcapng-invalid-vers-1.pcapng": {"unsupported pcapng version at byte 0: 0.1", 0},
	"src-libpcap/tests_shb-option-too-long.pcapng":   {"bad block length at byte 0: section header block: 52 at its start, 808464432 at its end", 0},
	// A fuzzer's find: a 512 KiB record in a 262144-byte file; tshark says it is cut short, tcpdump that it is truncated.
	"src-ndpi/tests_pcap_fuzz-2021-10-13.pcap": {"corrupt packet record at byte 24: captured length 524501 exceeds 262144", 0},
}

// captures returns every capture in pcaps/ and in the Zeek corpus. In CI a
// missing corpus is a failure, not a skip.
func captures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"../../pcaps", corpusDir, suitesDir} {
		if _, err := os.Stat(dir); err != nil {
			if dir != "../../pcaps" && os.Getenv("CI") != "true" {
				t.Logf("%s not found; not checking it", dir)
				continue
			}
			t.Fatalf("capture directory %s: %v", dir, err)
		}
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if _, broken := suiteBroken[strings.TrimPrefix(p, suitesDir+"/")]; broken {
				return nil
			}
			switch {
			case d.IsDir():
			case isCapture(p):
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) == 0 {
		t.Fatal("no captures found")
	}
	sort.Strings(files)
	return files
}

// isCapture reports whether a file name is one of a capture: pcap or
// pcapng, perhaps gzipped, or .cap as Wireshark's tests name some pcaps.
func isCapture(name string) bool {
	for _, ext := range []string{".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// peerOutput runs a peer tool on file and returns its standard output.
// Other projects' suites hold files made to crash parsers (tcpdump's
// *-oobr and *_asan regression files) and link types a peer does not read:
// Ostermann's tcptrace dies of a segmentation fault on 201 of them
// (802.11 with radiotap among them), and tshark exits 2 on DSA tags, link
// types it does not know and damaged headers. On such a suite file a
// failed peer leaves nothing to compare: it is logged and ok is false. On
// the project's own captures and the Zeek corpus it fails the test. With
// partial, a peer that exits non-zero after writing output (but did not
// die of a signal) still counts as having read the file.
func peerOutput(t *testing.T, file string, cmd *exec.Cmd, partial bool) (out []byte, ok bool) {
	t.Helper()
	out, err := cmd.Output()
	if err == nil {
		return out, true
	}
	var exit *exec.ExitError
	crashed := errors.As(err, &exit) && !exit.Exited()
	if partial && len(out) > 0 && !crashed {
		return out, true
	}
	tool := filepath.Base(cmd.Path)
	if strings.HasPrefix(file, suitesDir+"/") {
		t.Logf("not compared: %s fails on this file: %v", tool, err)
		unreadable.Lock()
		unreadable.by[tool][file] = true
		unreadable.Unlock()
		return nil, false
	}
	t.Fatalf("%s %s: %v", tool, file, err)
	return nil, false
}

// peerUnreadable is how many suite files each peer fails on (peerOutput),
// by the name of its binary: tshark exits 2 on 14, Ostermann's tcptrace
// dies of a segmentation fault on 201. checkUnreadable holds
// each test that leaves them out to that number, so a peer failing on
// more files (an upgrade, a wrong argument) fails the test instead of
// comparing less.
var peerUnreadable = map[string]int{"tshark": 14, "tcptrace": 201}

// unreadable records the suite files each peer failed on.
var unreadable = struct {
	sync.Mutex
	by map[string]map[string]bool
}{by: map[string]map[string]bool{"tshark": {}, "tcptrace": {}}}

// checkUnreadable registers a check, run when t and its subtests are
// done, that tool failed on exactly peerUnreadable[tool] of the files,
// when all files ran (ran counts them: a -run pattern may pick a few) and
// the suites are there.
func checkUnreadable(t *testing.T, tool string, files []string, ran *atomic.Int64) {
	t.Cleanup(func() {
		if _, err := os.Stat(suitesDir); err != nil || int(ran.Load()) != len(files) {
			return
		}
		unreadable.Lock()
		defer unreadable.Unlock()
		n := 0
		for _, f := range files {
			if unreadable.by[tool][f] {
				n++
			}
		}
		if n != peerUnreadable[tool] {
			t.Errorf("%s failed on %d suite files, peerUnreadable says %d (see the test log for which)", tool, n, peerUnreadable[tool])
		}
	})
}

// needTool returns the path of a peer tool; it may skip only outside CI.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed; .ci/run must install it", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// analyze runs tcptrace -T json on one file and decodes the report.
func analyze(t *testing.T, args ...string) *report.Report {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"-T", "json", "-q"}, args...), nil, &out, &errb)
	if code != exitOK {
		t.Fatalf("tcptrace %v exited %d: %s", args, code, errb.String())
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("tcptrace %v: bad JSON: %v", args, err)
	}
	return &r
}

// dirKey is a 4-tuple with direction: frames sent by src to dst.
type dirKey struct{ src, dst string }

type counts struct{ frames, bytes uint64 }

func ep(ip string, port uint16) string {
	if strings.HasPrefix(ip, ":") && !strings.HasPrefix(ip, "::") {
		// Ostermann's tcptrace prints ::1 as ":0001" (gopacket's
		// pcap/test_loopback.pcap).
		ip = ":" + ip
	}
	return netip.AddrPortFrom(netip.MustParseAddr(ip), port).String()
}

// ourCounts aggregates tcptrace's per-connection counts by directed
// 4-tuple (incarnations of one tuple added up, as tshark's table keys
// conversations by addresses and ports).
func ourCounts(r *report.Report) (map[dirKey]counts, map[dirKey]bool) {
	m := make(map[dirKey]counts)
	tunneled := make(map[dirKey]bool)
	for _, c := range r.Connections {
		cl, sv := ep(c.Client.IP, c.Client.Port), ep(c.Server.IP, c.Server.Port)
		for _, x := range []struct {
			k dirKey
			f uint64
			b uint64
		}{{dirKey{cl, sv}, c.Packets.Client, c.Bytes.Client}, {dirKey{sv, cl}, c.Packets.Server, c.Bytes.Server}} {
			v := m[x.k]
			v.frames += x.f
			v.bytes += x.b
			m[x.k] = v
			if c.Tunneled {
				tunneled[x.k] = true
			}
		}
	}
	return m, tunneled
}

var convRow = regexp.MustCompile(`^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+)\s+(\d+) (bytes|kB|MB|GB)\s+(\d+)\s+(\d+) (bytes|kB|MB|GB)\s`)

// tsharkConv parses `tshark -q -z conv,tcp`. The "<-" columns count what B
// sent to A, the "->" columns what A sent to B. Byte counts are exact only
// when printed in bytes; larger ones are rounded to kB/MB, so those are
// checked against tshark's own per-frame lengths instead (tsharkBytes).
func tsharkConv(t *testing.T, tshark, file string) map[dirKey]counts {
	t.Helper()
	out, ok := peerOutput(t, file, exec.Command(tshark, append(tsharkPrefs, "-r", file, "-q", "-z", "conv,tcp")...), false)
	if !ok {
		return nil
	}
	m := make(map[dirKey]counts)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		g := convRow.FindStringSubmatch(sc.Text())
		if g == nil {
			continue
		}
		pa, _ := strconv.ParseUint(g[2], 10, 16)
		pb, _ := strconv.ParseUint(g[4], 10, 16)
		a, b := ep(g[1], uint16(pa)), ep(g[3], uint16(pb))
		fBA, _ := strconv.ParseUint(g[5], 10, 64)
		fAB, _ := strconv.ParseUint(g[8], 10, 64)
		add := func(k dirKey, frames uint64) {
			v := m[k]
			v.frames += frames
			m[k] = v
		}
		add(dirKey{b, a}, fBA)
		add(dirKey{a, b}, fAB)
	}
	return m
}

// tsharkBytes sums frame.len per directed 4-tuple over the frames tshark
// dissects as TCP, leaving out TCP headers quoted inside ICMP errors (tshark
// decodes those as tcp, but they are not packets of the connection and its
// conversation table does not count them either): frames where ICMP comes
// before TCP. An ICMP packet carried inside the TCP payload (an OpenFlow
// packet-in, in tcpdump's of13_ericsson.pcapng) leaves the frame in.
func tsharkBytes(t *testing.T, tshark, file string) map[dirKey]counts {
	t.Helper()
	out, ok := peerOutput(t, file, exec.Command(tshark, append(tsharkPrefs, "-r", file, "-Y", "tcp",
		"-T", "fields", "-E", "separator=,", "-E", "occurrence=a", "-E", "aggregator=;",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "frame.len", "-e", "frame.protocols")...), false)
	if !ok {
		return nil
	}
	m := make(map[dirKey]counts)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 8 {
			t.Fatalf("tshark fields %s: odd line %q", file, line)
		}
		// The addresses and ports of the first TCP header and the IP header
		// right below it, as in tcptrace (IPv4 in IPv6 tunnels too), not
		// those of a packet carried in its payload (an OpenFlow packet-in).
		n4, n6, last, quoted := 0, 0, "", false
		for _, l := range strings.Split(f[7], ":") {
			if l == "tcp" {
				break
			}
			switch l {
			case "ip":
				n4++
				last = l
			case "ipv6":
				n6++
				last = l
			case "icmp", "icmpv6":
				quoted = true
			}
		}
		if quoted {
			continue // a header quoted in an ICMP error
		}
		nth := func(field string, n int) string {
			if v := strings.Split(field, ";"); n >= 1 && n <= len(v) {
				return v[n-1]
			}
			return ""
		}
		src, dst := nth(f[0], n4), nth(f[3], n4)
		if last == "ipv6" {
			src, dst = nth(f[1], n6), nth(f[4], n6)
		}
		f[2], f[5] = nth(f[2], 1), nth(f[5], 1)
		sp, _ := strconv.ParseUint(f[2], 10, 16)
		dp, _ := strconv.ParseUint(f[5], 10, 16)
		n, _ := strconv.ParseUint(f[6], 10, 64)
		k := dirKey{ep(src, uint16(sp)), ep(dst, uint16(dp))}
		v := m[k]
		v.frames++
		v.bytes += n
		m[k] = v
	}
	return m
}

// tsharkByteDeviations lists captures where tcptrace's frame-byte counts
// differ from tshark's on purpose, with the reason. The test checks that the
// difference still occurs, so the list cannot go stale.
var tsharkByteDeviations = map[string]string{
	// The GTP-U tunnel's outer IPv4 datagrams are fragmented. tshark
	// reassembles them and credits the inner TCP segment to the frame that
	// completes reassembly (the last fragment, 60 bytes on the wire);
	// tcptrace reads the TCP header from the first fragment and counts that
	// frame. Frame counts agree; bytes cannot.
	"tunnels/gtp/gtp2_different_udp_port.pcap": "outer IP fragments: tshark counts the reassembling frame, tcptrace the first fragment",
}

func byteDeviation(file string) (string, bool) {
	for k, why := range tsharkByteDeviations {
		if strings.HasSuffix(file, k) {
			return why, true
		}
	}
	return "", false
}

// TestCountsMatchTshark checks, on every capture in pcaps/ and the Zeek
// corpus, that tcptrace's per-connection packet and frame-byte counts in each
// direction equal tshark's. The only connections tshark may lack are ones
// tcptrace decoded inside tunnels tshark 4.0 does not open by default
// (Teredo's heuristic dissector is off).
func TestCountsMatchTshark(t *testing.T) {
	tshark := needTool(t, "tshark")
	files := captures(t)
	var ran atomic.Int64
	checkUnreadable(t, "tshark", files, &ran)
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, "../"), func(t *testing.T) {
			t.Parallel()
			ran.Add(1)
			if unlike(t, file, "tshark") {
				return
			}
			r := analyze(t, "-r", file)
			ours, tunneled := ourCounts(r)
			conv := tsharkConv(t, tshark, file)
			fields := tsharkBytes(t, tshark, file)
			if conv == nil || fields == nil {
				return // tshark cannot read the file (peerOutput)
			}
			why, deviates := byteDeviation(file)
			byteDiffs := 0
			for k, want := range conv {
				got := ours[k]
				if got.frames != want.frames {
					t.Errorf("%s -> %s: %d frames, tshark conv,tcp says %d", k.src, k.dst, got.frames, want.frames)
				}
				if wb := fields[k].bytes; got.bytes != wb {
					byteDiffs++
					if !deviates {
						t.Errorf("%s -> %s: %d bytes, tshark frame.len sums to %d", k.src, k.dst, got.bytes, wb)
					}
				}
			}
			if deviates && byteDiffs == 0 {
				t.Errorf("known deviation (%s) no longer occurs: remove it from tsharkByteDeviations", why)
			}
			for k, got := range ours {
				if _, ok := conv[k]; ok || got.frames == 0 {
					continue
				}
				if !tunneled[k] {
					t.Errorf("%s -> %s: %d frames that tshark's conversation table does not have", k.src, k.dst, got.frames)
				}
			}
			if len(conv) == 0 && len(r.Connections) > 0 && !allTunneled(r) {
				t.Errorf("tshark sees no TCP conversation; tcptrace sees %d", len(r.Connections))
			}
		})
	}
}

func allTunneled(r *report.Report) bool {
	for _, c := range r.Connections {
		if !c.Tunneled {
			return false
		}
	}
	return true
}

// TestCorpusReads checks that every capture is read without error.
func TestCorpusReads(t *testing.T) {
	for _, file := range captures(t) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"-T", "json", "-q", "-r", file}, nil, &out, &errb)
		if code != exitOK {
			t.Errorf("tcptrace -r %s exited %d: %s", file, code, errb.String())
		}
		var r report.Report
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Errorf("tcptrace -r %s: output is not a JSON report: %v", file, err)
			continue
		}
		// Every skipped frame has its reason.
		c := &r.Capture
		if k := c.SkippedBy; (k == nil) != (c.Skipped == 0) ||
			k != nil && k.NonIP+k.NonTCP+k.Fragment+k.Malformed+k.Short+k.UnsupportedLink+k.Empty != c.Skipped {
			t.Errorf("tcptrace -r %s: skipped %d, skipped_by %+v", file, c.Skipped, k)
		}
	}
}

// TestSkippedBy checks the reasons given for skipped frames, in JSON and
// text: the four ICMP port-unreachable errors of conn_rejected_icmp.pcap.
func TestSkippedBy(t *testing.T) {
	r := analyze(t, "-r", "../../pcaps/findings/conn_rejected_icmp.pcap")
	if k := r.Capture.SkippedBy; r.Capture.Skipped != 4 || k == nil || *k != (report.Skips{NonTCP: 4}) {
		t.Errorf("skipped %d, skipped_by %+v; want 4, non_tcp 4", r.Capture.Skipped, k)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-q", "-r", "../../pcaps/findings/conn_rejected_icmp.pcap"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "\nskipped  4 IP but not TCP\n") {
		t.Errorf("text report lacks the skipped line:\n%s", out.String())
	}
}

// TestSuiteBrokenFiles checks, on the broken files of other projects'
// suites (suiteBroken), that tcptrace exits 1 with an error that says what
// is wrong and where, and still reports what it read before.
// suiteUnlike lists suite files that a peer comparison leaves out, by
// peer ("tshark", "ostermann"), and why. They are test inputs made for
// other purposes, where the peers and tcptrace read damaged or replayed
// traffic each its own way; every other comparison still reads them.
var suiteUnlike = map[string]map[string]string{
	// Made for a gopacket decoder fix: frames with a TCP header length of
	// 0 (tcptrace skips them as malformed; tshark keeps them in its stream
	// but not in conv,tcp) and IP lengths past the frame (README: the IP
	// header is believed, as Ostermann's tool does, where tshark takes what
	// is there: docs/seq-deviations.md).
	"go-gopacket/layers_testdata_linux_sll_oversized_addr.pcapng": {
		"tshark": "bogus TCP header lengths and IP lengths past the frame", "ostermann": "bogus TCP header lengths"},
	// The same client packets (same ISN, same IP IDs) replayed every 20 s
	// against a live server that answers with new ISNs or resets: one
	// connection with retransmissions to both tools, whose counts of
	// unique and retransmitted bytes then part ways. tshark agrees frame by
	// frame.
	"go-gopacket/layers_testdata_cip.pcap": {"ostermann": "client traffic replayed against a live server"},
	// Other projects' suites (tools/suites.sh): each difference found, with why.
	"src-wireshark/test_captures_wireguard-ping-tcp-dsb.pcapng":       {"tshark": "WireGuard that tshark decrypts with the keys the file carries (a decryption secrets block); tcptrace sees the encrypted UDP only"},
	"src-tcpflow/tests_simson.pcap":                                   {"tshark": "a 40-byte snaplen cuts every TCP header after its ports: tshark shows what is left, tcptrace skips them (skipped_by.short)"},
	"src-ndpi/tests_pcap_vnc.pcap":                                    {"tshark": "tshark opens a second tcp.stream on the same 4-tuple at frame 5, without a SYN (the VNC dissector's conversation), and restarts its relative sequence numbers there; tcptrace keeps one connection"},
	"src-ndpi/tests_pcap_ajp.pcap":                                    {"tshark": "Cisco FabricPath copies of the frames with other sequence numbers, which tshark's FabricPath dissector calls malformed (it takes 4 bytes for an FCS that is not there): they never reach its conversation table and get absolute sequence numbers", "ostermann": "Cisco FabricPath frames, which Ostermann's tool does not decode"},
	"src-ndpi/tests_pcap_ip_fragmented_garbage.pcap":                  {"tshark": "TCP headers in IP fragments that tshark reassembles; tcptrace does not reassemble IP (README)"},
	"src-tcpdump/tests_bgp-addpath.pcap":                              {"tshark": ipPastFrame},
	"src-ndpi/tests_pcap_tls_invalid_reads.pcap":                      {"tshark": ipPastFrame, "ostermann": "a window-scale option of 49: Ostermann's tool shifts windows by it (3.5e16), tcptrace by at most 14 (RFC 7323 §2.3)"},
	"src-ndpi/tests_pcap_reasm_crash_anon.pcapng":                     {"tshark": ipPastFrame, "ostermann": editedCapture},
	"src-ndpi/tests_pcap_ndpi_match_string_subprotocol__error.pcapng": {"tshark": ipPastFrame, "ostermann": editedCapture},
	"src-tcpdump/tests_tcp_header_heapoverflow.pcap":                  {"tshark": fuzzMade},
	"src-tcpdump/tests_tcp-auth-heapoverflow.pcap":                    {"tshark": fuzzMade},
	"src-tcpdump/tests_heapoverflow-tcp_print.pcap":                   {"tshark": fuzzMade},
	"src-tcpdump/tests_beep-oobr.pcap":                                {"tshark": fuzzMade},
	"src-tcpdump/tests_mptcp-dss-oobr.pcap":                           {"tshark": fuzzMade},
	"src-tcpdump/tests_rpki-rtr-oobr.pcap":                            {"tshark": fuzzMade},
	"src-tcpdump/tests_bgp_pmsi_tunnel-oobr.pcap":                     {"tshark": fuzzMade},
	"src-tcpdump/tests_bgp-bgp_capabilities_print-oobr-1.pcap":        {"tshark": fuzzMade},
	"src-tcpdump/tests_bgp-bgp_capabilities_print-oobr-2.pcap":        {"tshark": fuzzMade},
	"src-tcpdump/tests_kday3.pcap":                                    {"tshark": fuzzMade, "ostermann": fuzzMade},
	"src-tcpdump/tests_kday4.pcap":                                    {"tshark": fuzzMade, "ostermann": fuzzMade},
	"src-tcpdump/tests_kday7.pcap":                                    {"tshark": fuzzMade, "ostermann": fuzzMade},
	"src-ndpi/tests_pcap_kerberos_fuzz.pcapng":                        {"tshark": fuzzMade},
	"src-ndpi/tests_pcap_fuzz-2006-09-29-28586.pcap":                  {"tshark": fuzzMade, "ostermann": fuzzMade},
	"src-ndpi/tests_pcap_fuzz-2006-06-26-2594.pcap":                   {"tshark": fuzzMade},
	"src-ndpi/tests_pcap_anydesk-2.pcap":                              {"ostermann": "438 segments of over 1500 bytes (TSO, captured on the sender), which Ostermann's tool leaves out"},
	"src-tcpflow/tests_bug7.pcap":                                     {"ostermann": "a segment of 1546 bytes, which Ostermann's tool leaves out"},
	"src-tcpflow/tests_bug8.pcap":                                     {"ostermann": "frame 1's microsecond field is 8915240: Ostermann's tool prints a negative fraction for it and measures no handshake RTT on the file; tcptrace carries it into the seconds (a warning), and measures none where the SYN-ACK then precedes the SYN"},
	"src-tcpflow/tests_test5-lines-randomized.pcap":                   {"ostermann": "tcpflow's reordering test: the frames in random order, the SYN after the data; the two tools tell new bytes from repeated ones differently there"},
	"src-ndpi/tests_pcap_teams.pcap":                                  {"ostermann": "1090 bytes the server sends after the client's RST: Ostermann's tool counts the packet but not its bytes as unique"},
	"src-ndpi/tests_pcap_no_sni.pcap":                                 {"ostermann": holesBounded},
	"src-ndpi/tests_pcap_ookla.pcap":                                  {"ostermann": holesBounded},
}

// Reasons shared by several suite files in suiteUnlike.
const (
	fuzzMade      = "a fuzzer-made file for a parser (tcpdump's *-oobr, *overflow and kday regression tests, nDPI's fuzz-* files): header fields that contradict each other, read differently by each tool"
	ipPastFrame   = "IP total lengths past the frame (an edited capture): tcptrace believes the IP header, as Ostermann's tool does, tshark takes what the frame holds (docs/seq-deviations.md: IP datagrams longer than their frame)"
	editedCapture = "an edited capture (IP lengths past the frame, segments of other sequence numbers on the 4-tuple): the two tools tell new bytes from repeated ones differently there"
	holesBounded  = "more than 4 holes open at once in one direction (loss before a busy capture point): tcptrace's summary of a direction's sequence space keeps 4, so bytes that later fill a forgotten hole count as retransmitted; Ostermann's tool keeps every range (with 64 holes the counts agree)"
)

// unlike skips the comparison of file with peer when suiteUnlike lists it.
func unlike(t *testing.T, file, peer string) bool {
	if why := suiteUnlike[strings.TrimPrefix(file, suitesDir+"/")][peer]; why != "" {
		t.Logf("not compared with %s: %s", peer, why)
		return true
	}
	return false
}

func TestSuiteBrokenFiles(t *testing.T) {
	if _, err := os.Stat(suitesDir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s: %v (.ci/run runs tools/suites.sh)", suitesDir, err)
		}
		t.Skipf("%s not found (run tools/suites.sh)", suitesDir)
	}
	for name, want := range suiteBroken {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(suitesDir, name)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"-T", "json", "-r", file}, nil, &out, &errb)
			var r report.Report
			if err := json.Unmarshal(out.Bytes(), &r); err != nil {
				t.Fatalf("no JSON report: %v", err)
			}
			if prefix := file + ": " + want.err; code != exitFailure || len(r.Capture.Errors) != 1 || !strings.HasPrefix(r.Capture.Errors[0], prefix) {
				t.Errorf("exit %d, errors %q; want exit %d and one error starting %q", code, r.Capture.Errors, exitFailure, prefix)
			}
			if r.Capture.Packets != want.packets {
				t.Errorf("%d packets reported, want the %d before the damage", r.Capture.Packets, want.packets)
			}
		})
	}
}

func TestMain(m *testing.M) {
	// The corpus path assumes the test runs in cmd/tcptrace.
	if _, err := os.Stat("main.go"); err != nil {
		fmt.Fprintln(os.Stderr, "run the tests from the package directory")
		os.Exit(2)
	}
	os.Exit(m.Run())
}
