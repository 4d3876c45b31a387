package capture_test

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"

	"github.com/tcptrace/tcptrace/capture"
	"github.com/tcptrace/tcptrace/fsm"
)

// The packets the frames of frames_test.go decode to, before the per-row
// differences. CapLen is filled in from the frame.
var (
	// synPkt is ethIPv4SYN's segment.
	synPkt = capture.Packet{
		Src: ap("192.0.2.1", 40000), Dst: ap("198.51.100.2", 80),
		Seg: fsm.Segment{
			Seq: 0x01020304, Flags: fsm.FlagSYN | fsm.FlagECE | fsm.FlagCWR, Window: 64240,
			HasMSS: true, MSS: 1460, SACKPerm: true, HasTS: true, TSVal: 1, TSEcr: 0, HasWScale: true, WScale: 7,
		},
		IPLen: 60, TTL: 64, IPID: 0x1234, TCPOptLen: 20, Checksum: capture.ChecksumGood,
	}
	// ackPkt is the bare ACK of ethIPv4ACKPadded and many tunnels.
	ackPkt = capture.Packet{
		Src: ap("192.0.2.1", 40000), Dst: ap("198.51.100.2", 80),
		Seg:   fsm.Segment{Seq: 0x01020305, Ack: 0x0a0b0c0d, Flags: fsm.FlagACK, Window: 502},
		IPLen: 40, TTL: 64, IPID: 0x1234, Checksum: capture.ChecksumGood,
	}
	// pshPkt is ethIPv4Data's segment: 5 bytes and a timestamp.
	pshPkt = capture.Packet{
		Src: ap("192.0.2.1", 80), Dst: ap("198.51.100.2", 40000),
		Seg: fsm.Segment{
			Seq: 0x0a0b0c0d, Ack: 0x01020305, Flags: fsm.FlagPSH | fsm.FlagACK, Len: 5, Window: 509,
			HasTS: true, TSVal: 2, TSEcr: 1,
		},
		IPLen: 57, TTL: 64, IPID: 0x1234, TCPOptLen: 12, Checksum: capture.ChecksumGood,
	}
	// syn6Pkt is the IPv6 SYN of ethVLANIPv6 and others.
	syn6Pkt = capture.Packet{
		Src: ap("2001:db8::1", 40000), Dst: ap("2001:db8::2", 443),
		Seg: fsm.Segment{
			Seq: 0xfffffff0, Flags: fsm.FlagSYN, Window: 65535,
			HasMSS: true, MSS: 1440, HasWScale: true, WScale: 0, SACKPerm: true,
		},
		IPLen: 72, TTL: 64, IPv6: true, TCPOptLen: 12, Checksum: capture.ChecksumGood,
	}
)

func ap(addr string, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(addr), port)
}

// with returns a copy of p changed by f.
func with(p capture.Packet, f func(*capture.Packet)) capture.Packet {
	f(&p)
	return p
}

func tunneled(p capture.Packet) capture.Packet {
	return with(p, func(p *capture.Packet) { p.Tunneled = true })
}

// patch returns a copy of b with the bytes at off replaced.
func patch(b []byte, off int, v ...byte) []byte {
	c := bytes.Clone(b)
	copy(c[off:], v)
	return c
}

// vlanStack is an Ethernet frame with n 802.1Q tags (VLAN 1, 2, ...) in
// front of ethIPv4ACKPadded's datagram.
func vlanStack(n int) []byte {
	b := bytes.Clone(ethIPv4ACKPadded[:12])
	for i := range n {
		b = append(b, 0x81, 0x00, 0x00, byte(i+1))
	}
	b = append(b, 0x08, 0x00)
	return append(b, ethIPv4ACKPadded[14:54]...)
}

type decodeTest struct {
	name  string
	link  capture.LinkType
	frame []byte
	want  capture.Result
	pkt   capture.Packet // compared when want is ResultTCP; CapLen is set from frame
}

