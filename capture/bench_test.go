package capture_test

import (
	"bytes"
	"testing"

	"github.com/tcptrace/tcptrace/capture"
)

// BenchmarkDecode measures decoding one prebuilt frame.
func BenchmarkDecode(b *testing.B) {
	for _, bb := range []struct {
		name  string
		link  capture.LinkType
		frame []byte
		opt   capture.Options
	}{
		{"ipv4-syn", capture.LinkTypeEthernet, ethIPv4SYN, capture.Options{}},
		{"ipv4-syn-checksum", capture.LinkTypeEthernet, ethIPv4SYN, capture.Options{VerifyChecksums: true}},
		{"ipv6-ext", capture.LinkTypeEthernet, ethIPv6Ext, capture.Options{}},
		{"sll2", capture.LinkTypeLinuxSLL2, sll2IPv6, capture.Options{}},
		{"qinq", capture.LinkTypeEthernet, ethQinQ, capture.Options{}},
		{"gtp-u", capture.LinkTypeEthernet, gtpU, capture.Options{}},
		{"non-tcp", capture.LinkTypeEthernet, udpDNS, capture.Options{}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			d := capture.NewDecoder(bb.opt)
			var p capture.Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.frame)))
			n := 0
			for b.Loop() {
				d.Decode(bb.frame, bb.link, &p)
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}

// BenchmarkSource measures reading a 10000-frame capture held in memory.
func BenchmarkSource(b *testing.B) {
	for _, bb := range []struct {
		name string
		data []byte
	}{
		{"pcap", allocPcap(10000)},
		{"pcap-gzip", gz(b, allocPcap(10000))},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bb.data)))
			n := 0
			var p capture.Packet
			for b.Loop() {
				s, err := capture.NewSource(bytes.NewReader(bb.data), "mem", capture.Options{})
				if err != nil {
					b.Fatal(err)
				}
				for s.Next(&p) {
				}
				n += int(s.Stats().Packets)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
		})
	}
}
