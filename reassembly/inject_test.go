package reassembly_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// ipkt is a segment with the IP fields the injection score reads.
type ipkt struct {
	from     bool // true: the server sent it
	flags    fsm.Flags
	seq, ack uint32
	n        uint32
	ms       int
	ttl      uint8
	id       uint16
}

func injFlow(t *testing.T, pkts []ipkt) *reassembly.Flow {
	t.Helper()
	return oneFlow(t, len(pkts), func(i int) (bool, int, fsm.Segment, reassembly.Meta) {
		p := pkts[i]
		return p.from, p.ms, fsm.Segment{Seq: fsm.Seq(p.seq), Ack: fsm.Seq(p.ack), Flags: p.flags, Len: p.n, Window: 1000}, reassembly.Meta{Frame: uint64(i + 1), TTL: p.ttl, IPID: p.id}
	})
}

// TestWatchInjectionFollowUp checks the indicators of the injection score
// that the segments after a RST decide (anomalies.md §5): the TTL points
// stand when the sender's next segment comes back to its baseline (or when
// nothing follows), and are withdrawn when TTLShiftRun segments in a row
// keep the RST's TTL (a route change); a bare ACK of the unchanged RCV.NXT
// from the receiver within ChallengeACKWait adds the challenge-ACK point.
func TestWatchInjectionFollowUp(t *testing.T) {
	// The server sends 5 data segments of 10 bytes at TTL 64 with IP IDs
	// 1..5 (frames 4-13 with the client's ACKs); at 200 ms a RST "from the
	// server" at TTL 63, in the client's window (frame 14).
	head := []ipkt{
		{false, syn, 100, 0, 0, 0, 64, 0}, {true, synack, 300, 101, 0, 1, 64, 0}, {false, ack, 101, 301, 0, 2, 64, 0},
	}
	for i := range 5 {
		head = append(head, ipkt{true, ack, 301 + 10*uint32(i), 101, 10, 10 + 10*i, 64, uint16(i + 1)},
			ipkt{false, ack, 101, 311 + 10*uint32(i), 0, 11 + 10*i, 64, uint16(100 + i)})
	}
	rst := func(ttl uint8, id uint16) ipkt { return ipkt{true, fsm.FlagRST, 351 + 1000, 0, 0, 200, ttl, id} }
	challenge := ipkt{false, ack, 101, 351, 0, 201, 64, 105} // at the client's SND.NXT, acking the server's 351
	back := ipkt{true, ack, 351, 101, 0, 400, 64, 6}
	at := func(ttl uint8, ms int) ipkt { return ipkt{true, ack, 351, 101, 0, ms, ttl, 7} }
	for _, tt := range []struct {
		name  string
		tail  []ipkt
		score uint32
		says  []string
	}{
		{"back to the baseline", []ipkt{rst(63, 6), back}, 2, []string{"TTL 63 against 64 on its other segments, and its next segment was back at 64"}},
		{"back and a challenge ACK", []ipkt{rst(63, 6), challenge, back}, 3, []string{"back at 64", "the receiver answered with a challenge ACK (RFC 5961 §3.2)"}},
		{"nothing after the RST", []ipkt{rst(63, 6)}, 2, []string{"no later segment of the sender came back to 64 to confirm it"}},
		{"two hops, one later segment at its TTL", []ipkt{rst(62, 6), at(62, 400)}, 3, []string{"TTL 62 against 64", "to confirm it"}},
		{"route change", []ipkt{rst(63, 6), at(63, 400), at(63, 500), at(63, 600)}, 0, nil},
		{"route change and a challenge ACK", []ipkt{rst(63, 6), challenge, at(63, 400), at(63, 500), at(63, 600)}, 0, nil},
		{"route change, IP ID off its run, challenge ACK", []ipkt{rst(63, 20006), challenge, at(63, 400), at(63, 500), at(63, 600)}, 3,
			[]string{"IP ID 20006 off its run at 5", "challenge ACK", "its TTL 63 not scored: the sender's next 3 segments kept it (a route change)"}},
		{"a third TTL decides nothing", []ipkt{rst(63, 6), at(63, 400), at(60, 500), at(63, 600), back}, 2, []string{"back at 64"}},
		{"challenge ACK too late", []ipkt{rst(63, 6), {false, ack, 101, 351, 0, 1201, 64, 105}}, 2, nil},
		{"an ACK of something else", []ipkt{rst(63, 6), {false, ack, 101, 341, 0, 201, 64, 105}}, 2, nil},
		{"a keep-alive is no answer", []ipkt{rst(63, 6), {false, ack, 100, 351, 0, 201, 64, 105}}, 2, nil},
		{"same TTL, challenge ACK alone", []ipkt{rst(64, 6), challenge}, 0, nil},
		// At RCV.NXT the RST is accepted: an ACK after it crossed it.
		{"exact RST: the ACK after it crossed it", []ipkt{{true, fsm.FlagRST, 351, 0, 0, 200, 63, 6}, challenge}, 2, nil},
		{"kept sending, back to the baseline", []ipkt{rst(63, 6), {true, ack, 351, 101, 10, 400, 64, 6}}, 5, []string{"back at 64", "the sender kept sending after it"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := injFlow(t, append(append([]ipkt(nil), head...), tt.tail...))
			n := notes(f, fsm.DirServer)
			if n.RSTInjection.Count != tt.score {
				t.Fatalf("RSTInjection = %+v (%s), want score %d", n.RSTInjection, n.RSTWhy, tt.score)
			}
			if tt.score > 0 && (n.RSTInjection.Frame != 14 || !n.RSTInjection.Time.Equal(t0.Add(200*time.Millisecond))) {
				t.Errorf("RSTInjection at frame %d %v, want 14 (the RST)", n.RSTInjection.Frame, n.RSTInjection.Time)
			}
			for _, s := range tt.says {
				if !strings.Contains(n.RSTWhy, s) {
					t.Errorf("RSTWhy = %q, want it to say %q", n.RSTWhy, s)
				}
			}
			if !strings.Contains(tt.name, "challenge ACK") && strings.Contains(n.RSTWhy, "challenge") {
				t.Errorf("RSTWhy = %q: no challenge ACK was sent", n.RSTWhy)
			}
		})
	}
}

