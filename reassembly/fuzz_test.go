package reassembly_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// The fuzzer's world: four endpoints (two ports on one host, so that
// 4-tuples share addresses; one IPv6), each with its own ISN, one of them
// close to the wrap of the sequence space.
var (
	fzEndpoints = [4]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:40000"),
		netip.MustParseAddrPort("10.0.0.2:80"),
		netip.MustParseAddrPort("10.0.0.1:40001"),
		netip.MustParseAddrPort("[2001:db8::1]:443"),
	}
	fzISN = [4]uint32{0xffffff00, 1000, 0x80000000, 5}
)

// fzRecord is the size of one packet in the fuzz input:
//
//	0  src (bits 0-1), dst (bits 2-3), bad checksum (4), truncated (5),
//	   SYN options (6), time goes back 1 s (7)
//	1  TCP flags
//	2  SEG.SEQ: the sender's ISN + 100 * (b >> 2) + b & 3
//	3  SEG.ACK: the receiver's ISN + 100 * (b >> 2) + b & 3
//	4  payload length: 20 * b
//	5  time step: 5 ms * b below 200, else 4 s * (b - 200)
//	6  window, and the timestamp value
//	7  SACK blocks (bits 0-2), window scale (4-7)
const fzRecord = 8

// fzUnits is the sequence offset byte b stands for.
func fzUnits(b byte) uint32 { return 100*uint32(b>>2) + uint32(b&3) }

// fzPkt is one packet of a seed script, in the units above.
type fzPkt struct {
	src, dst      int
	flags         fsm.Flags
	seq, ack, len byte
	step          byte
}

func fzEncode(script ...fzPkt) []byte {
	var b []byte
	for _, p := range script {
		b = append(b, byte(p.src|p.dst<<2), byte(p.flags), p.seq, p.ack, p.len, p.step, 0x40, 0x70)
	}
	return b
}

// fzConn is a scripted exchange between endpoints c and s: handshake, a
// request and a response, and a four-way close, 10 ms apart.
func fzConn(c, s int) []fzPkt {
	const (
		syn    = fsm.FlagSYN
		synack = fsm.FlagSYN | fsm.FlagACK
		ack    = fsm.FlagACK
		psh    = fsm.FlagPSH | fsm.FlagACK
		fin    = fsm.FlagFIN | fsm.FlagACK
	)
	// In sequence units: 1 is ISN+1, 5 is ISN+101 (after 100 bytes), 6 is
	// ISN+102 (after a FIN).
	return []fzPkt{
		{c, s, syn, 0, 0, 0, 0},
		{s, c, synack, 0, 1, 0, 2},
		{c, s, ack, 1, 1, 0, 2},
		{c, s, psh, 1, 1, 5, 2},
		{s, c, psh, 1, 5, 5, 2},
		{c, s, fin, 5, 5, 0, 2},
		{s, c, ack, 5, 6, 0, 2},
		{s, c, fin, 5, 6, 0, 2},
		{c, s, ack, 6, 6, 0, 2},
	}
}

