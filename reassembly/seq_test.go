package reassembly

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

var (
	cliAP = netip.MustParseAddrPort("10.98.0.1:40000")
	srvAP = netip.MustParseAddrPort("10.98.0.2:80")
	t0    = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

// conv feeds segments to one table and remembers each packet's analysis.
type conv struct {
	t     *testing.T
	tab   *Table
	ts    time.Time
	frame uint64
	flow  *Flow
	isn   [2]fsm.Seq
}

func newConv(t *testing.T, isnC, isnS fsm.Seq) *conv {
	return &conv{t: t, tab: NewTable(DefaultConfig(), nil), ts: t0, isn: [2]fsm.Seq{isnC, isnS}}
}

// seg sends a segment from d after dt; seq and ack are relative to the
// sender's and the receiver's ISN.
func (c *conv) seg(d fsm.Dir, dt time.Duration, flags fsm.Flags, seq, ack uint32, n uint32, win uint16) Packet {
	c.t.Helper()
	return c.raw(d, dt, fsm.Segment{Flags: flags, Seq: c.isn[d].Add(seq), Ack: c.isn[d.Other()].Add(ack), Len: n, Window: win}, Meta{})
}

func (c *conv) raw(d fsm.Dir, dt time.Duration, s fsm.Segment, m Meta) Packet {
	c.t.Helper()
	c.ts = c.ts.Add(dt)
	c.frame++
	m.Frame = c.frame
	src, dst := cliAP, srvAP
	if d == fsm.DirServer {
		src, dst = dst, src
	}
	f, got := c.tab.Observe(c.ts, src, dst, s, m)
	if got != d {
		c.t.Fatalf("frame %d: direction %v, want %v", c.frame, got, d)
	}
	c.flow = f
	return f.Pkt
}

const (
	cli = fsm.DirClient
	srv = fsm.DirServer
	ms  = time.Millisecond
	A   = fsm.FlagACK
	S   = fsm.FlagSYN
	F   = fsm.FlagFIN
	R   = fsm.FlagRST
	P   = fsm.FlagPSH
)

func (c *conv) handshake() {
	c.seg(cli, ms, S, 0, 0, 0, 1000)
	c.seg(srv, ms, S|A, 0, 1, 0, 1000)
	c.seg(cli, ms, A, 1, 1, 0, 1000)
}

func TestVerdictNames(t *testing.T) {
	names := VerdictNames()
	if len(names) != verdictCount {
		t.Fatalf("VerdictNames() has %d names, want %d", len(names), verdictCount)
	}
	for i, n := range names {
		v, ok := ParseVerdict(n)
		if !ok || v != 1<<i {
			t.Errorf("ParseVerdict(%q) = %v, %v, want %v", n, v, ok, Verdict(1)<<i)
		}
	}
	for _, tt := range []struct {
		v    Verdict
		want string
	}{
		{0, "none"},
		{VerdictRetransmission, "retransmission"},
		{VerdictFastRetransmission | VerdictRetransmission, "retransmission,fast_retransmission"},
		{VerdictDuplicateAck | VerdictReusedPorts, "duplicate_ack,reused_ports"},
	} {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("Verdict(%#x).String() = %q, want %q", uint16(tt.v), got, tt.want)
		}
	}
	if _, ok := ParseVerdict("tcp.analysis.retransmission"); ok {
		t.Error(`ParseVerdict("tcp.analysis.retransmission") succeeded, want the bare name only`)
	}
	var buf [4]string
	if got := VerdictZeroWindow.AppendNames(buf[:0]); !reflect.DeepEqual(got, []string{"zero_window"}) {
		t.Errorf("AppendNames = %v", got)
	}
}

