package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
)

// packetLine is one line of -T packets.
type packetLine struct {
	Frame     uint64   `json:"frame"`
	Conn      uint64   `json:"conn"`
	Dir       string   `json:"dir"`
	Seq       uint32   `json:"seq"`
	Ack       uint32   `json:"ack"`
	Len       uint32   `json:"len"`
	Analysis  []string `json:"analysis"`
	DupAckNum uint32   `json:"dup_ack_num"`
}

// ourPackets runs tcptrace -T packets on file.
func ourPackets(t *testing.T, file string) []packetLine {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-T", "packets", "-q", "-r", file}, nil, &out, &errb); code != exitOK {
		t.Fatalf("tcptrace -T packets -r %s exited %d: %s", file, code, errb.String())
	}
	var lines []packetLine
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var p packetLine
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("-T packets line %q: %v", sc.Text(), err)
		}
		if p.Analysis == nil {
			t.Fatalf("-T packets line %q: analysis must be a list, [] when empty", sc.Text())
		}
		lines = append(lines, p)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i].Frame <= lines[i-1].Frame {
			t.Fatalf("-T packets: frame %d after frame %d: output must be in frame order", lines[i].Frame, lines[i-1].Frame)
		}
	}
	return lines
}

// tsharkFrame is what tshark says of one TCP frame.
type tsharkFrame struct {
	seq, ack, len uint32
	verdicts      reassembly.Verdict
	dupAckNum     uint32
}

// tsharkPackets runs tshark's one-pass TCP analysis and returns each TCP
// frame's relative numbers and tcp.analysis.* flags. The preferences are
// the installed defaults, except that Teredo's heuristic dissector is
// turned on (tcptrace opens Teredo; tshark 4.0 leaves it off by default and
// would not see those segments at all). TCP headers quoted in ICMP errors
// are left out: they are not segments of a connection and tshark does not
// analyze them.
func tsharkPackets(t *testing.T, tshark, file string) map[uint64]tsharkFrame {
	t.Helper()
	names := reassembly.VerdictNames()
	args := []string{"-n", "-r", file, "-o", "teredo.heuristic_teredo:TRUE", "-Y", "tcp && !icmp && !icmpv6", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=l",
		"-e", "frame.number", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len", "-e", "tcp.analysis.duplicate_ack_num"}
	for _, n := range names {
		args = append(args, "-e", "tcp.analysis."+n)
	}
	out, ok := peerOutput(t, file, exec.Command(tshark, args...), false)
	if !ok {
		return nil
	}
	m := make(map[uint64]tsharkFrame)
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 5+len(names) {
			t.Fatalf("tshark %s: odd line %q", file, line)
		}
		num := func(s string) uint32 {
			v, _ := strconv.ParseUint(s, 10, 32)
			return uint32(v)
		}
		frame, _ := strconv.ParseUint(f[0], 10, 64)
		tf := tsharkFrame{seq: num(f[1]), ack: num(f[2]), len: num(f[3]), dupAckNum: num(f[4])}
		for i := range names {
			if f[5+i] != "" {
				tf.verdicts |= 1 << i
			}
		}
		m[frame] = tf
	}
	return m
}

// seqDeviation is a documented, deliberate difference from tshark
// (docs/seq-deviations.md). Field is a verdict name, or "seq", "ack", "len",
// "dup_ack_num", or "frame" (the segment is reported at a different frame
// number; its verdicts are still compared). Frame 0 stands for every frame
// of the file, and Count says how many differences of that field the file
// must show. Ours and Tshark are the values each side gives.
type seqDeviation struct {
	File   string
	Frame  uint64
	Field  string
	Ours   string
	Tshark string
	Count  int
	Reason string // a heading of docs/seq-deviations.md
}

