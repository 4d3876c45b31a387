package capture_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcptrace/tcptrace/capture"
)

// ts0 is the first test timestamp; its nanoseconds survive only nsec files.
var ts0 = time.Date(2024, 2, 29, 12, 0, 0, 123456789, time.UTC)

// pcapFile builds a pcap file by hand, in either byte order.
type pcapFile struct {
	order binary.AppendByteOrder
	nsec  bool
	buf   []byte
}

func newPcap(order binary.AppendByteOrder, nsec bool, link capture.LinkType) *pcapFile {
	f := &pcapFile{order: order, nsec: nsec}
	magic := uint32(0xa1b2c3d4)
	if nsec {
		magic = 0xa1b23c4d
	}
	f.buf = order.AppendUint32(f.buf, magic)
	f.buf = order.AppendUint16(f.buf, 2)
	f.buf = order.AppendUint16(f.buf, 4)
	f.buf = order.AppendUint32(f.buf, 0) // thiszone
	f.buf = order.AppendUint32(f.buf, 0) // sigfigs
	f.buf = order.AppendUint32(f.buf, 65535)
	f.buf = order.AppendUint32(f.buf, uint32(link))
	return f
}

// add appends a record for data; orig 0 means len(data).
func (f *pcapFile) add(ts time.Time, data []byte, orig int) *pcapFile {
	if orig == 0 {
		orig = len(data)
	}
	frac := uint32(ts.Nanosecond())
	if !f.nsec {
		frac /= 1000
	}
	f.buf = f.order.AppendUint32(f.buf, uint32(ts.Unix()))
	f.buf = f.order.AppendUint32(f.buf, frac)
	f.buf = f.order.AppendUint32(f.buf, uint32(len(data)))
	f.buf = f.order.AppendUint32(f.buf, uint32(orig))
	f.buf = append(f.buf, data...)
	return f
}

// header appends a bare record header.
func (f *pcapFile) header(caplen, orig uint32) *pcapFile {
	f.buf = f.order.AppendUint64(f.buf, 0)
	f.buf = f.order.AppendUint32(f.buf, caplen)
	f.buf = f.order.AppendUint32(f.buf, orig)
	return f
}

func (f *pcapFile) off() int64 { return int64(len(f.buf)) }

// ngFile builds a pcapng file by hand; set order before each section.
type ngFile struct {
	order binary.AppendByteOrder
	buf   []byte
}

func (f *ngFile) off() int64 { return int64(len(f.buf)) }

// block appends a block, padding its body to 32 bits.
func (f *ngFile) block(typ uint32, body []byte) *ngFile {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	f.buf = f.order.AppendUint32(f.buf, typ)
	f.buf = f.order.AppendUint32(f.buf, n)
	f.buf = append(f.buf, body...)
	f.buf = f.order.AppendUint32(f.buf, n)
	return f
}

func (f *ngFile) shb() *ngFile {
	b := f.order.AppendUint32(nil, 0x1a2b3c4d)
	b = f.order.AppendUint16(b, 1)
	b = f.order.AppendUint16(b, 0)
	b = f.order.AppendUint64(b, ^uint64(0)) // section length unknown
	return f.block(0x0a0d0d0a, b)
}