var decodeTests = []decodeTest{
	// Ethernet, VLAN, IPv4 and IPv6.
	{"ipv4 syn with options", capture.LinkTypeEthernet, ethIPv4SYN, capture.ResultTCP, synPkt},
	{"ethernet padding is no payload", capture.LinkTypeEthernet, ethIPv4ACKPadded, capture.ResultTCP, ackPkt},
	{"ipv4 data", capture.LinkTypeEthernet, ethIPv4Data, capture.ResultTCP, pshPkt},
	{"fin urg ack", capture.LinkTypeEthernet, urgFIN, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) {
		p.Seg = fsm.Segment{Seq: 7, Ack: 8, Flags: fsm.FlagFIN | fsm.FlagURG | fsm.FlagACK, Window: 100}
	})},
	{"qinq keeps the outer vlan", capture.LinkTypeEthernet, ethQinQ, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) { p.VLAN = 100 })},
	{"vlan ipv6", capture.LinkTypeEthernet, ethVLANIPv6, capture.ResultTCP, with(syn6Pkt, func(p *capture.Packet) { p.VLAN = 7 })},
	{"eight vlan tags", capture.LinkTypeEthernet, vlanStack(8), capture.ResultTCP, with(ackPkt, func(p *capture.Packet) { p.VLAN = 1 })},
	{"nine vlan tags", capture.LinkTypeEthernet, vlanStack(9), capture.ResultMalformed, capture.Packet{}},
	{"ipv6 extension headers", capture.LinkTypeEthernet, ethIPv6Ext, capture.ResultTCP, with(syn6Pkt, func(p *capture.Packet) { p.IPOptLen, p.IPLen = 48, 120 })},
	{"ipv6 routing header in transit", capture.LinkTypeEthernet, ethIPv6RoutingInTransit, capture.ResultTCP, with(syn6Pkt, func(p *capture.Packet) {
		p.IPOptLen, p.IPLen, p.Checksum = 24, 96, capture.ChecksumUnknown
	})},
	{"ipv4 options", capture.LinkTypeEthernet, ethIPv4Options, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) { p.IPOptLen, p.IPLen = 4, 44 })},
	{"ipv4 ah", capture.LinkTypeEthernet, ethIPv4AH, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) { p.IPOptLen, p.IPLen = 24, 64 })},
	{"ipv4 tso total length 0", capture.LinkTypeEthernet, ethIPv4TSO, capture.ResultTCP, with(pshPkt, func(p *capture.Packet) { p.Seg.Len, p.IPLen = 100, 152 })},
	{"llc snap", capture.LinkTypeEthernet, ethSNAP, capture.ResultTCP, ackPkt},
	{"mpls", capture.LinkTypeEthernet, ethMPLS, capture.ResultTCP, pshPkt},
	{"pppoe", capture.LinkTypeEthernet, ethPPPoE, capture.ResultTCP, pshPkt},
	{"cisco fabricpath", capture.LinkTypeEthernet, fabricPath, capture.ResultTCP, ackPkt},
	{"cisco fabricpath cut in its tag", capture.LinkTypeEthernet, fabricPath[:15], capture.ResultShort, capture.Packet{}},

	// Other link types.
	{"linux sll", capture.LinkTypeLinuxSLL, sllIPv4, capture.ResultTCP, ackPkt},
	{"linux sll2", capture.LinkTypeLinuxSLL2, sll2IPv6, capture.ResultTCP, syn6Pkt},
	{"null little-endian ipv4", capture.LinkTypeNull, nullIPv4, capture.ResultTCP, ackPkt},
	{"null darwin ipv6", capture.LinkTypeNull, nullDarwinIPv6, capture.ResultTCP, syn6Pkt},
	{"loop ipv6", capture.LinkTypeLoop, loopIPv6, capture.ResultTCP, syn6Pkt},
	{"ppp", capture.LinkTypePPP, pppIPv4, capture.ResultTCP, ackPkt},
	{"ppp over ethernet link type", capture.LinkTypePPPEthernet, ethPPPoE[14:], capture.ResultTCP, pshPkt},
	{"cisco hdlc", capture.LinkTypeCHDLC, chdlcIPv4, capture.ResultTCP, ackPkt},
	{"cisco hdlc on a ppp link", capture.LinkTypePPP, chdlcIPv4, capture.ResultTCP, ackPkt},
	{"cisco hdlc on a ppp serial link", capture.LinkTypePPPSerial, chdlcIPv4, capture.ResultTCP, ackPkt},
	{"cisco hdlc cut", capture.LinkTypeCHDLC, chdlcIPv4[:3], capture.ResultShort, capture.Packet{}},
	{"juniper ethernet with extensions", capture.LinkTypeJuniperEther, juniperEther, capture.ResultTCP, ackPkt},
	{"juniper link header stripped", capture.LinkTypeJuniperEther, juniperNoL2, capture.ResultTCP, ackPkt},
	{"juniper without its magic", capture.LinkTypeJuniperEther, patch(juniperEther, 0, 'X'), capture.ResultMalformed, capture.Packet{}},
	{"juniper extensions past the frame", capture.LinkTypeJuniperEther, patch(juniperEther, 4, 0xff), capture.ResultShort, capture.Packet{}},
	{"ip over infiniband", capture.LinkTypeIPoIB, ipoibIPv4, capture.ResultTCP, ackPkt},
	{"ip over infiniband cut in its pseudo-header", capture.LinkTypeIPoIB, ipoibIPv4[:30], capture.ResultShort, capture.Packet{}},
	{"raw 101 ipv4", capture.LinkTypeRaw, ethIPv4SYN[14:], capture.ResultTCP, synPkt},
	{"raw 12 ipv6", capture.LinkTypeRawDLT12, ethVLANIPv6[18:], capture.ResultTCP, syn6Pkt},
	{"raw 14 ipv4", capture.LinkTypeRawDLT14, ethIPv4Data[14:], capture.ResultTCP, pshPkt},
	{"linktype ipv4", capture.LinkTypeIPv4, ethIPv4ACKPadded[14:54], capture.ResultTCP, ackPkt},
	{"linktype ipv6", capture.LinkTypeIPv6, ethVLANIPv6[18:], capture.ResultTCP, syn6Pkt},
	{"raw neither 4 nor 6", capture.LinkTypeRaw, []byte{0x50, 0, 0, 0}, capture.ResultNonIP, capture.Packet{}},
	{"unsupported link type", capture.LinkType(147), ethIPv4SYN, capture.ResultUnsupportedLink, capture.Packet{}},

	// Tunnels: Src and Dst are the inner addresses.
	{"teredo with auth and origin", capture.LinkTypeEthernet, teredo, capture.ResultTCP, tunneled(syn6Pkt)},
	{"gtp-u with extension header", capture.LinkTypeEthernet, gtpU, capture.ResultTCP, tunneled(pshPkt)},
	{"vxlan", capture.LinkTypeEthernet, vxlan, capture.ResultTCP, tunneled(ackPkt)},
	{"geneve with an option", capture.LinkTypeEthernet, geneve, capture.ResultTCP, tunneled(ackPkt)},
	{"geneve version 1", capture.LinkTypeEthernet, patch(geneve, 42, 0x42), capture.ResultMalformed, capture.Packet{}},
	{"geneve options past the frame", capture.LinkTypeEthernet, geneve[:55], capture.ResultShort, capture.Packet{}},
	{"l2tp ppp", capture.LinkTypeEthernet, l2tp, capture.ResultTCP, tunneled(ackPkt)},
	{"l2tp offset beyond length", capture.LinkTypeEthernet, patch(l2tp, 55, 0x40), capture.ResultMalformed, capture.Packet{}},
	{"l2tp cut in its header", capture.LinkTypeEthernet, l2tp[:55], capture.ResultShort, capture.Packet{}},
	{"gre ipv4", capture.LinkTypeEthernet, greIPv4, capture.ResultTCP, tunneled(pshPkt)},
	{"gre ethernet with key", capture.LinkTypeEthernet, greTEBKey, capture.ResultTCP, tunneled(ackPkt)},
	{"gre version 1 ppp", capture.LinkTypeEthernet, greV1PPP, capture.ResultTCP, tunneled(ackPkt)},
	{"ip in ip", capture.LinkTypeEthernet, ipInIP, capture.ResultTCP, tunneled(ackPkt)},
	{"ipv6 in ipv4", capture.LinkTypeEthernet, ipv6InIPv4, capture.ResultTCP, tunneled(syn6Pkt)},
	{"teredo bubble", capture.LinkTypeEthernet, teredoBubble, capture.ResultNonTCP, capture.Packet{}},
	{"gtp echo", capture.LinkTypeEthernet, gtpEcho, capture.ResultNonTCP, capture.Packet{}},
	{"l2tp control", capture.LinkTypeEthernet, l2tpControl, capture.ResultNonTCP, capture.Packet{}},

	// Fragments.
	{"ipv6 first fragment", capture.LinkTypeEthernet, ethIPv6FragFirst, capture.ResultTCP, capture.Packet{
		Src: ap("2001:db8::1", 80), Dst: ap("2001:db8::2", 40000),
		Seg: fsm.Segment{
			Seq: 0x0a0b0c0d, Ack: 0x01020305, Flags: fsm.FlagPSH | fsm.FlagACK, Len: 8, Window: 509,
			HasTS: true, TSVal: 2, TSEcr: 1,
		},
		IPLen: 88, TTL: 64, IPv6: true, TCPOptLen: 12, IPOptLen: 8, Fragment: true, Checksum: capture.ChecksumUnknown,
	}},
	{"ipv6 later fragment", capture.LinkTypeEthernet, ethIPv6FragLater, capture.ResultFragment, capture.Packet{}},
	{"ipv4 first fragment without whole tcp header", capture.LinkTypeEthernet, ethIPv4FragFirstShort, capture.ResultFragment, capture.Packet{}},
	{"ipv4 later fragment", capture.LinkTypeEthernet, ethIPv4FragLater, capture.ResultFragment, capture.Packet{}},

	// Cut by the snaplen.
	{"snaplen cuts the payload", capture.LinkTypeEthernet, ethIPv4Data[:68], capture.ResultTCP, with(pshPkt, func(p *capture.Packet) {
		p.Truncated, p.Checksum = true, capture.ChecksumUnknown
	})},
	{"snaplen cuts the options", capture.LinkTypeEthernet, ethIPv4SYN[:64], capture.ResultTCP, with(synPkt, func(p *capture.Packet) {
		p.Truncated, p.OptionsCut, p.Checksum = true, true, capture.ChecksumUnknown
		p.Seg.HasTS, p.Seg.TSVal, p.Seg.HasWScale, p.Seg.WScale = false, 0, false, 0
	})},
	{"snaplen cuts the fixed tcp header", capture.LinkTypeEthernet, ethIPv4SYN[:44], capture.ResultShort, capture.Packet{}},
	{"snaplen cuts the ipv4 header", capture.LinkTypeEthernet, ethIPv4SYN[:24], capture.ResultShort, capture.Packet{}},
	{"snaplen cuts the ipv6 header", capture.LinkTypeEthernet, ethVLANIPv6[:40], capture.ResultShort, capture.Packet{}},
	{"shorter than ethernet", capture.LinkTypeEthernet, ethIPv4SYN[:10], capture.ResultShort, capture.Packet{}},
	{"empty", capture.LinkTypeEthernet, nil, capture.ResultEmpty, capture.Packet{}},

	// Headers that lie.
	{"data offset 4", capture.LinkTypeEthernet, patch(ethIPv4ACKPadded, 46, 0x40), capture.ResultMalformed, capture.Packet{}},
	{"data offset past the datagram", capture.LinkTypeEthernet, patch(ethIPv4ACKPadded, 46, 0xf0), capture.ResultMalformed, capture.Packet{}},
	{"ipv4 ihl 4", capture.LinkTypeEthernet, patch(ethIPv4SYN, 14, 0x44), capture.ResultMalformed, capture.Packet{}},
	{"ipv4 total length below ihl", capture.LinkTypeEthernet, patch(ethIPv4SYN, 16, 0x00, 0x10), capture.ResultMalformed, capture.Packet{}},
	{"ipv4 ethertype, version 6", capture.LinkTypeEthernet, patch(ethIPv4SYN, 14, 0x65), capture.ResultMalformed, capture.Packet{}},
	{"ipv4 datagram too short for tcp", capture.LinkTypeEthernet, patch(ethIPv4ACKPadded, 16, 0x00, 0x20), capture.ResultMalformed, capture.Packet{}},
	{"bad tcp checksum", capture.LinkTypeEthernet, patch(ethIPv4SYN, 50, 0xde, 0xad), capture.ResultTCP, with(synPkt, func(p *capture.Packet) { p.Checksum = capture.ChecksumBad })},

	// TCP options, including ones whose length lies.
	{"option length 0 stops parsing", capture.LinkTypeEthernet, optLenZero, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) {
		p.Seg.HasMSS, p.Seg.MSS, p.BadOptions, p.TCPOptLen, p.IPLen = true, 1460, true, 12, 52
	})},
	{"option length 1", capture.LinkTypeEthernet, optLenOne, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) {
		p.BadOptions, p.TCPOptLen, p.IPLen = true, 4, 44
	})},
	{"option past the header", capture.LinkTypeEthernet, optPastHeader, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) {
		p.BadOptions, p.TCPOptLen, p.IPLen = true, 8, 48
	})},
	{"mss with the wrong length", capture.LinkTypeEthernet, optWrongMSSLen, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) {
		p.Seg.HasWScale, p.Seg.WScale, p.BadOptions, p.TCPOptLen, p.IPLen = true, 2, true, 8, 48
	})},
	{"sack blocks and fast open", capture.LinkTypeEthernet, optSACKTFO, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) {
		p.Seg.SACKCount, p.Seg.SACKLeft, p.Seg.SACKRight, p.TFO, p.Seg.TFO, p.TCPOptLen, p.IPLen = 2, 1, 2, true, true, 32, 72
	})},
	{"experimental fast open", capture.LinkTypeEthernet, optTFOExp, capture.ResultTCP, with(ackPkt, func(p *capture.Packet) {
		p.TFO, p.Seg.TFO, p.TCPOptLen, p.IPLen = true, true, 8, 48
	})},

	// Not TCP.
	{"arp", capture.LinkTypeEthernet, arp, capture.ResultNonIP, capture.Packet{}},
	{"spanning tree", capture.LinkTypeEthernet, stp, capture.ResultNonIP, capture.Packet{}},
	{"udp", capture.LinkTypeEthernet, udpDNS, capture.ResultNonTCP, capture.Packet{}},
	{"icmp", capture.LinkTypeEthernet, icmpEcho, capture.ResultNonTCP, capture.Packet{}},
	{"icmpv6", capture.LinkTypeEthernet, icmpv6Echo, capture.ResultNonTCP, capture.Packet{}},
}

