// Package filter compiles tcpdump filter expressions (pcap-filter(7)) to classic
// BPF without libpcap, so that "tcptrace -r FILE EXPR" and "tcptrace -i IFACE
// EXPR" keep exactly the packets tcpdump keeps, on machines without cgo or
// pcap.h.
//
// Exactly means the same program. The package ports the parts of libpcap 1.10
// that a supported expression reaches: the grammar (precedence and qualifier
// inheritance included), gencode.c's code generation statement by statement,
// optimize.c's optimizer and icode_to_fcode's layout. Tests compare the result
// instruction for instruction with tcpdump -dd, and the packets kept with
// tcpdump -r on real and synthetic captures. Logic alone would not be enough:
// a load past the captured bytes rejects a packet, and libpcap's optimizer
// reorders tests ("port 80 or 1234" tests both values of the source port before
// loading the destination port), so only the same program keeps the same
// truncated packets.
//
// The semantics are libpcap's, quirks included: "vlan" moves the link-type and
// payload offsets 4 bytes on for the rest of the expression, whatever the
// boolean structure around it; "host" also matches ARP and RARP; IPv4 port and
// tcp[...] tests skip fragments other than the first; IPv6 port tests do not
// follow extension headers, while "tcp" looks behind one fragment header;
// tcp[...], udp[...] and icmp[...] read IPv4 only; "len", "greater" and "less"
// test the length on the wire.
//
// Supported: host, net (CIDR, "mask", short forms such as "net 10"), port and
// portrange, qualified by ip, ip6, tcp, udp or sctp and by src, dst, "src or
// dst" and "src and dst"; the protocols ip, ip6, tcp, udp, sctp, icmp and icmp6;
// vlan [ID]; greater, less, len; relations over ether/link, ip, ip6, tcp, udp,
// sctp and icmp loads with the arithmetic operators and named constants
// (tcp[tcpflags] & (tcp-syn|tcp-ack) != 0); and, or, not, &&, ||, ! and
// parentheses. Link types: Ethernet, Linux SLL and SLL2, raw IP, IPv4 and IPv6,
// BSD null and OpenBSD loop. Anything else tcpdump accepts (ether host, arp, ip
// proto, mpls, host and port names, ...) is refused with an UnsupportedError
// naming the construct, never compiled to something close; an expression
// tcpdump refuses gives a SyntaxError.
//
// Capture files: New and Filter.MatchLen (or Match) filter in user space. Live
// capture on a Linux packet socket: attach the program from CompileKernel,
// which reads a VLAN tag the kernel moved into packet metadata as libpcap does
// (for example with pcapgo.EthernetHandle.SetBPF after bpf.Assemble).
//
// The package owns parsing, code generation, optimization and the user-space
// interpreter. It does not own capture: opening files and sockets, attaching
// programs and decoding packets belong to the capture package and cmd.
package filter
