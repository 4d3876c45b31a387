package filter_test

import (
	"encoding/binary"
	"net/netip"
)

// Synthetic frames for the comparisons with tcpdump: every protocol shape the
// supported constructs look at, built byte by byte.

var (
	v4A = netip.MustParseAddr("10.0.0.1")
	v4B = netip.MustParseAddr("10.0.0.2")
	v4C = netip.MustParseAddr("192.168.1.77")
	v4D = netip.MustParseAddr("8.8.8.8")
	v6A = netip.MustParseAddr("2001:db8::1")
	v6B = netip.MustParseAddr("2001:db8::2")
	v6C = netip.MustParseAddr("fe80::1")
	v6D = netip.MustParseAddr("::1")
)

const (
	finFlag = 0x01
	synFlag = 0x02
	rstFlag = 0x04
	pshFlag = 0x08
	ackFlag = 0x10
	urgFlag = 0x20
	eceFlag = 0x40
	cwrFlag = 0x80
)

func be16(b []byte, v uint16) { binary.BigEndian.PutUint16(b, v) }

func tcpSeg(sport, dport uint16, flags byte, payload int) []byte {
	b := make([]byte, 20+payload)
	be16(b[0:], sport)
	be16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], 1000)
	b[12] = 5 << 4
	b[13] = flags
	be16(b[14:], 65535)
	for i := range payload {
		b[20+i] = byte(i)
	}
	return b
}

func udpDgram(sport, dport uint16, payload int) []byte {
	b := make([]byte, 8+payload)
	be16(b[0:], sport)
	be16(b[2:], dport)
	be16(b[4:], uint16(8+payload))
	return b
}

func sctpPkt(sport, dport uint16) []byte {
	b := make([]byte, 12+16)
	be16(b[0:], sport)
	be16(b[2:], dport)
	return b
}

func icmpMsg(typ, code byte) []byte {
	b := make([]byte, 8+8)
	b[0], b[1] = typ, code
	return b
}

// ipv4Pkt builds an IPv4 header with optional options (a multiple of 4 bytes) and
// the given flags+fragment offset field.
func ipv4Pkt(src, dst netip.Addr, proto byte, frag uint16, opts int, payload []byte) []byte {
	hl := 20 + opts
	b := make([]byte, hl+len(payload))
	b[0] = 0x40 | byte(hl/4)
	be16(b[2:], uint16(len(b)))
	be16(b[4:], 0x1234)
	be16(b[6:], frag)
	b[8] = 64
	b[9] = proto
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	for i := 20; i < hl; i++ {
		b[i] = 1 // NOP options
	}
	copy(b[hl:], payload)
	return b
}

// ipv6Pkt builds an IPv6 header; ext lists extension headers (next-header values)
// placed between it and the payload, each 8 bytes.
func ipv6Pkt(src, dst netip.Addr, proto byte, ext []byte, payload []byte) []byte {
	b := make([]byte, 40+8*len(ext)+len(payload))
	b[0] = 0x60
	be16(b[4:], uint16(len(b)-40))
	first := proto
	if len(ext) > 0 {
		first = ext[0]
	}
	b[6] = first
	b[7] = 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	for i := range ext {
		h := b[40+8*i:]
		next := proto
		if i+1 < len(ext) {
			next = ext[i+1]
		}
		h[0] = next
		if ext[i] == 44 { // fragment header: offset 0, more fragments
			h[3] = 1
		}
	}
	copy(b[40+8*len(ext):], payload)
	return b
}

func arpPkt(op uint16, spa, tpa netip.Addr) []byte {
	b := make([]byte, 28)
	be16(b[0:], 1)
	be16(b[2:], 0x0800)
	b[4], b[5] = 6, 4
	be16(b[6:], op)
	s, t := spa.As4(), tpa.As4()
	copy(b[14:], s[:])
	copy(b[24:], t[:])
	return b
}

// l3 is a network-layer packet with its Ethernet type.
type l3 struct {
	etype uint16
	data  []byte
}

