package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tcptrace/tcptrace/reassembly"
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

// tsharkPackets runs tshark's one-pass TCP analysis (default preferences,
// as installed) and returns each TCP frame's relative numbers and
// tcp.analysis.* flags. TCP headers quoted in ICMP errors are left out:
// they are not segments of a connection and tshark does not analyze them.
func tsharkPackets(t *testing.T, tshark, file string) map[uint64]tsharkFrame {
	t.Helper()
	names := reassembly.VerdictNames()
	args := []string{"-n", "-r", file, "-Y", "tcp && !icmp && !icmpv6", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=l",
		"-e", "frame.number", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len", "-e", "tcp.analysis.duplicate_ack_num"}
	for _, n := range names {
		args = append(args, "-e", "tcp.analysis."+n)
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
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
		for _, file := range captures(t) {
			short := strings.TrimPrefix(strings.TrimPrefix(file, "../../../shared/"), "../../")
			t.Run(short, func(t *testing.T) {
				t.Parallel()
				compareVerdicts(t, tshark, file, short, tally)
			})
		}
	})
	for i, d := range seqDeviations {
		n := tally.hits[i]
		switch {
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