func TestDecode(t *testing.T) {
	d := capture.NewDecoder(capture.Options{VerifyChecksums: true})
	for _, tt := range decodeTests {
		t.Run(tt.name, func(t *testing.T) {
			var p capture.Packet
			r := d.Decode(tt.frame, tt.link, &p)
			if r != tt.want {
				t.Fatalf("Decode(%s) = %v, want %v", tt.name, r, tt.want)
			}
			if r != capture.ResultTCP {
				return
			}
			want := tt.pkt
			want.CapLen = uint32(len(tt.frame))
			if !reflect.DeepEqual(p, want) {
				t.Errorf("Decode(%s) packet:\n got %+v\nwant %+v", tt.name, p, want)
			}
		})
	}
}

// TestDecodeNoChecksums checks that checksums stay unchecked by default.
func TestDecodeNoChecksums(t *testing.T) {
	d := capture.NewDecoder(capture.Options{})
	var p capture.Packet
	if r := d.Decode(patch(ethIPv4SYN, 50, 0xde, 0xad), capture.LinkTypeEthernet, &p); r != capture.ResultTCP || p.Checksum != capture.ChecksumUnchecked {
		t.Errorf("Decode = %v, checksum %v, want tcp, %v", r, p.Checksum, capture.ChecksumUnchecked)
	}
}

