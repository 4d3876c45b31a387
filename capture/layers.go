package capture

import (
	"encoding/binary"
	"errors"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// This file holds the link, network and tunnel layers the Decoder walks.
// Each is a gopacket.DecodingLayer (gopacket's zero-allocation decoding API)
// and reuses gopacket's LayerType values, but the parsing is our own: the
// v1.1.19 layers either panic on short input (LinuxSLL with an address
// length over 8, GRE), print and grow a slice per packet (GTPv1U), allocate
// per option (IPv6 hop-by-hop), refuse datagrams tshark decodes (IPv4 with a
// malformed option), or are no DecodingLayer at all (MPLS, IPv6Fragment).
// Every layer here checks each length before slicing, returns one of two
// preallocated errors, and allocates nothing.

// Layer types gopacket v1.1.19 does not define. They are deliberately not
// registered with gopacket.RegisterLayerType: registration is a global side
// effect and nothing here needs their metadata.
const (
	layerTypeLinuxSLL2  = gopacket.LayerType(2276)
	layerTypeTeredo     = gopacket.LayerType(3544)
	layerTypeL2TP       = gopacket.LayerType(1701)
	layerTypeGeneve     = gopacket.LayerType(6081)
	layerTypeCHDLC      = gopacket.LayerType(2104)
	layerTypeJuniper    = gopacket.LayerType(2178)
	layerTypeIPoIB      = gopacket.LayerType(2242)
	layerTypeFabricPath = gopacket.LayerType(8903)
)

// The two ways a layer can fail. Both are preallocated, so a malformed frame
// costs no allocation; Decode turns them into a Result.
var (
	errShort     = errors.New("capture: header cut short by the capture")
	errMalformed = errors.New("capture: header contradicts itself")
)

// Compile-time proof that every layer plugs into gopacket's decoding API.
var (
	_ gopacket.DecodingLayer = (*ethernetLayer)(nil)
	_ gopacket.DecodingLayer = (*vlanLayer)(nil)
	_ gopacket.DecodingLayer = (*mplsLayer)(nil)
	_ gopacket.DecodingLayer = (*sllLayer)(nil)
	_ gopacket.DecodingLayer = (*sll2Layer)(nil)
	_ gopacket.DecodingLayer = (*loopbackLayer)(nil)
	_ gopacket.DecodingLayer = (*pppoeLayer)(nil)
	_ gopacket.DecodingLayer = (*pppLayer)(nil)
	_ gopacket.DecodingLayer = (*greLayer)(nil)
	_ gopacket.DecodingLayer = (*ipv4Layer)(nil)
	_ gopacket.DecodingLayer = (*ipv6Layer)(nil)
	_ gopacket.DecodingLayer = (*ipv6ExtLayer)(nil)
	_ gopacket.DecodingLayer = (*ipv6FragLayer)(nil)
	_ gopacket.DecodingLayer = (*ahLayer)(nil)
	_ gopacket.DecodingLayer = (*udpLayer)(nil)
	_ gopacket.DecodingLayer = (*teredoLayer)(nil)
	_ gopacket.DecodingLayer = (*gtpLayer)(nil)
	_ gopacket.DecodingLayer = (*vxlanLayer)(nil)
	_ gopacket.DecodingLayer = (*l2tpLayer)(nil)
	_ gopacket.DecodingLayer = (*geneveLayer)(nil)
	_ gopacket.DecodingLayer = (*chdlcLayer)(nil)
	_ gopacket.DecodingLayer = (*juniperLayer)(nil)
	_ gopacket.DecodingLayer = (*ipoibLayer)(nil)
	_ gopacket.DecodingLayer = (*fabricPathLayer)(nil)
	_ gopacket.DecodingLayer = (*tcpLayer)(nil)
)

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// etherNext maps an EtherType (or a GRE, SLL or PPPoE protocol type, which
// share its numbering) to the layer that decodes it. LayerTypePayload means
// "not a protocol we follow".
func etherNext(t uint16) gopacket.LayerType {
	switch t {
	case 0x0800:
		return layers.LayerTypeIPv4
	case 0x86dd:
		return layers.LayerTypeIPv6
	case 0x8100, 0x88a8, 0x9100, 0x9200: // 802.1Q, 802.1ad, and the two pre-standard QinQ values
		return layers.LayerTypeDot1Q
	case 0x8847, 0x8848: // MPLS unicast and multicast
		return layers.LayerTypeMPLS
	case 0x8864: // PPPoE session stage
		return layers.LayerTypePPPoE
	case 0x6558: // transparent Ethernet bridging (GRE)
		return layers.LayerTypeEthernet
	case 0x880b: // PPP (enhanced GRE, RFC 2637)
		return layers.LayerTypePPP
	case 0x8903: // Cisco FabricPath: a 2-byte tag, then the inner Ethernet frame
		return layerTypeFabricPath
	}
	return gopacket.LayerTypePayload
}

// ipNext maps an IP protocol number (IPv4 protocol or IPv6 next header) to
// the layer that decodes it.
func ipNext(proto uint8) gopacket.LayerType {
	switch proto {
	case 6:
		return layers.LayerTypeTCP
	case 17:
		return layers.LayerTypeUDP
	case 1:
		return layers.LayerTypeICMPv4
	case 58:
		return layers.LayerTypeICMPv6
	case 4: // IP in IP (RFC 2003)
		return layers.LayerTypeIPv4
	case 41: // IPv6 in IP (RFC 4213)
		return layers.LayerTypeIPv6
	case 47:
		return layers.LayerTypeGRE
	case 0:
		return layers.LayerTypeIPv6HopByHop
	case 43:
		return layers.LayerTypeIPv6Routing
	case 60:
		return layers.LayerTypeIPv6Destination
	case 44:
		return layers.LayerTypeIPv6Fragment
	case 51:
		return layers.LayerTypeIPSecAH
	}
	return gopacket.LayerTypePayload
}

// versionNext picks IPv4 or IPv6 by the version nibble, for encapsulations
// that carry no protocol field (raw IP, MPLS, GTP-U).
func versionNext(data []byte) gopacket.LayerType {
	if len(data) == 0 {
		return gopacket.LayerTypePayload
	}
	switch data[0] >> 4 {
	case 4:
		return layers.LayerTypeIPv4
	case 6:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypePayload
}

// ethernetLayer is an Ethernet II or 802.3 header. An 802.3 frame is followed
// only when it carries LLC/SNAP with an EtherType (RFC 1042).
type ethernetLayer struct {
	layers.BaseLayer
	EtherType uint16 // 0 for 802.3 frames without SNAP
}

func (l *ethernetLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 14 {
		return errShort
	}
	l.Contents, l.Payload = data[:14], data[14:]
	l.EtherType = be16(data[12:14])
	if l.EtherType >= 0x0600 {
		return nil
	}
	// 802.3: the type field is a length; anything after it is padding.
	if n := int(l.EtherType); n < len(l.Payload) {
		l.Payload = l.Payload[:n]
	}
	l.EtherType = 0
	p := l.Payload
	if len(p) >= 8 && p[0] == 0xaa && p[1] == 0xaa && p[2] == 0x03 && p[3] == 0 && p[4] == 0 && p[5] == 0 {
		l.EtherType = be16(p[6:8])
		l.Payload = p[8:]
	}
	return nil
}

func (l *ethernetLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeEthernet }
func (l *ethernetLayer) NextLayerType() gopacket.LayerType { return etherNext(l.EtherType) }

// vlanLayer is one 802.1Q or 802.1ad tag.
type vlanLayer struct {
	layers.BaseLayer
	VLAN      uint16
	EtherType uint16
}

func (l *vlanLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		return errShort
	}
	l.Contents, l.Payload = data[:4], data[4:]
	l.VLAN = be16(data[0:2]) & 0x0fff
	l.EtherType = be16(data[2:4])
	return nil
}

func (l *vlanLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeDot1Q }
func (l *vlanLayer) NextLayerType() gopacket.LayerType { return etherNext(l.EtherType) }

// maxMPLSLabels bounds the label stack; real stacks hold a handful.
const maxMPLSLabels = 16

// mplsLayer is a whole MPLS label stack (RFC 3032), up to and including the
// entry with the bottom-of-stack bit. The payload is told apart by its
// version nibble, as routers do for the explicit-null labels.
type mplsLayer struct {
	layers.BaseLayer
	Labels int
}

func (l *mplsLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	for i := 0; ; i++ {
		if i == maxMPLSLabels {
			return errMalformed
		}
		off := 4 * i
		if len(data) < off+4 {
			return errShort
		}
		if data[off+2]&0x01 != 0 { // bottom of stack
			l.Labels = i + 1
			l.Contents, l.Payload = data[:off+4], data[off+4:]
			return nil
		}
	}
}

func (l *mplsLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeMPLS }
func (l *mplsLayer) NextLayerType() gopacket.LayerType { return versionNext(l.Payload) }

// sllLayer is the 16-byte Linux cooked-capture v1 header:
// packet type u16, ARPHRD u16, address length u16, address [8], protocol u16.
type sllLayer struct {
	layers.BaseLayer
	ARPHRD   uint16
	Protocol uint16
}

func (l *sllLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 16 {
		return errShort
	}
	l.Contents, l.Payload = data[:16], data[16:]
	l.ARPHRD = be16(data[2:4])
	l.Protocol = be16(data[14:16])
	return nil
}

func (l *sllLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeLinuxSLL }
func (l *sllLayer) NextLayerType() gopacket.LayerType { return sllNext(l.ARPHRD, l.Protocol) }

// sllNext follows an SLL protocol field. Values below 0x0600 are Linux
// ETH_P_ pseudo-protocols (802.3, 802.2, CAN, ...), none of them IP. Netlink
// captures (ARPHRD_NETLINK) put a netlink family there instead.
func sllNext(arphrd, proto uint16) gopacket.LayerType {
	if arphrd == 824 || proto < 0x0600 {
		return gopacket.LayerTypePayload
	}
	return etherNext(proto)
}

// sll2Layer is the 20-byte Linux cooked-capture v2 header (LINKTYPE 276),
// which gopacket v1.1.19 lacks: protocol u16, reserved u16, interface index
// u32, ARPHRD u16, packet type u8, address length u8, address [8].
type sll2Layer struct {
	layers.BaseLayer
	Protocol  uint16
	Interface uint32
	ARPHRD    uint16
}

func (l *sll2Layer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		return errShort
	}
	l.Contents, l.Payload = data[:20], data[20:]
	l.Protocol = be16(data[0:2])
	l.Interface = be32(data[4:8])
	l.ARPHRD = be16(data[8:10])
	return nil
}