// opt encodes one option.
func (f *ngFile) opt(code uint16, v ...byte) []byte {
	b := f.order.AppendUint16(nil, code)
	b = f.order.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (f *ngFile) idb(link capture.LinkType, opts ...[]byte) *ngFile {
	b := f.order.AppendUint16(nil, uint16(link))
	b = f.order.AppendUint16(b, 0)
	b = f.order.AppendUint32(b, 0) // no snaplen
	for _, o := range opts {
		b = append(b, o...)
	}
	if len(opts) > 0 {
		b = append(b, 0, 0, 0, 0) // opt_endofopt
	}
	return f.block(1, b)
}

func (f *ngFile) epb(ifid uint32, ts uint64, data []byte, orig int) *ngFile {
	if orig == 0 {
		orig = len(data)
	}
	b := f.order.AppendUint32(nil, ifid)
	b = f.order.AppendUint32(b, uint32(ts>>32))
	b = f.order.AppendUint32(b, uint32(ts))
	b = f.order.AppendUint32(b, uint32(len(data)))
	b = f.order.AppendUint32(b, uint32(orig))
	return f.block(6, append(b, data...))
}

func (f *ngFile) pb(ifid uint16, ts uint64, data []byte) *ngFile {
	b := f.order.AppendUint16(nil, ifid)
	b = f.order.AppendUint16(b, 0) // drops
	b = f.order.AppendUint32(b, uint32(ts>>32))
	b = f.order.AppendUint32(b, uint32(ts))
	b = f.order.AppendUint32(b, uint32(len(data)))
	b = f.order.AppendUint32(b, uint32(len(data)))
	return f.block(2, append(b, data...))
}

func (f *ngFile) spb(data []byte) *ngFile {
	return f.block(3, append(f.order.AppendUint32(nil, uint32(len(data))), data...))
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// readAll reads every segment of a capture held in memory.
func readAll(t testing.TB, name string, data []byte, opt capture.Options) ([]capture.Packet, capture.Stats, error) {
	t.Helper()
	s, err := capture.NewSource(bytes.NewReader(data), name, opt)
	if err != nil {
		return nil, capture.Stats{}, err
	}
	defer s.Close()
	var pkts []capture.Packet
	var p capture.Packet
	for s.Next(&p) {
		pkts = append(pkts, p)
	}
	return pkts, s.Stats(), s.Err()
}

// frames returns the Frame numbers of pkts.
func frames(pkts []capture.Packet) []uint64 {
	var n []uint64
	for _, p := range pkts {
		n = append(n, p.Frame)
	}
	return n
}

// testPcap is a capture of four frames: a SYN, an ARP, data cut by the
// snaplen (68 of 71 bytes), and an IPv6 SYN, one second apart.
func testPcap(order binary.AppendByteOrder, nsec bool) []byte {
	return newPcap(order, nsec, capture.LinkTypeEthernet).
		add(ts0, ethIPv4SYN, 0).
		add(ts0.Add(time.Second), arp, 0).
		add(ts0.Add(2*time.Second), ethIPv4Data[:68], len(ethIPv4Data)).
		add(ts0.Add(3*time.Second), ethVLANIPv6, 0).buf
}

func TestSourcePcap(t *testing.T) {
	// pcapgo writes little-endian microsecond files.
	var viaPcapgo bytes.Buffer
	w := pcapgo.NewWriter(&viaPcapgo)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, f := range [][]byte{ethIPv4SYN, arp, ethIPv4Data[:68], ethVLANIPv6} {
		ci := gopacket.CaptureInfo{Timestamp: ts0.Add(time.Duration(i) * time.Second), CaptureLength: len(f), Length: len(f)}
		if i == 2 {
			ci.Length = len(ethIPv4Data)
		}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	usec := ts0.Truncate(time.Microsecond)
	tests := []struct {
		name   string
		data   []byte
		format string
		ts     time.Time
	}{
		{"little-endian usec", testPcap(binary.LittleEndian, false), "pcap", usec},
		{"big-endian usec", testPcap(binary.BigEndian, false), "pcap", usec},
		{"little-endian nsec", testPcap(binary.LittleEndian, true), "pcap-nsec", ts0},
		{"big-endian nsec", testPcap(binary.BigEndian, true), "pcap-nsec", ts0},
		{"pcapgo writer", viaPcapgo.Bytes(), "pcap", usec},
		{"gzip", gz(t, testPcap(binary.BigEndian, true)), "pcap-nsec+gzip", ts0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, st, err := readAll(t, "t.pcap", tt.data, capture.Options{})
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if got, want := frames(pkts), []uint64{1, 3, 4}; !reflect.DeepEqual(got, want) {
				t.Fatalf("frames = %v, want %v", got, want)
			}
			if !pkts[0].TS.Equal(tt.ts) || !pkts[2].TS.Equal(tt.ts.Add(3*time.Second)) {
				t.Errorf("timestamps = %v, %v, want %v and 3s later", pkts[0].TS, pkts[2].TS, tt.ts)
			}
			if p := pkts[1]; p.WireLen != 71 || p.CapLen != 68 || !p.Truncated || p.Seg.Len != 5 {
				t.Errorf("cut frame: wire %d, cap %d, truncated %v, len %d; want 71, 68, true, 5", p.WireLen, p.CapLen, p.Truncated, p.Seg.Len)
			}
			if pkts[0].Src != synPkt.Src || pkts[2].Dst != syn6Pkt.Dst {
				t.Errorf("addresses = %v, %v, want %v, %v", pkts[0].Src, pkts[2].Dst, synPkt.Src, syn6Pkt.Dst)
			}
			want := capture.Stats{
				Source: "t.pcap", Format: tt.format, LinkTypes: []string{"EN10MB"},
				Packets: 4, TCP: 3, Skipped: 1, SkippedBy: capture.Skips{NonIP: 1}, Truncated: 1,
				Bytes: uint64(len(ethIPv4SYN) + len(arp) + len(ethIPv4Data) + len(ethVLANIPv6)),
				First: tt.ts, Last: tt.ts.Add(3 * time.Second),
			}
			if !reflect.DeepEqual(st, want) {
				t.Errorf("Stats() =\n %+v\nwant\n %+v", st, want)
			}
		})
	}
}

// testPcapng is a capture of two sections. The first, little-endian, has
// an Ethernet interface (microseconds) and an SLL2 interface (nanoseconds),
// and unknown blocks in between; the second, big-endian, has a raw-IP
// interface with binary timestamps (2^-10 s) offset by 1000 s, an obsolete
// packet block and a simple packet block.
func testPcapng() []byte {
	f := &ngFile{order: binary.LittleEndian}
	f.shb().
		idb(capture.LinkTypeEthernet).
		idb(capture.LinkTypeLinuxSLL2, f.opt(2, 's', 'l', 'l'), f.opt(9, 9)).
		epb(0, uint64(ts0.UnixMicro()), ethIPv4SYN, 0).
		block(0x40000bad, []byte("custom block, copy me not")). // custom block
		block(5, make([]byte, 12)).                             // interface statistics
		epb(1, uint64(ts0.UnixNano())+1e9, sll2IPv6, 0).
		block(0x12345678, nil). // unknown type
		epb(0, uint64(ts0.UnixMicro())+2e6, arp, 0)
	f.order = binary.BigEndian
	f.shb().
		idb(capture.LinkTypeRaw, f.opt(9, 0x8a), f.opt(14, binary.BigEndian.AppendUint64(nil, 1000)...)).
		pb(0, uint64(ts0.Unix()+3-1000)<<10|512, ethIPv4Data[14:]).
		spb(ethIPv4ACKPadded[14:54])
	return f.buf
}

func TestSourcePcapng(t *testing.T) {
	for _, tt := range []struct {
		name, format string
		data         []byte
	}{
		{"plain", "pcapng", testPcapng()},
		{"gzip", "pcapng+gzip", gz(t, testPcapng())},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pkts, st, err := readAll(t, "t.pcapng", tt.data, capture.Options{FrameBase: 100})
			if err != nil {
				t.Fatalf("reading: %v", err)
			}
			if got, want := frames(pkts), []uint64{101, 102, 104, 105}; !reflect.DeepEqual(got, want) {
				t.Fatalf("frames = %v, want %v", got, want)
			}
			s0 := ts0.Truncate(time.Second)
			wantTS := []time.Time{
				ts0.Truncate(time.Microsecond),
				ts0.Add(time.Second),
				s0.Add(3*time.Second + 500*time.Millisecond),
				s0.Add(3*time.Second + 500*time.Millisecond), // a simple packet block takes the previous time
			}
			for i, p := range pkts {
				if !p.TS.Equal(wantTS[i]) {
					t.Errorf("frame %d: TS = %v, want %v", p.Frame, p.TS, wantTS[i])
				}
			}
			if pkts[1].Src != syn6Pkt.Src || pkts[2].Seg.Len != 5 || pkts[3].Seg.Ack != ackPkt.Seg.Ack {
				t.Errorf("packets decoded wrong: %+v", pkts)
			}
			if st.Format != tt.format || st.Packets != 5 || st.TCP != 4 || st.SkippedBy.NonIP != 1 {
				t.Errorf("Stats() = %+v", st)
			}
			if want := []string{"EN10MB", "LINUX_SLL2", "RAW"}; !reflect.DeepEqual(st.LinkTypes, want) {
				t.Errorf("LinkTypes = %v, want %v", st.LinkTypes, want)
			}
			// The simple packet block's time equals the one before: no warning.
			if len(st.Warnings) != 0 {
				t.Errorf("Warnings = %q, want none", st.Warnings)
			}
		})
	}
}

