package anomaly

import (
	"fmt"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// at is where a per-connection finding points: its first and last frame and
// their capture times.
type at struct {
	first, last   uint64
	firstT, lastT time.Time
}

// cover widens w to take in f's frames, and reports whether f is now the
// earliest (an empty w takes f whole).
func (w *at) cover(f *reassembly.Flow) bool {
	first := w.first == 0 || f.FirstFrame < w.first
	if first {
		w.first, w.firstT = f.FirstFrame, f.First
	}
	if f.LastFrame > w.last {
		w.last, w.lastT = f.LastFrame, f.Last
	}
	return first
}

func flowAt(f *reassembly.Flow) at { return at{f.FirstFrame, f.LastFrame, f.First, f.Last} }

func noteAt(n *reassembly.Note) at { return at{n.Frame, n.Frame, n.Time, n.Time} }

func spanAt(s *reassembly.Span) at { return at{s.First, s.Last, s.From, s.To} }

// lifecycle applies the per-connection rules of anomalies.md §4-§5 that read
// the finished connection: its state machine, its statistics and what the
// flow table's watch noted per sender.
func (e *Engine) lifecycle(f *reassembly.Flow, now time.Time) {
	c := &f.Conn
	e.rstMidstream(f)
	e.splitHandshake(f)
	e.timeWaitReuse(f)
	e.timeWaitSYNRejected(f)
	for d := fsm.DirClient; d <= fsm.DirServer; d++ {
		e.finUnacked(f, d, now)
		e.mssExceeded(f, d)
		n := f.Half[d].Notes
		if n == nil {
			continue
		}
		if n.SYNData.Count > 0 && !n.TFO {
			e.addAt(f, rule{"syn_with_data", SeverityLow, fmt.Sprintf("the %s's SYN carried payload without a TCP Fast Open option: no stack delivers it, so it is a crafted probe or an IDS evasion attempt", d),
				"RFC 9293 §3.10.7.3; RFC 7413", [3]string{"SYN_with_data", "", ""}}, noteAt(&n.SYNData))
		}
		if n.AckUnseen.Count > 0 {
			e.addAt(f, rule{"ack_unseen_data", SeverityMedium, fmt.Sprintf("the %s acknowledged data its peer had not sent (the peer's next new segment started below that ACK): an optimistic ACK or a blind injection attempt", d),
				"RFC 9293 §3.10.7.4; RFC 5961 §5.2", [3]string{"", "", "tcp.analysis.ack_lost_segment"}}, noteAt(&n.AckUnseen))
		}
		if n.AckTooOld.Count > 0 && !c.Midstream {
			e.addAt(f, rule{"ack_out_of_range", SeverityMedium, fmt.Sprintf("the %s sent %d ACKs below its peer's SND.UNA - MAX.SND.WND (more than a whole window under its own earlier ACK): the receiver drops such a segment with a challenge ACK; a blind data injection that guessed the ACK", d, n.AckTooOld.Count),
				"RFC 5961 §5.2; RFC 9293 §3.10.7.4", [3]string{"", "pkt_invalid_ack", ""}}, noteAt(&n.AckTooOld))
		}
		if n.Recision.Count > 0 && !c.Midstream {
			e.addAt(f, rule{"window_recision", SeverityLow, fmt.Sprintf("the %s moved the right edge of its receive window left (shrank the window) %d times: data already allowed in flight may be dropped", d, n.Recision.Count),
				"RFC 9293 §3.8.6 SHLD-14", [3]string{"window_recision", "", ""}}, noteAt(&n.Recision))
		}
		// The score is final now: the segments after the RST (the
		// sender's TTLs, the receiver's challenge ACK) have all been seen.
		if r := n.RSTInjection; r.Count >= 2 {
			sev := SeverityMedium
			if r.Count >= 3 {
				sev = SeverityHigh
			}
			e.addAt(f, rule{"suspected_rst_injection", sev, fmt.Sprintf("a RST claiming to come from the %s looks forged (injection score %d: %s): an off-path or on-path attacker reset the connection", d, r.Count, n.RSTWhy),
				"RFC 5961 §3; RFC 7323 §5", [3]string{"", "suspected_rst_inject", ""}}, noteAt(&r))
		}
		if n.TTLShift.Count > 0 {
			e.addAt(f, rule{"ttl_shift", SeverityInfo, fmt.Sprintf("the %s's TTL changed from %d to %d and stayed there (%d change(s) in all): the route between it and the capture point changed; a forged segment would be a lone outlier", d, n.TTLFrom, n.TTLTo, n.TTLShift.Count),
				"RFC 791 §3.2 (Time to Live); RFC 5082", [3]string{"", "", ""}}, noteAt(&n.TTLShift))
		}
		e.zeroWindow(f, d, n, now)
		e.keepAlive(f, d, n)
		e.rstStorm(f, d, n)
	}
}

// rstMidstream is RST_MIDSTREAM (anomalies.md §5): a connection established
// on both sides was aborted by an acceptable RST before both FINs. The
// FIN-WAIT-2 expiry replies have their own kinds (fin_wait2_timeout_rst,
// rst_after_close).
func (e *Engine) rstMidstream(f *reassembly.Flow) {
	c := &f.Conn
	if c.Close() != fsm.CloseReset || !c.RstState.Synchronized() || c.Midstream || c.Ep[0].FinSent && c.Ep[1].FinSent {
		return
	}
	if c.FinSeen && c.RstBy == c.FirstFin && c.RstState == fsm.StateFinWait2 {
		return
	}
	by := c.RstBy
	if n := f.Half[by].Notes; n != nil && n.RSTInjection.Count >= 2 {
		return // reported as suspected_rst_injection instead
	}
	why := fmt.Sprintf("the %s aborted an established connection with RST (in %s): its application closed with unread data, used SO_LINGER 0, or crashed", by, c.RstState)
	if c.Ep[by].FinSent {
		why = fmt.Sprintf("the %s reset the connection after its own FIN (in %s): data arrived for a socket its application had closed", by, c.RstState)
	}
	a := flowAt(f)
	a.last, a.lastT = c.RstFrame, f.Last
	for _, t := range c.Timeline[by] {
		if t.Frame == c.RstFrame {
			a.lastT = t.Time
		}
	}
	e.addAt(f, rule{"rst_midstream", SeverityLow, why, "RFC 9293 §3.10.5, §3.5.2", [3]string{"", "", "tcp.connection.rst"}}, a)
}

// splitHandshake is SPLIT_HANDSHAKE (anomalies.md §5): the first SYN's
// target answered with a bare SYN instead of a SYN-ACK, so the opener sent
// the SYN-ACK and the target completed with a plain ACK. In a genuine
// simultaneous open both sides send a SYN-ACK (RFC 9293 Figure 7).
func (e *Engine) splitHandshake(f *reassembly.Flow) {
	if !splitOpen(f) {
		return
	}
	e.addAt(f, rule{"split_handshake", SeverityMedium, "the server answered the client's SYN with a bare SYN and let the client send the SYN-ACK (split handshake): a trick to swap roles past firewalls and IDS that track the opener",
		"RFC 9293 §3.5 Figure 7", [3]string{"", "", ""}}, flowAt(f))
}

// splitOpen reports whether f opened with a split handshake: crossing bare SYNs
// where only the opener sent a SYN-ACK.
func splitOpen(f *reassembly.Flow) bool {
	c := &f.Conn
	return c.SimOpen && !c.Midstream && f.Half[fsm.DirClient].SentSYNACK() && !f.Half[fsm.DirServer].SentSYNACK()
}

// timeWaitReuse is TW_REUSE (anomalies.md §4): a new SYN reused the 4-tuple
// while one side was still in TIME-WAIT (RFC 9293 §3.6.1 MAY-2, RFC 6191).
func (e *Engine) timeWaitReuse(f *reassembly.Flow) {
	if f.End != reassembly.EndReused {
		return
	}
	c := &f.Conn
	for d := fsm.DirClient; d <= fsm.DirServer; d++ {
		tl := c.Timeline[d]
		if len(tl) == 0 || tl[len(tl)-1].Cause != fsm.CauseTimeWaitReuse {
			continue
		}
		t := tl[len(tl)-1]
		e.addAt(f, rule{"time_wait_reuse", SeverityInfo, fmt.Sprintf("a new SYN reused the 4-tuple while the %s was in TIME-WAIT (%s after it entered it); Linux accepts it when the sequence number or timestamp is newer", d, twSince(tl).Round(time.Millisecond)),
			"RFC 9293 §3.6.1 MAY-2; RFC 6191", [3]string{"", "", "tcp.analysis.reused_ports"}}, at{t.Frame, t.Frame, t.Time, t.Time})
		return
	}
}

// timeWaitSYNRejected is TW_SYN_REJECTED (anomalies.md §4): the server's
// TIME-WAIT answered a new SYN with a bare ACK of the old connection, the
// client reset it (fsm.ViolationTimeWaitSYNRejected) and retried: a new SYN
// reused the 4-tuple (the flow ended as EndReused).
func (e *Engine) timeWaitSYNRejected(f *reassembly.Flow) {
	if f.Conn.Violations()[fsm.ViolationTimeWaitSYNRejected] == 0 || f.End != reassembly.EndReused {
		return
	}
	e.add(f, "time_wait_syn_rejected", SeverityLow, "a new SYN on the 4-tuple was refused by the server's TIME-WAIT (its sequence number not after the old connection's, no newer timestamp) with a bare ACK of the old connection; the client reset it and retried: the reconnect costs a round trip, and the RST ends TIME-WAIT (RFC 1337)",
		"RFC 9293 §3.6.1 MAY-2, §3.10.7.3; RFC 6191", [3]string{"", "", ""})
}

// twSince returns how long the endpoint whose timeline ends in a TIME-WAIT
// reuse had been in TIME-WAIT.
func twSince(tl []fsm.Transition) time.Duration {
	end := tl[len(tl)-1]
	for i := len(tl) - 1; i >= 0; i-- {
		if tl[i].To == fsm.StateTimeWait {
			return end.Time.Sub(tl[i].Time)
		}
	}
	return 0
}

// finUnacked is FIN_UNACKED (anomalies.md §4): d's FIN was retransmitted at
// least FinRetransmits times and never acknowledged for FinUnackedAfter.
func (e *Engine) finUnacked(f *reassembly.Flow, d fsm.Dir, now time.Time) {
	c := &f.Conn
	ep, peer := &c.Ep[d], &c.Ep[d.Other()]
	if !ep.FinSent || int(ep.FinCount) < 1+e.cfg.FinRetransmits || c.RstSeen {
		return
	}
	if peer.AckSent && ep.FinSeq.LessThan(peer.RcvNxt) {
		return // acknowledged
	}
	if now.Sub(ep.FinTime) < e.cfg.FinUnackedAfter {
		return
	}
	e.addAt(f, rule{"fin_unacked", SeverityMedium, fmt.Sprintf("the %s sent its FIN %d times and it was never acknowledged in %s: the peer is gone or the path drops it, and the %s sits in FIN-WAIT-1 or LAST-ACK until its retries run out", d, ep.FinCount, now.Sub(ep.FinTime).Round(time.Second), d),
		"RFC 9293 §3.6, §3.8.1; Linux tcp_orphan_retries", [3]string{"", "", "tcp.analysis.retransmission"}}, at{f.FirstFrame, f.LastFrame, ep.FinTime, f.Last})
}

// mssExceeded is MSS_EXCEEDED (anomalies.md §5) with its offload guard: a
// sender whose largest segment is at least twice the receiver's MSS, or an
// exact multiple of the MSS less a usual options length, shows TSO/GSO/GRO
// super-segments glued at the capture point, reported as info.
func (e *Engine) mssExceeded(f *reassembly.Flow, d fsm.Dir) {
	st := &f.Half[d].Stats
	if st.SuperSegments == 0 || !st.HasPeerMSS || st.PeerMSS == 0 {
		return
	}
	mss, max := uint32(st.PeerMSS), st.MaxSuperSegment
	offload := max >= 2*mss
	for _, opt := range [...]uint32{0, 12, 20, 24, 32} {
		if opt < mss && max%(mss-opt) == 0 {
			offload = true
		}
	}
	if offload {
		e.addAt(f, rule{"mss_exceeded", SeverityInfo, fmt.Sprintf("the %s sent %d segments larger than the peer's MSS %d (up to %d bytes) whose sizes are multiples of a segment: TSO/GSO/GRO glued them at the capture point; not a violation", d, st.SuperSegments, mss, max),
			"RFC 9293 §3.7.1", [3]string{"", "", ""}}, flowAt(f))
		return
	}
	e.addAt(f, rule{"mss_exceeded", SeverityMedium, fmt.Sprintf("the %s sent %d segments larger than the MSS %d its peer announced (up to %d bytes): a crafted segment, or a middlebox clamping the MSS between the capture point and the peer", d, st.SuperSegments, mss, max),
		"RFC 9293 §3.7.1 MUST-15", [3]string{"", "", ""}}, flowAt(f))
}

// zeroWindow is ZERO_WINDOW_STALL and ZERO_WINDOW_PEER_DEAD (anomalies.md
// §5) for the zero windows d advertised.
func (e *Engine) zeroWindow(f *reassembly.Flow, d fsm.Dir, n *reassembly.Notes, now time.Time) {
	z := &n.ZeroWindow
	if z.Last == 0 {
		return
	}
	if dur := z.Duration(); dur >= e.cfg.ZeroWindowStall {
		sev := SeverityMedium
		if dur >= e.cfg.ZeroWindowLong {
			sev = SeverityHigh
		}
		e.addAt(f, rule{"zero_window_stall", sev, fmt.Sprintf("the %s advertised a zero window for %s: its application stopped reading, so the peer could not send", d, dur.Round(time.Second)),
			"RFC 9293 §3.8.6.1", [3]string{"", "", "tcp.analysis.zero_window"}}, spanAt(z))
	}
	if int(z.Count) >= e.cfg.ProbesUnanswered {
		e.addAt(f, rule{"zero_window_peer_dead", SeverityMedium, fmt.Sprintf("the peer probed the %s's zero window %d times in a row without any answer: the %s is gone while the peer keeps the connection", d, z.Count, d),
			"RFC 9293 §3.8.6.1; RFC 1122 §4.2.2.17", [3]string{"", "", "tcp.analysis.zero_window_probe"}}, spanAt(z))
	}
}

// keepAlive is KEEPALIVE_ONLY_IDLE and KEEPALIVE_UNANSWERED (anomalies.md
// §5) for the keep-alives d sent.
func (e *Engine) keepAlive(f *reassembly.Flow, d fsm.Dir, n *reassembly.Notes) {
	if r := &n.KeepAliveRun; int(r.Count) >= e.cfg.ProbesUnanswered {
		c := &f.Conn
		if fw2 := enteredAt(c, d, fsm.StateFinWait2); !fw2.IsZero() && !c.Ep[d.Other()].FinSent && !r.From.Before(fw2) {
			// FIN_WAIT2_PEER_DEAD (anomalies.md §4): the run went out while
			// d sat in FIN-WAIT-2 waiting for a FIN that never came.
			e.addAt(f, rule{"fin_wait2_peer_dead", SeverityMedium, fmt.Sprintf("the %s, half-closed in FIN-WAIT-2, sent %d keep-alives in a row over %s without any answer: the peer that never closed is gone, and the %s waits for its FIN until its keep-alives give up", d, r.Count, r.Duration().Round(time.Second), d),
				"RFC 9293 §3.6, §3.8.4; RFC 1122 §4.2.3.6", [3]string{"", "", "tcp.analysis.keep_alive"}}, spanAt(r))
		} else {
			e.addAt(f, rule{"keepalive_unanswered", SeverityMedium, fmt.Sprintf("the %s sent %d keep-alives in a row over %s without any answer: the peer is gone (Linux drops the connection after tcp_keepalive_probes)", d, r.Count, r.Duration().Round(time.Second)),
				"RFC 9293 §3.8.4; RFC 1122 §4.2.3.6", [3]string{"", "", "tcp.analysis.keep_alive"}}, spanAt(r))
		}
	}
	if k := &n.KeepAliveIdle; k.Last != 0 && k.Duration() >= e.cfg.KeepAliveIdle {
		sev := SeverityInfo
		if k.Duration() >= e.cfg.KeepAliveIdleLong {
			sev = SeverityLow
		}
		interval := k.Duration() / time.Duration(k.Count+1)
		e.addAt(f, rule{"keepalive_only_idle", sev, fmt.Sprintf("the connection carried no data for %s and was kept open only by the %s's keep-alives (%d answered, about every %s): an idle pooled or forgotten connection", k.Duration().Round(time.Second), d, k.Count, interval.Round(time.Second)),
			"RFC 9293 §3.8.4 MUST-28", [3]string{"", "", "tcp.analysis.keep_alive"}}, spanAt(k))
	}
}

// enteredAt returns when endpoint d first entered state st, or zero.
func enteredAt(c *fsm.Conn, d fsm.Dir, st fsm.State) time.Time {
	for _, t := range c.Timeline[d] {
		if t.To == st {
			return t.Time
		}
	}
	return time.Time{}
}

// icmpRejected reports whether an ICMP error rejected f's attempt
// (reassembly.Table.ICMPError noted it on the client).
func icmpRejected(f *reassembly.Flow) bool {
	n := f.Half[fsm.DirClient].Notes
	return n != nil && n.ICMPReject.Count > 0
}

// connRejectedICMP is CONN_REJECTED_ICMP (anomalies.md §5): the attempt got
// no SYN-ACK or RST but an ICMP destination unreachable quoting its SYN
// (RFC 9293 §3.10.7.3 lets ICMP abort a connection in SYN-SENT; RFC 1122
// §4.2.3.9 hard errors). It replaces syn_unanswered for the attempt. The
// finding runs from the SYN to the first ICMP error.
func (e *Engine) connRejectedICMP(f *reassembly.Flow) {
	n := f.Half[fsm.DirClient].Notes
	r := n.ICMP
	by := "a router or firewall on the path"
	if r.From == f.Server.Addr() {
		by = "the server itself"
	}
	proto := "ICMP"
	if r.V6 {
		proto = "ICMPv6"
	}
	why := fmt.Sprintf("connection attempts were rejected with %s destination unreachable (%s, type %d code %d) sent by %s (%s) instead of a SYN-ACK or RST: %s",
		proto, icmpCodeName(r), r.Type, r.Code, r.From, by, icmpAdvice(r))
	e.addAt(f, rule{"conn_rejected_icmp", SeverityInfo, why, "RFC 9293 §3.10.7.3; RFC 1122 §4.2.3.9; RFC 792; RFC 4443 §3.1", [3]string{"", "", ""}},
		at{f.FirstFrame, n.ICMPReject.Frame, f.First, n.ICMPReject.Time})
}

// icmpCodeName names a rejecting ICMP destination unreachable code.
func icmpCodeName(r reassembly.ICMPReject) string {
	if r.V6 {
		switch r.Code {
		case 1:
			return "administratively prohibited"
		case 3:
			return "address unreachable"
		case 4:
			return "port unreachable"
		case 5:
			return "source address failed ingress/egress policy"
		case 6:
			return "reject route to destination"
		}
		return "unreachable"
	}
	switch r.Code {
	case 1:
		return "host unreachable"
	case 3:
		return "port unreachable"
	case 9:
		return "network administratively prohibited"
	case 10:
		return "host administratively prohibited"
	case 13:
		return "communication administratively prohibited"
	}
	return "unreachable"
}

// icmpAdvice says what a person should check for a rejection.
func icmpAdvice(r reassembly.ICMPReject) string {
	switch {
	case !r.V6 && r.Code == 3 || r.V6 && r.Code == 4:
		return "a firewall rule rejects the port (Linux answers a closed TCP port with RST, not ICMP)"
	case !r.V6 && r.Code == 1 || r.V6 && r.Code == 3:
		return "the host is down or its address does not resolve on the last hop"
	}
	return "a firewall rule forbids the connection"
}

// rstStorm is RST_STORM (anomalies.md §5, Zeek's RST_storm weird): at least
// RSTStormMin RSTs from one side of one connection, each less than
// reassembly.RSTStormGap after the one before. Zeek counts per connection
// and endpoint, and so does this; a thousand RSTs on one 4-tuple is no
// stack's own answer to anything (Linux sends one RST per offending segment,
// and an endpoint that sent RST has no connection left to reset), so it is
// medium: a blind reset attack sweeping the sequence space (RFC 5961 §3,
// where each RST alone is rst_in_window or rst_out_of_window) or two
// middleboxes resetting each other in a loop.
func (e *Engine) rstStorm(f *reassembly.Flow, d fsm.Dir, n *reassembly.Notes) {
	r := &n.RSTRun
	if e.cfg.RSTStormMin <= 0 || r.Count < uint32(e.cfg.RSTStormMin) {
		return
	}
	e.addAt(f, rule{"rst_storm", SeverityMedium, fmt.Sprintf("the %s sent %d RSTs on this connection in %s, each less than %s after the one before: a blind reset attack sweeping sequence numbers, or a reset loop between middleboxes", d, r.Count, r.Duration().Round(time.Millisecond), reassembly.RSTStormGap),
		"RFC 5961 §3; RFC 9293 §3.10.7.4", [3]string{"RST_storm", "", ""}}, spanAt(r))
}
