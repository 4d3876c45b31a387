package capture

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/tcptrace/tcptrace/fsm"
)

// Options configures a Source and its Decoder. The zero value is ready to
// use: no checksum verification, frames numbered from 1.
type Options struct {
	// VerifyChecksums verifies each TCP checksum over the IPv4 or IPv6
	// pseudo-header and sets Packet.Checksum. Off by default: checksum
	// offload makes captures taken on the sending host look bad.
	VerifyChecksums bool
	// FrameBase is added to every frame number, so that the frames of
	// several files read one after another are numbered continuously: the
	// first frame of this source is FrameBase+1.
	FrameBase uint64
	// ICMPErrors makes Next deliver, beside TCP segments, the ICMP and
	// ICMPv6 destination unreachables that quote a TCP header, with
	// Packet.ICMP set (valid iff ICMP.Type != 0). They still count as
	// skipped non-TCP frames in Stats: they are no segments of any
	// connection.
	ICMPErrors bool
	// Frame, when set, is called with every frame read, before it is
	// numbered or decoded, in the reading goroutine: link is the frame's
	// link type, data its captured bytes (valid only during the call) and
	// wireLen its length on the wire. It filters (FrameSkip), copies frames
	// elsewhere, or ends the capture (FrameStop, FrameLast). It must not
	// retain data.
	Frame func(link LinkType, ts time.Time, data []byte, wireLen uint32) FrameAction
}

// FrameAction is what an Options.Frame hook decides about a frame.
type FrameAction uint8

// Frame actions.
const (
	FrameKeep FrameAction = iota // number, count and decode the frame
	FrameSkip                    // drop it as if it were not in the capture: not numbered, counted in Stats.Filtered
	FrameStop                    // stop before this frame: Next returns false with no error
	FrameLast                    // keep this frame, then stop
)

// Result says what Decode made of a frame: a TCP segment, or why the frame
// was skipped.
type Result uint8

// Decode results. Everything but ResultTCP is a reason to skip the frame.
const (
	ResultTCP             Result = iota // a TCP segment; the Packet is filled in
	ResultNonIP                         // no IPv4 or IPv6 inside (ARP, STP, LLC, ...)
	ResultNonTCP                        // IP, but no TCP inside (UDP, ICMP, ESP, ...); Packet.ICMP may describe an ICMP error quoting TCP
	ResultFragment                      // an IP fragment other than the first, or a first one without the whole TCP header
	ResultMalformed                     // a header contradicts itself or the lengths around it
	ResultShort                         // the capture ended inside a header before the fixed TCP header
	ResultUnsupportedLink               // a link type the Decoder does not know
	ResultEmpty                         // a record with no captured bytes
)

const numResults = ResultEmpty + 1

var resultNames = [numResults]string{
	ResultTCP:             "tcp",
	ResultNonIP:           "non_ip",
	ResultNonTCP:          "non_tcp",
	ResultFragment:        "fragment",
	ResultMalformed:       "malformed",
	ResultShort:           "short",
	ResultUnsupportedLink: "unsupported_link",
	ResultEmpty:           "empty",
}