// TestSeqWraparound follows a connection whose client sequence numbers wrap
// past 2^32: relative numbers keep counting and no verdict fires.
func TestSeqWraparound(t *testing.T) {
	c := newConv(t, 0xfffff000, 7)
	c.seg(cli, ms, S, 0, 0, 0, 60000)
	c.seg(srv, ms, S|A, 0, 1, 0, 60000)
	c.seg(cli, ms, A, 1, 1, 0, 60000)
	rel := uint32(1)
	for i := 0; i < 8; i++ {
		p := c.seg(cli, ms, A|P, rel, 1, 1000, 60000)
		if p.Verdict != 0 || p.Seq != rel {
			t.Fatalf("segment %d: verdict %v, seq %d; want none, %d", i, p.Verdict, p.Seq, rel)
		}
		rel += 1000
		if p := c.seg(srv, ms, A, 1, rel, 0, 60000); p.Verdict != 0 || p.Ack != rel {
			t.Fatalf("ack %d: verdict %v, ack %d; want none, %d", i, p.Verdict, p.Ack, rel)
		}
	}
	// A retransmission across the wrap is still a retransmission.
	if p := c.seg(cli, 500*ms, A, 4001, 1, 1000, 60000); !p.Verdict.Has(VerdictRetransmission) {
		t.Errorf("retransmission across the wrap: verdict %v", p.Verdict)
	}
	st := &c.flow.Half[cli].Stats
	if st.UniqueBytes != 8000 || st.RetransBytes != 1000 || st.RetransPackets != 1 {
		t.Errorf("unique %d, rexmit %d bytes in %d packets; want 8000, 1000, 1", st.UniqueBytes, st.RetransBytes, st.RetransPackets)
	}
	if c.flow.Half[cli].MissedBytes() != 0 {
		t.Errorf("MissedBytes() = %d across the wrap, want 0", c.flow.Half[cli].MissedBytes())
	}
}

// TestWindowScaling: windows are scaled only when both SYNs carried the
// option, and never on a SYN itself.
func TestWindowScaling(t *testing.T) {
	for _, tt := range []struct {
		name           string
		wsC, wsS       bool
		scaled         bool
		maxWin, minWin uint32
	}{
		{"both", true, true, true, 100 << 7, 100 << 7},
		{"client_only", true, false, false, 2000, 100},
		{"server_only", false, true, false, 2000, 100},
		{"neither", false, false, false, 2000, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newConv(t, 1000, 5000)
			c.raw(cli, ms, fsm.Segment{Flags: S, Seq: 1000, Window: 2000, HasWScale: tt.wsC, WScale: 7}, Meta{})
			c.raw(srv, ms, fsm.Segment{Flags: S | A, Seq: 5000, Ack: 1001, Window: 2000, HasWScale: tt.wsS, WScale: 7}, Meta{})
			c.seg(cli, ms, A, 1, 1, 0, 100)
			st := &c.flow.Half[cli].Stats
			if st.WindowScaled != tt.scaled {
				t.Errorf("WindowScaled = %v, want %v", st.WindowScaled, tt.scaled)
			}
			// The SYN's 2000 is never scaled; the ACK's 100 is when agreed.
			wantMax := max(tt.maxWin, 2000)
			if st.MaxWindow != wantMax || st.MinWindow != tt.minWin {
				t.Errorf("MaxWindow, MinWindow = %d, %d, want %d, %d", st.MaxWindow, st.MinWindow, wantMax, tt.minWin)
			}
			wantWS := int8(wsNone)
			if tt.wsC && tt.wsS {
				wantWS = 7
			}
			if got := c.flow.Half[cli].WindowScale(); got != wantWS {
				t.Errorf("WindowScale() = %d, want %d", got, wantWS)
			}
		})
	}
}

