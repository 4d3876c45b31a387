package main

import (
	"encoding/binary"
	"io"
	"math/bits"
)

// TCP flags as on the wire.
const (
	flagFIN = 1 << iota
	flagSYN
	flagRST
	flagPSH
	flagACK
)

// endpoint is one side of a connection: its address (IPv4 in the last 4
// bytes of a, or IPv6) and port.
type endpoint struct {
	a    [16]byte
	port uint16
}

// frame is one TCP segment to write.
type frame struct {
	ts       int64 // nanoseconds since the Unix epoch
	v6       bool
	src, dst endpoint
	seq, ack uint32
	flags    uint8
	win      uint16
	mss      uint16 // >0: a SYN's options (MSS, window scale, SACK-permitted)
	wscale   uint8
	n        int    // payload bytes
	ipid     uint16 // IPv4 identification
	ttl      uint8
	flow     uint32 // IPv6 flow label
}

// pattern is the payload source: the byte at stream offset seq is always
// pattern[seq%patternLen], so a retransmission carries the same bytes as
// the original. It is longer than patternLen by the largest payload so that
// any payload is one contiguous slice.
const patternLen = 1 << 16

var pattern = func() []byte {
	b := make([]byte, patternLen+2048)
	r := rng{s: 0x7c9d2e1f}
	for i := range patternLen {
		b[i] = byte(r.next())
	}
	copy(b[patternLen:], b)
	return b
}()

// pcapWriter writes a classic pcap with Ethernet framing. The first error
// sticks; later writes do nothing.
type pcapWriter struct {
	w       io.Writer
	snaplen int
	nanos   bool
	n       uint64 // bytes written
	err     error
	buf     [16 + 14 + 40 + 60]byte // record header, Ethernet, IP, TCP with options
}

func newPcapWriter(w io.Writer, snaplen int, nanos bool) *pcapWriter {
	return &pcapWriter{w: w, snaplen: snaplen, nanos: nanos}
}

func (p *pcapWriter) write(b []byte) {
	if p.err != nil {
		return
	}
	n, err := p.w.Write(b)
	p.n += uint64(n)
	p.err = err
}

// header writes the global header: version 2.4, LINKTYPE_ETHERNET.
func (p *pcapWriter) header() error {
	var h [24]byte
	magic := uint32(0xa1b2c3d4)
	if p.nanos {
		magic = 0xa1b23c4d
	}
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], uint32(p.snaplen))
	binary.LittleEndian.PutUint32(h[20:], 1)
	p.write(h[:])
	return p.err
}

// packet writes one record for f.
func (p *pcapWriter) packet(f *frame) {
	b := p.buf[:]
	eth := b[16:]
	// Ethernet: the server side's MAC faces a router's; both are derived
	// from the addresses so that they are stable per host.
	copy(eth[0:6], mac(&f.dst))
	copy(eth[6:12], mac(&f.src))
	ipLen := 20
	if f.v6 {
		ipLen = 40
		binary.BigEndian.PutUint16(eth[12:], 0x86dd)
	} else {
		binary.BigEndian.PutUint16(eth[12:], 0x0800)
	}
	optLen := 0
	if f.mss > 0 {
		optLen = 12
	}
	tcpLen := 20 + optLen
	ip := eth[14:]
	tcp := ip[ipLen:]
	payload := pattern[f.seq%patternLen : f.seq%patternLen+uint32(f.n)]

	// TCP header.
	binary.BigEndian.PutUint16(tcp[0:], f.src.port)
	binary.BigEndian.PutUint16(tcp[2:], f.dst.port)
	binary.BigEndian.PutUint32(tcp[4:], f.seq)
	binary.BigEndian.PutUint32(tcp[8:], f.ack)
	tcp[12] = byte(tcpLen/4) << 4
	tcp[13] = f.flags
	binary.BigEndian.PutUint16(tcp[14:], f.win)
	tcp[16], tcp[17], tcp[18], tcp[19] = 0, 0, 0, 0
	if optLen > 0 {
		o := tcp[20:]
		o[0], o[1] = 2, 4 // MSS
		binary.BigEndian.PutUint16(o[2:], f.mss)
		o[4] = 1                          // NOP
		o[5], o[6], o[7] = 3, 3, f.wscale // window scale
		o[8], o[9] = 1, 1                 // NOP NOP
		o[10], o[11] = 4, 2               // SACK permitted
	}

	// IP header, and the TCP checksum's pseudo-header sum.
	segLen := tcpLen + f.n
	var pseudo uint64
	if f.v6 {
		binary.BigEndian.PutUint32(ip[0:], 6<<28|f.flow&0xfffff)
		binary.BigEndian.PutUint16(ip[4:], uint16(segLen))
		ip[6], ip[7] = 6, f.ttl
		copy(ip[8:24], f.src.a[:])
		copy(ip[24:40], f.dst.a[:])
		pseudo = sum(ip[8:40], uint64(segLen)+6)
	} else {
		ip[0], ip[1] = 0x45, 0
		binary.BigEndian.PutUint16(ip[2:], uint16(20+segLen))
		binary.BigEndian.PutUint16(ip[4:], f.ipid)
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
		ip[8], ip[9] = f.ttl, 6
		ip[10], ip[11] = 0, 0
		copy(ip[12:16], f.src.a[12:])
		copy(ip[16:20], f.dst.a[12:])
		binary.BigEndian.PutUint16(ip[10:], ^fold(sum(ip[:20], 0)))
		pseudo = sum(ip[12:20], uint64(segLen)+6)
	}
	// The header's length is even, so the payload's 16-bit words line up.
	binary.BigEndian.PutUint16(tcp[16:], ^fold(sum(payload, sum(tcp[:tcpLen], pseudo))))

	// Record header, then the frame cut to the snaplen.
	hdrLen := 14 + ipLen + tcpLen
	wire := hdrLen + f.n
	capLen := min(wire, p.snaplen)
	sec, frac := f.ts/1e9, f.ts%1e9
	if !p.nanos {
		frac /= 1000
	}
	binary.LittleEndian.PutUint32(b[0:], uint32(sec))
	binary.LittleEndian.PutUint32(b[4:], uint32(frac))
	binary.LittleEndian.PutUint32(b[8:], uint32(capLen))
	binary.LittleEndian.PutUint32(b[12:], uint32(wire))
	if capLen <= hdrLen {
		p.write(b[:16+capLen])
		return
	}
	p.write(b[:16+hdrLen])
	p.write(payload[:capLen-hdrLen])
}

// mac returns a locally administered unicast MAC derived from an address.
func mac(e *endpoint) []byte {
	h := uint32(2166136261)
	for _, c := range e.a {
		h = (h ^ uint32(c)) * 16777619
	}
	return []byte{0x02, 0x42, byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h)}
}

// sum adds b, as big-endian 16-bit words (an odd last byte padded with a
// zero), to the one's complement sum acc (RFC 1071), eight bytes at a time
// with end-around carry.
func sum(b []byte, acc uint64) uint64 {
	var c uint64
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	acc, c = bits.Add64(acc, 0, c)
	acc += c // a carry out of adding 1 leaves acc 0, so this one cannot carry
	if len(b) >= 4 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint32(b)), 0)
		acc += c
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint16(b)), 0)
		acc += c
		b = b[2:]
	}
	if len(b) == 1 {
		acc, c = bits.Add64(acc, uint64(b[0])<<8, 0)
		acc += c
	}
	return acc
}

// fold reduces a 64-bit one's complement sum to 16 bits.
func fold(s uint64) uint16 {
	s = s>>32 + s&0xffffffff
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}