// String returns the result's stable lower_snake_case name ("non_tcp").
func (r Result) String() string {
	if r < numResults {
		return resultNames[r]
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// maxLayers bounds the headers walked in one frame; maxVLANTags bounds the
// 802.1Q tags among them. A frame that needs more is malformed.
const (
	maxLayers   = 32
	maxVLANTags = 8
)

// Decoder decodes frames into Packets. It holds one value of every layer it
// knows and reuses them for each frame, so Decode allocates nothing.
//
// Decode walks the layers in its own loop rather than through a
// gopacket.DecodingLayerParser (which the layers also satisfy): the walk
// needs context no single layer has (the outermost VLAN tag, the innermost
// IP header and its declared length, whether a tunnel or an outer fragment
// was crossed), it must name the reason a frame was skipped, and it must
// bound the nesting. The loop does that in one switch, without the parser's
// per-frame defer and map lookups.
//
// A Decoder is not safe for concurrent use. The zero value is a Decoder
// with the zero Options.
type Decoder struct {
	opt Options

	eth    ethernetLayer
	vlan   vlanLayer
	mpls   mplsLayer
	sll    sllLayer
	sll2   sll2Layer
	loop   loopbackLayer
	pppoe  pppoeLayer
	ppp    pppLayer
	gre    greLayer
	ip4    ipv4Layer
	ip6    ipv6Layer
	ext    ipv6ExtLayer
	frag   ipv6FragLayer
	ah     ahLayer
	udp    udpLayer
	teredo teredoLayer
	gtp    gtpLayer
	vxlan  vxlanLayer
	l2tp   l2tpLayer
	geneve geneveLayer
	chdlc  chdlcLayer
	jnpr   juniperLayer
	ipoib  ipoibLayer
	fp     fabricPathLayer
	tcp    tcpLayer
}

// NewDecoder returns a Decoder with the given options.
func NewDecoder(opt Options) *Decoder {
	return &Decoder{opt: opt}
}

// walk is what Decode remembers while it descends through the layers.
type walk struct {
	sawIP    bool // an IP header was crossed: a stop now means non-TCP
	fragment bool // a first IP fragment was crossed
	noCsum   bool // the pseudo-header destination is unknown (IPv6 routing header in transit)
	vlans    int
	l4Len    int // declared bytes from the next header to the end of the innermost IP datagram
	src, dst netip.Addr
}

// Decode decodes one frame of the given link type. For ResultTCP it fills
// p (every field but Frame, TS and WireLen, which the Source sets); for any
// other result p holds only CapLen and whatever was decoded before the walk
// stopped. data is not retained: it may be reused once Decode returns.
//
// Seg.Len is the TCP payload length the IP header declares, not the number
// of bytes captured; p.Truncated says when fewer were captured.
func (d *Decoder) Decode(data []byte, link LinkType, p *Packet) Result {
	return d.decode(data, link, 0, p)
}

// decode is Decode for a frame whose last missing bytes the snaplen cut
// off. Only a TSO packet, whose IP length field is 0, needs to know: its
// datagram is the rest of the frame, captured or not.
func (d *Decoder) decode(data []byte, link LinkType, missing uint32, p *Packet) Result {
	*p = Packet{CapLen: uint32(len(data))}
	d.ip4.Missing, d.ip6.Missing = int(missing), int(missing)
	if len(data) == 0 {
		return ResultEmpty
	}
	var typ gopacket.LayerType
	switch link {
	case LinkTypeEthernet:
		typ = layers.LayerTypeEthernet
	case LinkTypeLinuxSLL:
		typ = layers.LayerTypeLinuxSLL
	case LinkTypeLinuxSLL2:
		typ = layerTypeLinuxSLL2
	case LinkTypeNull, LinkTypeLoop:
		typ = layers.LayerTypeLoopback
	case LinkTypeRaw, LinkTypeRawDLT12, LinkTypeRawDLT14:
		typ = versionNext(data)
	case LinkTypeIPv4:
		typ = layers.LayerTypeIPv4
	case LinkTypeIPv6:
		typ = layers.LayerTypeIPv6
	case LinkTypePPP, LinkTypePPPSerial:
		typ = layers.LayerTypePPP
	case LinkTypeCHDLC:
		typ = layerTypeCHDLC
	case LinkTypeJuniperEther:
		typ = layerTypeJuniper
	case LinkTypeIPoIB:
		typ = layerTypeIPoIB
	case LinkTypePPPEthernet:
		typ = layers.LayerTypePPPoE
	default:
		return ResultUnsupportedLink
	}

	var w walk
	nf := gopacket.NilDecodeFeedback
	for range maxLayers {
		var err error
		switch typ {
		case layers.LayerTypeEthernet:
			err = d.eth.DecodeFromBytes(data, nf)
			typ, data = d.eth.NextLayerType(), d.eth.Payload
		case layers.LayerTypeDot1Q:
			if w.vlans++; w.vlans > maxVLANTags {
				return ResultMalformed
			}
			err = d.vlan.DecodeFromBytes(data, nf)
			if err == nil && w.vlans == 1 {
				p.VLAN = d.vlan.VLAN
			}
			typ, data = d.vlan.NextLayerType(), d.vlan.Payload
		case layers.LayerTypeMPLS:
			err = d.mpls.DecodeFromBytes(data, nf)
			typ, data = d.mpls.NextLayerType(), d.mpls.Payload
		case layers.LayerTypeLinuxSLL:
			err = d.sll.DecodeFromBytes(data, nf)
			typ, data = d.sll.NextLayerType(), d.sll.Payload
		case layerTypeLinuxSLL2:
			err = d.sll2.DecodeFromBytes(data, nf)
			typ, data = d.sll2.NextLayerType(), d.sll2.Payload
		case layers.LayerTypeLoopback:
			err = d.loop.DecodeFromBytes(data, nf)
			typ, data = d.loop.NextLayerType(), d.loop.Payload
		case layers.LayerTypePPPoE:
			err = d.pppoe.DecodeFromBytes(data, nf)
			typ, data = d.pppoe.NextLayerType(), d.pppoe.Payload
		case layers.LayerTypePPP:
			err = d.ppp.DecodeFromBytes(data, nf)
			typ, data = d.ppp.NextLayerType(), d.ppp.Payload
		case layers.LayerTypeGRE:
			err = d.gre.DecodeFromBytes(data, nf)
			typ, data = d.gre.NextLayerType(), d.gre.Payload
			p.Tunneled = true
		case layers.LayerTypeIPv4:
			if err = d.ip4.DecodeFromBytes(data, nf); err != nil {
				break
			}
			l := &d.ip4
			p.Tunneled = p.Tunneled || w.sawIP
			w.sawIP, w.noCsum = true, false
			w.fragment = w.fragment || l.MoreFrags
			w.src, w.dst = netip.AddrFrom4(l.Src), netip.AddrFrom4(l.Dst)
			w.l4Len = int(l.Length) - len(l.Contents)
			p.IPv6, p.TTL, p.IPID = false, l.TTL, l.ID
			p.IPLen, p.IPOptLen = uint32(l.Length), uint16(len(l.Contents)-20)
			typ, data = l.NextLayerType(), l.Payload
		case layers.LayerTypeIPv6:
			if err = d.ip6.DecodeFromBytes(data, nf); err != nil {
				break
			}
			l := &d.ip6
			p.Tunneled = p.Tunneled || w.sawIP
			w.sawIP, w.noCsum = true, false
			w.src, w.dst = netip.AddrFrom16(l.Src), netip.AddrFrom16(l.Dst)
			w.l4Len = int(l.Length)
			p.IPv6, p.TTL, p.IPID = true, l.HopLimit, 0
			p.IPLen, p.IPOptLen = 40+uint32(l.Length), 0
			typ, data = l.NextLayerType(), l.Payload
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			if err = d.ext.DecodeFromBytes(data, nf); err != nil {
				break
			}
			if typ == layers.LayerTypeIPv6Routing && d.ext.SegmentsLeft > 0 {
				w.noCsum = true
			}
			if err = w.extHeader(len(d.ext.Contents), p); err == nil {
				typ, data = d.ext.NextLayerType(), d.ext.Payload
			}
		case layers.LayerTypeIPv6Fragment:
			if err = d.frag.DecodeFromBytes(data, nf); err != nil {
				break
			}
			w.fragment = w.fragment || d.frag.More
			if err = w.extHeader(len(d.frag.Contents), p); err == nil {
				typ, data = d.frag.NextLayerType(), d.frag.Payload
			}
		case layers.LayerTypeIPSecAH:
			if err = d.ah.DecodeFromBytes(data, nf); err != nil {
				break
			}
			if err = w.extHeader(len(d.ah.Contents), p); err == nil {
				typ, data = d.ah.NextLayerType(), d.ah.Payload
			}
		case layers.LayerTypeUDP:
			err = d.udp.DecodeFromBytes(data, nf)
			typ, data = d.udp.NextLayerType(), d.udp.Payload
		case layerTypeTeredo:
			err = d.teredo.DecodeFromBytes(data, nf)
			typ, data = d.teredo.NextLayerType(), d.teredo.Payload
			p.Tunneled = true
		case layers.LayerTypeGTPv1U:
			err = d.gtp.DecodeFromBytes(data, nf)
			typ, data = d.gtp.NextLayerType(), d.gtp.Payload
			p.Tunneled = true
		case layers.LayerTypeVXLAN:
			err = d.vxlan.DecodeFromBytes(data, nf)
			typ, data = d.vxlan.NextLayerType(), d.vxlan.Payload
			p.Tunneled = true
		case layerTypeL2TP:
			err = d.l2tp.DecodeFromBytes(data, nf)
			typ, data = d.l2tp.NextLayerType(), d.l2tp.Payload
			p.Tunneled = true
		case layerTypeGeneve:
			err = d.geneve.DecodeFromBytes(data, nf)
			typ, data = d.geneve.NextLayerType(), d.geneve.Payload
			p.Tunneled = true
		case layerTypeCHDLC:
			err = d.chdlc.DecodeFromBytes(data, nf)
			typ, data = d.chdlc.NextLayerType(), d.chdlc.Payload
		case layerTypeJuniper:
			err = d.jnpr.DecodeFromBytes(data, nf)
			typ, data = d.jnpr.NextLayerType(), d.jnpr.Payload
		case layerTypeIPoIB:
			err = d.ipoib.DecodeFromBytes(data, nf)
			typ, data = d.ipoib.NextLayerType(), d.ipoib.Payload
		case layerTypeFabricPath:
			err = d.fp.DecodeFromBytes(data, nf)
			typ, data = d.fp.NextLayerType(), d.fp.Payload
		case layers.LayerTypeTCP:
			return d.segment(data, &w, p)
		case layers.LayerTypeICMPv4, layers.LayerTypeICMPv6:
			icmpError(data, typ == layers.LayerTypeICMPv6, &w, p)
			return ResultNonTCP
		case gopacket.LayerTypeFragment:
			return ResultFragment
		default:
			if w.sawIP {
				return ResultNonTCP
			}
			return ResultNonIP
		}
		if err != nil {
			return w.failed(err)
		}
	}
	return ResultMalformed
}

// extHeader accounts for an IPv6 extension header (or an AH) of n bytes: it
// is not TCP payload, and it counts as IP options.
func (w *walk) extHeader(n int, p *Packet) error {
	w.l4Len -= n
	if w.l4Len < 0 {
		return errMalformed
	}
	p.IPOptLen += uint16(n)
	return nil
}

// failed maps a layer error to a Result. A header cut short after a first
// fragment was crossed is cut by the fragmentation, not by the capture.
func (w *walk) failed(err error) Result {
	if err == errShort {
		if w.fragment {
			return ResultFragment
		}
		return ResultShort
	}
	return ResultMalformed
}

// segment decodes the TCP header in data and fills p.
func (d *Decoder) segment(data []byte, w *walk, p *Packet) Result {
	l := &d.tcp
	if err := l.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		if err == errShort && w.l4Len < 20 && !w.fragment {
			return ResultMalformed // the datagram is too small for any TCP header
		}
		return w.failed(err)
	}
	hlen := int(l.DataOffset) * 4
	if hlen > w.l4Len {
		return ResultMalformed // the data offset runs past the IP datagram
	}
	if l.OptCut && w.fragment {
		return ResultFragment
	}
	segLen := w.l4Len - hlen
	p.Src = netip.AddrPortFrom(w.src, l.SrcPort)
	p.Dst = netip.AddrPortFrom(w.dst, l.DstPort)
	p.Seg = fsm.Segment{
		Seq:    fsm.Seq(l.Seq),
		Ack:    fsm.Seq(l.Ack),
		Flags:  fsm.Flags(l.Flags),
		Len:    uint32(segLen),
		Window: l.Window,
	}
	p.TCPOptLen = uint8(hlen - 20)
	p.TFO, p.BadOptions = parseOptions(l.Options, l.OptCut, &p.Seg)
	p.Seg.TFO = p.TFO
	p.OptionsCut = l.OptCut
	p.Fragment = w.fragment
	p.Truncated = l.OptCut || len(l.Payload) < segLen
	if d.opt.VerifyChecksums {
		switch {
		case p.Truncated || w.fragment || w.noCsum:
			p.Checksum = ChecksumUnknown
		case tcpChecksum(w.src, w.dst, data[:hlen+segLen]) == 0xffff:
			p.Checksum = ChecksumGood
		default:
			p.Checksum = ChecksumBad
		}
	}
	return ResultTCP
}

// icmpError fills p.ICMP, p.Src, p.Dst and p.Seg.Seq when data is an ICMP
// (v6: ICMPv6) destination unreachable quoting a TCP header, and leaves p
// alone otherwise. The quoted IPv6 header must be followed by TCP directly
// (as it is for every SYN Linux sends); a quote of a fragment other than the
// first carries no TCP header and is ignored.
func icmpError(data []byte, v6 bool, w *walk, p *Packet) {
	if v6 != p.IPv6 || w.fragment || len(data) < 8 {
		return // ICMPv6 over IPv4 or ICMP over IPv6, or the error itself fragmented
	}
	typ, code, q := data[0], data[1], data[8:]
	var src, dst netip.Addr
	var tcp []byte
	if v6 {
		// RFC 4443 §3.1: type 1 destination unreachable.
		if typ != 1 || len(q) < 40 || q[0]>>4 != 6 || q[6] != 6 {
			return
		}
		src, dst = netip.AddrFrom16([16]byte(q[8:24])), netip.AddrFrom16([16]byte(q[24:40]))
		tcp = q[40:]
	} else {
		// RFC 792: type 3 destination unreachable.
		if typ != 3 || len(q) < 20 || q[0]>>4 != 4 || q[9] != 6 {
			return
		}
		ihl := int(q[0]&0x0f) * 4
		if ihl < 20 || len(q) < ihl || be16(q[6:8])&0x1fff != 0 {
			return // a bad header length, or the quote of a later fragment
		}
		src, dst = netip.AddrFrom4([4]byte(q[12:16])), netip.AddrFrom4([4]byte(q[16:20]))
		tcp = q[ihl:]
	}
	if len(tcp) < 4 {
		return
	}
	p.Src = netip.AddrPortFrom(src, be16(tcp[0:2]))
	p.Dst = netip.AddrPortFrom(dst, be16(tcp[2:4]))
	p.ICMP = ICMPError{From: w.src, Type: typ, Code: code, V6: v6}
	if len(tcp) >= 8 {
		p.Seg.Seq = fsm.Seq(be32(tcp[4:8]))
		p.ICMP.SeqQuoted = true
	}
}