func (l *sll2Layer) CanDecode() gopacket.LayerClass    { return layerTypeLinuxSLL2 }
func (l *sll2Layer) NextLayerType() gopacket.LayerType { return sllNext(l.ARPHRD, l.Protocol) }

// loopbackLayer is the 4-byte address-family header of LINKTYPE_NULL (host
// byte order of the capturing machine) and LINKTYPE_LOOP (network order).
// The family is below 256, so the zero bytes tell the two orders apart.
type loopbackLayer struct {
	layers.BaseLayer
	Family uint32
}

func (l *loopbackLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		return errShort
	}
	l.Contents, l.Payload = data[:4], data[4:]
	if data[0] == 0 && data[1] == 0 {
		l.Family = be32(data[:4])
	} else {
		l.Family = binary.LittleEndian.Uint32(data[:4])
	}
	return nil
}

func (l *loopbackLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeLoopback }

// NextLayerType follows AF_INET and the BSD AF_INET6 values tshark accepts
// (24 NetBSD/OpenBSD, 28 FreeBSD, 30 Darwin).
func (l *loopbackLayer) NextLayerType() gopacket.LayerType {
	switch l.Family {
	case 2:
		return layers.LayerTypeIPv4
	case 24, 28, 30:
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypePayload
}

// pppoeLayer is a PPPoE session-stage header (RFC 2516 §4). Discovery
// frames have their own EtherType and never reach it.
type pppoeLayer struct {
	layers.BaseLayer
	Code uint8
}

func (l *pppoeLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 6 {
		return errShort
	}
	if data[0] != 0x11 { // version 1, type 1
		return errMalformed
	}
	l.Code = data[1]
	l.Contents, l.Payload = data[:6], data[6:]
	if n := int(be16(data[4:6])); n < len(l.Payload) {
		l.Payload = l.Payload[:n] // Ethernet padding
	}
	return nil
}

func (l *pppoeLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPPoE }

func (l *pppoeLayer) NextLayerType() gopacket.LayerType {
	if l.Code != 0 {
		return gopacket.LayerTypePayload
	}
	return layers.LayerTypePPP
}

// pppLayer is a PPP header: optional HDLC address and control bytes (ff 03),
// then a one- or two-byte protocol field (RFC 1661 §2, RFC 1662 §3).
type pppLayer struct {
	layers.BaseLayer
	Protocol uint16
	chdlc    bool // a Cisco HDLC frame: Protocol is an EtherType
}

func (l *pppLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	l.chdlc = isCHDLC(data)
	if l.chdlc {
		// Cisco HDLC on a link the capture calls PPP (routers' serial
		// lines), which Wireshark's PPP dissector tells by its address
		// byte too: a PPP protocol field never starts with 0x0f or 0x8f.
		var c chdlcLayer
		err := c.DecodeFromBytes(data, nil)
		l.Protocol, l.Contents, l.Payload = c.Protocol, c.Contents, c.Payload
		return err
	}
	off := 0
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		off = 2
	}
	if len(data) < off+1 {
		return errShort
	}
	if data[off]&1 != 0 { // compressed one-byte protocol field
		l.Protocol = uint16(data[off])
		off++
	} else {
		if len(data) < off+2 {
			return errShort
		}
		l.Protocol = be16(data[off : off+2])
		off += 2
	}
	l.Contents, l.Payload = data[:off], data[off:]
	return nil
}