// FuzzTable feeds arbitrary packet sequences among a handful of endpoints
// through a flow table small enough (three flows, a 10 s idle timeout, a 1 s
// MSL) that eviction for the limit and for idleness, and the reuse of a
// 4-tuple by a new incarnation, all happen. Invariants: nothing panics;
// every flow reaches the done callback exactly once and never comes back
// from Observe after that; the table's counters agree with the flows handed
// over; and each endpoint's timeline is a chain in time order that ends in
// the endpoint's state.
func FuzzTable(f *testing.F) {
	const (
		syn    = fsm.FlagSYN
		rstack = fsm.FlagRST | fsm.FlagACK
	)
	f.Add(fzEncode(fzConn(0, 1)...))
	// Refused, and an unanswered SYN retransmitted.
	f.Add(fzEncode(fzPkt{2, 1, syn, 0, 0, 0, 0}, fzPkt{1, 2, rstack, 0, 0, 0, 1}, fzPkt{3, 1, syn, 0, 0, 0, 0}, fzPkt{3, 1, syn, 0, 0, 0, 200}, fzPkt{3, 1, syn, 0, 0, 0, 201}))
	// Four connections at once: the fourth evicts the least recently active.
	var four []fzPkt
	for i, p := range [][2]int{{0, 1}, {2, 1}, {3, 1}, {0, 3}} {
		four = append(four, fzPkt{p[0], p[1], syn, byte(4 * i), 0, 0, 1})
	}
	f.Add(fzEncode(append(four, fzConn(2, 3)...)...))
	// A closed connection, then its 4-tuple reused after TIME-WAIT, then an
	// idle gap longer than the idle timeout before a mid-stream segment.
	reuse := fzConn(0, 1)
	reuse = append(reuse, fzPkt{0, 1, syn, 200, 0, 0, 201}, fzPkt{1, 0, rstack, 0, 201, 0, 1})
	reuse = append(reuse, fzPkt{1, 0, fsm.FlagACK | fsm.FlagPSH, 9, 9, 3, 204})
	f.Add(fzEncode(reuse...))

	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := reassembly.Config{FSM: fsm.Config{MSL: time.Second}, IdleTimeout: 10 * time.Second, MaxFlows: 3, KeepSteps: 4}
		handed := make(map[*reassembly.Flow]int)
		var order []*reassembly.Flow
		tab := reassembly.NewTable(cfg, func(fl *reassembly.Flow) {
			handed[fl]++
			order = append(order, fl)
		})
		ts := t0
		for i := 0; len(data) >= fzRecord; i++ {
			b := data[:fzRecord]
			data = data[fzRecord:]
			src, dst := int(b[0]&3), int(b[0]>>2&3)
			if src == dst {
				dst = (src + 1) % 4
			}
			if b[5] < 200 {
				ts = ts.Add(time.Duration(b[5]) * 5 * time.Millisecond)
			} else {
				ts = ts.Add(time.Duration(b[5]-200) * 4 * time.Second)
			}
			if b[0]&0x80 != 0 {
				ts = ts.Add(-time.Second) // capture timestamps going backwards
			}
			seg := fsm.Segment{
				Seq:    fsm.Seq(fzISN[src] + fzUnits(b[2])),
				Ack:    fsm.Seq(fzISN[dst] + fzUnits(b[3])),
				Flags:  fsm.Flags(b[1]),
				Len:    20 * uint32(b[4]),
				Window: uint16(b[6]) << 8,
			}
			if b[0]&0x40 != 0 {
				seg.HasMSS, seg.MSS = true, 1460
				seg.HasWScale, seg.WScale = true, b[7]>>4
				seg.SACKPerm = true
				seg.HasTS, seg.TSVal, seg.TSEcr = true, uint32(b[6])*1000, uint32(i)
			}
			if n := b[7] & 7; n > 0 && n <= 4 {
				seg.SACKCount = n
				seg.SACKLeft = seg.Ack + 100
				seg.SACKRight = seg.Ack + 100 + fsm.Seq(b[4])
			}
			s, d := fzEndpoints[src], fzEndpoints[dst]
			m := reassembly.Meta{
				Frame: uint64(i + 1), WireLen: 54 + seg.Len, IPLen: 40 + seg.Len,
				Truncated: b[0]&0x20 != 0, BadChecksum: b[0]&0x10 != 0,
				IPv6: s.Addr().Is6() || d.Addr().Is6(),
			}
			fl, dir := tab.Observe(ts, s, d, seg, m)
			switch {
			case fl == nil:
				t.Fatalf("packet %d: Observe returned no flow", i+1)
			case handed[fl] > 0:
				t.Fatalf("packet %d: Observe returned flow %d, already handed to done", i+1, fl.ID)
			case fl.Key != reassembly.MakeKey(s, d):
				t.Fatalf("packet %d: flow key %v for %v -> %v", i+1, fl.Key, s, d)
			case fl.Dir(s) != dir || (dir == fsm.DirClient) != (fl.Client == s):
				t.Fatalf("packet %d: dir %v for sender %v; client %v", i+1, dir, s, fl.Client)
			}
			if tab.Len() > cfg.MaxFlows {
				t.Fatalf("packet %d: %d flows held, limit %d", i+1, tab.Len(), cfg.MaxFlows)
			}
			if i%5 == 4 {
				n := 0
				tab.Each(func(*reassembly.Flow) { n++ })
				if n != tab.Len() {
					t.Fatalf("Each visited %d flows, Len %d", n, tab.Len())
				}
			}
		}
		tab.Flush(ts)

		st := tab.Stats()
		if tab.Len() != 0 {
			t.Fatalf("%d flows held after Flush", tab.Len())
		}
		if st.Flows != uint64(len(order)) {
			t.Fatalf("Stats.Flows = %d, %d flows handed over", st.Flows, len(order))
		}
		var idle, limit, reused uint64
		ids := make(map[uint64]bool)
		for fl, n := range handed {
			if n != 1 {
				t.Fatalf("flow %d handed over %d times", fl.ID, n)
			}
			if fl.ID == 0 || fl.ID > st.Flows || ids[fl.ID] {
				t.Fatalf("flow id %d (of %d) out of range or repeated", fl.ID, st.Flows)
			}
			ids[fl.ID] = true
			switch fl.End {
			case reassembly.EndIdle:
				idle++
			case reassembly.EndLimit:
				limit++
			case reassembly.EndReused:
				reused++
			}
			if fl.LastFrame < fl.FirstFrame || fl.Packets[0]+fl.Packets[1] == 0 {
				t.Fatalf("flow %d: frames %d..%d, packets %v", fl.ID, fl.FirstFrame, fl.LastFrame, fl.Packets)
			}
			checkTimelines(t, fl)
		}
		if st.Evicted != idle+limit || st.EvictedLimit != limit || st.Reused != reused {
			t.Fatalf("Stats = %+v; flows ended idle %d, for the limit %d, reused %d", st, idle, limit, reused)
		}
		if st.MaxConcurrent > cfg.MaxFlows {
			t.Fatalf("Stats.MaxConcurrent = %d, limit %d", st.MaxConcurrent, cfg.MaxFlows)
		}
	})
}