// seqDeviations lists every known difference. A listed deviation that stops
// occurring (or occurs a different number of times) fails the test, so the
// list stays true.
var seqDeviations = []seqDeviation{
	{File: "corpus/zeek/pcaps/tunnels/gtp/gtp2_different_udp_port.pcap", Field: "frame", Ours: "first fragment", Tshark: "last fragment", Count: 42,
		Reason: "Segments in fragmented tunnel datagrams"},
	{File: "testdata/suites/ruby-pcaprub/usr_share_doc_ruby-pcaprub_examples_telnet-raw.pcap.gz", Field: "len", Ours: "1 or 2", Tshark: "0", Count: 25,
		Reason: "IP datagrams longer than their frame"},
	{File: "testdata/suites/ruby-pcaprub/usr_share_doc_ruby-pcaprub_examples_telnet-raw.pcap.gz", Field: "retransmission", Ours: "true", Tshark: "false", Count: 3,
		Reason: "IP datagrams longer than their frame"},
	{File: "testdata/suites/pathspider/usr_lib_python3_dist-packages_pathspider_tests_data_icmp_ttl.pcap", Field: "retransmission", Ours: "true", Tshark: "false", Count: 40,
		Reason: "Conversations tshark starts from a segment quoted in an ICMP error"},
}

// seqTally counts agreement over all captures.
type seqTally struct {
	mu                            sync.Mutex
	cells, agree, flagged, frames uint64
	hits                          map[int]int
}

// TestVerdictsMatchTshark compares -T packets with tshark's tcp.analysis.*
// fields (and relative seq, ack and len), frame by frame, on every capture
// in pcaps/ and the Zeek corpus.
func TestVerdictsMatchTshark(t *testing.T) {
	tshark := needTool(t, "tshark")
	tally := &seqTally{hits: make(map[int]int)}
	t.Run("captures", func(t *testing.T) {
		files := captures(t)
		var ran atomic.Int64
		checkUnreadable(t, "tshark", files, &ran)
		for _, file := range files {
			short := strings.TrimPrefix(strings.TrimPrefix(file, "../../../shared/"), "../../")
			t.Run(short, func(t *testing.T) {
				t.Parallel()
				ran.Add(1)
				if unlike(t, file, "tshark") {
					return
				}
				compareVerdicts(t, tshark, file, short, tally)
			})
		}
	})
	for i, d := range seqDeviations {
		n := tally.hits[i]
		switch {
		case !haveCorpus(d.File):
		case d.Frame == 0 && n != d.Count:
			t.Errorf("documented deviation occurs %d times, the list says %d (update seqDeviations and docs/seq-deviations.md): %+v", n, d.Count, d)
		case d.Frame != 0 && n == 0:
			t.Errorf("documented deviation no longer occurs (remove it from seqDeviations and docs/seq-deviations.md): %+v", d)
		}
	}
	if tally.cells > 0 {
		t.Logf("tshark agreement: %d of %d frame×verdict cells (%.4f%%) over %d frames (%d verdicts given by tshark), %d documented deviations",
			tally.agree, tally.cells, 100*float64(tally.agree)/float64(tally.cells), tally.frames, tally.flagged, len(seqDeviations))
	}
}