func (l *pppLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypePPP }

func (l *pppLayer) NextLayerType() gopacket.LayerType {
	if l.chdlc {
		return etherNext(l.Protocol)
	}
	switch l.Protocol {
	case 0x0021:
		return layers.LayerTypeIPv4
	case 0x0057:
		return layers.LayerTypeIPv6
	case 0x0281:
		return layers.LayerTypeMPLS
	}
	return gopacket.LayerTypePayload
}

// greLayer is a GRE header, version 0 (RFC 2784, RFC 2890) or the enhanced
// version 1 of PPTP (RFC 2637). Source routing (RFC 1701) is not followed.
type greLayer struct {
	layers.BaseLayer
	Protocol uint16
	Routing  bool
}

func (l *greLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		return errShort
	}
	flags, version := data[0], data[1]&0x07
	l.Protocol = be16(data[2:4])
	l.Routing = flags&0x40 != 0
	n := 4
	switch version {
	case 0:
		if flags&0xc0 != 0 { // checksum or routing present: checksum and offset
			n += 4
		}
		if flags&0x20 != 0 { // key
			n += 4
		}
		if flags&0x10 != 0 { // sequence number
			n += 4
		}
	case 1:
		n += 4 // key (payload length and call id), always present
		if flags&0x10 != 0 {
			n += 4
		}
		if data[1]&0x80 != 0 { // acknowledgment number
			n += 4
		}
	default:
		return errMalformed
	}
	if len(data) < n {
		return errShort
	}
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *greLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeGRE }

