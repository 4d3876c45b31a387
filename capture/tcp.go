package capture

import (
	"net/netip"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/tcptrace/tcptrace/fsm"
)

// tcpLayer is a TCP header (RFC 9293 §3.1). Its options stay raw bytes;
// parseOptions reads them without allocating.
type tcpLayer struct {
	layers.BaseLayer
	SrcPort, DstPort uint16
	Seq, Ack         uint32
	DataOffset       uint8 // header length in 32-bit words
	Flags            uint8 // the control bits, in fsm.Flags order
	Window           uint16
	Checksum         uint16
	Options          []byte // the captured option bytes
	// OptCut is set when the capture ended inside the options: Options
	// holds what was captured and Payload is empty.
	OptCut bool
}

func (l *tcpLayer) DecodeFromBytes(data []byte, _ gopacket.DecodeFeedback) error {
	if len(data) < 20 {
		return errShort
	}
	l.DataOffset = data[12] >> 4
	if l.DataOffset < 5 {
		return errMalformed
	}
	l.SrcPort = be16(data[0:2])
	l.DstPort = be16(data[2:4])
	l.Seq = be32(data[4:8])
	l.Ack = be32(data[8:12])
	l.Flags = data[13]
	l.Window = be16(data[14:16])
	l.Checksum = be16(data[16:18])
	hlen := int(l.DataOffset) * 4
	l.OptCut = hlen > len(data)
	if l.OptCut {
		l.Contents, l.Payload, l.Options = data, nil, data[20:]
		return nil
	}
	l.Contents, l.Payload, l.Options = data[:hlen], data[hlen:], data[20:hlen]
	return nil
}

func (l *tcpLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeTCP }
func (l *tcpLayer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypePayload }

// TCP option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018, RFC 7413, RFC 6994).
const (
	optEOL       = 0
	optNOP       = 1
	optMSS       = 2
	optWScale    = 3
	optSACKPerm  = 4
	optSACK      = 5
	optTimestamp = 8
	optTFO       = 34
	optExp       = 254 // shared experimental kind; TFO used it with ExID 0xf989 before kind 34
)

// parseOptions copies the options into s and reports whether a Fast Open
// option was present and whether an option lied about its length.
//
// Parsing stops at EOL, and at an option whose length is below 2 or runs past
// the header: nothing after it can be trusted (RFC 9293 §3.1 "options ...
// must be interpreted"; tshark likewise marks the rest malformed). An option
// of a known kind with the wrong fixed length is ignored and flagged, and
// parsing goes on since its length byte still frames it. When cut is set the
// capture ended inside the options, so running off the end is no lie.
func parseOptions(opts []byte, cut bool, s *fsm.Segment) (tfo, bad bool) {
	for len(opts) > 0 {
		kind := opts[0]
		if kind == optEOL {
			return tfo, bad
		}
		if kind == optNOP {
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 {
			return tfo, bad || !cut
		}
		n := int(opts[1])
		if n < 2 {
			return tfo, true
		}
		if n > len(opts) {
			return tfo, bad || !cut
		}
		body := opts[2:n]
		switch kind {
		case optMSS:
			if n != 4 {
				bad = true
				break
			}
			s.HasMSS, s.MSS = true, be16(body)
		case optWScale:
			if n != 3 {
				bad = true
				break
			}
			s.HasWScale, s.WScale = true, body[0]
		case optSACKPerm:
			if n != 2 {
				bad = true
				break
			}
			s.SACKPerm = true
		case optSACK:
			if n < 10 || (n-2)%8 != 0 {
				bad = true
				break
			}
			s.SACKCount = uint8((n - 2) / 8)
			// The first block is where a D-SACK sits (RFC 2883 §4).
			s.SACKLeft, s.SACKRight = fsm.Seq(be32(body[0:4])), fsm.Seq(be32(body[4:8]))
		case optTimestamp:
			if n != 10 {
				bad = true
				break
			}
			s.HasTS, s.TSVal, s.TSEcr = true, be32(body[0:4]), be32(body[4:8])
		case optTFO:
			tfo = true
		case optExp:
			if n >= 4 && be16(body) == 0xf989 {
				tfo = true
			}
		}
		opts = opts[n:]
	}
	return tfo, bad
}

// tcpChecksum returns the one's-complement sum of the pseudo-header (RFC 9293
// §3.1 for IPv4, RFC 8200 §8.1 for IPv6) and seg, folded to 16 bits. A segment
// whose checksum field is correct sums to 0xffff.
func tcpChecksum(src, dst netip.Addr, seg []byte) uint16 {
	var sum uint64
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		sum = uint64(be32(s[:])) + uint64(be32(d[:]))
	} else {
		s, d := src.As16(), dst.As16()
		sum = sumBytes(s[:], 0)
		sum = sumBytes(d[:], sum)
	}
	sum += 6 + uint64(len(seg)) // protocol and TCP length
	sum = sumBytes(seg, sum)
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return uint16(sum)
}

// sumBytes adds b to sum as big-endian 16-bit words, eight bytes at a time.
// Adding 32-bit words and folding later gives the same one's-complement sum
// (2^16 ≡ 1 mod 2^16-1); 64 bits cannot overflow for any frame.
func sumBytes(b []byte, sum uint64) uint64 {
	for len(b) >= 8 {
		sum += uint64(be32(b[0:4])) + uint64(be32(b[4:8]))
		b = b[8:]
	}
	for len(b) >= 2 {
		sum += uint64(be16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint64(b[0]) << 8
	}
	return sum
}
