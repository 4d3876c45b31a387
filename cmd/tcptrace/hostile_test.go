package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/capture"
	"github.com/tcptrace/tcptrace/report"
)

// hostile builds the frames of TestHostileTraffic by hand: Ethernet with any
// number of 802.1Q tags, IPv4 or IPv6 with a chain of extension headers,
// and TCP with raw option bytes. Checksums are left zero (not verified by
// default).
type hostile struct {
	vlans []uint16
	ext   []byte // IPv6 extension headers after the fixed header, chained by their next-header bytes; the last names TCP
	extNH byte   // the fixed header's next header when ext is set
}

func (h hostile) frame(src, dst netip.AddrPort, seq, ack uint32, flags byte, opts, payload []byte) []byte {
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	tcp := make([]byte, 20, 20+len(opts)+len(payload))
	binary.BigEndian.PutUint16(tcp[0:], src.Port())
	binary.BigEndian.PutUint16(tcp[2:], dst.Port())
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12], tcp[13] = byte(5+len(opts)/4)<<4, flags
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	tcp = append(append(tcp, opts...), payload...)

	var ip []byte
	etherType := uint16(0x0800)
	if src.Addr().Is4() {
		ip = make([]byte, 20, 20+len(tcp))
		ip[0], ip[8], ip[9] = 0x45, 64, 6
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(tcp)))
		s, d := src.Addr().As4(), dst.Addr().As4()
		copy(ip[12:], s[:])
		copy(ip[16:], d[:])
	} else {
		etherType = 0x86dd
		ip = make([]byte, 40, 40+len(h.ext)+len(tcp))
		ip[0], ip[6], ip[7] = 0x60, 6, 64
		if h.ext != nil {
			ip[6] = h.extNH
		}
		binary.BigEndian.PutUint16(ip[4:], uint16(len(h.ext)+len(tcp)))
		s, d := src.Addr().As16(), dst.Addr().As16()
		copy(ip[8:], s[:])
		copy(ip[24:], d[:])
		ip = append(ip, h.ext...)
	}
	ip = append(ip, tcp...)

	fr := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}
	for _, id := range h.vlans {
		fr = binary.BigEndian.AppendUint16(fr, 0x8100)
		fr = binary.BigEndian.AppendUint16(fr, id)
	}
	fr = binary.BigEndian.AppendUint16(fr, etherType)
	return append(fr, ip...)
}

// extChain returns n IPv6 extension headers of 8 bytes each, of the kinds in
// order (0 hop-by-hop, 60 destination options, 43 routing with no segments
// left), the last naming TCP, and the first kind for the fixed header.
func extChain(kinds ...byte) ([]byte, byte) {
	var b []byte
	for i, k := range kinds {
		next := byte(6)
		if i+1 < len(kinds) {
			next = kinds[i+1]
		}
		hdr := []byte{next, 0, 1, 4, 0, 0, 0, 0} // PadN filling the header
		if k == 43 {
			hdr = []byte{next, 0, 0, 0, 0, 0, 0, 0} // type 0, segments left 0
		}
		b = append(b, hdr...)
	}
	return b, kinds[0]
}