func (l *greLayer) NextLayerType() gopacket.LayerType {
	if l.Routing {
		return gopacket.LayerTypePayload
	}
	return etherNext(l.Protocol)
}

// ipv4Layer is an IPv4 header (RFC 791). Payload ends where the total length
// says, so Ethernet padding and trailers never count; it ends earlier when
// the capture is cut short. A total length of 0 is taken to be a TSO
// super-packet, as tshark does, and the captured bytes stand for it.
type ipv4Layer struct {
	layers.BaseLayer
	IHL        uint8  // header length in 32-bit words
	Length     uint16 // total length (the captured length for TSO packets)
	ID         uint16
	MoreFrags  bool
	FragOffset uint16 // in 8-byte units
	TTL        uint8
	Protocol   uint8
	Src, Dst   [4]byte
	// Missing is the number of bytes the snaplen cut off the end of the
	// frame; a TSO datagram runs to the end of the frame, so it is that
	// much longer than captured.
	Missing int
}

func (l *ipv4Layer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		return errShort
	}
	if data[0]>>4 != 4 {
		return errMalformed
	}
	l.IHL = data[0] & 0x0f
	hlen := int(l.IHL) * 4
	total := int(be16(data[2:4]))
	if l.IHL < 5 || total != 0 && total < hlen {
		return errMalformed
	}
	if len(data) < hlen {
		return errShort
	}
	if total == 0 {
		total = min(len(data)+l.Missing, 0xffff)
	}
	l.Length = uint16(total)
	l.ID = be16(data[4:6])
	ff := be16(data[6:8])
	l.MoreFrags = ff&0x2000 != 0
	l.FragOffset = ff & 0x1fff
	l.TTL = data[8]
	l.Protocol = data[9]
	l.Src = [4]byte(data[12:16])
	l.Dst = [4]byte(data[16:20])
	end := min(total, len(data))
	l.Contents, l.Payload = data[:hlen], data[hlen:end]
	return nil
}