// TestVerdictPrecedence checks one row per verdict and the precedence
// between them, with Wireshark 4.0's rules (the tshark comparison in
// cmd/tcptrace checks them against tshark itself).
func TestVerdictPrecedence(t *testing.T) {
	t.Run("dupack_fast_retransmission", func(t *testing.T) {
		c := newConv(t, 1000, 5000)
		c.handshake()
		for i := uint32(0); i < 4; i++ {
			c.seg(cli, ms, A, 1+100*i, 1, 100, 1000)
		}
		c.seg(srv, ms, A, 1, 101, 0, 1000)
		for i := uint32(1); i <= 3; i++ {
			p := c.seg(srv, ms, A, 1, 101, 0, 1000)
			if p.Verdict != VerdictDuplicateAck || p.DupAckNum != i || p.DupAckFrame != 8 {
				t.Fatalf("dup ack %d: %v #%d of frame %d", i, p.Verdict, p.DupAckNum, p.DupAckFrame)
			}
		}
		if p := c.seg(cli, 5*ms, A, 101, 1, 100, 1000); p.Verdict != VerdictFastRetransmission|VerdictRetransmission {
			t.Errorf("after 3 dup ACKs: %v, want fast retransmission", p.Verdict)
		}
		// Already acknowledged: spurious wins over everything.
		c.seg(srv, ms, A, 1, 401, 0, 1000)
		if p := c.seg(cli, ms, A, 101, 1, 100, 1000); p.Verdict != VerdictSpuriousRetransmission|VerdictRetransmission {
			t.Errorf("acknowledged data again: %v, want spurious retransmission", p.Verdict)
		}
	})
	t.Run("out_of_order_then_retransmission", func(t *testing.T) {
		c := newConv(t, 1000, 5000)
		c.handshake() // iRTT = 2 ms
		c.seg(cli, ms, A, 201, 1, 100, 1000)
		if p := c.seg(cli, ms/2, A, 1, 1, 100, 1000); p.Verdict != VerdictOutOfOrder {
			t.Errorf("within the iRTT: %v, want out_of_order", p.Verdict)
		}
		if p := c.seg(cli, 500*ms, A, 101, 1, 100, 1000); p.Verdict != VerdictRetransmission {
			t.Errorf("late: %v, want retransmission", p.Verdict)
		}
	})
	t.Run("lost_and_ack_lost", func(t *testing.T) {
		c := newConv(t, 1000, 5000)
		c.handshake()
		c.seg(cli, ms, A, 1, 1, 100, 1000)
		if p := c.seg(srv, ms, A, 1, 201, 0, 1000); p.Verdict != VerdictAckLostSegment {
			t.Errorf("ACK beyond everything: %v", p.Verdict)
		}
		if p := c.seg(cli, ms, A, 201, 1, 100, 1000); p.Verdict != VerdictLostSegment {
			t.Errorf("segment after a hole: %v", p.Verdict)
		}
		if p := c.seg(cli, ms, R|A, 900, 1, 0, 0); p.Verdict != 0 {
			t.Errorf("RST beyond nextseq: %v, want none (RST is never lost_segment or zero_window)", p.Verdict)
		}
	})
	t.Run("zero_window", func(t *testing.T) {
		c := newConv(t, 1000, 5000)
		c.handshake()
		c.seg(cli, ms, A, 1, 1, 100, 1000)
		if p := c.seg(srv, ms, A, 1, 101, 0, 0); p.Verdict != VerdictZeroWindow {
			t.Errorf("zero window: %v", p.Verdict)
		}
		if p := c.seg(cli, 200*ms, A, 101, 1, 1, 1000); p.Verdict != VerdictZeroWindowProbe {
			t.Errorf("probe: %v", p.Verdict)
		}
		if p := c.seg(srv, ms, A, 1, 101, 0, 0); p.Verdict != VerdictZeroWindowProbeAck|VerdictZeroWindow {
			t.Errorf("probe ACK: %v", p.Verdict)
		}
		if p := c.seg(srv, time.Second, A, 1, 101, 0, 500); p.Verdict != VerdictWindowUpdate {
			t.Errorf("window opens: %v", p.Verdict)
		}
		// The byte the probe carried is sent again with more: new data.
		if p := c.seg(cli, ms, A, 101, 1, 200, 1000); p.Verdict != 0 {
			t.Errorf("data after the probe: %v, want none", p.Verdict)
		}
		st := &c.flow.Half[srv].Stats
		if st.ZeroWindows != 2 || st.ZeroWindowTime < time.Second {
			t.Errorf("zero windows %d for %v, want 2 for at least 1s", st.ZeroWindows, st.ZeroWindowTime)
		}
	})
	t.Run("keep_alive", func(t *testing.T) {
		c := newConv(t, 1000, 5000)
		c.handshake()
		c.seg(cli, ms, A|P, 1, 1, 10, 1000)
		c.seg(srv, ms, A, 1, 11, 0, 1000)
		if p := c.seg(cli, time.Second, A, 10, 1, 0, 1000); p.Verdict != VerdictKeepAlive {
			t.Errorf("keep-alive: %v", p.Verdict)
		}
		if p := c.seg(srv, ms, A, 1, 11, 0, 1000); p.Verdict != VerdictKeepAliveAck {
			t.Errorf("keep-alive ACK: %v (it supersedes duplicate_ack)", p.Verdict)
		}
	})
	t.Run("window_full", func(t *testing.T) {
		c := newConv(t, 1000, 5000)
		c.handshake()
		if p := c.seg(cli, ms, A, 1, 1, 1000, 1000); p.Verdict != VerdictWindowFull {
			t.Errorf("segment filling the window: %v", p.Verdict)
		}
	})
	t.Run("reused_ports", func(t *testing.T) {
		c := newConv(t, 1000, 5000)
		c.handshake()
		c.seg(cli, ms, F|A, 1, 1, 0, 1000)
		c.seg(srv, ms, F|A, 1, 2, 0, 1000)
		c.seg(cli, ms, A, 2, 2, 0, 1000)
		first := c.flow
		if p := c.seg(cli, time.Second, S, 5000, 0, 0, 1000); p.Verdict != VerdictReusedPorts || p.Seq != 0 {
			t.Errorf("new SYN: %v, seq %d; want reused_ports, 0", p.Verdict, p.Seq)
		}
		if c.flow == first {
			t.Error("the table kept the old flow for a new incarnation")
		}
		if p := c.seg(cli, time.Second, S, 5000, 0, 0, 1000); p.Verdict != VerdictRetransmission {
			t.Errorf("SYN again: %v, want retransmission", p.Verdict)
		}
	})
}

