package fsm_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// seg is one scripted segment: who sends it, flags, seq, ack, payload length,
// and the time offset in milliseconds.
type seg struct {
	d        fsm.Dir
	flags    fsm.Flags
	seq, ack uint32
	n        uint32
	ms       int
}

const (
	C = fsm.DirClient
	S = fsm.DirServer

	syn    = fsm.FlagSYN
	synack = fsm.FlagSYN | fsm.FlagACK
	ack    = fsm.FlagACK
	fin    = fsm.FlagFIN | fsm.FlagACK
	rst    = fsm.FlagRST
	rstack = fsm.FlagRST | fsm.FlagACK
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func run(script []seg, end time.Duration) *fsm.Conn {
	c := fsm.NewConn(fsm.DefaultConfig())
	for i, s := range script {
		c.Step(uint64(i+1), t0.Add(time.Duration(s.ms)*time.Millisecond), s.d, fsm.Segment{Seq: fsm.Seq(s.seq), Ack: fsm.Seq(s.ack), Flags: s.flags, Len: s.n, Window: 1000})
	}
	c.Finish(t0.Add(end))
	return c
}

// states renders an endpoint's path as "CLOSED SYN-SENT ESTABLISHED".
func states(c *fsm.Conn, d fsm.Dir) string {
	tl := c.Timeline[d]
	if len(tl) == 0 {
		return c.Ep[d].State.String()
	}
	out := []string{tl[0].From.String()}
	for _, t := range tl {
		out = append(out, t.To.String())
	}
	return strings.Join(out, " ")
}

// The client opens 100, the server 300 (RFC 9293 Figure 6 numbering).
var handshake = []seg{
	{C, syn, 100, 0, 0, 0},
	{S, synack, 300, 101, 0, 10},
	{C, ack, 101, 301, 0, 20},
	{C, ack | fsm.FlagPSH, 101, 301, 10, 21},
	{S, ack, 301, 111, 0, 30},
}

func cat(parts ...[]seg) []seg {
	var out []seg
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestConnScenarios(t *testing.T) {
	tests := []struct {
		name           string
		script         []seg
		end            time.Duration
		client, server string
		hs             fsm.Handshake
		close          fsm.Close
	}{
		{"four_way_close", cat(handshake, []seg{
			{C, fin, 111, 301, 0, 40},
			{S, ack, 301, 112, 0, 50},
			{S, fin, 301, 112, 0, 60},
			{C, ack, 112, 302, 0, 70},
		}), time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseFourWay},
		// The same close with one FIN missing from the capture: the
		// peer's ACK of it shows it (TestMissedFIN).
		{"four_way_close_client_fin_missed", cat(handshake, []seg{
			{S, ack, 301, 112, 0, 50},
			{S, fin, 301, 112, 0, 60},
			{C, ack, 112, 302, 0, 70},
		}), time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseFourWay},
		{"four_way_close_server_fin_missed", cat(handshake, []seg{
			{C, fin, 111, 301, 0, 40},
			{S, ack, 301, 112, 0, 50},
			{C, ack, 112, 302, 0, 70},
		}), time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseFourWay},
		{"three_way_close", cat(handshake, []seg{
			{C, fin, 111, 301, 0, 40},
			{S, fin, 301, 112, 0, 50},
			{C, ack, 112, 302, 0, 60},
		}), time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseThreeWay},
		{"time_wait_expires_after_2msl", cat(handshake, []seg{
			{C, fin, 111, 301, 0, 40},
			{S, fin, 301, 112, 0, 50},
			{C, ack, 112, 302, 0, 60},
		}), 61 * time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT CLOSED",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseThreeWay},
		{"simultaneous_close", cat(handshake, []seg{
			{C, fin, 111, 301, 0, 40},
			{S, fin, 301, 111, 0, 41}, // does not ack the client's FIN: crossed
			{C, ack, 112, 302, 0, 50},
			{S, ack, 302, 112, 0, 51},
		}), time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT",
			"LISTEN SYN-RECEIVED ESTABLISHED FIN-WAIT-1 CLOSING TIME-WAIT",
			fsm.HandshakeThreeWay, fsm.CloseSimultaneous},
		{"simultaneous_open_with_retransmissions", []seg{
			{C, syn, 100, 0, 0, 0},
			{S, syn, 300, 0, 0, 1},
			{S, syn, 300, 0, 0, 1000},
			{C, syn, 100, 0, 0, 1001},
			{S, synack, 300, 101, 0, 1002},
			{C, synack, 100, 301, 0, 1003},
			{S, ack, 301, 101, 0, 1004},
			{C, ack, 101, 301, 0, 1005},
		}, 2 * time.Second,
			"CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED",
			"CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED",
			fsm.HandshakeSimultaneous, fsm.CloseOpen},
		{"simultaneous_open", []seg{
			{C, syn, 100, 0, 0, 0},
			{S, syn, 300, 0, 0, 1},
			{C, synack, 100, 301, 0, 10},
			{S, synack, 300, 101, 0, 11},
			{C, ack, 101, 301, 0, 20},
		}, time.Second,
			"CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED",
			"CLOSED SYN-SENT SYN-RECEIVED ESTABLISHED",
			fsm.HandshakeSimultaneous, fsm.CloseOpen},
		{"refused", []seg{
			{C, syn, 100, 0, 0, 0},
			{S, rstack, 0, 101, 0, 1},
		}, time.Second,
			"CLOSED SYN-SENT CLOSED", "CLOSED",
			fsm.HandshakeIncomplete, fsm.CloseRefused},
		{"unanswered_pending", []seg{
			{C, syn, 100, 0, 0, 0},
			{C, syn, 100, 0, 0, 1000},
			{C, syn, 100, 0, 0, 3000},
		}, 4 * time.Second,
			"CLOSED SYN-SENT", "UNKNOWN",
			fsm.HandshakeIncomplete, fsm.CloseUnanswered},
		{"unanswered_abandoned", []seg{
			{C, syn, 100, 0, 0, 0},
			{C, syn, 100, 0, 0, 1000},
		}, 30 * time.Second,
			"CLOSED SYN-SENT CLOSED", "UNKNOWN",
			fsm.HandshakeIncomplete, fsm.CloseUnanswered},
		{"reset_established_by_client", cat(handshake, []seg{
			{C, rstack, 111, 301, 0, 40},
		}), time.Second,
			"CLOSED SYN-SENT ESTABLISHED CLOSED",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseReset},
		{"rst_out_of_window_ignored", cat(handshake, []seg{
			{C, rst, 111 + 1<<30, 0, 0, 40},
		}), time.Second,
			"CLOSED SYN-SENT ESTABLISHED CLOSED",
			"LISTEN SYN-RECEIVED ESTABLISHED",
			fsm.HandshakeThreeWay, fsm.CloseReset},
		{"reset_in_syn_received_returns_to_listen", []seg{
			{C, syn, 100, 0, 0, 0},
			{S, synack, 300, 101, 0, 1},
			{C, rst, 101, 0, 0, 2},
		}, time.Second,
			// A bare RST at SEG.ACK is the §3.10.7.1 reply of a closed
			// port: the opener had given up before the SYN-ACK arrived.
			"CLOSED SYN-SENT CLOSED",
			"LISTEN SYN-RECEIVED LISTEN",
			fsm.HandshakeIncomplete, fsm.CloseReset},
		{"half_open", []seg{
			{C, syn, 100, 0, 0, 0},
			{S, synack, 300, 101, 0, 1},
			{S, synack, 300, 101, 0, 1000},
		}, 2 * time.Second,
			"CLOSED SYN-SENT ESTABLISHED",
			"LISTEN SYN-RECEIVED",
			fsm.HandshakePartial, fsm.CloseHalfOpen}, // the server's SYN-ACK never acknowledged
		{"half_close_with_data", cat(handshake, []seg{
			{C, fin, 111, 301, 0, 40},
			{S, ack, 301, 112, 0, 41},
			{S, ack, 301, 112, 1000, 50},
			{C, ack, 112, 1301, 0, 51},
			{S, ack, 1301, 112, 1000, 60},
		}), time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT",
			fsm.HandshakeThreeWay, fsm.CloseHalfClosed},
		{"fin_wait_2_timeout_rst", cat(handshake, []seg{
			{C, fin, 111, 301, 0, 40},
			{S, ack, 301, 112, 0, 41},
			{S, fin, 301, 112, 0, 6000},
			{C, rst, 112, 0, 0, 6001},
		}), 7 * time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 CLOSED",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseReset},
		{"retransmitted_syn_and_fin_move_once", []seg{
			{C, syn, 100, 0, 0, 0},
			{C, syn, 100, 0, 0, 1000},
			{S, synack, 300, 101, 0, 1001},
			{S, synack, 300, 101, 0, 2000},
			{C, ack, 101, 301, 0, 2001},
			{C, fin, 101, 301, 0, 2100},
			{C, fin, 101, 301, 0, 2400},
			{S, ack, 301, 102, 0, 2401},
			{S, fin, 301, 102, 0, 2500},
			{C, ack, 102, 302, 0, 2501},
		}, 3 * time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseFourWay},
		{"midstream", []seg{
			{C, ack, 5000, 9000, 100, 0},
			{S, ack, 9000, 5100, 0, 1},
			{S, fin, 9000, 5100, 0, 2},
			{C, fin, 5100, 9001, 0, 3},
			{S, ack, 9001, 5101, 0, 4},
		}, time.Second,
			"UNKNOWN ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			"UNKNOWN ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
			fsm.HandshakeMidstream, fsm.CloseThreeWay},
		{"syn_not_captured", []seg{
			{S, synack, 300, 101, 0, 1},
			{C, ack, 101, 301, 0, 2},
		}, time.Second,
			"CLOSED SYN-SENT ESTABLISHED",
			"LISTEN SYN-RECEIVED ESTABLISHED",
			fsm.HandshakePartial, fsm.CloseOpen},
		{"final_handshake_ack_not_captured", []seg{
			{C, syn, 100, 0, 0, 0},
			{S, synack, 300, 101, 0, 1},
			{S, ack | fsm.FlagPSH, 301, 101, 20, 3},
		}, time.Second,
			"CLOSED SYN-SENT ESTABLISHED",
			"LISTEN SYN-RECEIVED ESTABLISHED",
			fsm.HandshakePartial, fsm.CloseOpen},
		{"synack_not_captured", []seg{
			{C, syn, 100, 0, 0, 0},
			{C, ack, 101, 301, 0, 2},
			{S, ack, 301, 101, 10, 3},
		}, time.Second,
			"CLOSED SYN-SENT ESTABLISHED",
			"LISTEN SYN-RECEIVED ESTABLISHED",
			fsm.HandshakePartial, fsm.CloseOpen},
		{"lone_rst", []seg{
			{C, rstack, 5, 7, 0, 0},
		}, time.Second,
			"UNKNOWN CLOSED", "UNKNOWN",
			fsm.HandshakeMidstream, fsm.CloseReset},
		{"seq_wraparound", []seg{
			{C, syn, 0xfffffffe, 0, 0, 0},
			{S, synack, 0xffffff00, 0xffffffff, 0, 1},
			{C, ack, 0xffffffff, 0xffffff01, 0, 2},
			{C, fin, 0xffffffff, 0xffffff01, 10, 3}, // FIN at 9, past the wrap
			{S, fin, 0xffffff01, 10, 0, 4},
			{C, ack, 10, 0xffffff02, 0, 5},
		}, time.Second,
			"CLOSED SYN-SENT ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT",
			"LISTEN SYN-RECEIVED ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED",
			fsm.HandshakeThreeWay, fsm.CloseThreeWay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := run(tt.script, tt.end)
			if got := states(c, C); got != tt.client {
				t.Errorf("client = %s, want %s", got, tt.client)
			}
			if got := states(c, S); got != tt.server {
				t.Errorf("server = %s, want %s", got, tt.server)
			}
			if got := c.Handshake(); got != tt.hs {
				t.Errorf("Handshake() = %v, want %v", got, tt.hs)
			}
			if got, want := c.HalfCloseData, tt.name == "half_close_with_data"; got != want {
				t.Errorf("HalfCloseData = %v, want %v", got, want)
			}
			if got := c.Close(); got != tt.close {
				t.Errorf("Close() = %v, want %v", got, tt.close)
			}
			for d, tl := range c.Timeline {
				for i := 1; i < len(tl); i++ {
					if tl[i].Time.Before(tl[i-1].Time) {
						t.Errorf("%v timeline goes back in time at %d: %v", fsm.Dir(d), i, tl)
					}
					if tl[i].From != tl[i-1].To {
						t.Errorf("%v timeline not chained at %d", fsm.Dir(d), i)
					}
				}
			}
		})
	}
}

func TestSimultaneousCloseTimesAndFrames(t *testing.T) {
	c := run(cat(handshake, []seg{
		{C, fin, 111, 301, 0, 40},
		{S, fin, 301, 111, 0, 41},
		{C, ack, 112, 302, 0, 50},
		{S, ack, 302, 112, 0, 51},
	}), time.Second)
	// The server's CLOSING was caused by the client's FIN (frame 6) but
	// cannot precede the server's own FIN (frame 7, 41 ms).
	var got fsm.Transition
	for _, tr := range c.Timeline[S] {
		if tr.To == fsm.StateClosing {
			got = tr
		}
	}
	if got.Frame != 6 || !got.Time.Equal(t0.Add(41*time.Millisecond)) {
		t.Errorf("server CLOSING = frame %d at %v, want frame 6 at +41ms", got.Frame, got.Time.Sub(t0))
	}
}

func TestReusable(t *testing.T) {
	c := run(cat(handshake, []seg{
		{S, fin, 301, 111, 0, 40},
		{C, fin, 111, 302, 0, 41},
		{S, ack, 302, 112, 0, 42},
	}), 0)
	if c.Ep[S].State != fsm.StateTimeWait {
		t.Fatalf("server = %v, want TIME-WAIT", c.Ep[S].State)
	}
	now := t0.Add(time.Second)
	if c.Reusable(C, 100, now, time.Minute) {
		t.Errorf("Reusable(same ISN) = true, want false (retransmission)")
	}
	if !c.Reusable(C, 5000, now, time.Minute) {
		t.Errorf("Reusable(new ISN after close) = false, want true")
	}
	c.EndForReuse(99, now)
	if got := c.Ep[S].State; got != fsm.StateClosed {
		t.Errorf("after EndForReuse server = %v, want CLOSED", got)
	}
	live := run(handshake, 0)
	if live.Reusable(C, 5000, t0.Add(time.Second), time.Minute) {
		t.Errorf("Reusable(SYN on established) = true, want false")
	}
}

func TestStepAllocs(t *testing.T) {
	c := run(handshake, 0)
	s := fsm.Segment{Seq: 111, Ack: 301, Flags: ack, Len: 100, Window: 1000}
	frame := uint64(10)
	allocs := testing.AllocsPerRun(1000, func() {
		frame++
		c.Step(frame, t0.Add(time.Second), C, s)
		s.Seq = s.Seq.Add(100)
	})
	if allocs != 0 {
		t.Errorf("Step allocates %v per segment, want 0", allocs)
	}
}

func TestSeq(t *testing.T) {
	tests := []struct {
		a, b fsm.Seq
		lt   bool
	}{
		{1, 2, true},
		{2, 1, false},
		{0xffffffff, 0, true}, // wraparound
		{0, 0xffffffff, false},
		{0x7fffffff, 0x80000000, true},
		{5, 5, false},
	}
	for _, tt := range tests {
		if got := tt.a.LessThan(tt.b); got != tt.lt {
			t.Errorf("Seq(%#x).LessThan(%#x) = %v, want %v", uint32(tt.a), uint32(tt.b), got, tt.lt)
		}
	}
	if !fsm.Seq(0xfffffff0).InWindow(0xffffffe0, 0x100) || fsm.Seq(0x100).InWindow(0xffffffe0, 0x100) {
		t.Errorf("InWindow across the wrap is wrong")
	}
	if got := fsm.Seq(0xfffffff0).Add(0x20); got != 0x10 {
		t.Errorf("Add across the wrap = %#x, want 0x10", uint32(got))
	}
}

func TestStateNames(t *testing.T) {
	want := []string{"UNKNOWN", "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}
	var got []string
	for s := fsm.StateUnknown; s <= fsm.StateTimeWait; s++ {
		got = append(got, s.String())
		if p, ok := fsm.ParseState(s.String()); !ok || p != s {
			t.Errorf("ParseState(%q) = %v, %v", s.String(), p, ok)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names = %v, want %v", got, want)
	}
	if got := fsm.State(200).String(); got != "State(200)" {
		t.Errorf("State(200).String() = %q", got)
	}
}

func TestFlagViolations(t *testing.T) {
	tests := []struct {
		f    fsm.Flags
		want fsm.Violation
	}{
		{fsm.FlagSYN | fsm.FlagFIN, fsm.ViolationSYNFIN},
		{fsm.FlagSYN | fsm.FlagRST, fsm.ViolationSYNRST},
		{0, fsm.ViolationNullFlags},
		{fsm.FlagFIN | fsm.FlagPSH | fsm.FlagURG, fsm.ViolationXmas},
		{fsm.FlagFIN, fsm.ViolationFINNoACK},
		{fsm.FlagRST | fsm.FlagFIN, fsm.ViolationRSTFIN},
		{fsm.FlagRST | fsm.FlagFIN | fsm.FlagACK, fsm.ViolationRSTFIN},
	}
	for _, tt := range tests {
		c := run(handshake, 0)
		r := c.Step(99, t0.Add(time.Second), C, fsm.Segment{Seq: 111, Flags: tt.f})
		if r.Violation != tt.want {
			t.Errorf("Step(flags %v).Violation = %v, want %v", tt.f, r.Violation, tt.want)
		}
	}
}

// TestFlagViolationsActedOn: a RST+FIN at RCV.NXT resets the connection
// (RFC 9293 §3.10.7.4 checks RST before FIN) and a SYN+URG opens one, while
// both are still counted as violations.
func TestFlagViolationsActedOn(t *testing.T) {
	c := run(cat(handshake, []seg{{C, fsm.FlagRST | fsm.FlagFIN | ack, 111, 301, 0, 40}}), 0)
	if got := states(c, S); !strings.HasSuffix(got, "ESTABLISHED CLOSED") {
		t.Errorf("server after RST+FIN = %q, want it to end ESTABLISHED CLOSED", got)
	}
	if c.Ep[C].FinSent || c.Violations()[fsm.ViolationRSTFIN] != 1 {
		t.Errorf("RST+FIN: FinSent %v, rst_fin %d, want false, 1", c.Ep[C].FinSent, c.Violations()[fsm.ViolationRSTFIN])
	}
	c = run([]seg{{C, syn | fsm.FlagURG, 100, 0, 0, 0}, {S, synack, 300, 101, 0, 10}, {C, ack, 101, 301, 0, 20}}, 0)
	if got := states(c, S); !strings.HasSuffix(got, "ESTABLISHED") || c.Violations()[fsm.ViolationSYNURG] != 1 {
		t.Errorf("server after SYN+URG = %q, syn_urg %d, want ESTABLISHED, 1", got, c.Violations()[fsm.ViolationSYNURG])
	}
}

// TestSYNResend: the client's own SYN again on an established connection is
// syn_resend; a SYN with another ISN is syn_inside_connection (RFC 5961 §4).
func TestSYNResend(t *testing.T) {
	for _, tt := range []struct {
		seq  uint32
		want fsm.Violation
	}{
		{100, fsm.ViolationSYNResend},
		{5000, fsm.ViolationSYNInWindow},
	} {
		c := run(handshake, 0)
		if r := c.Step(99, t0.Add(time.Second), C, fsm.Segment{Seq: fsm.Seq(tt.seq), Flags: syn, Window: 1000}); r.Violation != tt.want {
			t.Errorf("Step(SYN seq %d).Violation = %v, want %v", tt.seq, r.Violation, tt.want)
		}
	}
}

// TestHalfCloseGap: the server acknowledges the client's FIN, stays silent
// 70 s in CLOSE-WAIT, then replies and closes: the gap is measured from
// that ACK (anomalies.md §4 idle_since).
func TestHalfCloseGap(t *testing.T) {
	c := run(cat(handshake, []seg{
		{C, fin, 111, 301, 0, 40},
		{S, ack, 301, 112, 0, 50},
		{S, ack | fsm.FlagPSH, 301, 112, 20, 70050},
		{C, ack, 112, 321, 0, 70060},
		{S, fin, 321, 112, 0, 70070},
		{C, ack, 112, 322, 0, 70080},
	}), 0)
	if !c.HalfCloseData || c.HalfCloseGap != 70*time.Second {
		t.Errorf("HalfCloseData, HalfCloseGap = %v, %v, want true, 70s", c.HalfCloseData, c.HalfCloseGap)
	}
}

// TestTimeWaitLate: the server's FIN retransmitted after the client entered
// TIME-WAIT (its final ACK lost) is time_wait_late_segment.
func TestTimeWaitLate(t *testing.T) {
	c := run(cat(handshake, []seg{
		{C, fin, 111, 301, 0, 40},
		{S, fin, 301, 112, 0, 50},
		{C, ack, 112, 302, 0, 60},
	}), 0)
	if r := c.Step(99, t0.Add(time.Second), S, fsm.Segment{Seq: 301, Ack: 112, Flags: fin, Window: 1000}); r.Violation != fsm.ViolationTimeWaitLate {
		t.Errorf("Step(FIN again).Violation = %v, want %v (client in %v)", r.Violation, fsm.ViolationTimeWaitLate, c.Ep[C].State)
	}
}

// TestTimeWaitSYNRejected: the server in TIME-WAIT answers a new SYN with an
// old ISN by a bare ACK; the client's RST from SYN-SENT marks the rejection
// (and, at RCV.NXT, assassinates TIME-WAIT).
func TestTimeWaitSYNRejected(t *testing.T) {
	c := run(cat(handshake, []seg{
		{S, fin, 301, 111, 0, 40},
		{C, ack, 111, 302, 0, 41},
		{C, fin, 111, 302, 0, 42},
		{S, ack, 302, 112, 0, 43},
		{C, syn, 100, 0, 0, 500},
		{S, ack, 302, 112, 0, 501},
		{C, fsm.FlagRST, 112, 0, 0, 800},
	}), 0)
	if v := c.Violations(); v[fsm.ViolationTimeWaitSYNRejected] != 1 || v[fsm.ViolationTimeWaitAssassination] != 1 {
		t.Errorf("time_wait_syn_rejected, time_wait_assassination = %d, %d, want 1, 1 (server %s)", v[fsm.ViolationTimeWaitSYNRejected], v[fsm.ViolationTimeWaitAssassination], states(c, S))
	}
}

// TestRejectedRSTDisowned: a RST in the server's name that the client does
// not accept (RFC 5961 §3.2: in the window but not at RCV.NXT, or outside
// it) is undone when the server goes on sending: the server passes through
// the close as the real one did, and the connection is not reset. A RST at
// RCV.NXT is accepted: the client is reset, and the server's later data is
// data after reset as before.
func TestRejectedRSTDisowned(t *testing.T) {
	after := func(rstSeq uint32) []seg {
		return cat(handshake, []seg{
			{S, rstack, rstSeq, 111, 0, 40}, // frame 6
			{C, ack, 111, 301, 0, 41},       // the challenge ACK
			{S, ack, 301, 111, 50, 50},      // frame 8: the real server's data
			{C, ack, 111, 351, 0, 51},
			{S, fin, 351, 111, 0, 60}, // it closes
			{C, ack, 111, 352, 0, 61},
			{C, fin, 111, 352, 0, 70}, // and so does the client
			{S, ack, 352, 112, 0, 80},
		})
	}
	for _, tt := range []struct {
		name string
		seq  uint32
		v    fsm.Violation
	}{
		{"in_window", 301 + 100, fsm.ViolationRSTInWindow},
		{"out_of_window", 301 + 1<<30, fsm.ViolationRSTOutOfWindow},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := run(after(tt.seq), time.Second)
			if got, want := states(c, S), "LISTEN SYN-RECEIVED ESTABLISHED CLOSED ESTABLISHED FIN-WAIT-1 FIN-WAIT-2 TIME-WAIT"; got != want {
				t.Errorf("server = %s, want %s", got, want)
			}
			if got, want := states(c, C), "CLOSED SYN-SENT ESTABLISHED CLOSE-WAIT LAST-ACK CLOSED"; got != want {
				t.Errorf("client = %s, want %s", got, want)
			}
			var back fsm.Transition
			if tl := c.Timeline[S]; len(tl) > 3 {
				back = tl[3]
			}
			if back.Frame != 8 || !back.Inferred || !strings.Contains(back.Cause, "RFC 5961 §3.2") || !strings.Contains(back.Cause, "not its own") {
				t.Errorf("return from the rejected RST = %+v, want inferred at frame 8 citing RFC 5961 §3.2", back)
			}
			if c.Close() != fsm.CloseFourWay || c.RstSeen || !c.RstDisowned {
				t.Errorf("Close() = %v, RstSeen %v, RstDisowned %v; want four_way, false, true", c.Close(), c.RstSeen, c.RstDisowned)
			}
			if v := c.Violations(); v[tt.v] != 1 || v[fsm.ViolationDataAfterRST] != 0 {
				t.Errorf("%v, data_after_reset = %d, %d; want 1, 0", tt.v, v[tt.v], v[fsm.ViolationDataAfterRST])
			}
		})
	}

	t.Run("exact", func(t *testing.T) {
		c := run(after(301)[:10], time.Second) // through the server's FIN
		if got, want := states(c, S), "LISTEN SYN-RECEIVED ESTABLISHED CLOSED"; got != want {
			t.Errorf("server = %s, want %s", got, want)
		}
		if got, want := states(c, C), "CLOSED SYN-SENT ESTABLISHED CLOSED"; got != want {
			t.Errorf("client = %s, want %s", got, want)
		}
		if c.Close() != fsm.CloseReset || !c.RstSeen || c.RstBy != S || c.RstFrame != 6 || c.RstDisowned {
			t.Errorf("Close() = %v, RstSeen %v by %v at %d, RstDisowned %v; want reset by the server at frame 6", c.Close(), c.RstSeen, c.RstBy, c.RstFrame, c.RstDisowned)
		}
		if v := c.Violations(); v[fsm.ViolationDataAfterRST] == 0 {
			t.Errorf("data_after_reset not flagged: %v", v)
		}
	})

	t.Run("rejected_then_silent", func(t *testing.T) {
		c := run(after(401)[:7], time.Second) // the sender is not heard from again
		if got, want := states(c, S), "LISTEN SYN-RECEIVED ESTABLISHED CLOSED"; got != want {
			t.Errorf("server = %s, want %s", got, want)
		}
		if c.Close() != fsm.CloseReset || c.RstDisowned {
			t.Errorf("Close() = %v, RstDisowned %v; want reset, false", c.Close(), c.RstDisowned)
		}
	})

	t.Run("later_rst_is_the_reset", func(t *testing.T) {
		c := run(cat(after(401)[:8], []seg{{S, rstack, 351, 111, 0, 55}}), time.Second)
		if got, want := states(c, S), "LISTEN SYN-RECEIVED ESTABLISHED CLOSED ESTABLISHED CLOSED"; got != want {
			t.Errorf("server = %s, want %s", got, want)
		}
		if c.Close() != fsm.CloseReset || c.RstBy != S || c.RstFrame != 9 || c.RstState != fsm.StateEstablished || !c.RstDisowned {
			t.Errorf("Close() = %v, RST by %v at frame %d in %v, RstDisowned %v; want reset by the server at frame 9 in ESTABLISHED, true", c.Close(), c.RstBy, c.RstFrame, c.RstState, c.RstDisowned)
		}
	})
}

// TestMissedFIN: an ACK one past everything the peer sent acknowledges a
// FIN the capture missed (the closes themselves are in TestConnScenarios,
// four_way_close_*_fin_missed). The sender's FIN-WAIT-1 is inferred at the
// acknowledging frame, and the FIN is not counted as a captured one. A lost
// one-byte data segment looks the same, and the data that follows it is
// not called data after a FIN.
func TestMissedFIN(t *testing.T) {
	t.Run("client FIN", func(t *testing.T) {
		c := run(cat(handshake, []seg{
			// {C, fin, 111, 301, 0, 40} was not captured.
			{S, ack, 301, 112, 0, 50},
			{S, fin, 301, 112, 0, 60},
			{C, ack, 112, 302, 0, 70},
		}), time.Second)
		tl := c.Timeline[C]
		if fw := tl[2]; fw.To != fsm.StateFinWait1 || !fw.Inferred || fw.Frame != 6 {
			t.Errorf("client's FIN-WAIT-1 transition = %+v, want inferred at frame 6", fw)
		}
		if c.FirstFin != C || c.Ep[C].FinCount != 0 || c.Ep[C].FinSeq != 111 {
			t.Errorf("first FIN by %v, client FIN count %d at %d; want the client, 0 captured, at 111",
				c.FirstFin, c.Ep[C].FinCount, c.Ep[C].FinSeq)
		}
	})
	t.Run("lost one-byte segment", func(t *testing.T) {
		c := run(cat(handshake, []seg{
			// {C, ack | fsm.FlagPSH, 111, 301, 1, 40} was not captured.
			{S, ack, 301, 112, 0, 50},
			{C, ack | fsm.FlagPSH, 112, 301, 5, 60},
		}), time.Second)
		if v := c.Violations()[fsm.ViolationDataAfterFIN]; v != 0 {
			t.Errorf("data_after_fin = %d, want 0: the inferred FIN was a byte of data", v)
		}
	})
	t.Run("ACK of data the capture saw", func(t *testing.T) {
		c := run(cat(handshake, []seg{
			{C, ack | fsm.FlagPSH, 111, 301, 1, 40},
			{S, ack, 301, 112, 0, 50},
		}), time.Second)
		if got := states(c, C); got != "CLOSED SYN-SENT ESTABLISHED" {
			t.Errorf("client = %q, want it still ESTABLISHED", got)
		}
	})
}
