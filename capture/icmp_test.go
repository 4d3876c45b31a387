package capture_test

import (
	"net/netip"
	"os"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/tcptrace/tcptrace/capture"
	"github.com/tcptrace/tcptrace/fsm"
)

const icmpFixture = "../pcaps/findings/conn_rejected_icmp.pcap"

// TestICMPErrors reads the ICMP reject fixture (iptables REJECT on a Linux
// server: port unreachable, admin prohibited, and ICMPv6 admin prohibited
// twice, for a retransmitted SYN): with Options.ICMPErrors the errors come
// out of Next with the quoted segment's tuple and ISN, and without it they
// are skipped; either way they count as non-TCP frames.
func TestICMPErrors(t *testing.T) {
	type icmp struct {
		frame    uint64
		src, dst string
		seq      fsm.Seq
		typ      uint8
		code     uint8
		v6       bool
		from     string
	}
	want := []icmp{
		{2, "10.99.0.1:49986", "10.99.0.2:8104", 1392560433, 3, 3, false, "10.99.0.2"},
		{4, "10.99.0.1:55890", "10.99.0.2:8105", 2345254042, 3, 13, false, "10.99.0.2"},
		{6, "[fd99::1]:42754", "[fd99::2]:8106", 3386737523, 1, 1, true, "fd99::2"},
		{8, "[fd99::1]:42754", "[fd99::2]:8106", 3386737523, 1, 1, true, "fd99::2"},
	}
	for _, on := range []bool{false, true} {
		s, err := capture.Open(icmpFixture, capture.Options{ICMPErrors: on})
		if err != nil {
			t.Fatal(err)
		}
		var got []icmp
		var p capture.Packet
		tcp := 0
		for s.Next(&p) {
			if p.ICMP.Type == 0 {
				tcp++
				continue
			}
			got = append(got, icmp{p.Frame, p.Src.String(), p.Dst.String(), p.Seg.Seq, p.ICMP.Type, p.ICMP.Code, p.ICMP.V6, p.ICMP.From.String()})
			if !p.ICMP.SeqQuoted || p.Seg.Flags != 0 || p.Seg.Len != 0 {
				t.Errorf("ICMPErrors=%v: frame %d: SeqQuoted %v, flags %v, len %d", on, p.Frame, p.ICMP.SeqQuoted, p.Seg.Flags, p.Seg.Len)
			}
		}
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
		st := s.Stats()
		s.Close()
		if tcp != 4 || st.TCP != 4 || st.Packets != 8 || st.SkippedBy.NonTCP != 4 {
			t.Errorf("ICMPErrors=%v: %d segments, stats TCP %d, packets %d, non-TCP %d; want 4, 4, 8, 4", on, tcp, st.TCP, st.Packets, st.SkippedBy.NonTCP)
		}
		if !on {
			if len(got) != 0 {
				t.Errorf("ICMPErrors=false: Next returned ICMP errors %+v", got)
			}
			continue
		}
		if len(got) != len(want) {
			t.Fatalf("ICMP errors = %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("ICMP error %d = %+v, want %+v", i, got[i], want[i])
			}
		}
	}
}

// TestICMPDecode checks what Decode makes of the fixture's ICMP frames and
// of ones that must not count: an error quoting UDP, an echo request, and
// a quote cut before the TCP ports; and that decoding them allocates
// nothing.
func TestICMPDecode(t *testing.T) {
	f, err := os.Open(icmpFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		frames = append(frames, data)
	}
	if len(frames) != 8 {
		t.Fatalf("%d frames, want 8", len(frames))
	}
	d := capture.NewDecoder(capture.Options{})
	var p capture.Packet
	v4, v6 := frames[1], frames[5]
	if r := d.Decode(v4, capture.LinkTypeEthernet, &p); r != capture.ResultNonTCP || p.ICMP.Type != 3 || p.Dst != netip.MustParseAddrPort("10.99.0.2:8104") {
		t.Errorf("Decode(ICMP port unreachable) = %v, %+v", r, p)
	}
	if r := d.Decode(v6, capture.LinkTypeEthernet, &p); r != capture.ResultNonTCP || p.ICMP.Type != 1 || p.ICMP.Code != 1 || !p.IPv6 {
		t.Errorf("Decode(ICMPv6 admin prohibited) = %v, %+v", r, p)
	}
	// v4: Ethernet 14 + IP 20; ICMP type at 34, quoted IP at 42 (protocol at 51).
	for name, frame := range map[string][]byte{
		"quoted udp": patch(v4, 51, 17),
		"echo":       patch(v4, 34, 8),
		"redirect":   patch(v4, 34, 5),
		"cut quote":  cutICMP(v4, 42+20+2),
	} {
		if r := d.Decode(frame, capture.LinkTypeEthernet, &p); r != capture.ResultNonTCP || p.ICMP != (capture.ICMPError{}) {
			t.Errorf("Decode(%s) = %v, ICMP %+v; want non_tcp and no ICMP error", name, r, p.ICMP)
		}
	}
	// A quote with the ports but not the sequence number.
	if r := d.Decode(cutICMP(v4, 42+20+4), capture.LinkTypeEthernet, &p); r != capture.ResultNonTCP || p.ICMP.Type != 3 || p.ICMP.SeqQuoted || p.Src != netip.MustParseAddrPort("10.99.0.1:49986") {
		t.Errorf("Decode(quote of 4 TCP bytes) = %v, %+v", r, p)
	}
	for _, frame := range [][]byte{v4, v6} {
		if n := testing.AllocsPerRun(1000, func() { d.Decode(frame, capture.LinkTypeEthernet, &p) }); n != 0 {
			t.Errorf("Decode(ICMP error) allocates %v times per frame, want 0", n)
		}
	}
}

// cutICMP returns the IPv4 frame cut to n bytes, with the IP total length
// fixed to match, as a sender quoting less would send it.
func cutICMP(frame []byte, n int) []byte {
	c := append([]byte(nil), frame[:n]...)
	l := n - 14
	c[16], c[17] = byte(l>>8), byte(l)
	return c
}