// TestHandshakeRTTClockBackwards: a SYN-ACK stamped before its SYN (a
// damaged timestamp: tcpflow's bug8.pcap has a microsecond field of 8.9 s)
// measures no handshake RTT, and a later acknowledgment of the SYN does not
// stand in for the first one.
func TestHandshakeRTTClockBackwards(t *testing.T) {
	c := newConv(t, 1000, 5000)
	c.seg(cli, ms, S, 0, 0, 0, 1000)
	c.seg(srv, -5*time.Second, S|A, 0, 1, 0, 1000)
	c.seg(cli, ms, A, 1, 1, 0, 1000)
	c.seg(srv, time.Second, A, 1, 1, 0, 1000)
	if st := &c.flow.Half[cli].Stats; st.HasHandshakeRTT {
		t.Errorf("client handshake RTT %v, want none", st.HandshakeRTT)
	}
	if st := &c.flow.Half[srv].Stats; !st.HasHandshakeRTT || st.HandshakeRTT != ms {
		t.Errorf("server handshake RTT %v (%v), want 1ms", st.HandshakeRTT, st.HasHandshakeRTT)
	}
}

// TestStatsOstermann checks the Ostermann-style counters on a transfer with a
// retransmission, a hole the receiver acknowledged (capture loss) and a
// hole later filled by a retransmission (network loss).
func TestStatsOstermann(t *testing.T) {
	c := newConv(t, 1000, 5000)
	c.raw(cli, ms, fsm.Segment{Flags: S, Seq: 1000, Window: 1000, HasMSS: true, MSS: 100}, Meta{})
	c.raw(srv, 10*ms, fsm.Segment{Flags: S | A, Seq: 5000, Ack: 1001, Window: 1000, HasMSS: true, MSS: 100}, Meta{})
	c.seg(cli, ms, A, 1, 1, 0, 1000)
	c.seg(cli, ms, A|P, 1, 1, 100, 1000)     // 1-101
	c.seg(cli, ms, A, 201, 1, 100, 1000)     // 201-301: 101-201 not captured
	c.seg(srv, 2*ms, A, 1, 301, 0, 1000)     // the receiver had it: capture loss
	c.seg(cli, ms, A, 401, 1, 100, 1000)     // 401-501: 301-401 missing
	c.seg(srv, 2*ms, A, 1, 301, 0, 1000)     // dup ACK: the network lost it
	c.seg(cli, 300*ms, A, 301, 1, 100, 1000) // retransmission fills the hole
	c.seg(srv, 3*ms, A, 1, 501, 0, 1000)
	c.seg(cli, ms, A, 401, 1, 100, 1000) // a plain retransmission
	c.seg(cli, ms, A, 501, 1, 250, 1000) // larger than the peer's MSS
	c.raw(cli, ms, fsm.Segment{Flags: A, Seq: 1000 + 751, Ack: 5001, Len: 0, Window: 1000}, Meta{IPID: 77})
	c.raw(cli, 0, fsm.Segment{Flags: A, Seq: 1000 + 751, Ack: 5001, Len: 0, Window: 1000}, Meta{IPID: 77}) // capture duplicate
	st := &c.flow.Half[cli].Stats
	want := DirStats{Packets: 10, DataPackets: 6, DataBytes: 750, UniqueBytes: 650, RetransPackets: 1, RetransBytes: 100, OutOfOrder: 1, SYN: 1}
	got := DirStats{Packets: st.Packets, DataPackets: st.DataPackets, DataBytes: st.DataBytes, UniqueBytes: st.UniqueBytes,
		RetransPackets: st.RetransPackets, RetransBytes: st.RetransBytes, OutOfOrder: st.OutOfOrder, SYN: st.SYN}
	if got != want {
		t.Errorf("stats = %+v\nwant    %+v", got, want)
	}
	if st.Duplicates != 1 {
		t.Errorf("Duplicates = %d, want 1", st.Duplicates)
	}
	if st.SuperSegments != 1 || st.MaxSuperSegment != 250 || st.PeerMSS != 100 {
		t.Errorf("super segments %d (max %d, peer MSS %d), want 1 (250, 100)", st.SuperSegments, st.MaxSuperSegment, st.PeerMSS)
	}
	if st.CaptureLossEvents != 1 || st.CaptureLossBytes != 100 {
		t.Errorf("capture loss %d events, %d bytes; want 1, 100", st.CaptureLossEvents, st.CaptureLossBytes)
	}
	if st.NetworkLossEvents != 1 || st.NetworkLossBytes != 100 {
		t.Errorf("network loss %d events, %d bytes; want 1, 100", st.NetworkLossEvents, st.NetworkLossBytes)
	}
	if got := c.flow.Half[cli].MissedBytes(); got != 100 {
		t.Errorf("MissedBytes() = %d, want 100 (the hole the receiver acknowledged)", got)
	}
	if got := c.flow.Half[cli].UnresolvedGapBytes(); got != 0 {
		t.Errorf("UnresolvedGapBytes() = %d, want 0", got)
	}
	if !st.HasHandshakeRTT || st.HandshakeRTT != 10*ms {
		t.Errorf("handshake RTT %v (%v), want 10ms", st.HandshakeRTT, st.HasHandshakeRTT)
	}
	// Exact acknowledgments of segments sent once: the SYN (10 ms), 201-301
	// (2 ms), and 401-501 (acknowledged after the hole below it filled).
	// 1-101 and 301-401 were acknowledged only cumulatively; the second
	// 401-501 repeats the first (Karn) and nothing acknowledges it later.
	if st.RTT.Samples != 3 || st.RTT.Min != 2*ms || st.RTT.Max != 305*ms {
		t.Errorf("RTT samples %d (min %v, max %v), want 3 (2ms, 305ms)", st.RTT.Samples, st.RTT.Min, st.RTT.Max)
	}
	if st.InitialWindowPackets != 2 || st.InitialWindowBytes != 200 {
		t.Errorf("initial window %d packets, %d bytes; want 2, 200", st.InitialWindowPackets, st.InitialWindowBytes)
	}
}