// checkTimelines checks that each endpoint's timeline is a chain (every
// transition starts where the previous one ended), never goes back in
// time, moves between real states, and ends in the endpoint's state.
func checkTimelines(t *testing.T, fl *reassembly.Flow) {
	t.Helper()
	for d, tl := range fl.Conn.Timeline {
		for i, tr := range tl {
			if tr.From > fsm.StateTimeWait || tr.To > fsm.StateTimeWait || tr.From == tr.To {
				t.Fatalf("flow %d %v transition %d: %v -> %v", fl.ID, fsm.Dir(d), i, tr.From, tr.To)
			}
			if i > 0 && tl[i-1].To != tr.From {
				t.Fatalf("flow %d %v timeline broken at %d: %v -> %v after -> %v", fl.ID, fsm.Dir(d), i, tr.From, tr.To, tl[i-1].To)
			}
			if i > 0 && tr.Time.Before(tl[i-1].Time) {
				t.Fatalf("flow %d %v timeline goes back in time at %d: %v after %v", fl.ID, fsm.Dir(d), i, tr.Time, tl[i-1].Time)
			}
		}
		if n := len(tl); n > 0 && tl[n-1].To != fl.Conn.Ep[d].State {
			t.Fatalf("flow %d %v: final state %v, timeline ends in %v", fl.ID, fsm.Dir(d), fl.Conn.Ep[d].State, tl[n-1].To)
		}
	}
}