// TestFlowIPIDs checks the IP-ID samples a flow keeps per sender: its first
// SYN-ACK's IPv4 identification or, if it sent none, its first RST's, with
// their frames and times. A RST after the sender's own SYN-ACK aborts the
// connection and is left out (its ID is the socket's on Linux, not the
// reply counter nmap's TI and CI classify).
func TestFlowIPIDs(t *testing.T) {
	f := injFlow(t, []ipkt{
		{false, syn, 100, 0, 0, 0, 64, 9},
		{true, synack, 300, 101, 0, 5, 128, 4000},
		{true, synack, 300, 101, 0, 1005, 128, 4001}, // retransmitted: not kept
		{false, fsm.FlagRST, 101, 0, 0, 1006, 64, 10},
		{true, fsm.FlagRST, 301, 0, 0, 1007, 128, 4002},
	})
	want := []reassembly.IPID{{2, t0.Add(5 * time.Millisecond), 4000}}
	got := f.IPIDs(fsm.DirServer, nil)
	if len(got) != len(want) {
		t.Fatalf("server IPIDs = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Frame != want[i].Frame || got[i].ID != want[i].ID || !got[i].Time.Equal(want[i].Time) {
			t.Errorf("server IPIDs[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := f.IPIDs(fsm.DirClient, nil); len(got) != 1 || got[0].Frame != 4 || got[0].ID != 10 {
		t.Errorf("client IPIDs = %+v, want its RST only (frame 4, ID 10)", got)
	}
	// A closed port: the RST answering the SYN is the server's reply.
	f = injFlow(t, []ipkt{
		{false, syn, 100, 0, 0, 0, 64, 9},
		{true, fsm.FlagRST | fsm.FlagACK, 0, 101, 0, 1, 64, 0},
	})
	if got := f.IPIDs(fsm.DirServer, nil); len(got) != 1 || got[0].Frame != 2 || got[0].ID != 0 {
		t.Errorf("refusing server IPIDs = %+v, want its RST (frame 2, ID 0)", got)
	}
}