// TestDecodeEveryPrefix feeds every prefix of every test frame to Decode:
// each must yield a result without panicking, and a prefix that ends in the
// TCP payload must decode like the whole frame, marked truncated.
func TestDecodeEveryPrefix(t *testing.T) {
	d := capture.NewDecoder(capture.Options{VerifyChecksums: true})
	for _, tt := range decodeTests {
		var whole capture.Packet
		d.Decode(tt.frame, tt.link, &whole)
		for n := range len(tt.frame) {
			var p capture.Packet
			r := d.Decode(tt.frame[:n], tt.link, &p)
			if r >= capture.Result(len(resultNames)) {
				t.Fatalf("%s[:%d]: Decode = %v", tt.name, n, r)
			}
			if r == capture.ResultTCP && p.Seg.Seq != whole.Seg.Seq {
				t.Errorf("%s[:%d]: Seq = %d, want %d", tt.name, n, p.Seg.Seq, whole.Seg.Seq)
			}
			// A cut TSO packet cannot tell: its IP length is 0 (see TestSourceTSO).
			if r == capture.ResultTCP && !p.Truncated && p.Seg.Len > 0 && !bytes.Equal(tt.frame, ethIPv4TSO) {
				t.Errorf("%s[:%d]: Truncated = false with %d of %d bytes", tt.name, n, n, len(tt.frame))
			}
		}
	}
}

