package capture

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// Packet is one decoded TCP segment with the capture facts the analysis
// needs. It holds no slices into the capture buffer, so it may be kept after
// the next call to Source.Next; callers normally reuse one Packet value.
type Packet struct {
	Frame   uint64    // 1-based frame number in the capture, counting every frame (as Wireshark does)
	TS      time.Time // capture timestamp
	Src     netip.AddrPort
	Dst     netip.AddrPort
	Seg     fsm.Segment
	WireLen uint32 // frame length on the wire (pcap orig_len), what tshark counts as frame bytes
	CapLen  uint32 // bytes actually captured
	IPLen   uint32 // IP total length: IPv4 total length, or 40 + IPv6 payload length

	TTL      uint8  // IPv4 TTL or IPv6 hop limit
	IPID     uint16 // IPv4 identification (0 for IPv6)
	IPv6     bool   // the innermost IP header carrying the segment is IPv6
	Tunneled bool   // the segment was carried inside a tunnel (Teredo, GTP-U, VXLAN, Geneve, L2TP, GRE, IP-in-IP, IPv6-in-IPv4)
	VLAN     uint16 // outermost 802.1Q VLAN id, 0 if untagged

	// Truncated is set when fewer TCP payload bytes were captured than
	// Seg.Len, which comes from the IP length fields: the snaplen cut the
	// frame, or the segment rode in the first fragment of a fragmented
	// outer datagram. It is also set when OptionsCut is.
	Truncated bool
	// OptionsCut is set when the snaplen cut the frame inside the TCP
	// options: the options captured were parsed, and an absent option
	// (say window scale) may have been present on the wire.
	OptionsCut bool
	// Fragment is set when the segment came from the first fragment of a
	// fragmented IP datagram (its own, or a tunnel's outer one). If its own
	// datagram was fragmented, Seg.Len counts only this fragment's bytes.
	Fragment bool
	// BadOptions is set when a TCP option lied about its length (0, 1, past
	// the header) or had the wrong length for its kind; parsing stopped at
	// a lying option, so later options are missing from Seg.
	BadOptions bool
	// TCPOptLen is the length in bytes of the TCP options (data offset*4-20).
	TCPOptLen uint8
	// IPOptLen is the length of the IPv4 options or IPv6 extension headers
	// of the innermost IP header; an IPsec AH counts as an extension header.
	IPOptLen uint16
	// TFO is set when the segment carries a TCP Fast Open option (kind 34, RFC 7413).
	TFO bool
	// Checksum is the TCP checksum verdict; ChecksumUnchecked unless
	// Options.VerifyChecksums was set.
	Checksum ChecksumStatus

	// ICMP describes an ICMP or ICMPv6 destination unreachable that quotes
	// a TCP header; valid iff ICMP.Type != 0. The frame is then no TCP
	// segment (Decode returns ResultNonTCP): Src, Dst and Seg.Seq are those
	// of the quoted segment, the one the error answers, and every other
	// field but the capture facts (Frame, TS, WireLen, CapLen, IPv6, TTL,
	// IPID, IPLen, VLAN, Tunneled) is zero.
	ICMP ICMPError
}

// ICMPError is an ICMP destination unreachable (RFC 792 type 3) or ICMPv6
// destination unreachable (RFC 4443 type 1) whose quoted datagram is TCP
// (RFC 1122 §3.2.2.1, RFC 4443 §3.1: the IP header and at least the first
// 8 bytes of the TCP header are quoted).
type ICMPError struct {
	From netip.Addr // the ICMP sender: the quoted destination itself, or a router or firewall on the path
	Type uint8      // 3 (ICMP) or 1 (ICMPv6); 0 means no ICMP error
	Code uint8
	V6   bool // ICMPv6
	// SeqQuoted is set when the quote reached the TCP sequence number, so
	// that Packet.Seg.Seq holds it.
	SeqQuoted bool
}

// ChecksumStatus is the result of verifying a segment's TCP checksum.
type ChecksumStatus uint8

// Checksum verdicts.
const (
	ChecksumUnchecked ChecksumStatus = iota // not verified (the default, like tshark and zeek -C)
	ChecksumGood
	ChecksumBad
	ChecksumUnknown // could not be verified: truncated frame, fragment, or IPv6 routing header in transit
)

var checksumNames = [...]string{"unchecked", "good", "bad", "unknown"}

// String returns "unchecked", "good", "bad" or "unknown".
func (c ChecksumStatus) String() string {
	if int(c) < len(checksumNames) {
		return checksumNames[c]
	}
	return "ChecksumStatus(" + strconv.Itoa(int(c)) + ")"
}