func TestRTTQuantiles(t *testing.T) {
	var r RTT
	for i := 1; i <= 1000; i++ {
		r.add(time.Duration(i) * 100 * time.Microsecond) // 0.1 ms .. 100 ms
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * ms}, {0.95, 95 * ms}, {0.99, 99 * ms}, {1, 100 * ms}} {
		got := r.Quantile(tt.q)
		if d := got - tt.want; d < -tt.want/16 || d > tt.want/16 {
			t.Errorf("Quantile(%v) = %v, want %v within 6%%", tt.q, got, tt.want)
		}
	}
	if r.Min != 100*time.Microsecond || r.Max != 100*ms || r.Samples != 1000 {
		t.Errorf("min %v max %v samples %d", r.Min, r.Max, r.Samples)
	}
	if avg := r.Avg(); avg < 50*ms || avg > 50*ms+100*time.Microsecond {
		t.Errorf("Avg() = %v, want 50.05ms", avg)
	}
	if sd := r.Stddev(); sd < 28*ms || sd > 29*ms {
		t.Errorf("Stddev() = %v, want about 28.9ms", sd)
	}
	for i := 0; i < rttBuckets; i++ { // bucket midpoints map back to their bucket
		if b := rttBucket(rttBucketMid(i)); b != i {
			t.Errorf("rttBucket(rttBucketMid(%d)) = %d", i, b)
		}
	}
}