func (l *ipv4Layer) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPv4 }

// NextLayerType stops at fragments other than the first: their payload does
// not start with the next header.
func (l *ipv4Layer) NextLayerType() gopacket.LayerType {
	if l.FragOffset != 0 {
		return gopacket.LayerTypeFragment
	}
	return ipNext(l.Protocol)
}

// ipv6Layer is the fixed IPv6 header (RFC 8200 §3). A payload length of 0
// without a jumbo option is what TSO and Linux BIG TCP captures show; as for
// IPv4, the captured bytes stand for the payload then.
type ipv6Layer struct {
	layers.BaseLayer
	Length     uint16 // payload length (the captured length for TSO packets)
	NextHeader uint8
	HopLimit   uint8
	Src, Dst   [16]byte
	Missing    int // as for ipv4Layer
}

func (l *ipv6Layer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 40 {
		return errShort
	}
	if data[0]>>4 != 6 {
		return errMalformed
	}
	plen := int(be16(data[4:6]))
	if plen == 0 {
		plen = min(len(data)-40+l.Missing, 0xffff)
	}
	l.Length = uint16(plen)
	l.NextHeader = data[6]
	l.HopLimit = data[7]
	l.Src = [16]byte(data[8:24])
	l.Dst = [16]byte(data[24:40])
	end := min(40+plen, len(data))
	l.Contents, l.Payload = data[:40], data[40:end]
	return nil
}

func (l *ipv6Layer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeIPv6 }
func (l *ipv6Layer) NextLayerType() gopacket.LayerType { return ipNext(l.NextHeader) }

// ipv6ExtLayer is an IPv6 hop-by-hop, routing or destination options header:
// next header u8, length in 8-octet units not counting the first u8, then
// options (RFC 8200 §4.3-4.6).
type ipv6ExtLayer struct {
	layers.BaseLayer
	NextHeader   uint8
	SegmentsLeft uint8 // routing headers only: non-zero means the destination is not final
}

func (l *ipv6ExtLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return errShort
	}
	n := (int(data[1]) + 1) * 8
	if len(data) < n {
		return errShort
	}
	l.NextHeader = data[0]
	l.SegmentsLeft = data[3]
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *ipv6ExtLayer) CanDecode() gopacket.LayerClass {
	return gopacket.NewLayerClassSlice([]gopacket.LayerType{
		layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination,
	})
}
func (l *ipv6ExtLayer) NextLayerType() gopacket.LayerType { return ipNext(l.NextHeader) }

// ipv6FragLayer is the IPv6 fragment header (RFC 8200 §4.5).
type ipv6FragLayer struct {
	layers.BaseLayer
	NextHeader uint8
	Offset     uint16 // in 8-octet units
	More       bool
}

func (l *ipv6FragLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return errShort
	}
	l.NextHeader = data[0]
	l.Offset = be16(data[2:4]) >> 3
	l.More = data[3]&1 != 0
	l.Contents, l.Payload = data[:8], data[8:]
	return nil
}

func (l *ipv6FragLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeIPv6Fragment }

func (l *ipv6FragLayer) NextLayerType() gopacket.LayerType {
	if l.Offset != 0 {
		return gopacket.LayerTypeFragment
	}
	return ipNext(l.NextHeader)
}

// ahLayer is an IPsec authentication header (RFC 4302 §2), which leaves the
// payload in the clear; its length counts 32-bit words minus 2.
type ahLayer struct {
	layers.BaseLayer
	NextHeader uint8
}

func (l *ahLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 12 {
		return errShort
	}
	n := (int(data[1]) + 2) * 4
	if n < 12 {
		return errMalformed
	}
	if len(data) < n {
		return errShort
	}
	l.NextHeader = data[0]
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *ahLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeIPSecAH }
func (l *ahLayer) NextLayerType() gopacket.LayerType { return ipNext(l.NextHeader) }

// UDP ports of the tunnels followed, matched on either side as tshark does.
const (
	portTeredo = 3544 // RFC 4380
	portGTPU   = 2152 // 3GPP TS 29.281
	portVXLAN  = 4789 // RFC 7348
	portL2TP   = 1701 // RFC 2661
	portGeneve = 6081 // RFC 8926
)

