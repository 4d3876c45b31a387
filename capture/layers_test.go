package capture

import (
	"net"
	"reflect"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestLayersInParser checks that our layers are real gopacket
// DecodingLayers: a gopacket.DecodingLayerParser built from them walks
// frames that gopacket itself serialized, and the TCP fields agree with
// what gopacket's own decoders read, and on the checksum gopacket computed.
func TestLayersInParser(t *testing.T) {
	mac := net.HardwareAddr{0, 0, 0x5e, 0, 0x53, 1}
	// tcp returns a segment checksummed over the pseudo-header of ip.
	tcp := func(ip gopacket.NetworkLayer) *layers.TCP {
		l := &layers.TCP{SrcPort: 40000, DstPort: 80, Seq: 0xfffffff0, Ack: 7, ACK: true, PSH: true, ECE: true, Window: 512,
			Options: []layers.TCPOption{{OptionType: 8, OptionLength: 10, OptionData: make([]byte, 8)}, {OptionType: 1}, {OptionType: 1}}}
		if err := l.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		return l
	}
	ip4 := func(p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 9, Protocol: p, SrcIP: net.IP{192, 0, 2, 1}, DstIP: net.IP{198, 51, 100, 2}}
	}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 3, NextHeader: layers.IPProtocolTCP, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	eth := func(t layers.EthernetType) *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: mac, DstMAC: mac, EthernetType: t}
	}
	payload := gopacket.Payload("payload")
	inner4, outer4 := ip4(layers.IPProtocolTCP), ip4(layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: 1234, DstPort: 4789}
	if err := udp.SetNetworkLayerForChecksum(outer4); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		layers []gopacket.SerializableLayer
		want   []gopacket.LayerType
	}{
		{"qinq ipv4", []gopacket.SerializableLayer{
			eth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeDot1Q},
			&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4},
			inner4, tcp(inner4), payload,
		}, []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeDot1Q, layers.LayerTypeDot1Q, layers.LayerTypeIPv4, layers.LayerTypeTCP}},
		{"ipv6", []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv6), ip6, tcp(ip6), payload},
			[]gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv6, layers.LayerTypeTCP}},
		{"vxlan", []gopacket.SerializableLayer{
			eth(layers.EthernetTypeIPv4), outer4, udp,
			&layers.VXLAN{ValidIDFlag: true, VNI: 5}, eth(layers.EthernetTypeIPv4), inner4, tcp(inner4), payload,
		}, []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeUDP, layers.LayerTypeVXLAN,
			layers.LayerTypeEthernet, layers.LayerTypeIPv4, layers.LayerTypeTCP}},
	}
	d := NewDecoder(Options{VerifyChecksums: true})
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet,
		&d.eth, &d.vlan, &d.ip4, &d.ip6, &d.ext, &d.frag, &d.udp, &d.vxlan, &d.gtp, &d.teredo, &d.tcp)
	parser.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 8)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, tt.layers...); err != nil {
				t.Fatal(err)
			}
			frame := buf.Bytes()
			if err := parser.DecodeLayers(frame, &decoded); err != nil {
				t.Fatalf("DecodeLayers: %v", err)
			}
			if !reflect.DeepEqual(decoded, tt.want) {
				t.Errorf("DecodeLayers decoded %v, want %v", decoded, tt.want)
			}

			var p Packet
			if r := d.Decode(frame, LinkTypeEthernet, &p); r != ResultTCP {
				t.Fatalf("Decode = %v, want tcp", r)
			}
			g := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.Default)
			gt := g.Layer(layers.LayerTypeTCP).(*layers.TCP)
			flags := 0
			for i, b := range []bool{gt.FIN, gt.SYN, gt.RST, gt.PSH, gt.ACK, gt.URG, gt.ECE, gt.CWR} {
				if b {
					flags |= 1 << i
				}
			}
			got := []uint64{uint64(p.Src.Port()), uint64(p.Dst.Port()), uint64(p.Seg.Seq), uint64(p.Seg.Ack), uint64(p.Seg.Flags), uint64(p.Seg.Window), uint64(p.Seg.Len), uint64(p.TCPOptLen)}
			want := []uint64{uint64(gt.SrcPort), uint64(gt.DstPort), uint64(gt.Seq), uint64(gt.Ack), uint64(flags), uint64(gt.Window), uint64(len(gt.Payload)), uint64(len(gt.Contents) - 20)}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Decode ports, seq, ack, flags, window, len, optlen = %v, gopacket says %v", got, want)
			}
			if !p.Seg.HasTS || p.Checksum != ChecksumGood {
				t.Errorf("Decode: timestamp option %v, checksum %v; want true, good", p.Seg.HasTS, p.Checksum)
			}
		})
	}
}