// TestDSACK counts a first SACK block below the cumulative ACK (RFC 2883)
// when the decoder provides the block edges.
func TestDSACK(t *testing.T) {
	c := newConv(t, 1000, 5000)
	c.handshake()
	c.seg(cli, ms, A, 1, 1, 100, 1000)
	c.raw(srv, ms, fsm.Segment{Flags: A, Seq: 5001, Ack: 1101, Window: 1000, SACKCount: 1, SACKLeft: 1001, SACKRight: 1101}, Meta{})
	c.raw(srv, ms, fsm.Segment{Flags: A, Seq: 5001, Ack: 1101, Window: 1000, SACKCount: 2}, Meta{}) // edges not decoded
	st := &c.flow.Half[srv].Stats
	if st.SACKPackets != 2 || st.DSACKPackets != 1 || st.MaxSACKBlocks != 2 {
		t.Errorf("SACK %d, D-SACK %d, max blocks %d; want 2, 1, 2", st.SACKPackets, st.DSACKPackets, st.MaxSACKBlocks)
	}
}

// TestObserveAllocs: the steady state of an established flow allocates
// nothing per packet (style.md hot-path rule 7).
func TestObserveAllocs(t *testing.T) {
	c := newConv(t, 1000, 5000)
	c.handshake()
	seq := uint32(1)
	step := func() {
		c.seg(cli, ms, A|P, seq, 1, 1000, 1000)
		seq += 1000
		c.seg(srv, ms, A, 1, seq, 0, 1000)
	}
	for i := 0; i < 16; i++ { // warm up: unacked list capacity, RTT histogram
		step()
	}
	if n := testing.AllocsPerRun(1000, step); n != 0 {
		t.Errorf("Observe on an established flow: %v allocations per data+ACK pair, want 0", n)
	}
}

func BenchmarkObserveDataAck(b *testing.B) {
	tab := NewTable(DefaultConfig(), nil)
	ts := t0
	obs := func(src, dst netip.AddrPort, s fsm.Segment) {
		ts = ts.Add(time.Microsecond)
		tab.Observe(ts, src, dst, s, Meta{})
	}
	obs(cliAP, srvAP, fsm.Segment{Flags: S, Seq: 1000, Window: 1000})
	obs(srvAP, cliAP, fsm.Segment{Flags: S | A, Seq: 5000, Ack: 1001, Window: 1000})
	obs(cliAP, srvAP, fsm.Segment{Flags: A, Seq: 1001, Ack: 5001, Window: 1000})
	seq := fsm.Seq(1001)
	b.ReportAllocs()
	for b.Loop() {
		obs(cliAP, srvAP, fsm.Segment{Flags: A, Seq: seq, Ack: 5001, Len: 1448, Window: 1000})
		seq = seq.Add(1448)
		obs(srvAP, cliAP, fsm.Segment{Flags: A, Seq: 5001, Ack: seq, Window: 1000})
	}
}