// l3Packets returns the network-layer packets every link type wraps.
func l3Packets() []l3 {
	var out []l3
	add := func(et uint16, b []byte) { out = append(out, l3{et, b}) }
	pairs4 := [][2]netip.Addr{{v4A, v4B}, {v4B, v4A}, {v4C, v4D}, {v4A, v4A}, {v4D, v4C}}
	ports := [][2]uint16{{1234, 80}, {80, 1234}, {443, 80}, {22, 5555}, {53, 53}, {1500, 1999}, {65535, 0}, {2000, 1000}}
	flags := []byte{synFlag, synFlag | ackFlag, ackFlag, finFlag | ackFlag, rstFlag, pshFlag | ackFlag, urgFlag, eceFlag | cwrFlag, 0}
	for i, pr := range pairs4 {
		for j, pp := range ports {
			f := flags[(i+j)%len(flags)]
			add(0x0800, ipv4Pkt(pr[0], pr[1], 6, 0x4000, 0, tcpSeg(pp[0], pp[1], f, j*3)))
			if j%2 == 0 {
				add(0x0800, ipv4Pkt(pr[0], pr[1], 17, 0, 0, udpDgram(pp[0], pp[1], 4)))
			}
		}
		add(0x0800, ipv4Pkt(pr[0], pr[1], 132, 0, 0, sctpPkt(80, 9999)))
		add(0x0800, ipv4Pkt(pr[0], pr[1], 1, 0, 0, icmpMsg(8, 0)))
		add(0x0800, ipv4Pkt(pr[0], pr[1], 1, 0, 0, icmpMsg(3, 1)))
		add(0x0800, ipv4Pkt(pr[0], pr[1], 47, 0, 0, make([]byte, 24)))
	}
	// IPv4 options, and fragments: first (MF), middle and last.
	add(0x0800, ipv4Pkt(v4A, v4B, 6, 0, 8, tcpSeg(1234, 80, synFlag, 0)))
	add(0x0800, ipv4Pkt(v4B, v4A, 6, 0, 40, tcpSeg(80, 1234, synFlag|ackFlag, 10)))
	add(0x0800, ipv4Pkt(v4A, v4B, 6, 0x2000, 0, tcpSeg(1234, 80, ackFlag, 30)))
	add(0x0800, ipv4Pkt(v4A, v4B, 6, 0x2000|185, 0, tcpSeg(1234, 80, ackFlag, 30)))
	add(0x0800, ipv4Pkt(v4A, v4B, 17, 0x0010, 0, udpDgram(53, 53, 10)))
	// A bad header length (0) still decodes as libpcap would.
	bad := ipv4Pkt(v4A, v4B, 6, 0, 0, tcpSeg(80, 80, synFlag, 0))
	bad[0] = 0x40
	add(0x0800, bad)
	pairs6 := [][2]netip.Addr{{v6A, v6B}, {v6B, v6A}, {v6C, v6D}, {v6A, v6C}}
	for i, pr := range pairs6 {
		for j, pp := range ports[:5] {
			f := flags[(i+j)%len(flags)]
			add(0x86dd, ipv6Pkt(pr[0], pr[1], 6, nil, tcpSeg(pp[0], pp[1], f, j)))
			add(0x86dd, ipv6Pkt(pr[0], pr[1], 17, nil, udpDgram(pp[0], pp[1], 2)))
		}
		add(0x86dd, ipv6Pkt(pr[0], pr[1], 6, []byte{44}, tcpSeg(1234, 80, synFlag, 0)))
		add(0x86dd, ipv6Pkt(pr[0], pr[1], 17, []byte{44}, udpDgram(53, 53, 0)))
		add(0x86dd, ipv6Pkt(pr[0], pr[1], 6, []byte{0}, tcpSeg(1234, 80, synFlag, 0)))
		add(0x86dd, ipv6Pkt(pr[0], pr[1], 6, []byte{0, 44}, tcpSeg(80, 1234, ackFlag, 0)))
		add(0x86dd, ipv6Pkt(pr[0], pr[1], 58, nil, icmpMsg(128, 0)))
		add(0x86dd, ipv6Pkt(pr[0], pr[1], 58, []byte{44}, icmpMsg(129, 0)))
		add(0x86dd, ipv6Pkt(pr[0], pr[1], 132, nil, sctpPkt(9999, 80)))
	}
	add(0x0806, arpPkt(1, v4A, v4B))
	add(0x0806, arpPkt(2, v4C, v4A))
	add(0x8035, arpPkt(3, v4D, v4C))
	add(0x0800, []byte{0x45}) // runt
	add(0x86dd, []byte{0x60, 0, 0, 0})
	add(0x88cc, make([]byte, 40)) // LLDP
	return out
}