var resultNames = []string{"tcp", "non_ip", "non_tcp", "fragment", "malformed", "short", "unsupported_link", "empty"}

func TestResultString(t *testing.T) {
	for i, want := range resultNames {
		if got := capture.Result(i).String(); got != want {
			t.Errorf("Result(%d).String() = %q, want %q", i, got, want)
		}
	}
	if got, want := capture.Result(200).String(), "Result(200)"; got != want {
		t.Errorf("Result(200).String() = %q, want %q", got, want)
	}
}

func TestChecksumStatusString(t *testing.T) {
	for _, tt := range []struct {
		c    capture.ChecksumStatus
		want string
	}{
		{capture.ChecksumUnchecked, "unchecked"},
		{capture.ChecksumGood, "good"},
		{capture.ChecksumBad, "bad"},
		{capture.ChecksumUnknown, "unknown"},
		{capture.ChecksumStatus(9), "ChecksumStatus(9)"},
	} {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("ChecksumStatus(%d).String() = %q, want %q", uint8(tt.c), got, tt.want)
		}
	}
}

func TestLinkTypeString(t *testing.T) {
	tests := []struct {
		l    capture.LinkType
		want string
	}{
		{capture.LinkTypeNull, "NULL"},
		{capture.LinkTypeEthernet, "EN10MB"},
		{capture.LinkTypeRaw, "RAW"},
		{capture.LinkTypeRawDLT12, "RAW"},
		{capture.LinkTypeLoop, "LOOP"},
		{capture.LinkTypeLinuxSLL, "LINUX_SLL"},
		{capture.LinkTypeLinuxSLL2, "LINUX_SLL2"},
		{capture.LinkTypeIPv6, "IPV6"},
		{capture.LinkType(147), "LINKTYPE_147"},
	}
	for _, tt := range tests {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("LinkType(%d).String() = %q, want %q", uint16(tt.l), got, tt.want)
		}
		if got, want := tt.l.Supported(), tt.want != "LINKTYPE_147"; got != want {
			t.Errorf("LinkType(%d).Supported() = %v, want %v", uint16(tt.l), got, want)
		}
	}
}