func compareVerdicts(t *testing.T, tshark, file, short string, tally *seqTally) {
	names := reassembly.VerdictNames()
	ours := ourPackets(t, file)
	theirs := tsharkPackets(t, tshark, file)
	if theirs == nil {
		return // tshark cannot read the file (peerOutput)
	}
	var cells, agree, flagged, frames uint64
	hits := make(map[int]int)
	differ := func(frame uint64, field, o, th string) {
		for i, d := range seqDeviations {
			if d.File == short && d.Field == field && (d.Frame == frame || d.Frame == 0) && (d.Frame == 0 || d.Ours == o && d.Tshark == th) {
				hits[i]++
				return
			}
		}
		t.Errorf("frame %d %s: tcptrace %s, tshark %s", frame, field, o, th)
	}
	compare := func(p packetLine, th tsharkFrame) {
		frames++
		var v reassembly.Verdict
		for _, n := range p.Analysis {
			b, ok := reassembly.ParseVerdict(n)
			if !ok {
				t.Fatalf("frame %d: unknown verdict %q", p.Frame, n)
			}
			v |= b
		}
		for i, n := range names {
			b := reassembly.Verdict(1) << i
			cells++
			if th.verdicts&b != 0 {
				flagged++
			}
			if v&b == th.verdicts&b {
				agree++
				continue
			}
			differ(p.Frame, n, strconv.FormatBool(v&b != 0), strconv.FormatBool(th.verdicts&b != 0))
		}
		if v.Has(reassembly.VerdictDuplicateAck) && th.verdicts.Has(reassembly.VerdictDuplicateAck) && p.DupAckNum != th.dupAckNum {
			differ(p.Frame, "dup_ack_num", fmt.Sprint(p.DupAckNum), fmt.Sprint(th.dupAckNum))
		}
		for _, x := range []struct {
			field  string
			o, the uint32
		}{{"seq", p.Seq, th.seq}, {"ack", p.Ack, th.ack}, {"len", p.Len, th.len}} {
			if x.o != x.the {
				differ(p.Frame, x.field, fmt.Sprint(x.o), fmt.Sprint(x.the))
			}
		}
	}
	// Frames both have are compared directly. A segment the two report at
	// different frames (see seqDeviations) is paired in order with the
	// other side's unmatched frame and compared too.
	var onlyOurs []packetLine
	ourFrames := make(map[uint64]bool)
	for _, p := range ours {
		ourFrames[p.Frame] = true
		if th, ok := theirs[p.Frame]; ok {
			compare(p, th)
		} else {
			onlyOurs = append(onlyOurs, p)
		}
	}
	var onlyTheirs []uint64
	for f := range theirs {
		if !ourFrames[f] {
			onlyTheirs = append(onlyTheirs, f)
		}
	}
	sort.Slice(onlyTheirs, func(i, j int) bool { return onlyTheirs[i] < onlyTheirs[j] })
	for i, p := range onlyOurs {
		if i >= len(onlyTheirs) {
			differ(p.Frame, "frame", "tcp", "none")
			continue
		}
		differ(p.Frame, "frame", "first fragment", "last fragment")
		compare(p, theirs[onlyTheirs[i]])
	}
	for _, f := range onlyTheirs[min(len(onlyOurs), len(onlyTheirs)):] {
		differ(f, "frame", "none", "tcp")
	}
	tally.mu.Lock()
	defer tally.mu.Unlock()
	tally.cells += cells
	tally.agree += agree
	tally.flagged += flagged
	tally.frames += frames
	for i, n := range hits {
		tally.hits[i] += n
	}
}

// craftStep is one segment of a crafted conversation. Seq and Ack count
// from the sender's and receiver's ISN; Dt is the time since the previous
// segment (100 ms when zero).
type craftStep struct {
	Srv      bool // sent by the server
	Seq, Ack uint32
	N        int    // payload bytes
	Flags    string // letters of S A P F R
	Win      int    // raw window field: 1000 when 0, a zero window when -1
	Dt       time.Duration
	WS       int // window-scale shift option on a SYN; 0 = none, else shift+1
}

// craftConv writes a pcap of one client-server conversation.
func craftConv(t *testing.T, path string, isnC, isnS uint32, steps []craftStep) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	cl, sv := net.IP{10, 98, 0, 1}, net.IP{10, 98, 0, 2}
	for i, s := range steps {
		dt := s.Dt
		if dt == 0 {
			dt = 100 * time.Millisecond
		}
		ts = ts.Add(dt)
		src, dst, sp, dp, isnTx, isnRx := cl, sv, 40000, 80, isnC, isnS
		if s.Srv {
			src, dst, sp, dp, isnTx, isnRx = sv, cl, 80, 40000, isnS, isnC
		}
		win := uint16(s.Win)
		switch s.Win {
		case 0:
			win = 1000
		case -1:
			win = 0
		}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: isnTx + s.Seq, Window: win,
			SYN: strings.Contains(s.Flags, "S"), ACK: strings.Contains(s.Flags, "A"), PSH: strings.Contains(s.Flags, "P"),
			FIN: strings.Contains(s.Flags, "F"), RST: strings.Contains(s.Flags, "R")}
		if tcp.ACK {
			tcp.Ack = isnRx + s.Ack
		}
		if s.WS > 0 {
			tcp.Options = append(tcp.Options, layers.TCPOption{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{byte(s.WS - 1)}},
				layers.TCPOption{OptionType: layers.TCPOptionKindNop})
		}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src, DstIP: dst, Id: uint16(i + 1)}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(bytes.Repeat([]byte{'x'}, s.N))); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
			t.Fatal(err)
		}
	}
}

// handshake is a three-way handshake without options.
var handshake = []craftStep{{Flags: "S"}, {Srv: true, Ack: 1, Flags: "SA"}, {Seq: 1, Ack: 1, Flags: "A"}}