// TestHostileTraffic reads crafted traffic that analyzers have choked on:
// overlapping retransmissions whose bytes differ, IPv6 extension-header
// chains (one longer than any real packet needs), deep 802.1Q stacks, and
// TCP options whose lengths lie. Nothing may panic, each connection must be
// followed through its handshake and close, and what cannot be decoded is
// skipped and counted, not guessed at.
func TestHostileTraffic(t *testing.T) {
	const (
		syn, fin, rst, psh, ack = 0x02, 0x01, 0x04, 0x08, 0x10
	)
	var frames [][]byte
	add := func(h hostile, src, dst netip.AddrPort, seq, ack uint32, flags byte, opts, payload []byte) {
		frames = append(frames, h.frame(src, dst, seq, ack, flags, opts, payload))
	}
	// conn runs a handshake, the data segments (client to server, each
	// acknowledged by the server up to the highest byte), and a close.
	type seg struct {
		off  uint32
		data byte
		n    int
	}
	conn := func(h hostile, c, s netip.AddrPort, synOpts, ackOpts []byte, segs ...seg) {
		const ci, si = 1000, 5000
		add(h, c, s, ci, 0, syn, synOpts, nil)
		add(h, s, c, si, ci+1, syn|ack, []byte{2, 4, 5, 0xb4}, nil)
		add(h, c, s, ci+1, si+1, ack, ackOpts, nil)
		var top uint32
		for _, g := range segs {
			add(h, c, s, ci+1+g.off, si+1, psh|ack, ackOpts, bytes.Repeat([]byte{g.data}, g.n))
			top = max(top, g.off+uint32(g.n))
			add(h, s, c, si+1, ci+1+top, ack, nil, nil)
		}
		add(h, c, s, ci+1+top, si+1, fin|ack, nil, nil)
		add(h, s, c, si+1, ci+2+top, fin|ack, nil, nil)
		add(h, c, s, ci+2+top, si+2, ack, nil, nil)
	}
	ap := netip.MustParseAddrPort

	// 1. Overlapping retransmissions with different payload: bytes 50-99
	// are sent as 'A', then as 'B', then 0-149 all as 'C'.
	conn(hostile{}, ap("10.0.0.1:40001"), ap("10.0.0.2:80"), []byte{2, 4, 5, 0xb4}, nil,
		seg{0, 'A', 100}, seg{50, 'B', 100}, seg{0, 'C', 150})
	// 2. IPv6 through hop-by-hop, destination options, routing and
	// destination options headers.
	chain, nh := extChain(0, 60, 43, 60)
	conn(hostile{ext: chain, extNH: nh}, ap("[2001:db8::1]:40002"), ap("[2001:db8::2]:443"), []byte{2, 4, 5, 0xa0}, nil, seg{0, 'x', 10})
	// ... and one frame behind 40 destination options headers: more
	// headers than the decoder walks (malformed, skipped).
	long, lnh := extChain(bytes.Repeat([]byte{60}, 40)...)
	add(hostile{ext: long, extNH: lnh}, ap("[2001:db8::1]:40003"), ap("[2001:db8::2]:443"), 1, 0, syn, nil, nil)
	// 3. Eight 802.1Q tags (the most the decoder follows), then one frame
	// behind nine (skipped).
	conn(hostile{vlans: []uint16{1, 2, 3, 4, 5, 6, 7, 8}}, ap("10.0.1.1:40004"), ap("10.0.1.2:80"), nil, nil, seg{0, 'v', 20})
	add(hostile{vlans: []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9}}, ap("10.0.1.1:40005"), ap("10.0.1.2:80"), 1, 0, syn, nil, nil)
	// 4. Options that lie: an MSS of length 0 in the SYN (parsing stops),
	// then data segments with a timestamp running past the header, a SACK
	// of length 11 and an option of length 1.
	conn(hostile{}, ap("10.0.2.1:40006"), ap("10.0.2.2:80"), []byte{2, 0, 5, 0xb4}, []byte{1, 1, 8, 40, 0, 0, 0, 0},
		seg{0, 'o', 30})
	conn(hostile{}, ap("10.0.2.1:40007"), ap("10.0.2.2:80"), []byte{5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte{3, 1, 2, 4, 5, 0xb4},
		seg{0, 'p', 30})
	// 5. A bare RST with options of length 255 in a 24-byte header.
	add(hostile{}, ap("10.0.3.1:40008"), ap("10.0.3.2:80"), 7, 0, rst, []byte{2, 255, 0, 0}, nil)

	path := writeFrames(t, frames)

	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-T", "json", "-q", path}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit code %d: %s", code, errb.String())
	}
	var r report.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if c := r.Capture; c.Packets != uint64(len(frames)) || c.Skipped != 2 || c.TCPPackets != uint64(len(frames)-2) {
		t.Errorf("capture: %d packets, %d TCP, %d skipped; want %d, %d, 2 (40 extension headers, 9 tags)", c.Packets, c.TCPPackets, c.Skipped, len(frames), len(frames)-2)
	}
	byPort := make(map[uint16]*report.Connection)
	for i := range r.Connections {
		byPort[r.Connections[i].Client.Port] = &r.Connections[i]
	}
	if len(r.Connections) != 6 {
		t.Fatalf("%d connections, want 6 (five crafted ones and the lone RST)", len(r.Connections))
	}
	for _, port := range []uint16{40001, 40002, 40004, 40006, 40007} {
		c := byPort[port]
		if c == nil {
			t.Errorf("connection from port %d missing", port)
			continue
		}
		if c.Handshake != "three_way" || c.FinalState.Client != "TIME-WAIT" || c.FinalState.Server != "CLOSED" {
			t.Errorf("port %d: handshake %s, final %s/%s; want three_way, TIME-WAIT/CLOSED", port, c.Handshake, c.FinalState.Client, c.FinalState.Server)
		}
	}
	if c := byPort[40001]; c != nil {
		s := c.Stats.Client
		if s.UniqueBytes != 150 || s.RetransPackets != 2 || c.PayloadBytes.Client != 350 {
			t.Errorf("overlapping retransmissions: unique %d, retransmitted %d packets, payload %d; want 150, 2, 350", s.UniqueBytes, s.RetransPackets, c.PayloadBytes.Client)
		}
	}
	if c := byPort[40002]; c != nil && (c.IPVersion != 6 || c.PayloadBytes.Client != 10) {
		t.Errorf("ipv6 extension chain: ip version %d, payload %d; want 6, 10", c.IPVersion, c.PayloadBytes.Client)
	}
	if c := byPort[40006]; c != nil && c.EffectiveMSS != 536 {
		t.Errorf("MSS option of length 0: effective MSS %d, want the default 536", c.EffectiveMSS)
	}
	if c := byPort[40008]; c == nil || c.Packets.Client != 1 {
		t.Errorf("the RST with a lying option is not reported as one packet: %+v", c)
	}
}

// writeFrames writes frames to a new Ethernet pcap file, 1 ms apart, and
// returns its path.
func writeFrames(t *testing.T, frames [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "frames.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := capture.NewWriter(f, capture.LinkTypeEthernet, 65535, false)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i, fr := range frames {
		if err := w.Write(t0.Add(time.Duration(i)*time.Millisecond), fr, uint32(len(fr))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return path
}
