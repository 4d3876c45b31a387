package capture

import "strconv"

// LinkType is a capture file's link-layer header type: the LINKTYPE_ value
// of a pcap file header or pcapng interface description block
// (https://www.tcpdump.org/linktypes.html).
type LinkType uint16

// Link types the Decoder understands. DLT_RAW has the value 12 on most
// systems and 14 on OpenBSD; files written there carry those values instead
// of LinkTypeRaw, so both are accepted as raw IP.
const (
	LinkTypeNull         LinkType = 0   // BSD loopback: 4-byte address family in host byte order
	LinkTypeEthernet     LinkType = 1   // Ethernet II and 802.3
	LinkTypePPP          LinkType = 9   // PPP, optionally with HDLC-like address and control bytes
	LinkTypeRawDLT12     LinkType = 12  // DLT_RAW as most systems number it
	LinkTypeRawDLT14     LinkType = 14  // DLT_RAW as OpenBSD numbers it
	LinkTypePPPSerial    LinkType = 50  // PPP in HDLC-like framing, or Cisco HDLC (routers' serial lines)
	LinkTypePPPEthernet  LinkType = 51  // PPPoE session frames, without an Ethernet header
	LinkTypeRaw          LinkType = 101 // raw IPv4 or IPv6, told apart by the version nibble
	LinkTypeLoop         LinkType = 108 // OpenBSD loopback: address family in network byte order
	LinkTypeCHDLC        LinkType = 104 // Cisco HDLC: address, control, EtherType
	LinkTypeLinuxSLL     LinkType = 113 // Linux cooked capture v1
	LinkTypeJuniperEther LinkType = 178 // Juniper's pseudo-header, then Ethernet
	LinkTypeIPv4         LinkType = 228 // raw IPv4
	LinkTypeIPoIB        LinkType = 242 // IP over InfiniBand, behind a 40-byte pseudo-header
	LinkTypeIPv6         LinkType = 229 // raw IPv6
	LinkTypeLinuxSLL2    LinkType = 276 // Linux cooked capture v2
)

// String returns the libpcap name of the link type without its DLT_ prefix
// ("EN10MB", "LINUX_SLL2"), or "LINKTYPE_<n>" for a type it does not know.
func (l LinkType) String() string {
	switch l {
	case LinkTypeNull:
		return "NULL"
	case LinkTypeEthernet:
		return "EN10MB"
	case LinkTypePPP:
		return "PPP"
	case LinkTypePPPSerial:
		return "PPP_SERIAL"
	case LinkTypePPPEthernet:
		return "PPP_ETHER"
	case LinkTypeCHDLC:
		return "C_HDLC"
	case LinkTypeJuniperEther:
		return "JUNIPER_ETHER"
	case LinkTypeIPoIB:
		return "IPOIB"
	case LinkTypeRawDLT12, LinkTypeRawDLT14, LinkTypeRaw:
		return "RAW"
	case LinkTypeLoop:
		return "LOOP"
	case LinkTypeLinuxSLL:
		return "LINUX_SLL"
	case LinkTypeIPv4:
		return "IPV4"
	case LinkTypeIPv6:
		return "IPV6"
	case LinkTypeLinuxSLL2:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + strconv.Itoa(int(l))
}

// Supported reports whether the Decoder can decode frames of this link type.
func (l LinkType) Supported() bool {
	switch l {
	case LinkTypeNull, LinkTypeEthernet, LinkTypePPP, LinkTypePPPSerial, LinkTypePPPEthernet,
		LinkTypeRawDLT12, LinkTypeRawDLT14, LinkTypeRaw, LinkTypeLoop, LinkTypeCHDLC,
		LinkTypeLinuxSLL, LinkTypeJuniperEther, LinkTypeIPv4, LinkTypeIPoIB, LinkTypeIPv6, LinkTypeLinuxSLL2:
		return true
	}
	return false
}