// udpLayer is a UDP header; it is decoded only to find tunnels.
type udpLayer struct {
	layers.BaseLayer
	SrcPort, DstPort uint16
}

func (l *udpLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return errShort
	}
	l.SrcPort = be16(data[0:2])
	l.DstPort = be16(data[2:4])
	n := int(be16(data[4:6]))
	switch {
	case n == 0: // jumbogram (RFC 2675) or TSO: the rest of the datagram
		n = len(data)
	case n < 8:
		return errMalformed
	}
	l.Contents, l.Payload = data[:8], data[8:min(n, len(data))]
	return nil
}

func (l *udpLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeUDP }

func (l *udpLayer) NextLayerType() gopacket.LayerType {
	if t := udpPortNext(l.DstPort); t != gopacket.LayerTypePayload {
		return t
	}
	if t := udpPortNext(l.SrcPort); t != gopacket.LayerTypePayload {
		return t
	}
	if looksTeredo(l.Payload) {
		return layerTypeTeredo
	}
	return gopacket.LayerTypePayload
}

// looksTeredo recognises Teredo on ports other than 3544: relays and NATed
// clients use arbitrary ports, and Zeek and Wireshark find them by content.
// The payload, after the optional Teredo headers, must be an IPv6 packet
// whose payload length accounts for every byte, with an address in the
// Teredo prefix 2001:0::/32 (RFC 4380 §2.6). Both together make a false
// match on other UDP traffic negligible.
func looksTeredo(b []byte) bool {
	var t teredoLayer
	if t.DecodeFromBytes(b, nil) != nil {
		return false
	}
	p := t.Payload
	if len(p) < 40 || p[0]>>4 != 6 || 40+int(be16(p[4:6])) != len(p) {
		return false
	}
	teredo := func(a []byte) bool { return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0 }
	return teredo(p[8:24]) || teredo(p[24:40])
}

func udpPortNext(port uint16) gopacket.LayerType {
	switch port {
	case portTeredo:
		return layerTypeTeredo
	case portGTPU:
		return layers.LayerTypeGTPv1U
	case portVXLAN:
		return layers.LayerTypeVXLAN
	case portL2TP:
		return layerTypeL2TP
	case portGeneve:
		return layerTypeGeneve
	}
	return gopacket.LayerTypePayload
}

// teredoLayer skips the optional Teredo authentication and origin indication
// headers (RFC 4380 §5.1.1) in front of an encapsulated IPv6 packet. Teredo
// control messages that carry no IPv6 packet stop the walk.
type teredoLayer struct {
	layers.BaseLayer
}

func (l *teredoLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	off := 0
	if len(data) >= 4 && data[0] == 0x00 && data[1] == 0x01 {
		// Authentication: indicator, client id length, auth value length,
		// client id, auth value, 8-byte nonce, 1-byte confirmation.
		off = 4 + int(data[2]) + int(data[3]) + 9
		if len(data) < off {
			return errShort
		}
	}
	if len(data) >= off+2 && data[off] == 0x00 && data[off+1] == 0x00 {
		off += 8 // origin indication: indicator, port, address
		if len(data) < off {
			return errShort
		}
	}
	l.Contents, l.Payload = data[:off], data[off:]
	return nil
}

func (l *teredoLayer) CanDecode() gopacket.LayerClass { return layerTypeTeredo }

func (l *teredoLayer) NextLayerType() gopacket.LayerType {
	if len(l.Payload) > 0 && l.Payload[0]>>4 == 6 {
		return layers.LayerTypeIPv6
	}
	return gopacket.LayerTypePayload
}

// gtpLayer is a GTPv1-U header (3GPP TS 29.281 §5). Only G-PDUs (message
// type 255) carry user packets; echo and error messages stop the walk.
type gtpLayer struct {
	layers.BaseLayer
	MessageType uint8
	TEID        uint32
}