// TestSourcePcapgoNg reads what gopacket's pcapng writer writes.
func TestSourcePcapgoNg(t *testing.T) {
	var b bytes.Buffer
	w, err := pcapgo.NewNgWriter(&b, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	sll, err := w.AddInterface(pcapgo.NgInterface{Name: "any", LinkType: layers.LinkType(capture.LinkTypeLinuxSLL)})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range []struct {
		ifc  int
		data []byte
	}{{0, ethIPv4SYN}, {sll, sllIPv4}, {0, ethIPv4Data}} {
		ci := gopacket.CaptureInfo{Timestamp: ts0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f.data), Length: len(f.data), InterfaceIndex: f.ifc}
		if err := w.WritePacket(ci, f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	pkts, st, err := readAll(t, "t.pcapng", b.Bytes(), capture.Options{})
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	if len(pkts) != 3 || !pkts[2].TS.Equal(ts0.Add(2*time.Millisecond)) || pkts[1].Seg.Ack != ackPkt.Seg.Ack {
		t.Errorf("packets = %+v", pkts)
	}
	if want := []string{"EN10MB", "LINUX_SLL"}; !reflect.DeepEqual(st.LinkTypes, want) {
		t.Errorf("LinkTypes = %v, want %v", st.LinkTypes, want)
	}
}

// TestSourceTSO checks that a TSO packet (IP length 0) cut by the snaplen
// takes its length from the wire length.
func TestSourceTSO(t *testing.T) {
	data := newPcap(binary.LittleEndian, false, capture.LinkTypeEthernet).add(ts0, ethIPv4TSO[:80], len(ethIPv4TSO)).buf
	pkts, _, err := readAll(t, "t.pcap", data, capture.Options{})
	if err != nil || len(pkts) != 1 {
		t.Fatalf("read %d packets, %v", len(pkts), err)
	}
	if p := pkts[0]; p.Seg.Len != 100 || !p.Truncated || p.IPLen != 152 {
		t.Errorf("Len %d, Truncated %v, IPLen %d; want 100, true, 152", p.Seg.Len, p.Truncated, p.IPLen)
	}
}

func TestSourceWarnings(t *testing.T) {
	data := newPcap(binary.LittleEndian, false, capture.LinkTypeEthernet).
		add(ts0, ethIPv4SYN, 0).
		add(ts0.Add(2*time.Second), ethIPv4Data, 0).
		add(ts0.Add(time.Second), ethIPv4ACKPadded, 0). // backwards by 1s
		add(ts0.Add(3*time.Second), ethIPv4ACKPadded, 0).
		add(ts0, ethIPv4ACKPadded, 0).buf // backwards again
	pkts, st, err := readAll(t, "t.pcap", data, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := frames(pkts), []uint64{1, 2, 3, 4, 5}; !reflect.DeepEqual(got, want) {
		t.Errorf("frames = %v, want %v (capture order)", got, want)
	}
	want := []string{"t.pcap: timestamps go backwards 2 time(s), first at frame 3 (by 1s); capture order kept"}
	if !reflect.DeepEqual(st.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", st.Warnings, want)
	}
	if !st.First.Equal(ts0.Truncate(time.Microsecond)) || !st.Last.Equal(ts0.Add(3*time.Second).Truncate(time.Microsecond)) {
		t.Errorf("First, Last = %v, %v", st.First, st.Last)
	}

	ng := &ngFile{order: binary.LittleEndian}
	ng.shb().idb(capture.LinkTypeEthernet).epb(0, 0, ethIPv4SYN, 60).epb(0, 0, ethIPv4SYN, 60)
	pkts, st, err = readAll(t, "t.pcapng", ng.buf, capture.Options{})
	if err != nil || len(pkts) != 2 || pkts[0].WireLen != 74 {
		t.Fatalf("read %+v, %v; want 2 packets of wire length 74", pkts, err)
	}
	want = []string{"t.pcapng: original length below the captured length in 2 record(s), first at byte 48 (enhanced packet block: 60 below 74); using the captured length"}
	if !reflect.DeepEqual(st.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", st.Warnings, want)
	}
	// A microsecond field of 8.9 s (tcpflow's tests/bug8.pcap, frame 1).
	data = patch(newPcap(binary.LittleEndian, false, capture.LinkTypeEthernet).add(ts0, ethIPv4SYN, 0).add(ts0, ethIPv4SYN, 0).buf, 114+4, 0x28, 0x09, 0x88, 0x00)
	pkts, st, err = readAll(t, "t.pcap", data, capture.Options{})
	if err != nil || len(pkts) != 2 || !pkts[1].TS.Equal(ts0.Truncate(time.Second).Add(8915240*time.Microsecond)) {
		t.Fatalf("read %d packets, %v; want 2, the second at %v", len(pkts), err, ts0.Truncate(time.Second).Add(8915240*time.Microsecond))
	}
	want = []string{"t.pcap: timestamps with a fraction of a second of a second or more in 1 record(s), first at byte 114; carried into the seconds"}
	if !reflect.DeepEqual(st.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", st.Warnings, want)
	}
	// The same in pcap, where tcpdump and tshark read such records too
	// (tcpdump's tests aoe-oobr-1.pcap, pim_header_asan-2.pcap).
	data = newPcap(binary.LittleEndian, false, capture.LinkTypeEthernet).add(ts0, ethIPv4SYN, 0).add(ts0, ethIPv4SYN, 60).add(ts0, ethIPv4Data, 0).buf
	pkts, st, err = readAll(t, "t.pcap", data, capture.Options{})
	if err != nil || len(pkts) != 3 || pkts[1].WireLen != 74 || pkts[1].CapLen != 74 {
		t.Fatalf("read %d packets, %v; want 3, the second of wire length 74", len(pkts), err)
	}
	want = []string{"t.pcap: original length below the captured length in 1 record(s), first at byte 114 (packet record: 60 below 74); using the captured length"}
	if !reflect.DeepEqual(st.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", st.Warnings, want)
	}

	// A snaplen smaller than the records: the frames are kept whole.
	data = patch(newPcap(binary.LittleEndian, false, capture.LinkTypeEthernet).add(ts0, ethIPv4SYN, 0).add(ts0, ethIPv4Data, 0).buf, 16, 60, 0, 0, 0)
	pkts, st, err = readAll(t, "t.pcap", data, capture.Options{})
	if err != nil || len(pkts) != 2 || pkts[0].CapLen != uint32(len(ethIPv4SYN)) {
		t.Fatalf("read %d packets, %v; want 2 whole frames", len(pkts), err)
	}
	want = []string{fmt.Sprintf("t.pcap: captured length exceeds the file's snaplen 60 in 2 record(s), first at byte 24 (%d bytes); frames kept whole", len(ethIPv4SYN))}
	if !reflect.DeepEqual(st.Warnings, want) {
		t.Errorf("Warnings = %q, want %q", st.Warnings, want)
	}

	data = newPcap(binary.LittleEndian, false, capture.LinkType(147)).add(ts0, ethIPv4SYN, 0).add(ts0, ethIPv4SYN, 0).buf
	_, st, err = readAll(t, "t.pcap", data, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"t.pcap: frame 1: link type LINKTYPE_147 is not supported; its frames are skipped"}
	if !reflect.DeepEqual(st.Warnings, want) || st.SkippedBy.UnsupportedLink != 2 {
		t.Errorf("Warnings = %q, unsupported %d; want %q, 2", st.Warnings, st.SkippedBy.UnsupportedLink, want)
	}
}

// TestSourceDamage covers every way a file can be bad: the error must name
// the file and the byte offset, and every frame before the damage must have
// been delivered.
func TestSourceDamage(t *testing.T) {
	le := binary.LittleEndian
	good := func() *pcapFile {
		return newPcap(le, false, capture.LinkTypeEthernet).add(ts0, ethIPv4SYN, 0).add(ts0, ethIPv4Data, 0)
	}
	rec3 := good().off() // where a third record starts
	ng := func() *ngFile {
		f := &ngFile{order: le}
		return f.shb().idb(capture.LinkTypeEthernet).epb(0, 0, ethIPv4SYN, 0)
	}
	blk := ng().off() // where the block after the first packet starts
	bigGzip := func() []byte {
		f := newPcap(le, false, capture.LinkTypeEthernet)
		for i := range 2000 {
			f.add(ts0.Add(time.Duration(i)), patch(ethIPv4SYN, 38, byte(i), byte(i>>8), byte(i*7)), 0)
		}
		z := gz(t, f.buf)
		return z[:len(z)/2]
	}

	tests := []struct {
		name    string
		data    []byte
		wantErr string // the whole message; "..." ends a prefix
		wantTCP int    // segments delivered before the damage
		is      error  // errors.Is target, if any
	}{
		{"empty file", nil, "t: empty capture file", 0, capture.ErrEmpty},
		{"wrong magic", []byte("<!DOCTYPE html>"), "t: not a pcap, pcapng or gzip file (first bytes 3c 21 44 4f)", 0, capture.ErrUnknownFormat},
		{"three bytes", []byte{0xd4, 0xc3, 0xb2}, "t: truncated file header at byte 0: unexpected EOF", 0, io.ErrUnexpectedEOF},
		{"truncated pcap header", good().buf[:20], "t: truncated pcap file header at byte 0: unexpected EOF", 0, io.ErrUnexpectedEOF},
		{"pcap version 3", patch(good().buf, 4, 3), "t: unsupported pcap version at byte 4: 3.4", 0, nil},
		{"truncated record header", append(good().buf, 1, 2, 3, 4, 5, 6, 7), "t: truncated packet record header at byte 201: unexpected EOF", 2, io.ErrUnexpectedEOF},
		{"truncated packet data", good().add(ts0, ethIPv4SYN, 0).buf[:rec3+16+30], "t: truncated packet record (46 of its 90 bytes present) at byte 201: unexpected EOF", 2, io.ErrUnexpectedEOF},
		{"caplen over 256 KiB", good().header(300000, 300000).buf, "t: corrupt packet record at byte 201: captured length 300000 exceeds 262144", 2, nil},
		{"caplen over orig len", good().add(ts0, ethIPv4SYN, 54).buf, "", 3, nil}, // read as tcpdump and tshark do (TestSourceWarnings)
		{"zero-length record", good().header(0, 0).add(ts0, ethIPv4SYN, 0).buf, "", 3, nil},
		{"pcapng clean", ng().buf, "", 1, nil},
		{"pcapng unknown block skipped", ng().block(0xdead, []byte{1, 2, 3}).epb(0, 0, ethIPv4Data, 0).buf, "", 2, nil},
		{"pcapng block length not a multiple of 4", patch(ng().epb(0, 0, ethIPv4Data, 0).buf, int(blk)+4, 0x55), "t: bad block length at byte 156: 85 in enhanced packet block", 1, nil},
		{"pcapng block length below 12", patch(ng().epb(0, 0, ethIPv4Data, 0).buf, int(blk)+4, 8, 0, 0, 0), "t: bad block length at byte 156: 8 in enhanced packet block", 1, nil},
		{"pcapng block length huge", patch(ng().epb(0, 0, ethIPv4Data, 0).buf, int(blk)+4, 0, 0, 0, 0x40), "t: bad block length at byte 156: 1073741824 in enhanced packet block", 1, nil},
		{"pcapng trailer mismatch", func() []byte {
			b := ng().epb(0, 0, ethIPv4Data, 0).buf
			return patch(b, len(b)-4, 100)
		}(), "t: bad block length at byte 156: enhanced packet block: 104 at its start, 100 at its end", 1, nil},
		{"pcapng block past the end", ng().epb(0, 0, ethIPv4Data, 0).buf[:blk+50], "t: truncated enhanced packet block (50 of its 104 bytes present) at byte 156: unexpected EOF", 1, io.ErrUnexpectedEOF},
		{"pcapng block header cut", ng().epb(0, 0, ethIPv4Data, 0).buf[:blk+5], "t: truncated block header at byte 156: unexpected EOF", 1, io.ErrUnexpectedEOF},
		{"pcapng unknown block past the end", ng().block(0xdead, make([]byte, 64)).buf[:blk+40], "t: truncated block of type 0xdead at byte 156: unexpected EOF", 1, io.ErrUnexpectedEOF},
		{"pcapng undefined interface", ng().epb(5, 0, ethIPv4Data, 0).buf, "t: enhanced packet block refers to undefined interface 5 at byte 156", 1, nil},
		{"pcapng caplen past the block", patch(ng().buf, int(blk)-4-len(ethIPv4SYN)-2-8, 0xff), "t: corrupt enhanced packet block at byte 48: captured length 255 exceeds the block", 0, nil},
		{"pcapng interfaces reset by a new section", ng().shb().epb(0, 0, ethIPv4Data, 0).buf, "t: enhanced packet block refers to undefined interface 0 at byte 184", 1, nil},
		{"pcapng bad byte-order magic", patch(ng().buf, 8, 0x11), "t: corrupt section header block at byte 0: byte-order magic 11 3c 2b 1a", 0, nil},
		{"pcapng version 2", patch(ng().buf, 12, 2), "t: unsupported pcapng version at byte 0: 2.0", 0, nil},
		{"pcapng bad timestamp resolution", func() []byte {
			f := &ngFile{order: le}
			return f.shb().idb(capture.LinkTypeEthernet, f.opt(9, 20)).buf
		}(), "t: corrupt interface description block at byte 28: unsupported timestamp resolution 0x14", 0, nil},
		{"pcapng option past the block", func() []byte {
			f := &ngFile{order: le}
			return f.shb().idb(capture.LinkTypeEthernet, []byte{2, 0, 200, 0}).buf
		}(), "t: corrupt interface description block at byte 28: option 2 runs past the block", 0, nil},
		{"gzip cut short", bigGzip(), "t: truncated gzip stream in packet record (...", -1, io.ErrUnexpectedEOF},
		{"gzip header cut short", gz(t, good().buf)[:5], "t: gzip header: unexpected EOF", 0, io.ErrUnexpectedEOF},
		{"gzip inside gzip", gz(t, gz(t, good().buf)), "t: not a pcap, pcapng or gzip file (gzip inside gzip: gunzip it once and read the result)", 0, capture.ErrUnknownFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, _, err := readAll(t, "t", tt.data, capture.Options{})
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if prefix, ok := strings.CutSuffix(tt.wantErr, "..."); ok {
				if !strings.HasPrefix(msg, prefix) || !strings.HasSuffix(msg, " (decompressed): unexpected EOF") {
					t.Errorf("error = %q, want %q", msg, tt.wantErr)
				}
			} else if msg != tt.wantErr {
				t.Errorf("error = %q\n           want %q", msg, tt.wantErr)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			switch {
			case tt.wantTCP >= 0 && len(pkts) != tt.wantTCP:
				t.Errorf("delivered %d segments before the damage, want %d", len(pkts), tt.wantTCP)
			case tt.wantTCP < 0 && (len(pkts) == 0 || len(pkts) >= 2000):
				t.Errorf("delivered %d of 2000 segments before the cut, want some", len(pkts))
			}
			for i, p := range pkts {
				if p.Frame == 0 || (i > 0 && p.Frame <= pkts[i-1].Frame) {
					t.Fatalf("frame numbers %v are not increasing", frames(pkts))
				}
			}
		})
	}
}

func TestFormatError(t *testing.T) {
	data := append(newPcap(binary.LittleEndian, true, capture.LinkTypeEthernet).add(ts0, ethIPv4SYN, 0).buf, 0, 0)
	_, _, err := readAll(t, "cap.pcap", data, capture.Options{})
	var fe *capture.FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is no *FormatError", err)
	}
	want := &capture.FormatError{File: "cap.pcap", Offset: 114, Msg: "truncated packet record header", Err: io.ErrUnexpectedEOF}
	if !reflect.DeepEqual(fe, want) {
		t.Errorf("error = %+v, want %+v", fe, want)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pcap := write("a.pcap", testPcap(binary.LittleEndian, false))
	gzPcapng := write("b.pcapng.gz", gz(t, testPcapng()))
	empty := write("empty.pcap", nil)
	html := write("index.html", []byte("<html>"))
	missing := filepath.Join(dir, "missing.pcap")

	for _, tt := range []struct {
		path    string
		wantErr string
		is      error
		tcp     uint64
	}{
		{pcap, "", nil, 3},
		{gzPcapng, "", nil, 4},
		{empty, empty + ": empty capture file", capture.ErrEmpty, 0},
		{html, html + ": not a pcap, pcapng or gzip file (first bytes 3c 68 74 6d)", capture.ErrUnknownFormat, 0},
		{missing, "open " + missing + ": no such file or directory", fs.ErrNotExist, 0},
		{dir, "open " + dir + ": is a directory", syscall.EISDIR, 0},
	} {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			s, err := capture.Open(tt.path, capture.Options{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr || !errors.Is(err, tt.is) {
					t.Fatalf("Open(%s) error = %v, want %q (is %v)", tt.path, err, tt.wantErr, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var p capture.Packet
			for s.Next(&p) {
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.TCP != tt.tcp || st.Source != tt.path {
				t.Errorf("Stats() = %+v, want %d TCP from %s", st, tt.tcp, tt.path)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
			if s.Next(&p) {
				t.Errorf("Next after Close = true")
			}
		})
	}
}

// TestOpenStdin reads "-" from a standard input swapped for a file.
func TestOpenStdin(t *testing.T) {
	p := filepath.Join(t.TempDir(), "in.pcap")
	if err := os.WriteFile(p, testPcap(binary.BigEndian, true), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdin := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = stdin }()

	s, err := capture.Open("-", capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var pkt capture.Packet
	for s.Next(&pkt) {
	}
	if st := s.Stats(); s.Err() != nil || st.TCP != 3 || st.Source != "stdin" {
		t.Errorf("Stats() = %+v, Err() = %v", st, s.Err())
	}
	s.Close()
	if _, err := f.Stat(); err != nil {
		t.Errorf("Close closed standard input: %v", err)
	}
}

// allocPcap is an in-memory capture of n frames cycling through the test
// frames, for allocation tests and benchmarks.
func allocPcap(n int) []byte {
	src := [][]byte{ethIPv4SYN, ethIPv4Data, ethVLANIPv6, ethIPv6Ext, arp, gtpU, ethQinQ, udpDNS}
	f := newPcap(binary.LittleEndian, true, capture.LinkTypeEthernet)
	for i := range n {
		f.add(ts0.Add(time.Duration(i)*time.Millisecond), src[i%len(src)], 0)
	}
	return f.buf
}

// TestSourceAllocs proves that Next allocates nothing once warmed up.
func TestSourceAllocs(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"pcap", allocPcap(5000)},
		{"pcap gzip", gz(t, allocPcap(5000))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := capture.NewSource(bytes.NewReader(tt.data), "mem", capture.Options{VerifyChecksums: true})
			if err != nil {
				t.Fatal(err)
			}
			var p capture.Packet
			for range 100 {
				s.Next(&p)
			}
			if n := testing.AllocsPerRun(2000, func() {
				if !s.Next(&p) {
					t.Fatal("ran out of packets")
				}
			}); n != 0 {
				t.Errorf("Next allocates %v times per packet, want 0", n)
			}
		})
	}
}

// TestPcapngTimestampRange checks that pcapng timestamps int64 Unix
// nanoseconds cannot hold (a 64-bit timestamp past 2262, an if_tsoffset of
// ±10^10 s) come back clamped to the range, in order, with a warning: the
// state machine's timers and the engine's windows keep capture times as
// int64 nanoseconds, and a wrapped time made a SYN one second later look
// like a 4-tuple reused after a long idle.
func TestPcapngTimestampRange(t *testing.T) {
	offset := func(sec int64) []byte {
		ng := &ngFile{order: binary.LittleEndian}
		return ng.opt(14, binary.LittleEndian.AppendUint64(nil, uint64(sec))...)
	}
	usec := func(s int64) uint64 { return uint64(s) * 1e6 }
	maxT := time.Unix(0, math.MaxInt64)
	minT := time.Unix(0, math.MinInt64)
	for _, tt := range []struct {
		name   string
		ng     *ngFile
		want   []time.Time // the packets' times
		warned bool
	}{
		{"in range", (&ngFile{order: binary.LittleEndian}).shb().idb(capture.LinkTypeEthernet).
			epb(0, usec(1700000000), ethIPv4SYN, 0), []time.Time{time.Unix(1700000000, 0)}, false},
		{"past 2262", (&ngFile{order: binary.LittleEndian}).shb().idb(capture.LinkTypeEthernet).
			epb(0, usec(1<<34), ethIPv4SYN, 0).epb(0, usec(1<<34)+1e6, ethIPv4SYN, 0), nil, true},
		{"offset forward", (&ngFile{order: binary.LittleEndian}).shb().idb(capture.LinkTypeEthernet, offset(1e10)).
			epb(0, usec(1), ethIPv4SYN, 0), nil, true},
		{"offset back", (&ngFile{order: binary.LittleEndian}).shb().idb(capture.LinkTypeEthernet, offset(-1e10)).
			epb(0, usec(1), ethIPv4SYN, 0), nil, true},
		{"offset most negative", (&ngFile{order: binary.LittleEndian}).shb().idb(capture.LinkTypeEthernet, offset(math.MinInt64)).
			epb(0, usec(1), ethIPv4SYN, 0), nil, true},
	} {
		pkts, st, err := readAll(t, "t.pcapng", tt.ng.buf, capture.Options{})
		if err != nil || len(pkts) == 0 {
			t.Fatalf("%s: %d packets, %v", tt.name, len(pkts), err)
		}
		for i, p := range pkts {
			if p.TS.Before(minT) || p.TS.After(maxT) {
				t.Errorf("%s: packet %d at %v, outside int64 nanoseconds", tt.name, i, p.TS)
			}
			if i < len(tt.want) && !p.TS.Equal(tt.want[i]) {
				t.Errorf("%s: packet %d at %v, want %v", tt.name, i, p.TS, tt.want[i])
			}
			if i > 0 && p.TS.Before(pkts[i-1].TS) {
				t.Errorf("%s: packet %d at %v, before packet %d's %v", tt.name, i, p.TS, i-1, pkts[i-1].TS)
			}
		}
		warned := slices.ContainsFunc(st.Warnings, func(w string) bool {
			return strings.HasPrefix(w, "t.pcapng: timestamps outside the years 1678 to 2262 in ")
		})
		if warned != tt.warned {
			t.Errorf("%s: warnings %q, want the range warning: %v", tt.name, st.Warnings, tt.warned)
		}
	}
}