var (
	macA = []byte{0x02, 0, 0, 0, 0, 1}
	macB = []byte{0x02, 0, 0, 0, 0, 2}
)

// ethFrames wraps every packet in Ethernet, untagged and under 802.1Q, 802.1ad
// and QinQ tags with various VLAN IDs, and adds an 802.3 LLC frame.
func ethFrames() [][]byte {
	var out [][]byte
	eth := func(tags [][2]uint16, p l3) []byte {
		b := append([]byte{}, macB...)
		b = append(b, macA...)
		for _, t := range tags {
			b = binary.BigEndian.AppendUint16(b, t[0])
			b = binary.BigEndian.AppendUint16(b, t[1])
		}
		b = binary.BigEndian.AppendUint16(b, p.etype)
		return append(b, p.data...)
	}
	for i, p := range l3Packets() {
		out = append(out, eth(nil, p))
		switch i % 5 {
		case 0:
			out = append(out, eth([][2]uint16{{0x8100, 10}}, p))
		case 1:
			out = append(out, eth([][2]uint16{{0x8100, 0x2000 | 20}}, p))
		case 2:
			out = append(out, eth([][2]uint16{{0x88a8, 100}, {0x8100, 10}}, p))
		case 3:
			out = append(out, eth([][2]uint16{{0x9100, 10}, {0x8100, 20}}, p))
		case 4:
			out = append(out, eth([][2]uint16{{0x8100, 4095}, {0x8100, 10}, {0x8100, 30}}, p))
		}
	}
	llc := append(append(append([]byte{}, macB...), macA...), 0, 40, 0x42, 0x42, 3)
	out = append(out, append(llc, make([]byte, 37)...))
	out = append(out, []byte{1, 2, 3}, nil)
	return out
}

// framesFor returns frames of the given link type, made from the same packets.
func framesFor(linkType uint16) [][]byte {
	var out [][]byte
	pk := l3Packets()
	switch linkType {
	case 1:
		return ethFrames()
	case 113: // Linux SLL: packet type, ARPHRD, address length, address, protocol
		for i, p := range pk {
			h := make([]byte, 16)
			be16(h[0:], uint16(i%5))
			be16(h[2:], 1)
			be16(h[4:], 6)
			copy(h[6:], macA)
			if i%7 == 3 { // an SLL frame that still carries a VLAN tag
				v := append([]byte{}, h[:14]...)
				v = binary.BigEndian.AppendUint16(v, 0x8100)
				v = binary.BigEndian.AppendUint16(v, 10)
				v = binary.BigEndian.AppendUint16(v, p.etype)
				out = append(out, append(v, p.data...))
			}
			be16(h[14:], p.etype)
			out = append(out, append(h, p.data...))
		}
	case 276: // Linux SLL2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address
		for i, p := range pk {
			h := make([]byte, 20)
			be16(h[0:], p.etype)
			binary.BigEndian.PutUint32(h[4:], 2)
			be16(h[8:], 1)
			h[10] = byte(i % 5)
			h[11] = 6
			copy(h[12:], macA)
			out = append(out, append(h, p.data...))
		}
	case 12, 101, 228, 229:
		for _, p := range pk {
			if linkType == 228 && p.etype != 0x0800 || linkType == 229 && p.etype != 0x86dd {
				continue
			}
			out = append(out, append([]byte{}, p.data...))
		}
	case 0, 108: // BSD null (host byte order) and OpenBSD loop (network order)
		for i, p := range pk {
			var af uint32
			switch p.etype {
			case 0x0800:
				af = 2
			case 0x86dd:
				af = []uint32{10, 24, 28, 30}[i%4]
			default:
				af = 7
			}
			h := make([]byte, 4)
			if linkType == 0 {
				binary.LittleEndian.PutUint32(h, af)
			} else {
				binary.BigEndian.PutUint32(h, af)
			}
			out = append(out, append(h, p.data...))
		}
	}
	return out
}
