package reassembly_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// TestICMPError checks which ICMP errors the table notes on a connection
// attempt: only a hard rejection quoting the client's SYN (its tuple and,
// when quoted, its ISN) while the client is in SYN-SENT; it never creates
// a flow or counts a packet.
func TestICMPError(t *testing.T) {
	port := reassembly.ICMPReject{From: srv.Addr(), Type: 3, Code: 3}
	tab := reassembly.NewTable(reassembly.DefaultConfig(), nil)
	syn := fsm.Segment{Seq: 1000, Flags: fsm.FlagSYN, Window: 512}
	f, _ := tab.Observe(t0, cli, srv, syn, reassembly.Meta{Frame: 1, WireLen: 74, IPLen: 60})
	at := t0.Add(time.Millisecond)

	other := netip.MustParseAddrPort("10.0.0.3:80")
	misses := []struct {
		name     string
		src, dst netip.AddrPort
		seq      fsm.Seq
		quoted   bool
		r        reassembly.ICMPReject
	}{
		{"other tuple", cli, other, 1000, true, port},
		{"quotes the server", srv, cli, 1000, true, port},
		{"other ISN", cli, srv, 999, true, port},
		{"net unreachable (soft)", cli, srv, 1000, true, reassembly.ICMPReject{Type: 3, Code: 0}},
		{"fragmentation needed", cli, srv, 1000, true, reassembly.ICMPReject{Type: 3, Code: 4}},
		{"ICMPv6 no route (soft)", cli, srv, 1000, true, reassembly.ICMPReject{Type: 1, Code: 0, V6: true}},
		{"time exceeded", cli, srv, 1000, true, reassembly.ICMPReject{Type: 11}},
	}
	for i, m := range misses {
		if got := tab.ICMPError(at, uint64(2+i), m.src, m.dst, m.seq, m.quoted, m.r); got != nil {
			t.Errorf("%s: ICMPError noted it on flow %d, want nil", m.name, got.ID)
		}
	}
	if f.Half[fsm.DirClient].Notes != nil {
		t.Fatalf("notes after misses: %+v", f.Half[fsm.DirClient].Notes)
	}
	// No sequence number quoted: the tuple decides.
	if got := tab.ICMPError(at, 10, cli, srv, 0, false, port); got != f {
		t.Fatalf("ICMPError(no seq quoted) = %v, want the attempt", got)
	}
	admin := reassembly.ICMPReject{From: netip.MustParseAddr("10.0.0.254"), Type: 3, Code: 13}
	if got := tab.ICMPError(at.Add(time.Second), 11, cli, srv, 1000, true, admin); got != f {
		t.Fatalf("ICMPError(admin prohibited) = %v, want the attempt", got)
	}
	n := f.Half[fsm.DirClient].Notes
	if n.ICMPReject.Count != 2 || n.ICMPReject.Frame != 10 || !n.ICMPReject.Time.Equal(at) || n.ICMP != port {
		t.Errorf("notes = %+v %+v, want 2 rejects from frame 10, the first one's type and sender", n.ICMPReject, n.ICMP)
	}
	if tab.Len() != 1 || f.Packets != [2]uint64{1, 0} || f.LastFrame != 1 {
		t.Errorf("table holds %d flows, flow packets %v, last frame %d; want 1, [1 0], 1", tab.Len(), f.Packets, f.LastFrame)
	}
	// Once the server answered, the attempt is over: errors are stale.
	tab.Observe(at, srv, cli, fsm.Segment{Seq: 5000, Ack: 1001, Flags: fsm.FlagSYN | fsm.FlagACK, Window: 512}, reassembly.Meta{Frame: 12, WireLen: 74, IPLen: 60})
	tab.Observe(at, cli, srv, fsm.Segment{Seq: 1001, Ack: 5001, Flags: fsm.FlagACK, Window: 512}, reassembly.Meta{Frame: 13, WireLen: 66, IPLen: 52})
	if got := tab.ICMPError(at, 14, cli, srv, 1001, true, port); got != nil {
		t.Errorf("ICMPError after the handshake = flow %d, want nil", got.ID)
	}
}

// TestICMPRejects pins the codes that reject an attempt.
func TestICMPRejects(t *testing.T) {
	for code := range 16 {
		want := code == 1 || code == 3 || code == 9 || code == 10 || code == 13
		if got := (reassembly.ICMPReject{Type: 3, Code: uint8(code)}).Rejects(); got != want {
			t.Errorf("ICMP 3/%d Rejects() = %v, want %v", code, got, want)
		}
		want6 := code == 1 || code >= 3 && code <= 6
		if got := (reassembly.ICMPReject{Type: 1, Code: uint8(code), V6: true}).Rejects(); got != want6 {
			t.Errorf("ICMPv6 1/%d Rejects() = %v, want %v", code, got, want6)
		}
	}
}