func (l *gtpLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return errShort
	}
	if data[0]>>5 != 1 || data[0]&0x10 == 0 { // version 1, protocol type GTP
		return errMalformed
	}
	l.MessageType = data[1]
	l.TEID = be32(data[4:8])
	end := 8 + int(be16(data[2:4])) // the message length excludes the first 8 bytes
	off := 8
	if data[0]&0x07 != 0 { // E, S or PN: sequence number, N-PDU number, next extension type
		off = 12
		if err := fits(data, off, end); err != nil {
			return err
		}
		for next := data[11]; data[0]&0x04 != 0 && next != 0; { // E: extension headers follow
			if err := fits(data, off+1, end); err != nil {
				return err
			}
			n := int(data[off]) * 4
			if n == 0 {
				return errMalformed
			}
			if err := fits(data, off+n, end); err != nil {
				return err
			}
			next = data[off+n-1]
			off += n
		}
	}
	l.Contents, l.Payload = data[:off], data[off:min(end, len(data))]
	return nil
}

// fits checks that a header ending at off lies within a message of
// declared length end, and within the captured data.
func fits(data []byte, off, end int) error {
	if off > end {
		return errMalformed
	}
	if off > len(data) {
		return errShort
	}
	return nil
}

func (l *gtpLayer) CanDecode() gopacket.LayerClass { return layers.LayerTypeGTPv1U }

func (l *gtpLayer) NextLayerType() gopacket.LayerType {
	if l.MessageType != 0xff {
		return gopacket.LayerTypePayload
	}
	return versionNext(l.Payload)
}

// vxlanLayer is a VXLAN header (RFC 7348 §5) in front of an Ethernet frame.
type vxlanLayer struct {
	layers.BaseLayer
	VNI uint32
}

func (l *vxlanLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return errShort
	}
	l.VNI = be32(data[4:8]) >> 8
	l.Contents, l.Payload = data[:8], data[8:]
	return nil
}

func (l *vxlanLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeVXLAN }
func (l *vxlanLayer) NextLayerType() gopacket.LayerType { return layers.LayerTypeEthernet }

// l2tpLayer is an L2TP version 2 header (RFC 2661 §3.1), in front of a PPP
// frame: DSL access networks carry their subscribers' traffic in it, and
// tshark follows it on UDP port 1701. Control messages (the T bit) stop the
// walk, and so does version 3 (RFC 3931), whose session header (cookie,
// sublayer) is set by configuration the capture does not carry.
type l2tpLayer struct {
	layers.BaseLayer
	data bool // a version 2 data message: the payload is PPP
}

// The L2TPv2 header bits (RFC 2661 §3.1).
const (
	l2tpType     = 0x8000 // T: a control message
	l2tpLength   = 0x4000 // L: the length field is present
	l2tpSequence = 0x0800 // S: Ns and Nr are present
	l2tpOffset   = 0x0200 // O: the offset size field is present
	l2tpVersion  = 0x000f
)

func (l *l2tpLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 2 {
		return errShort
	}
	flags := be16(data[0:2])
	l.data = flags&l2tpVersion == 2 && flags&l2tpType == 0
	if !l.data {
		l.Contents, l.Payload = data[:0], data
		return nil
	}
	off, end := 2, len(data)
	if flags&l2tpLength != 0 {
		if len(data) < 4 {
			return errShort
		}
		end, off = int(be16(data[2:4])), 4
	}
	off += 4 // tunnel and session IDs
	if flags&l2tpSequence != 0 {
		off += 4 // Ns, Nr
	}
	if flags&l2tpOffset != 0 {
		if err := fits(data, off+2, end); err != nil {
			return err
		}
		off += 2 + int(be16(data[off:off+2])) // offset size, then that much padding
	}
	if err := fits(data, off, end); err != nil {
		return err
	}
	l.Contents, l.Payload = data[:off], data[off:min(end, len(data))]
	return nil
}

func (l *l2tpLayer) CanDecode() gopacket.LayerClass { return layerTypeL2TP }

func (l *l2tpLayer) NextLayerType() gopacket.LayerType {
	if !l.data {
		return gopacket.LayerTypePayload
	}
	return layers.LayerTypePPP
}

// geneveLayer is a Geneve header (RFC 8926 §3.4): version, the length of
// its options in 4-byte words, flags, a protocol type (an EtherType:
// 0x6558 for Ethernet, as cloud and Open vSwitch overlays carry), the VNI,
// then the options. tshark follows it on UDP port 6081.
type geneveLayer struct{ ethertypeHeader }

func (l *geneveLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 8 {
		return errShort
	}
	if data[0]>>6 != 0 { // version 0 is the only one (§3.4)
		return errMalformed
	}
	return l.cut(data, 8+4*int(data[0]&0x3f), 2) // options: a count of 4-byte words
}

