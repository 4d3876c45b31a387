package capture_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/capture"
)

// corpusDir holds real captures (Zeek's test suite); TCPTRACE_CORPUS
// points elsewhere. Tests that need it skip when it is absent: it lives
// outside the repository.
func corpusDir() string {
	if d := os.Getenv("TCPTRACE_CORPUS"); d != "" {
		return d
	}
	return "/work/shared/corpus/zeek/pcaps"
}

// corpusFiles lists every file under corpusDir, recursively.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(corpusDir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Skipf("no corpus at %s (set TCPTRACE_CORPUS): %v", corpusDir(), err)
	}
	return files
}

// readFile reads every segment of a capture file, keyed by frame number.
func readFile(t *testing.T, path string) (map[uint64]capture.Packet, capture.Stats) {
	t.Helper()
	s, err := capture.Open(path, capture.Options{VerifyChecksums: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pkts := make(map[uint64]capture.Packet)
	var p capture.Packet
	for s.Next(&p) {
		pkts[p.Frame] = p
	}
	if err := s.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return pkts, s.Stats()
}

// TestCorpus reads every real capture without error, with counts that add
// up.
func TestCorpus(t *testing.T) {
	for _, path := range corpusFiles(t) {
		t.Run(strings.TrimPrefix(path, corpusDir()+"/"), func(t *testing.T) {
			pkts, st := readFile(t, path)
			sk := st.SkippedBy
			sum := sk.NonIP + sk.NonTCP + sk.Fragment + sk.Malformed + sk.Short + sk.UnsupportedLink + sk.Empty
			if st.TCP+st.Skipped != st.Packets || sum != st.Skipped || uint64(len(pkts)) != st.TCP {
				t.Errorf("counts do not add up: %+v", st)
			}
			if st.TCP == 0 {
				t.Errorf("no TCP in %s", path)
			}
		})
	}
}

// tsharkFields are the fields compared with tshark, in this order.
var tsharkFields = []string{
	"frame.number", "tcp.srcport", "tcp.dstport", "tcp.seq_raw", "tcp.ack_raw", "tcp.flags",
	"tcp.len", "tcp.window_size_value", "tcp.checksum.status",
	"tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.timestamp.tsval",
	"ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "vlan.id",
}

// TestCorpusTshark checks every segment of every real capture against
// tshark 4.0: the set of TCP frames, and per frame the ports, sequence and
// acknowledgment numbers, flags, payload length, window, checksum verdict,
// MSS, window scale, timestamp value, innermost addresses and outer VLAN.
//
// The filter drops TCP headers quoted inside ICMP errors, which tshark
// dissects as tcp but which carry no segment of the connection. The frame
// sets then differ in one way only: when an outer IP datagram was
// fragmented (the GTP-U capture), tshark shows the TCP segment on the last
// fragment after reassembly, we on the first; the counts still match.
//
// It runs when tshark is installed, and must run in CI (CI=true).
func TestCorpusTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tshark not found; CI must run the tshark cross-check")
		}
		t.Skip("tshark not installed")
	}
	for _, path := range corpusFiles(t) {
		t.Run(strings.TrimPrefix(path, corpusDir()+"/"), func(t *testing.T) {
			t.Parallel()
			// tshark's Teredo heuristic (off by default) finds Teredo on
			// any UDP port by content, as the decoder and Zeek do.
			args := []string{"-n", "-o", "teredo.heuristic_teredo:TRUE", "-r", path, "-Y", "tcp && !icmp && !icmpv6",
				"-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=/t"}
			for _, f := range tsharkFields {
				args = append(args, "-e", f)
			}
			out, err := exec.Command(tshark, args...).Output()
			if err != nil {
				t.Fatalf("tshark %s: %v", path, err)
			}
			pkts, _ := readFile(t, path)
			theirs := make(map[uint64][]string)
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				f := strings.Split(sc.Text(), "\t")
				n, _ := strconv.ParseUint(f[0], 10, 64)
				theirs[n] = f
			}
			if len(theirs) != len(pkts) {
				t.Errorf("%d TCP frames, tshark %d", len(pkts), len(theirs))
			}
			var ours, tsharks int
			for n, p := range pkts {
				f, ok := theirs[n]
				if !ok {
					if !p.Fragment {
						t.Errorf("frame %d: TCP for us, not for tshark", n)
					}
					ours++
					continue
				}
				compareTshark(t, n, p, f)
			}
			for n := range theirs {
				if _, ok := pkts[n]; !ok {
					tsharks++
				}
			}
			if ours != tsharks {
				t.Errorf("%d first fragments of ours against %d reassembled frames of tshark's", ours, tsharks)
			}
		})
	}
}

func compareTshark(t *testing.T, n uint64, p capture.Packet, f []string) {
	t.Helper()
	last := func(s string) string { return s[strings.LastIndexByte(s, ',')+1:] }
	first, _, _ := strings.Cut(f[16], ",")
	num := func(s string) uint64 {
		v, _ := strconv.ParseUint(s, 0, 64)
		return v
	}
	src, dst := last(f[12]), last(f[13])
	if p.IPv6 {
		src, dst = last(f[14]), last(f[15])
	}
	var mss, ws, tsval string
	if p.Seg.HasMSS {
		mss = strconv.Itoa(int(p.Seg.MSS))
	}
	if p.Seg.HasWScale {
		ws = strconv.Itoa(int(p.Seg.WScale))
	}
	if p.Seg.HasTS {
		tsval = strconv.FormatUint(uint64(p.Seg.TSVal), 10)
	}
	// tshark: 0 bad, 1 good, 2 unverified.
	status := map[capture.ChecksumStatus]uint64{capture.ChecksumBad: 0, capture.ChecksumGood: 1, capture.ChecksumUnknown: 2}[p.Checksum]
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"tcp.srcport", uint64(p.Src.Port()), num(f[1])},
		{"tcp.dstport", uint64(p.Dst.Port()), num(f[2])},
		{"tcp.seq_raw", uint64(p.Seg.Seq), num(f[3])},
		{"tcp.ack_raw", uint64(p.Seg.Ack), num(f[4])},
		{"tcp.flags", uint64(p.Seg.Flags), num(f[5]) & 0xff},
		{"tcp.len", uint64(p.Seg.Len), num(f[6])},
		{"tcp.window_size_value", uint64(p.Seg.Window), num(f[7])},
		{"tcp.checksum.status", status, num(f[8])},
		{"tcp.options.mss_val", mss, f[9]},
		{"tcp.options.wscale.shift", ws, f[10]},
		{"tcp.options.timestamp.tsval", tsval, f[11]},
		{"src", p.Src.Addr().String(), src},
		{"dst", p.Dst.Addr().String(), dst},
		{"vlan.id", uint64(p.VLAN), num(first)},
	} {
		if c.got != c.want {
			t.Errorf("frame %d: %s = %v, tshark %v", n, c.field, c.got, c.want)
		}
	}
}
