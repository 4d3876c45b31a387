// Command floor is the benchmark floor of issue 7: the least a gopacket-based
// TCP tool does per packet. It reads a pcap with pcapgo, decodes each frame
// with a DecodingLayerParser (Ethernet, 802.1Q, IPv4, IPv6, TCP) and counts
// packets and bytes per connection in a map keyed by the canonical 4-tuple,
// then prints the totals. With -read it only reads the records (the first
// row of issue 7's table).
//
//	floor [-read] capture.pcap
//
// It imports gopacket although only package capture of tcptrace may: it is
// a benchmark tool, not part of tcptrace, and measures gopacket itself.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

type key struct{ a, b netip.AddrPort }

type counts struct{ packets, bytes [2]uint64 }

func main() {
	args := os.Args[1:]
	readOnly := len(args) == 2 && args[0] == "-read"
	if readOnly {
		args = args[1:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: floor [-read] capture.pcap")
		os.Exit(2)
	}
	if err := run(args[0], readOnly, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "floor: %v\n", err)
		os.Exit(1)
	}
}

func run(path string, readOnly bool, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	var (
		eth  layers.Ethernet
		dot  layers.Dot1Q
		ip4  layers.IPv4
		ip6  layers.IPv6
		tcp  layers.TCP
		body gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &dot, &ip4, &ip6, &tcp, &body)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	flows := make(map[key]*counts)
	var packets, tcpPackets uint64
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		packets++
		if readOnly {
			continue
		}
		if err := p.DecodeLayers(data, &decoded); err != nil {
			continue
		}
		var src, dst netip.Addr
		isTCP := false
		for _, t := range decoded {
			switch t {
			case layers.LayerTypeIPv4:
				src, _ = netip.AddrFromSlice(ip4.SrcIP)
				dst, _ = netip.AddrFromSlice(ip4.DstIP)
			case layers.LayerTypeIPv6:
				src, _ = netip.AddrFromSlice(ip6.SrcIP)
				dst, _ = netip.AddrFromSlice(ip6.DstIP)
			case layers.LayerTypeTCP:
				isTCP = true
			}
		}
		if !isTCP {
			continue
		}
		tcpPackets++
		s := netip.AddrPortFrom(src, uint16(tcp.SrcPort))
		d := netip.AddrPortFrom(dst, uint16(tcp.DstPort))
		k, dir := key{s, d}, 0
		if d.Addr().Less(s.Addr()) || d.Addr() == s.Addr() && d.Port() < s.Port() {
			k, dir = key{d, s}, 1
		}
		c := flows[k]
		if c == nil {
			c = &counts{}
			flows[k] = c
		}
		c.packets[dir]++
		c.bytes[dir] += uint64(len(data))
	}
	_, err = fmt.Fprintf(stdout, "packets %d tcp %d flows %d\n", packets, tcpPackets, len(flows))
	return err
}
