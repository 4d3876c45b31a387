// Package capture turns capture files and live interfaces into TCP
// segments: bytes in, capture.Packet out. It is the only package of
// tcptrace that imports gopacket.
//
// # What it owns
//
//   - Reading pcap (either byte order, microsecond or nanosecond
//     timestamps) and pcapng (several sections, several interfaces with
//     their own link types and if_tsresol, enhanced, simple and obsolete
//     packet blocks; other blocks are skipped), either of them optionally
//     gzip-compressed, from a file or standard input (Open, NewSource).
//   - Decoding each frame down to its innermost TCP header (Decoder):
//     Ethernet (with 802.1Q/802.1ad tags, up to 8, and LLC/SNAP), Linux
//     cooked capture v1 and v2, BSD null and OpenBSD loop, raw IP, PPP and
//     PPPoE, MPLS label stacks, IPv4 with options, IPv6 with extension
//     headers, IPsec AH, and the tunnels Teredo, GTP-U, VXLAN, GRE (including
//     PPTP's), IP in IP and IPv6 in IPv4.
//   - Filling fsm.Segment from the header, with the payload length taken
//     from the IP length fields (never from the captured bytes, so Ethernet
//     padding does not count and snaplen cuts are visible as
//     Packet.Truncated), and the options parsed by hand (MSS, window scale,
//     SACK-permitted, SACK block count, timestamps, Fast Open).
//   - Optional TCP checksum verification (Options.VerifyChecksums).
//   - Live capture on Linux without libpcap or cgo (OpenLive, Live): an
//     AF_PACKET socket read through the runtime poller, so that Stop
//     interrupts a wait; kernel timestamps; the 802.1Q tag the kernel took
//     out put back; LINUX_SLL2 headers synthesized for the any
//     pseudo-interface's cooked socket; a classic BPF program attached
//     before the first frame (rewritten for cooked sockets as libpcap
//     does); the kernel's drop counters.
//   - A per-frame hook (Options.Frame) that sees each raw frame before it
//     is numbered or decoded, to filter it in user space, copy it or end
//     the capture; and writing frames to pcap (Writer, tcpdump -w).
//   - Counting what it skips, and why (Stats, Result), and reporting a
//     damaged file as a *FormatError naming the file and byte offset, after
//     delivering every frame before the damage.
//
// # What it does not own
//
// It keeps no per-flow state: no flow table, no sequence tracking, no
// reassembly of TCP streams or IP fragments (package reassembly), no state
// machine (package fsm), no output (package report). It compiles no
// filters (package filter; cmd/tcptrace hands it the programs) and does
// not drop privileges (cmd/tcptrace). It never imports gopacket/reassembly,
// gopacket/tcpassembly or gopacket/pcap.
//
// # How
//
// The readers are our own rather than gopacket/pcapgo's, so that every
// error can name the exact byte offset of the damaged record and say what
// was wrong with it (pcapgo reports neither), so that gzip damage is told
// apart from capture damage, and so that a lying pcapng block length cannot
// make us allocate more than the bytes present. They read each record into
// one reused buffer; tests write their captures with pcapgo.
//
// Decoding uses gopacket's DecodingLayer API: every layer is a
// gopacket.DecodingLayer held as a field of the Decoder and reused for each
// frame. The layer implementations are our own because the v1.1.19 ones
// panic, allocate or give up on inputs that real captures contain (see
// layers.go), and the walk over them is our own loop rather than a
// gopacket.DecodingLayerParser because it needs context across layers (see
// Decoder). Decoding a frame allocates nothing: malformed frames are
// counted, never turned into errors.
//
// For gzip input, byte offsets count decompressed bytes.
//
// Frame numbers count every frame (record or packet block) from 1, as
// Wireshark does, plus Options.FrameBase. A frame whose timestamp goes
// backwards is kept in capture order and reported in Stats.Warnings.
//
// A TCP header that arrives in the first fragment of a fragmented IP
// datagram is decoded (Packet.Fragment) and later fragments are skipped, so
// each datagram counts once, as tshark counts it (tshark shows it on the
// last fragment instead, after reassembly).
package capture