// TestDecodeAllocs proves that decoding allocates nothing per frame.
func TestDecodeAllocs(t *testing.T) {
	tests := []struct {
		name  string
		link  capture.LinkType
		frame []byte
	}{
		{"ethernet ipv4 tcp", capture.LinkTypeEthernet, ethIPv4SYN},
		{"ipv6 extension headers", capture.LinkTypeEthernet, ethIPv6Ext},
		{"sll2", capture.LinkTypeLinuxSLL2, sll2IPv6},
		{"qinq", capture.LinkTypeEthernet, ethQinQ},
		{"gtp-u", capture.LinkTypeEthernet, gtpU},
		{"teredo", capture.LinkTypeEthernet, teredo},
		{"l2tp", capture.LinkTypeEthernet, l2tp},
		{"geneve", capture.LinkTypeEthernet, geneve},
		{"juniper", capture.LinkTypeJuniperEther, juniperEther},
		{"ipoib", capture.LinkTypeIPoIB, ipoibIPv4},
		{"cisco hdlc on ppp", capture.LinkTypePPP, chdlcIPv4},
		{"fabricpath", capture.LinkTypeEthernet, fabricPath},
		{"malformed", capture.LinkTypeEthernet, patch(ethIPv4SYN, 14, 0x44)},
		{"lying option", capture.LinkTypeEthernet, optLenZero},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := capture.NewDecoder(capture.Options{VerifyChecksums: true})
			var p capture.Packet
			if n := testing.AllocsPerRun(1000, func() { d.Decode(tt.frame, tt.link, &p) }); n != 0 {
				t.Errorf("Decode(%s) allocates %v times per frame, want 0", tt.name, n)
			}
		})
	}
}
