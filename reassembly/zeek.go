package reassembly

import (
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// This file follows a flow the way Zeek's TCP analyzer does, so that each
// connection carries the conn_state and history that Zeek's conn.log would
// show for it. It mirrors, rule for rule, zeek/zeek at a13de64f:
//
//   - src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc (TSA): Process,
//     the per-state Update*State handlers, update_history, update_last_seq,
//     ConnectionClosed, IsReuse and the analyzer timers;
//   - src/analyzer/protocol/tcp/TCP_Endpoint.{h,cc}: SetState, Size,
//     CheckHistory and the scaled history entries;
//   - src/analyzer/protocol/tcp/TCP_Reassembler.cc and src/Reassem.cc: the
//     content gaps behind history g, and DataPending;
//   - src/packet_analysis/protocol/{ip/IPBasedAnalyzer,tcp/TCP}.cc:
//     connection creation (WantConnection's role flip) and checksum errors;
//   - src/Conn.cc: FlipRoles and ScaledHistoryEntry;
//   - scripts/base/protocols/conn/main.zeek: conn_state().
//
// Zeek keeps no payload for this and neither do we: the reassembler is
// modelled by its sequence edges and a few out-of-order spans per direction.
//
// Zeek's connection lifetime is modelled too. Zeek removes a connection from
// its table on timers (the attempt, expire, reset, close-delay and
// inactivity timers) and on 4-tuple reuse; the next packet then starts a new
// connection with its own conn.log row. tcptrace's flow is longer-lived, so
// one flow may be several Zeek connections ("pieces"). Verdict reports the
// first piece, the one that holds the flow's opening; Connections says how
// many pieces Zeek would have logged.

// Zeek's timing constants (scripts/base/init-bare.zeek, tcp_* and
// udp_inactivity_timeout).
const (
	zeekSYNTimeout        = int64(5 * time.Second) // tcp_SYN_timeout: first ExpireTimer
	zeekSessionTimer      = int64(6 * time.Second) // tcp_session_timer: ExpireTimer period
	zeekConnectionLinger  = int64(5 * time.Second) // tcp_connection_linger
	zeekAttemptDelay      = int64(5 * time.Second) // tcp_attempt_delay
	zeekCloseDelay        = int64(5 * time.Second) // tcp_close_delay
	zeekResetDelay        = int64(5 * time.Second) // tcp_reset_delay
	zeekInactivityTimeout = int64(5 * time.Minute) // tcp_inactivity_timeout
	zeekHandshakeTimeout  = int64(1 * time.Minute) // udp_inactivity_timeout, which TCPAnalyzer::MakeSessionAdapter sets until the handshake ends
	zeekMaxInitialWindow  = 16384                  // tcp_max_initial_window
	zeekMaxAboveHole      = 16384                  // tcp_max_above_hole_without_any_acks
	zeekExcessiveData     = 10 * 1024 * 1024       // tcp_excessive_data_without_further_acks
	zeekTooLargeSeqDelta  = 1048576                // TOO_LARGE_SEQ_DELTA in TSA
	zeekHistoryCap        = 40                     // history bytes kept; Zeek's string is unbounded
	zeekSpans             = 3                      // out-of-order spans kept per direction
)

// zeekState is a TCP_Endpoint's EndpointState (TCP_Endpoint.h), in Zeek's
// order, which is also the order of conn.log's TCP_* constants.
type zeekState uint8

const (
	zInactive    zeekState = iota // TCP_ENDPOINT_INACTIVE: nothing seen from this side
	zSynSent                      // TCP_ENDPOINT_SYN_SENT: SYN seen, no ack
	zSynAckSent                   // TCP_ENDPOINT_SYN_ACK_SENT: SYN-ACK seen, no initial SYN
	zPartial                      // TCP_ENDPOINT_PARTIAL: data seen, no SYN
	zEstablished                  // TCP_ENDPOINT_ESTABLISHED
	zClosed                       // TCP_ENDPOINT_CLOSED: FIN seen
	zReset                        // TCP_ENDPOINT_RESET: RST seen
)

// handshake reports TCP_Endpoint.cc's is_handshake: the states in which
// Zeek keeps the short, pre-handshake inactivity timeout.
func (s zeekState) handshake() bool { return s <= zSynAckSent }

// History bit masks (HIST_* in TCP_Endpoint.h). A responder's bits are
// shifted left by 16 in the connection's hist_seen.
const (
	histSYN       = 0x1
	histFIN       = 0x2
	histRST       = 0x4
	histFINRST    = 0x8
	histData      = 0x10
	histACK       = 0x20
	histMultiFlag = 0x40
)

// Scaled history counters (TCP_Endpoint's chk/rxmt/win0/gap_cnt), with the
// originator's letter; the responder's is its lower case.
const (
	scaledChecksum = iota // C: bad checksum (TCP_Endpoint::ChecksumError)
	scaledRxmit           // T: retransmission (TCP_Endpoint::DidRxmit)
	scaledWin0            // W: zero window (TCP_Endpoint::ZeroWindow)
	scaledGap             // G: content gap (TCP_Endpoint::Gap)
	numScaled
)

var scaledLetter = [numScaled]byte{'C', 'T', 'W', 'G'}

// zeekThresholds are the values a ScaledHistoryEntry threshold takes, in
// order: it starts at 1 and is multiplied by 10 in 32 bits until that
// would not increase it (Connection::ScaledHistoryEntry). 10^9 * 10 wraps
// to 1410065408, which is still larger, and 1410065408 * 10 wraps to less:
// the last threshold stays. A zeekEndpoint keeps the index (a byte), not
// the value (four).
var zeekThresholds = [...]uint32{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 10_000_000_000 % (1 << 32)}

// zeekSpan is a run of sequence space [lo, hi) that the reassembler holds
// above its delivery edge (out-of-order data waiting for a hole to fill).
type zeekSpan struct{ lo, hi uint64 }

// zeekEndpoint is one side's TCP_Endpoint plus its TCP_Reassembler edges.
// Sequence numbers named rel are relative to startSeq, 64-bit, as Zeek's.
//
// The fields every segment reads come first, in the first 64 bytes; the
// scaled-history counters, the last SYN/FIN/RST and the out-of-order
// spans, which only some segments touch, follow. Ordered by size within
// each part, nothing is padding but one byte: 152 bytes.
type zeekEndpoint struct {
	// TCP_Reassembler: last_reassem_seq, trim_seq, the highest block end
	// held (valid iff top > trim).
	reassem, trim, top uint64
	finSeq             uint64 // FIN_seq: rel seq just past our FIN

	startSeq, lastSeq, ackSeq uint32 // start_seq, last_seq, ack_seq (ack_seq: what the peer acked of our data)
	seqWraps, ackWraps        uint32

	state, prev zeekState
	fin         bool  // FIN_cnt > 0
	didClose    bool  // did_close
	didEOF      bool  // the reassembler's did_EOF
	skip        bool  // the reassembler's skip_deliveries
	nspans      uint8 // spans in use
	// thr are the ScaledHistoryEntry thresholds, as indices into
	// zeekThresholds (0: the first threshold, 1).
	thr [numScaled]uint8

	cnt [numScaled]uint32 // ScaledHistoryEntry counters

	histSYN, histFIN, histRST uint64 // hist_last_SYN/FIN/RST

	// The undelivered spans above reassem, sorted and disjoint.
	spans [zeekSpans]zeekSpan
}

// ZeekConn follows one flow as Zeek's TCP analyzer would, to give Zeek's
// conn_state and history for it (see Verdict). It holds no payload and a
// fixed amount of state. The zero value is ready to use. Not safe for
// concurrent use.
type ZeekConn struct {
	// What Observe reads or writes for every segment comes first, in 104
	// bytes (two cache lines): the timers, the first piece's packet and
	// byte counts, and the flags; then the endpoints. What only the first
	// segments or a piece's end touch (the history letters, the frozen
	// verdict and sizes) goes last.

	// Zeek's timers, as capture times in Unix nanoseconds; 0 is unset
	// (every timer is a capture time plus a positive delay).
	lastTime int64    // the connection's last_time (Conn()->LastTime())
	expire   [3]int64 // ExpireTimer chains: the constructor's and one per ConnectionClosed
	attempt  int64    // AttemptTimer
	reset    int64    // ResetTimer
	del      int64    // ConnDeleteTimer

	// The first piece's conn.log counters. They grow only while the first
	// piece is open; its end fixes size and last as well (below).
	pkts    [2]uint64 // ConnSize num_pkts, indexed by fsm.Dir
	ipBytes [2]uint64 // ConnSize num_bytes_ip

	histSeen uint32 // Connection's hist_seen
	pieces   uint16 // Zeek connections started for this flow

	orig         fsm.Dir // Zeek's originator in the current piece
	live         bool    // a Zeek connection is open
	isActive     bool    // TSA is_active
	isPartial    bool    // TSA is_partial
	firstSeen    uint8   // TSA first_packet_seen (1: orig, 2: resp)
	closeDefer   bool    // TSA close_deferred
	deferGen     bool    // TSA deferred_gen_event
	longInactive bool    // tcp_inactivity_timeout replaced the handshake timeout
	// The current piece's history, as far as the SYN-ACK flip needs it:
	// how many letters, and (histFirst, below) the first one.
	histCount uint8
	frozen    bool // the first piece has ended: its verdict is below

	ep [2]zeekEndpoint // indexed by fsm.Dir

	start, last int64     // start_time, and last_time once frozen
	missed      [2]uint64 // content_gap lengths (conn.log missed_bytes)
	frozenSize  [2]uint64 // TCP_Endpoint::Size once frozen

	histFirst byte // the current piece's first history letter (read only when histCount is 1)
	// The first piece's verdict once it ended, and its history.
	frozenCS   uint8
	frozenOrig fsm.Dir
	histLen    uint8
	hist       [zeekHistoryCap]byte
}

// ZeekCounts holds the numbers of the conn.log row Zeek writes for a flow's
// first Zeek connection. Per-side arrays are indexed by fsm.Dir; which side
// is Zeek's originator is what Verdict's origIsClient says.
type ZeekCounts struct {
	// Start and Last are the connection's start_time (its first packet)
	// and last_time. Zeek's last_time stops once both sides have closed,
	// so duration (Last - Start) leaves out a close's final ACK.
	Start, Last time.Time
	// Bytes is TCP_Endpoint::Size, conn.log orig_bytes/resp_bytes: the
	// extent of each side's sequence space (the highest sequence number
	// sent or acknowledged, less the ISN, SYN and FIN), not a sum of
	// payload.
	Bytes [2]uint64
	// Missed is the length of the content gaps in each side's stream that
	// Zeek reports (content_gap); conn.log missed_bytes is their sum.
	Missed [2]uint64
	// Packets and IPBytes are the ConnSize analyzer's num_pkts and
	// num_bytes_ip: the segments that passed the checksum check, and their
	// IP total lengths.
	Packets, IPBytes [2]uint64
}

// Observe accounts one TCP segment sent by d at capture time ts. sport and
// dport are the segment's source and destination ports (Zeek's role flip
// looks at them when a connection starts without a SYN), and m says whether
// the checksum failed verification and whether the snaplen cut the payload.
// It does not allocate.
func (z *ZeekConn) Observe(ts time.Time, d fsm.Dir, sport, dport uint16, s *fsm.Segment, m *Meta) {
	var t int64
	if !ts.IsZero() {
		t = ts.UnixNano()
	}
	if z.live && (z.expired(t) || z.isReuse(s)) {
		z.end()
	}
	if !z.live {
		z.begin(t, d, sport, dport, s.Flags)
	}
	if m.BadChecksum {
		// TCPAnalyzer::ValidateChecksum: the connection exists (it was
		// looked up or made first), the sender gets a C, and the segment
		// goes no further.
		z.scaled(d, scaledChecksum)
		return
	}
	if z.pieces == 1 && !z.frozen {
		// ConnSize sees a packet only after TCPAnalyzer::DeliverPacket has
		// validated its checksum.
		z.pkts[d]++
		z.ipBytes[d] += uint64(m.IPLen)
	}
	z.process(t, d, s, m.Truncated)
}

// Verdict returns the conn_state and history Zeek would log for the flow's
// first Zeek connection, and whether Zeek's originator is the flow's client.
// A flow that saw no segment yields empty strings.
func (z *ZeekConn) Verdict() (connState, history string, origIsClient bool) {
	if z.pieces == 0 {
		return "", "", true
	}
	cs, orig := z.frozenCS, z.frozenOrig
	if !z.frozen {
		cs, orig = z.connState(), z.orig
	}
	return connStates[cs], string(z.hist[:z.histLen]), orig == fsm.DirClient
}

// Counts returns the conn.log numbers of the flow's first Zeek connection
// (the one Verdict describes), as of its end or, while it is open, now. A
// flow that saw no segment yields zeros.
func (z *ZeekConn) Counts() ZeekCounts {
	if z.pieces == 0 {
		return ZeekCounts{}
	}
	c := ZeekCounts{Start: time.Unix(0, z.start).UTC(), Missed: z.missed, Packets: z.pkts, IPBytes: z.ipBytes}
	if z.frozen {
		c.Last, c.Bytes = time.Unix(0, z.last).UTC(), z.frozenSize
	} else {
		c.Last, c.Bytes = time.Unix(0, z.lastTime).UTC(), [2]uint64{z.size(0), z.size(1)}
	}
	return c
}

// Connections returns how many connections Zeek would have logged for the
// flow: more than one when Zeek's timers or its 4-tuple reuse rule split it.
func (z *ZeekConn) Connections() int { return int(z.pieces) }

// begin starts a Zeek connection with a segment from d carrying flags
// (IPBasedAnalyzer::NewConn and the TCPSessionAdapter constructor).
func (z *ZeekConn) begin(t int64, d fsm.Dir, sport, dport uint16, flags fsm.Flags) {
	z.ep = [2]zeekEndpoint{}
	for i := range z.ep {
		e := &z.ep[i]
		// The reassembler starts at relative sequence 1 (TCP_Reassembler
		// calls Reassembler(1, ...)); thresholds start at 1, index 0.
		e.reassem, e.trim = 1, 1
	}
	z.lastTime = t
	z.expire = [3]int64{t + zeekSYNTimeout}
	z.attempt, z.reset, z.del = 0, 0, 0
	z.histSeen = 0
	z.histCount, z.histFirst = 0, 0
	z.isActive, z.isPartial = true, false
	z.firstSeen = 0
	z.closeDefer, z.deferGen = false, false
	z.longInactive = false
	z.live = true
	if z.pieces < ^uint16(0) {
		z.pieces++
	}
	if z.pieces == 1 {
		z.start = t
	}
	z.orig = d
	// TCPAnalyzer::WantConnection: a connection that starts without a SYN,
	// or with a SYN-ACK, is partial, and Zeek guesses the responder from
	// likely_server_ports. With both ports plausible it flips only for a
	// non-SYN whose destination port is the higher ("to favor more
	// plausible servers"), never for a SYN-ACK ("stealth scans").
	if !flags.Contains(fsm.FlagSYN) || flags.Contains(fsm.FlagACK) {
		flip := false
		if zeekLikelyServerPort(sport) {
			if zeekLikelyServerPort(dport) {
				flip = !flags.Contains(fsm.FlagSYN) && sport < dport
			} else {
				flip = true
			}
		}
		if flip {
			z.flipRoles()
		}
	}
}

// end closes the current Zeek connection; the first one's verdict is kept.
func (z *ZeekConn) end() {
	if z.pieces == 1 && !z.frozen {
		z.frozenCS, z.frozenOrig, z.frozen = z.connState(), z.orig, true
		z.last, z.frozenSize = z.lastTime, [2]uint64{z.size(0), z.size(1)}
	}
	z.live = false
}

// flipRoles swaps originator and responder (Connection::FlipRoles with
// TCPSessionAdapter::FlipRoles): history gets a ^, first_packet_seen swaps
// sides and the partial flag is cleared. hist_seen is not touched.
func (z *ZeekConn) flipRoles() {
	z.orig = z.orig.Other()
	z.firstSeen = (z.firstSeen&1)<<1 | (z.firstSeen&2)>>1
	z.isPartial = false
	z.addHistory('^')
}

// isOrig reports whether d is Zeek's originator.
func (z *ZeekConn) isOrig(d fsm.Dir) bool { return d == z.orig }

// isClosed and bothClosed are TSA IsClosed and BothClosed.
func (z *ZeekConn) isClosed() bool   { return z.ep[0].didClose || z.ep[1].didClose }
func (z *ZeekConn) bothClosed() bool { return z.ep[0].didClose && z.ep[1].didClose }

// expired runs Zeek's timers that fall before a packet at t and reports
// whether one of them removed the connection. Timers due exactly at t have
// not fired yet: Zeek's default run handles the packet first (the
// retransmit-timeout trace keeps one connection across a gap of exactly
// tcp_inactivity_timeout). Between packets nothing but time changes, so
// each timer's outcome can be decided when the next packet comes.
func (z *ZeekConn) expired(t int64) bool {
	// ConnDeleteTimer (after a complete close) removes unconditionally.
	if z.del != 0 && z.del < t {
		return true
	}
	// Connection::InactivityTimer: last_time + timeout <= fire time, and it
	// re-arms at last_time + timeout, so it fires past that point.
	timeout := zeekHandshakeTimeout
	if z.longInactive {
		timeout = zeekInactivityTimeout
	}
	if z.lastTime+timeout < t {
		return true
	}
	// The analyzer timers below return at once when !is_active, and
	// ExpireTimer then does not re-arm.
	if z.attempt != 0 && z.attempt < t {
		// AttemptTimer: an unanswered attempt is done.
		o, r := z.ep[z.orig].state, z.ep[z.orig.Other()].state
		if z.isActive && (o == zSynSent || o == zSynAckSent) && r == zInactive {
			return true
		}
		z.attempt = 0
	}
	if z.reset != 0 && z.reset < t {
		// ResetTimer: the RST after our FIN ends it.
		if z.isActive {
			return true
		}
		z.reset = 0
	}
	for i := range z.expire {
		if z.expireChain(i, t) {
			return true
		}
	}
	return false
}

// expireChain runs ExpireTimer chain i up to (not including) t.
func (z *ZeekConn) expireChain(i int, t int64) bool {
	at := z.expire[i]
	if at == 0 || at >= t {
		return false
	}
	if !z.isActive {
		z.expire[i] = 0
		return false
	}
	// It only looks once tcp_connection_linger has passed since the last
	// activity; find the first firing after that.
	if quiet := z.lastTime + zeekConnectionLinger; at <= quiet {
		at += ((quiet-at)/zeekSessionTimer + 1) * zeekSessionTimer
	}
	if at < t && z.expireRemoves() {
		return true
	}
	if at < t {
		at += ((t - at + zeekSessionTimer - 1) / zeekSessionTimer) * zeekSessionTimer
	}
	z.expire[i] = at
	return false
}

// expireRemoves is ExpireTimer's test once the connection has been quiet for
// tcp_connection_linger: a side closed and the other closed, reset or never
// spoke; or neither side ever did anything.
func (z *ZeekConn) expireRemoves() bool {
	o, r := &z.ep[z.orig], &z.ep[z.orig.Other()]
	if (o.didClose || r.didClose) &&
		(z.bothClosed() || o.state == zReset || r.state == zReset || o.state == zInactive || r.state == zInactive) {
		return true
	}
	return o.state == zInactive && r.state == zInactive
}

// cancelTimers is Analyzer::CancelTimers: every analyzer timer goes (the
// connection's inactivity timer stays).
func (z *ZeekConn) cancelTimers() {
	z.expire = [3]int64{}
	z.attempt, z.reset, z.del = 0, 0, 0
}

// addExpire starts another ExpireTimer chain.
func (z *ZeekConn) addExpire(at int64) {
	for i := range z.expire {
		if z.expire[i] == 0 {
			z.expire[i] = at
			return
		}
	}
	z.expire[len(z.expire)-1] = at
}

// isReuse is TSA IsReuse: does this SYN start a new connection on the
// 4-tuple? Only SYNs (and SYN-ACKs while the originator is silent) can. On
// an open connection, a SYN repeating the originator's ISN is a
// retransmission, and so is the SYN that completes a SYN/SYN-ACK reversal;
// once a side has closed, any SYN starts over.
func (z *ZeekConn) isReuse(s *fsm.Segment) bool {
	if !s.Flags.Contains(fsm.FlagSYN) {
		return false
	}
	co := z.orig
	if s.Flags.Contains(fsm.FlagACK) {
		if z.ep[z.orig].state != zInactive {
			return false
		}
		co = z.orig.Other()
	}
	if !z.isClosed() {
		seq := uint32(s.Seq)
		if seq == z.ep[co].startSeq {
			return false
		}
		r := &z.ep[z.orig.Other()]
		if !s.Flags.Contains(fsm.FlagACK) && z.ep[co].state == zSynAckSent && r.state == zInactive && seq == r.startSeq {
			return false
		}
	}
	return true
}

// process is TSA Process for a segment from d that passed the checksum.
func (z *ZeekConn) process(t int64, d fsm.Dir, s *fsm.Segment, truncated bool) {
	flags := s.Flags
	syn, fin, rst, ack := flags.Contains(fsm.FlagSYN), flags.Contains(fsm.FlagFIN), flags.Contains(fsm.FlagRST), flags.Contains(fsm.FlagACK)

	// A connection that began with the originator's SYN-ACK (history
	// exactly "H") flips as soon as an ACK or data follows in either
	// direction: a stealth scan would elicit a RST or nothing (zeek/zeek
	// PR #2191). The flip rewrites the history to "^h", as the baselines
	// of core.tcp.flip-without-syn and core.conn-size-flip show; a
	// checksum error in between (history "Hc") prevents it, as
	// core.checksums_ignore_nets shows.
	if z.histCount == 1 && z.histFirst == 'H' && !syn && !rst && (ack || s.Len > 0) {
		z.orig = z.orig.Other()
		z.firstSeen = (z.firstSeen&1)<<1 | (z.firstSeen&2)>>1
		z.isPartial = false
		z.histCount, z.histFirst = 0, 0
		if z.pieces == 1 && !z.frozen {
			z.histLen = 0
		}
		z.addHistory('^')
		z.addHistory('h')
	}

	isOrig := z.isOrig(d)
	ep, peer := &z.ep[d], &z.ep[d.Other()]
	z.setPartialStatus(syn, ack, isOrig)

	// get_segment_len: SYN and FIN take a sequence number each; a RST's
	// payload is not part of the stream.
	segLen := s.Len
	if syn {
		segLen++
	}
	if fin {
		segLen++
	}
	if rst {
		segLen -= s.Len
	}
	baseSeq := uint32(s.Seq)
	past := baseSeq + segLen
	z.initEndpoint(ep, syn, baseSeq, past)

	relSeq, underflow := ep.relative(baseSeq, ep.lastSeq, ep.seqWraps)
	z.updateHistory(d, isOrig, syn, fin, rst, ack, relSeq, s.Len)

	// update_window: a zero window counts unless it rides a RST, the
	// sender was reset, or the peer has sent its FIN.
	if s.Window == 0 && !rst && peer.state != zClosed && ep.state != zReset {
		z.scaled(d, scaledWin0)
	}

	if !z.ep[0].didClose || !z.ep[1].didClose {
		z.lastTime = t
	}
	if fin {
		ep.fin = true
		ep.finSeq = relSeq + uint64(segLen)
	}

	ackSeq := uint32(s.Ack)
	var relAck uint64
	if ack {
		if peer.state == zInactive {
			// init_peer: number the silent peer as though its SYN was
			// at ack-1.
			relAck = 1
			peer.startSeq, peer.ackSeq, peer.lastSeq = ackSeq-1, ackSeq-1, ackSeq-1
		} else {
			var uf bool
			relAck, uf = peer.relative(ackSeq, peer.ackSeq, peer.ackWraps)
			if uf {
				relAck = 0
			} else if !rst {
				// update_ack_seq; RST acks are not trusted.
				delta := int32(ackSeq - peer.ackSeq)
				if !(ackSeq == 0 && delta > zeekTooLargeSeqDelta) && delta > 0 {
					if ackSeq < peer.ackSeq {
						peer.ackWraps++
					}
					peer.ackSeq = ackSeq
				}
			}
		}
	}

	z.updateLastSeq(d, past, syn, fin, rst, s.Len)
	doClose, genEvent := z.updateStateMachine(t, d, isOrig, baseSeq, s.Len, syn, fin, rst, ack)

	// The peer learns of the ack only after the state machine ran, so a
	// gap revealed by a FIN or RST is judged in the closing state.
	if ack {
		z.ackReceived(d.Other(), relAck)
	}

	// CheckPIA_FirstPacket, with Process's is_orig as computed before any
	// flip in the state machine.
	if isOrig {
		z.firstSeen |= 1
	} else {
		z.firstSeen |= 2
	}

	// DataSent: payload (never a RST's) goes to the reassembler when all of
	// it was captured (TCP_Endpoint::DataSent) and it does not lie before
	// the endpoint's initial sequence number.
	if s.Len > 0 && !rst && !underflow && !truncated {
		rel := relSeq
		if syn {
			rel++
		}
		z.dataSent(d, rel, uint64(s.Len))
	}
	z.checkEOF(d)
	if doClose {
		z.connectionClosed(d, genEvent)
	}
}

// setPartialStatus is TSA SetPartialStatus.
func (z *ZeekConn) setPartialStatus(syn, ack, isOrig bool) {
	if isOrig {
		if z.firstSeen&1 == 0 {
			z.isPartial = !syn || ack
		}
	} else if z.firstSeen&2 == 0 && !z.isPartial {
		z.isPartial = !syn
	}
}

// initEndpoint is TSA init_endpoint: sequence numbering starts at the SYN,
// or as though a SYN came just before the first segment seen; a SYN with a
// new ISN re-numbers an endpoint that is still in or just past its
// handshake.
func (z *ZeekConn) initEndpoint(e *zeekEndpoint, syn bool, first, last uint32) {
	switch e.state {
	case zInactive:
		if syn {
			e.ackSeq, e.startSeq = first, first
		} else {
			e.ackSeq, e.startSeq = first-1, first-1
			last = first // so the first segment is not a retransmission
		}
		e.lastSeq = last
	case zSynSent, zSynAckSent:
		if syn && first != e.startSeq {
			e.startSeq, e.ackSeq, e.lastSeq = first, first, last
		}
	case zEstablished, zPartial:
		if syn {
			e.startSeq, e.ackSeq, e.lastSeq = first, first, last
		}
	case zReset:
		if syn && e.prev == zInactive {
			e.startSeq, e.ackSeq, e.lastSeq = first, first, last
		}
	}
}

// relative is TSA get_relative_seq: cur relative to the endpoint's start,
// in 64 bits, given the last value seen of that kind and its wrap count.
// underflow is set when cur lies before the start.
func (e *zeekEndpoint) relative(cur, last, wraps uint32) (rel uint64, underflow bool) {
	switch delta := int32(cur - last); {
	case delta < 0:
		if wraps > 0 && cur > last {
			wraps-- // part of the previous 32-bit space
		}
	case delta > 0:
		if cur < last {
			wraps++ // the space wrapped
		}
	}
	if wraps == 0 {
		delta := int32(cur - e.startSeq)
		return uint64(int64(delta)), delta < 0
	}
	return uint64(wraps)<<32 + uint64(cur) - uint64(e.startSeq), false
}

// updateHistory is TSA update_history: one letter per kind of packet, SYN,
// FIN and RST again when they come with a new sequence number, I for
// FIN+RST and Q for other multi-flag packets.
func (z *ZeekConn) updateHistory(d fsm.Dir, isOrig, syn, fin, rst, ack bool, rel uint64, n uint32) {
	e := &z.ep[d]
	bits := 0
	for _, b := range [...]bool{syn, fin, rst} {
		if b {
			bits++
		}
	}
	switch {
	case bits > 1:
		if fin && rst {
			z.checkHistory(isOrig, histFINRST, 'I')
		} else {
			z.checkHistory(isOrig, histMultiFlag, 'Q')
		}
	case syn:
		code := byte('S')
		if ack {
			code = 'H'
		}
		if z.checkHistory(isOrig, histSYN, code) && rel != e.histSYN {
			z.addEndpointHistory(isOrig, code)
		}
		e.histSYN = rel
	case fin:
		// A FIN's sequence number is the one after its data.
		if z.checkHistory(isOrig, histFIN, 'F') && rel+uint64(n) != e.histFIN {
			z.addEndpointHistory(isOrig, 'F')
		}
		e.histFIN = rel + uint64(n)
	case rst:
		if z.checkHistory(isOrig, histRST, 'R') && rel != e.histRST {
			z.addEndpointHistory(isOrig, 'R')
		}
		e.histRST = rel
	case n > 0:
		z.checkHistory(isOrig, histData, 'D')
	case ack:
		z.checkHistory(isOrig, histACK, 'A')
	}
}

// checkHistory is TCP_Endpoint::CheckHistory: record code once per side
// and report whether it had been recorded before.
func (z *ZeekConn) checkHistory(isOrig bool, mask uint32, code byte) bool {
	if !isOrig {
		mask <<= 16
	}
	if z.histSeen&mask != 0 {
		return true
	}
	z.histSeen |= mask
	z.addEndpointHistory(isOrig, code)
	return false
}

// addEndpointHistory is TCP_Endpoint::AddHistory: lower case for the
// responder.
func (z *ZeekConn) addEndpointHistory(isOrig bool, code byte) {
	if !isOrig {
		code += 'a' - 'A'
	}
	z.addHistory(code)
}

// addHistory is Connection::AddHistory. Only the first piece's letters are
// kept; later pieces need just the count and first letter.
func (z *ZeekConn) addHistory(code byte) {
	if z.histCount == 0 {
		z.histFirst = code
	}
	if z.histCount < 255 {
		z.histCount++
	}
	if z.pieces == 1 && !z.frozen && int(z.histLen) < len(z.hist) {
		z.hist[z.histLen] = code
		z.histLen++
	}
}

// scaled is Connection::ScaledHistoryEntry for one of d's counters: a letter
// at the 1st, 10th, 100th... event.
func (z *ZeekConn) scaled(d fsm.Dir, k int) {
	e := &z.ep[d]
	e.cnt[k]++
	thr := zeekThresholds[e.thr[k]]
	if e.cnt[k] != thr {
		return
	}
	code := scaledLetter[k]
	if !z.isOrig(d) {
		code += 'a' - 'A'
	}
	z.addHistory(code)
	if next := thr * 10; next <= thr {
		e.cnt[k] = 0 // the threshold wrapped: count again
	} else {
		e.thr[k]++ // zeekThresholds[e.thr[k]+1] is next
	}
}

// updateLastSeq is TSA update_last_seq: it advances the endpoint's highest
// sequence number, and a segment with payload that does not advance it is a
// retransmission (T), out-of-order ones included. (Zeek also returns the
// advance, which only its FIN_advanced_last_seq weird uses.)
func (z *ZeekConn) updateLastSeq(d fsm.Dir, last uint32, syn, fin, rst bool, n uint32) {
	e := &z.ep[d]
	delta := int32(last - e.lastSeq)
	switch {
	case (syn || rst) && (delta > zeekTooLargeSeqDelta || delta < -zeekTooLargeSeqDelta):
		// Implausible SYN or RST sequence numbers are not trusted.
	case fin && e.lastSeq == e.startSeq+1:
		// Connections over 2 GB of which only the SYN and FIN were seen.
		e.advanceLast(last)
	case e.state == zReset:
		// Nothing after a RST is trusted.
	case delta > 0:
		e.advanceLast(last)
	case n > 0:
		z.scaled(d, scaledRxmit)
	}
}

// advanceLast is TCP_Endpoint::UpdateLastSeq.
func (e *zeekEndpoint) advanceLast(seq uint32) {
	if seq < e.lastSeq {
		e.seqWraps++
	}
	e.lastSeq = seq
}

// setState is TCP_Endpoint::SetState. Leaving the handshake states while
// the peer is still in them switches the connection to
// tcp_inactivity_timeout.
func (z *ZeekConn) setState(d fsm.Dir, s zeekState) {
	e := &z.ep[d]
	if s == e.state {
		return
	}
	if !s.handshake() && e.state.handshake() && z.ep[d.Other()].state.handshake() {
		z.longInactive = true
	}
	e.prev, e.state = e.state, s
}

// updateStateMachine is TSA UpdateStateMachine. It returns do_close (the
// connection should be reported as closed) and gen_event (with an event).
func (z *ZeekConn) updateStateMachine(t int64, d fsm.Dir, isOrig bool, baseSeq uint32, n uint32, syn, fin, rst, ack bool) (doClose, genEvent bool) {
	ep, peer := &z.ep[d], &z.ep[d.Other()]
	switch ep.state {
	case zInactive:
		return z.updateInactive(t, d, isOrig, baseSeq, n, syn, fin, rst, ack)
	case zSynSent, zSynAckSent:
		// UpdateSYN_SentState: only FIN and RST move it on.
		if fin {
			z.setState(d, zClosed)
			doClose, genEvent = true, true
		}
		if rst {
			z.setState(d, zReset)
			z.isActive = false // ConnectionReset
			doClose = true
		}
	case zEstablished, zPartial:
		// UpdateEstablishedState.
		if syn && ep.state == zPartial && peer.state == zInactive && !ack {
			z.setState(d, zSynSent) // SYN_after_partial
		}
		if fin && !rst {
			z.setState(d, zClosed)
			if peer.state == zReset && peer.prev == zClosed {
				// A FIN then a RST from the peer was a normal close.
				z.setState(d.Other(), zClosed)
			}
			doClose, genEvent = true, true
		}
		if rst {
			z.setState(d, zReset)
			doClose = true
			if peer.state != zReset || peer.prev != zEstablished {
				z.isActive = false // ConnectionReset
			}
		}
	case zClosed:
		// UpdateClosedState: a RST after our FIN counts unless the peer
		// closed too (a FIN exchange already happened).
		if rst && peer.state != zClosed {
			z.setState(d, zReset)
			if !ep.didClose {
				doClose = true
			}
			if z.reset == 0 {
				z.reset = t + zeekResetDelay
			}
		}
	case zReset:
		// UpdateResetState only raises weirds.
	}
	return doClose, genEvent
}

// updateInactive is TSA UpdateInactiveState: the first state-changing
// segment from a side.
func (z *ZeekConn) updateInactive(t int64, d fsm.Dir, isOrig bool, baseSeq uint32, n uint32, syn, fin, rst, ack bool) (doClose, genEvent bool) {
	ep, peer := &z.ep[d], &z.ep[d.Other()]
	if syn {
		if isOrig {
			if ack {
				z.setState(d, zSynAckSent) // connection_originator_SYN_ack
			} else {
				z.setState(d, zSynSent)
			}
			z.attempt = t + zeekAttemptDelay
		} else {
			if !ack && peer.state == zSynAckSent && baseSeq == ep.startSeq {
				// A SYN/SYN-ACK reversal: flip and establish.
				z.isPartial = false
				z.flipRoles()
				z.setState(d.Other(), zEstablished)
				z.firstSeen |= 1
			}
			if peer.state == zSynSent {
				z.setState(d.Other(), zEstablished)
			}
			z.setState(d, zEstablished)
		}
	}
	if fin {
		z.setState(d, zClosed)
		doClose, genEvent = true, true
	}
	if rst {
		z.setState(d, zReset)
		reject := false
		if isOrig {
			// A SYN-ACK seen but no SYN, then the originator's RST: a
			// reverse scan, rejected.
			reject = peer.state == zEstablished
		} else {
			reject = peer.state == zSynSent || peer.state == zSynAckSent
		}
		doClose, genEvent = true, !reject
	}
	if ep.state == zInactive {
		switch {
		case !isOrig && n == 0 && z.ep[z.orig].state == zSynSent:
			// Some stacks ack a SYN before answering it: not partial.
		case ack && peer.state == zEstablished:
			// The SYN was missed but the SYN-ACK seen: established.
			z.setState(d, zEstablished)
			z.isPartial = false
			if isOrig {
				z.firstSeen |= 1
			} else {
				z.firstSeen |= 2
			}
		default:
			z.setState(d, zPartial)
		}
	}
	return doClose, genEvent
}

// connectionClosed is TSA ConnectionClosed for d: once its data is all
// delivered, d counts as closed; if the peer closed too (or reset, or
// never spoke) the connection is deleted tcp_close_delay after its last
// activity, otherwise an ExpireTimer watches for the peer.
func (z *ZeekConn) connectionClosed(d fsm.Dir, genEvent bool) {
	if z.dataPending(d) {
		z.closeDefer = true
		if !z.deferGen {
			z.deferGen = genEvent
		}
		return
	}
	z.closeDefer = false
	e, p := &z.ep[d], &z.ep[d.Other()]
	if e.didClose {
		return
	}
	e.didClose = true
	if e.state == zReset || p.didClose || p.state == zInactive {
		if e.prev != zInactive || p.state != zInactive {
			if z.deferGen {
				genEvent, z.deferGen = true, false
			}
			if genEvent {
				z.isActive = false // ConnectionFinished
			}
		}
		z.cancelTimers()
		z.del = z.lastTime + zeekCloseDelay
		return
	}
	if e.prev != zInactive {
		z.addExpire(z.lastTime + zeekSessionTimer)
	}
	// Otherwise Zeek arms a PartialCloseTimer, but only when a script
	// handles connection_partial_close, which the base scripts do not.
}

// checkEOF is TCP_Reassembler::CheckEOF with TSA EndpointEOF: when a
// closing side's data is all delivered, a deferred close goes through.
func (z *ZeekConn) checkEOF(d fsm.Dir) {
	e := &z.ep[d]
	if e.didEOF || !(e.fin || e.state == zClosed || e.state == zReset) || z.dataPending(d) {
		return
	}
	e.didEOF = true
	if z.closeDefer {
		z.connectionClosed(d, z.deferGen)
		z.closeDefer = false
	}
}

// dataPending is TCP_Reassembler::DataPending for d's reassembler: data
// not yet delivered up to d's last sequence number (less its FIN), or, unless
// d reset, data of the peer's waiting above a hole.
func (z *ZeekConn) dataPending(d fsm.Dir) bool {
	e := &z.ep[d]
	if e.skip {
		return false
	}
	delivered := uint64(e.startSeq) + e.reassem
	last := uint64(e.seqWraps)<<32 + uint64(e.lastSeq)
	if last < delivered {
		return false
	}
	if delivered != last-1 && delivered != last {
		return true
	}
	return e.state != zReset && z.ep[d.Other()].undelivered()
}

// undelivered is TCP_Reassembler::HasUndeliveredData.
func (e *zeekEndpoint) undelivered() bool { return e.top > e.trim && e.reassem < e.top }

// noDataAcked is TCP_Endpoint::NoDataAcked: nothing beyond a SYN acked.
func (e *zeekEndpoint) noDataAcked() bool {
	ack := uint64(e.ackWraps)<<32 + uint64(e.ackSeq)
	start := uint64(e.startSeq)
	return ack == start || ack == start+1
}

// size is TCP_Endpoint::Size, the payload bytes Zeek credits an endpoint
// with (conn.log orig_bytes/resp_bytes); conn_state's REJ test needs it.
func (z *ZeekConn) size(d fsm.Dir) uint64 {
	e := &z.ep[d]
	if e.prev == zSynSent && e.state == zReset && z.ep[d.Other()].state == zInactive && !e.noDataAcked() {
		return 0 // a half-open connection discovered and aborted
	}
	last := uint64(e.seqWraps)<<32 + uint64(e.lastSeq)
	ack := uint64(e.ackWraps)<<32 + uint64(e.ackSeq)
	n := ack - uint64(e.startSeq)
	if last > ack {
		n = last - uint64(e.startSeq)
	}
	if n != 0 {
		n-- // the SYN
	}
	if e.fin && n != 0 {
		n-- // the FIN
	}
	return n
}

// dataSent is TCP_Reassembler::DataSent with Reassembler::NewBlock and
// BlockInserted, for d's payload at rel sequence [seq, seq+n).
func (z *ZeekConn) dataSent(d fsm.Dir, seq, n uint64) {
	e := &z.ep[d]
	if e.skip {
		return
	}
	upper := seq + n
	// Data the peer already acked is old.
	if ack := uint64(e.ackWraps)<<32 + uint64(e.ackSeq) - uint64(e.startSeq); seq < ack {
		if upper <= ack {
			return
		}
		seq = ack
	}
	if upper <= e.trim {
		return
	}
	if seq < e.trim {
		seq = e.trim
	}
	if e.top <= e.trim || upper > e.top {
		e.top = upper
	}
	if seq <= e.reassem {
		if upper > e.reassem {
			e.reassem = upper
			e.absorb()
			// BlockInserted: with nothing acked yet and more than an
			// initial window sent, stop holding delivered data.
			if e.noDataAcked() && z.size(d) > zeekMaxInitialWindow {
				e.trim = e.reassem
			}
		}
	} else {
		e.insert(seq, upper)
	}
	var held uint64 // Reassembler's block_list.DataSize()
	if e.reassem > e.trim {
		held = e.reassem - e.trim
	}
	for i := 0; i < int(e.nspans); i++ {
		held += e.spans[i].hi - e.spans[i].lo
	}
	aboveHole := e.top > e.trim && e.top > e.reassem && e.top-e.reassem > zeekMaxAboveHole
	if (e.noDataAcked() && aboveHole) || held > zeekExcessiveData {
		// above_hole_data_without_any_acks / excessive_data_without_
		// further_acks: the reassembler gives up on this side.
		e.nspans, e.top, e.skip = 0, 0, true
	}
}

// absorb delivers the spans that the delivery edge has reached.
func (e *zeekEndpoint) absorb() {
	for e.nspans > 0 && e.spans[0].lo <= e.reassem {
		if e.spans[0].hi > e.reassem {
			e.reassem = e.spans[0].hi
		}
		copy(e.spans[:], e.spans[1:e.nspans])
		e.nspans--
	}
}

// insert adds out-of-order data [lo, hi) above the delivery edge, merging
// overlapping or adjacent spans. When more holes appear than it keeps, the
// two spans closest together merge, which forgets the hole between them.
func (e *zeekEndpoint) insert(lo, hi uint64) {
	var buf [zeekSpans + 1]zeekSpan
	n, placed := 0, false
	for i := 0; i < int(e.nspans); i++ {
		s := e.spans[i]
		switch {
		case s.hi < lo:
			buf[n] = s
			n++
		case hi < s.lo:
			if !placed {
				buf[n] = zeekSpan{lo, hi}
				n++
				placed = true
			}
			buf[n] = s
			n++
		default:
			lo, hi = min(lo, s.lo), max(hi, s.hi)
		}
	}
	if !placed {
		buf[n] = zeekSpan{lo, hi}
		n++
	}
	if n > zeekSpans {
		best := 0
		for i := 1; i < n-1; i++ {
			if buf[i+1].lo-buf[i].hi < buf[best+1].lo-buf[best].hi {
				best = i
			}
		}
		buf[best].hi = buf[best+1].hi
		copy(buf[best+1:], buf[best+2:n])
		n--
	}
	copy(e.spans[:], buf[:n])
	e.nspans = uint8(n)
}

// ackReceived is TCP_Reassembler::AckReceived for d's reassembler, given
// the peer's rel ack: sequence space acked but never received is a content
// gap (Reassembler::TrimToSeq, TCP_Reassembler::Undelivered).
func (z *ZeekConn) ackReceived(d fsm.Dir, seq uint64) {
	e := &z.ep[d]
	if e.fin && seq >= e.finSeq {
		seq = e.finSeq - 1 // the FIN is not data
	}
	if seq <= e.trim {
		return
	}
	if seq > e.reassem {
		z.undelivered(d, seq)
	}
	e.trim = seq
	z.checkEOF(d)
}

// undelivered is TCP_Reassembler::Undelivered: every hole below upTo is a
// gap, and delivery resumes above it.
func (z *ZeekConn) undelivered(d fsm.Dir, upTo uint64) {
	e := &z.ep[d]
	if upTo <= 2 && z.isPartial {
		// The first ack of a partial connection: the faked SYN octet,
		// or a keep-alive's. Zeek leaves last_reassem_seq alone here.
		return
	}
	if !e.skip {
		for e.nspans > 0 && e.spans[0].lo < upTo {
			if e.spans[0].lo > e.reassem {
				z.gap(d, e.spans[0].lo-e.reassem)
			}
			e.reassem = e.spans[0].lo
			e.absorb()
		}
		if upTo > e.reassem {
			z.gap(d, upTo-e.reassem)
		}
	}
	if upTo > e.reassem {
		e.reassem = upTo
	}
}

// gap is TCP_Reassembler::Gap for a hole of n bytes: only gaps in a
// cleanly established or cleanly closing connection count (history G, and
// the content_gap event that conn.log's missed_bytes sums), as others come
// from RSTs with odd sequence numbers or unseen packets of partial
// connections.
func (z *ZeekConn) gap(d fsm.Dir, n uint64) {
	clean := func(e *zeekEndpoint) bool {
		return e.state == zEstablished || (e.state == zClosed && e.prev == zEstablished)
	}
	if clean(&z.ep[d]) && clean(&z.ep[d.Other()]) {
		z.scaled(d, scaledGap)
		if z.pieces == 1 && !z.frozen {
			z.missed[d] += n
		}
	}
}

// The conn_state codes, indexed as connState returns them.
var connStates = [...]string{"OTH", "REJ", "RSTRH", "RSTR", "RSTOS0", "RSTO", "SF", "SH", "S2", "SHR", "S3", "S0", "S1"}

const (
	csOTH = iota
	csREJ
	csRSTRH
	csRSTR
	csRSTOS0
	csRSTO
	csSF
	csSH
	csS2
	csSHR
	csS3
	csS0
	csS1
)

// connState is conn_state() of scripts/base/protocols/conn/main.zeek, for
// the current piece.
func (z *ZeekConn) connState() uint8 {
	o, r := z.orig, z.orig.Other()
	os, rs := z.ep[o].state, z.ep[r].state
	oInactive := os == zInactive || os == zPartial
	rInactive := rs == zInactive || rs == zPartial
	switch {
	case rs == zReset:
		switch {
		case os == zSynSent || os == zSynAckSent || (os == zReset && z.size(o) == 0 && z.size(r) == 0):
			return csREJ
		case oInactive:
			return csRSTRH
		}
		return csRSTR
	case os == zReset:
		if !rInactive {
			return csRSTO
		}
		if z.pieces == 1 && !z.frozen && matchRSTOS0(z.hist[:z.histLen]) {
			return csRSTOS0
		}
		return csOTH
	case rs == zClosed && os == zClosed:
		return csSF
	case os == zClosed:
		if rInactive {
			return csSH
		}
		return csS2
	case rs == zClosed:
		if oInactive {
			return csSHR
		}
		return csS3
	case os == zSynSent && rs == zInactive:
		return csS0
	case os == zEstablished && rs == zEstablished:
		return csS1
	}
	return csOTH
}

// matchRSTOS0 reports whether h matches /^\^?S[^HAFGIQ]*R.*$/, the history
// conn_state requires for RSTOS0 (Zeek's pattern == string is anchored).
func matchRSTOS0(h []byte) bool {
	i := 0
	if i < len(h) && h[i] == '^' {
		i++
	}
	if i >= len(h) || h[i] != 'S' {
		return false
	}
	for _, c := range h[i+1:] {
		switch c {
		case 'R':
			return true
		case 'H', 'A', 'F', 'G', 'I', 'Q':
			return false
		}
	}
	return false
}

// zeekLikelyServerPort reports whether p is in likely_server_ports for TCP
// as Zeek's base scripts fill it (each protocol's main.zeek does
// "redef likely_server_ports += { ports }"). IPBasedAnalyzer::
// IsLikelyServerPort only matches ports of the connection's protocol.
func zeekLikelyServerPort(p uint16) bool {
	switch p {
	case 21, 2811, // ftp
		22,      // ssh
		25, 587, // smtp
		53,                                        // dns
		79,                                        // finger
		80, 81, 631, 1080, 3128, 8000, 8080, 8888, // http (1080 is socks too)
		88,       // krb
		110,      // pop3
		135,      // dce-rpc
		139, 445, // smb
		143,       // imap
		389, 3268, // ldap
		443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223, // ssl
		502,        // modbus
		1434, 3306, // mysql
		1883,       // mqtt
		3389,       // rdp
		5222, 5269, // xmpp
		5432,                   // postgresql
		6379,                   // redis
		6666, 6667, 6668, 6669, // irc
		20000: // dnp3
		return true
	}
	return false
}