func hs(steps ...craftStep) []craftStep {
	return append(append([]craftStep(nil), handshake...), steps...)
}

// craftedCases pin down tshark 4.0's rules where Wireshark releases differ
// (precedence, the ACKed-unseen bookkeeping, window scaling after a SYN)
// and exercise every verdict, with the quirks tcptrace mirrors.
var craftedCases = []struct {
	name       string
	isnC, isnS uint32
	steps      []craftStep
}{
	{"ack_lost_hole", 1000, 5000, hs(
		craftStep{Seq: 1, Ack: 1, N: 100, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A"},
		craftStep{Srv: true, Seq: 1, Ack: 201, Flags: "A"}, craftStep{Seq: 201, Ack: 1, N: 100, Flags: "A"},
		craftStep{Srv: true, Seq: 1, Ack: 301, Flags: "A"}, craftStep{Seq: 301, Ack: 1, N: 100, Flags: "A"},
		craftStep{Srv: true, Seq: 1, Ack: 401, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 501, Flags: "A"},
		craftStep{Seq: 501, Ack: 1, N: 100, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 601, Flags: "A"},
		// the server's duplicate ACKs after an ACKed-unseen one count from 1
		craftStep{Srv: true, Seq: 1, Ack: 601, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 601, Flags: "A"})},
	{"ack_lost_silenced", 1000, 5000, hs(
		craftStep{Seq: 1, Ack: 1, N: 100, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 201, Flags: "A"},
		craftStep{Srv: true, Seq: 1, Ack: 301, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 201, N: 50, Flags: "PA"},
		craftStep{Seq: 101, Ack: 51, Flags: "A"}, craftStep{Srv: true, Seq: 51, Ack: 401, Flags: "A"})},
	{"spurious_before_ooo", 1000, 5000, hs(
		craftStep{Seq: 1, Ack: 1, N: 100, Flags: "A"}, craftStep{Seq: 101, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond},
		craftStep{Seq: 201, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond}, craftStep{Srv: true, Seq: 1, Ack: 301, Flags: "A", Dt: time.Millisecond},
		craftStep{Seq: 101, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond},
		craftStep{Seq: 301, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond}, craftStep{Seq: 501, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond},
		craftStep{Seq: 401, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond}, craftStep{Seq: 401, Ack: 1, N: 100, Flags: "A", Dt: time.Second})},
	{"fast_retransmission", 1000, 5000, hs(
		craftStep{Seq: 1, Ack: 1, N: 100, Flags: "A"}, craftStep{Seq: 101, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond},
		craftStep{Seq: 201, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond}, craftStep{Seq: 301, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond},
		craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A", Dt: time.Millisecond}, craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A", Dt: time.Millisecond},
		craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A", Dt: time.Millisecond}, craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A", Dt: time.Millisecond},
		craftStep{Seq: 101, Ack: 1, N: 100, Flags: "A", Dt: 5 * time.Millisecond}, craftStep{Srv: true, Seq: 1, Ack: 201, Flags: "A", Dt: time.Millisecond},
		craftStep{Srv: true, Seq: 1, Ack: 201, Flags: "A", Dt: time.Millisecond}, craftStep{Srv: true, Seq: 1, Ack: 201, Flags: "A", Dt: time.Millisecond},
		craftStep{Seq: 201, Ack: 1, N: 100, Flags: "A", Dt: 50 * time.Millisecond})},
	{"window_full_after_syn", 1000, 5000, []craftStep{
		{Flags: "S", WS: 3}, {Srv: true, Ack: 1, Flags: "SA", Win: 100, WS: 3}, {Seq: 1, Ack: 1, Flags: "A"},
		{Seq: 1, Ack: 1, N: 100, Flags: "PA"}, {Srv: true, Seq: 1, Ack: 101, Flags: "A", Win: 100},
		{Seq: 101, Ack: 1, N: 400, Flags: "PA"}, {Srv: true, Seq: 1, Ack: 501, Flags: "A", Win: 200}, {Srv: true, Seq: 1, Ack: 501, Flags: "A", Win: 300}}},
	{"zero_window_probe", 1000, 5000, hs(
		craftStep{Seq: 1, Ack: 1, N: 100, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A", Win: -1},
		craftStep{Seq: 101, Ack: 1, N: 1, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A", Win: -1},
		craftStep{Seq: 101, Ack: 1, N: 1, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A", Win: -1},
		craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A", Win: 500}, craftStep{Seq: 101, Ack: 1, N: 200, Flags: "A"},
		craftStep{Srv: true, Seq: 1, Ack: 301, Flags: "RA", Win: -1})},
	{"keep_alive", 1000, 5000, hs(
		craftStep{Seq: 1, Ack: 1, N: 10, Flags: "PA"}, craftStep{Srv: true, Seq: 1, Ack: 11, Flags: "A"},
		craftStep{Seq: 10, Ack: 1, Flags: "A", Dt: time.Second}, craftStep{Srv: true, Seq: 1, Ack: 11, Flags: "A"},
		craftStep{Seq: 10, Ack: 1, N: 1, Flags: "A", Dt: time.Second}, craftStep{Srv: true, Seq: 1, Ack: 11, Flags: "A"},
		craftStep{Seq: 20, Ack: 1, N: 5, Flags: "RA"})},
	{"reused_ports", 1000, 5000, hs(
		craftStep{Seq: 1, Ack: 1, Flags: "FA"}, craftStep{Srv: true, Seq: 1, Ack: 2, Flags: "FA"}, craftStep{Seq: 2, Ack: 2, Flags: "A"},
		craftStep{Seq: 700000, Flags: "S", Dt: time.Second}, craftStep{Seq: 700000, Flags: "S", Dt: time.Second},
		craftStep{Srv: true, Seq: 90000, Ack: 700001, Flags: "SA"}, craftStep{Srv: true, Seq: 91000, Ack: 700001, Flags: "SA"},
		craftStep{Seq: 700001, Ack: 91001, Flags: "A"}, craftStep{Srv: true, Seq: 91001, Ack: 700001, N: 10, Flags: "PA"})},
	// nextseq lands exactly on 0: Wireshark takes 0 for "not set".
	{"nextseq_zero", 0xffffff9b, 5000, hs(
		craftStep{Seq: 1, Ack: 1, N: 100, Flags: "A"}, craftStep{Srv: true, Seq: 1, Ack: 101, Flags: "A"},
		craftStep{Seq: 201, Ack: 1, N: 100, Flags: "A"}, craftStep{Seq: 101, Ack: 1, N: 100, Flags: "A", Dt: time.Millisecond},
		craftStep{Srv: true, Seq: 1, Ack: 301, Flags: "A"})},
}

// TestCraftedVerdictsMatchTshark runs the crafted conversations through
// tshark and tcptrace and compares them as TestVerdictsMatchTshark does.
func TestCraftedVerdictsMatchTshark(t *testing.T) {
	tshark := needTool(t, "tshark")
	tally := &seqTally{hits: make(map[int]int)}
	dir := t.TempDir()
	if d := os.Getenv("TCPTRACE_CRAFT_DIR"); d != "" {
		dir = d // keep the crafted captures for a look with tshark
	}
	for _, tc := range craftedCases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".pcap")
			craftConv(t, file, tc.isnC, tc.isnS, tc.steps)
			compareVerdicts(t, tshark, file, "crafted/"+tc.name, tally)
		})
	}
	t.Logf("crafted: %d of %d cells agree, %d verdicts given by tshark", tally.agree, tally.cells, tally.flagged)
}