func (l *geneveLayer) CanDecode() gopacket.LayerClass { return layerTypeGeneve }

// ethertypeHeader is a header of fixed length with an EtherType in it,
// which says what follows.
type ethertypeHeader struct {
	layers.BaseLayer
	Protocol uint16
}

// cut takes the first n bytes of data as the header, whose EtherType is at
// offset at.
func (l *ethertypeHeader) cut(data []byte, n, at int) error {
	if len(data) < n {
		return errShort
	}
	l.Protocol = be16(data[at : at+2])
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *ethertypeHeader) NextLayerType() gopacket.LayerType { return etherNext(l.Protocol) }

// chdlcLayer is a Cisco HDLC header (LINKTYPE_C_HDLC): an address byte
// (0x0f unicast, 0x8f broadcast), a control byte, and an EtherType.
type chdlcLayer struct{ ethertypeHeader }

// isCHDLC reports whether a frame starts with a Cisco HDLC address and
// control byte.
func isCHDLC(data []byte) bool {
	return len(data) >= 2 && (data[0] == 0x0f || data[0] == 0x8f) && data[1] == 0x00
}

func (l *chdlcLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	return l.cut(data, 4, 2)
}

func (l *chdlcLayer) CanDecode() gopacket.LayerClass { return layerTypeCHDLC }

// juniperLayer is the pseudo-header Juniper routers put in front of the
// Ethernet frames they capture (LINKTYPE_JUNIPER_ETHER, as Wireshark's
// packet-juniper.c reads it): the magic "MGC", a flags byte, and, with
// flag 0x80, a 2-byte length of extension TLVs that follow. With flag 0x02
// the router stripped the link header: a 4-byte protocol number in host
// order (2 IPv4, 6 IPv6) precedes the IP packet instead.
type juniperLayer struct {
	layers.BaseLayer
	next gopacket.LayerType
}

const (
	juniperExt  = 0x80 // extension TLVs present
	juniperNoL2 = 0x02 // link header stripped
)

func (l *juniperLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 4 {
		return errShort
	}
	if data[0] != 'M' || data[1] != 'G' || data[2] != 'C' {
		return errMalformed
	}
	flags, n := data[3], 4
	if flags&juniperExt != 0 {
		if len(data) < 6 {
			return errShort
		}
		n = 6 + int(be16(data[4:6]))
	}
	l.next = layers.LayerTypeEthernet
	if flags&juniperNoL2 != 0 {
		if len(data) < n+4 {
			return errShort
		}
		switch binary.LittleEndian.Uint32(data[n : n+4]) {
		case 2:
			l.next = layers.LayerTypeIPv4
		case 6:
			l.next = layers.LayerTypeIPv6
		default:
			l.next = gopacket.LayerTypePayload
		}
		n += 4
	}
	if len(data) < n {
		return errShort
	}
	l.Contents, l.Payload = data[:n], data[n:]
	return nil
}

func (l *juniperLayer) CanDecode() gopacket.LayerClass    { return layerTypeJuniper }
func (l *juniperLayer) NextLayerType() gopacket.LayerType { return l.next }

// ipoibLayer is an IP-over-InfiniBand frame as libpcap writes it
// (LINKTYPE_IPOIB): a 40-byte pseudo-header (the InfiniBand global route
// header, or the destination address when that is absent), then the
// 4-byte IPoIB header of RFC 4391 §6: an EtherType and 2 reserved bytes.
type ipoibLayer struct{ ethertypeHeader }

func (l *ipoibLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	return l.cut(data, 44, 40)
}

func (l *ipoibLayer) CanDecode() gopacket.LayerClass { return layerTypeIPoIB }

// fabricPathLayer is what follows Cisco FabricPath's outer addresses and
// EtherType 0x8903 (which the Ethernet layer reads as its own): the
// forwarding tag and TTL, 2 bytes, then the host's Ethernet frame. Data
// centre fabrics carry their hosts' traffic in it, and tshark follows it.
type fabricPathLayer struct {
	layers.BaseLayer
}

func (l *fabricPathLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 2 {
		return errShort
	}
	l.Contents, l.Payload = data[:2], data[2:]
	return nil
}

func (l *fabricPathLayer) CanDecode() gopacket.LayerClass    { return layerTypeFabricPath }
func (l *fabricPathLayer) NextLayerType() gopacket.LayerType { return layers.LayerTypeEthernet }