// TestSeqFixtures checks what each kernel-made capture in pcaps/seq/ is for
// (pcaps/seq/README.md): its verdicts, statistics and capture quality.
func TestSeqFixtures(t *testing.T) {
	type dirCheck func(t *testing.T, d string, s report.DirStats, q report.DirQuality)
	has := func(names ...string) dirCheck {
		return func(t *testing.T, d string, s report.DirStats, _ report.DirQuality) {
			for _, n := range names {
				if s.Analysis[n] == 0 {
					t.Errorf("%s: no %s verdict (have %v)", d, n, s.Analysis)
				}
			}
		}
	}
	for _, tt := range []struct {
		file           string
		client, server []dirCheck
	}{
		{"loss_retransmit", []dirCheck{has("fast_retransmission", "retransmission"), func(t *testing.T, d string, s report.DirStats, q report.DirQuality) {
			if s.RetransPackets < 2 || q.NetworkLossEvents < 2 || q.CaptureLossEvents != 0 {
				t.Errorf("%s: %d retransmissions, %d network and %d capture loss events; want ≥2, ≥2, 0", d, s.RetransPackets, q.NetworkLossEvents, q.CaptureLossEvents)
			}
		}}, []dirCheck{has("duplicate_ack")}},
		{"spurious_retransmit", []dirCheck{has("spurious_retransmission"), func(t *testing.T, d string, s report.DirStats, q report.DirQuality) {
			if q.NetworkLossEvents != 0 {
				t.Errorf("%s: %d network loss events for spurious retransmissions, want 0", d, q.NetworkLossEvents)
			}
		}}, []dirCheck{has("duplicate_ack")}},
		{"reorder", []dirCheck{has("out_of_order", "lost_segment"), func(t *testing.T, d string, s report.DirStats, q report.DirQuality) {
			if s.OutOfOrder == 0 || q.Reordered == 0 {
				t.Errorf("%s: out-of-order packets %d, reordered holes %d; want some", d, s.OutOfOrder, q.Reordered)
			}
		}}, nil},
		{"capture_loss", []dirCheck{has("lost_segment"), func(t *testing.T, d string, s report.DirStats, q report.DirQuality) {
			if q.CaptureLossEvents == 0 || q.NetworkLossEvents != 0 || s.RetransPackets != 0 || s.MissedBytes == 0 {
				t.Errorf("%s: capture loss %d, network loss %d, retransmissions %d, missed %d; want >0, 0, 0, >0", d, q.CaptureLossEvents, q.NetworkLossEvents, s.RetransPackets, s.MissedBytes)
			}
		}}, []dirCheck{has("ack_lost_segment")}},
		{"zero_window", []dirCheck{has("window_full", "keep_alive")}, []dirCheck{has("zero_window", "window_update"), func(t *testing.T, d string, s report.DirStats, _ report.DirQuality) {
			if s.ZeroWindows == 0 || s.ZeroWindowUS < 1000000 {
				t.Errorf("%s: %d zero-window adverts for %d µs; want some, over a second", d, s.ZeroWindows, s.ZeroWindowUS)
			}
		}}},
		{"keepalive", []dirCheck{has("keep_alive")}, []dirCheck{has("keep_alive_ack")}},
		{"seq_wrap", []dirCheck{func(t *testing.T, d string, s report.DirStats, _ report.DirQuality) {
			if s.UniqueBytes != 5250 || s.RetransPackets != 0 || len(s.Analysis) != 0 || s.MissedBytes != 0 {
				t.Errorf("%s: unique %d, retransmissions %d, verdicts %v, missed %d; want 5250, 0, none, 0", d, s.UniqueBytes, s.RetransPackets, s.Analysis, s.MissedBytes)
			}
		}}, nil},
		{"tso_supersegments", []dirCheck{func(t *testing.T, d string, s report.DirStats, q report.DirQuality) {
			if q.SuperSegments == 0 || s.PeerMSS == nil || q.MaxSuperSegment <= uint32(*s.PeerMSS) {
				t.Errorf("%s: %d super-segments (max %d); want some above the peer's MSS", d, q.SuperSegments, q.MaxSuperSegment)
			}
		}}, nil},
	} {
		t.Run(tt.file, func(t *testing.T) {
			r := analyze(t, "-r", "../../pcaps/seq/"+tt.file+".pcap")
			if len(r.Connections) != 1 {
				t.Fatalf("%d connections, want 1", len(r.Connections))
			}
			c := r.Connections[0]
			for _, ck := range tt.client {
				ck(t, "client", c.Stats.Client, c.Quality.Client)
			}
			for _, ck := range tt.server {
				ck(t, "server", c.Stats.Server, c.Quality.Server)
			}
		})
	}
	// The wrap: relative sequence numbers count on past 2^32 in -T packets.
	var top uint32
	for _, p := range ourPackets(t, "../../pcaps/seq/seq_wrap.pcap") {
		if p.Dir == "client" && p.Len > 0 && p.Seq+p.Len > top {
			top = p.Seq + p.Len
		}
	}
	if top != 5251 {
		t.Errorf("seq_wrap: highest relative client sequence %d, want 5251", top)
	}
}
