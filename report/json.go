package report

import (
	"encoding/json"
	"io"
	"net/netip"
	"strconv"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// SchemaVersion is the version of the JSON report schema (docs/schema.md).
// It changes in its major part only when a field is removed or changes
// meaning.
const SchemaVersion = "1.0"

// Report is the whole JSON document.
type Report struct {
	SchemaVersion string       `json:"schema_version"`
	Tool          string       `json:"tool"`
	Capture       Capture      `json:"capture"`
	Rollups       []Rollup     `json:"rollups"`
	Findings      []Finding    `json:"findings"`
	Connections   []Connection `json:"connections"`
}

// Capture describes what was read.
type Capture struct {
	Sources      []string `json:"sources"`
	Formats      []string `json:"formats"`
	LinkTypes    []string `json:"link_types"`
	Packets      uint64   `json:"packets"`
	TCPPackets   uint64   `json:"tcp_packets"`
	Skipped      uint64   `json:"skipped"`
	SkippedBy    *Skips   `json:"skipped_by,omitempty"`
	Truncated    uint64   `json:"truncated"`
	BadChecksums uint64   `json:"bad_checksums,omitempty"`
	Bytes        uint64   `json:"bytes"`
	First        string   `json:"first,omitempty"`
	Last         string   `json:"last,omitempty"`
	Interrupted  bool     `json:"interrupted,omitempty"`
	// Filter is the capture filter (tcpdump syntax) the frames passed;
	// Filtered counts the frames it rejected in user space (capture files).
	Filter   string `json:"filter,omitempty"`
	Filtered uint64 `json:"filtered,omitempty"`
	// Duplicates counts the TCP frames --dedup dropped as second copies
	// of a segment (capture.Dedup); they are in TCPPackets, in no
	// connection.
	Duplicates uint64 `json:"duplicates_dropped,omitempty"`
	// KernelReceived and KernelDropped are the kernel's counters for a
	// live capture socket (PACKET_STATISTICS): frames its filter let in,
	// dropped ones included, and frames dropped because its buffer was
	// full. Both are absent for capture files.
	KernelReceived *uint64  `json:"kernel_received,omitempty"`
	KernelDropped  *uint64  `json:"kernel_dropped,omitempty"`
	Warnings       []string `json:"warnings,omitempty"`
	Errors         []string `json:"errors,omitempty"`
	Flows          Flows    `json:"flows"`
}

// Skips says why frames were skipped; absent when none were. Each count
// is omitted when 0.
type Skips struct {
	NonIP           uint64 `json:"non_ip,omitempty"`           // no IP header (ARP, LLDP, STP, ...)
	NonTCP          uint64 `json:"non_tcp,omitempty"`          // IP, but not TCP (UDP, ICMP, ESP, ...)
	Fragment        uint64 `json:"fragment,omitempty"`         // IP fragments after the first (no IP reassembly)
	Malformed       uint64 `json:"malformed,omitempty"`        // a header that contradicts itself
	Short           uint64 `json:"short,omitempty"`            // a header the capture cut short (a snaplen below the TCP header's end)
	UnsupportedLink uint64 `json:"unsupported_link,omitempty"` // a link type tcptrace does not decode
	Empty           uint64 `json:"empty,omitempty"`            // zero-length records
}

// Flows counts what the flow table did.
type Flows struct {
	Connections   uint64 `json:"connections"`
	MaxConcurrent int    `json:"max_concurrent"`
	Reused        uint64 `json:"tuple_reused"`
	Evicted       uint64 `json:"evicted"`
	EvictedLimit  uint64 `json:"evicted_flow_limit"`
}

// Pair holds one value per endpoint: what the client sent and what the
// server sent.
type Pair struct {
	Client uint64 `json:"client"`
	Server uint64 `json:"server"`
}

// Endpoint is one side of a connection.
type Endpoint struct {
	IP            string  `json:"ip"`
	Port          uint16  `json:"port"`
	InitialState  string  `json:"initial_state"`
	ISN           *uint32 `json:"isn,omitempty"`
	MSS           *uint16 `json:"mss,omitempty"`
	WindowScale   *uint8  `json:"window_scale,omitempty"`
	SACKPermitted bool    `json:"sack_permitted"`
	Timestamps    bool    `json:"timestamps"`
}

// Transition is one state change of one endpoint.
type Transition struct {
	Frame    uint64 `json:"frame"`
	Time     string `json:"time"`
	From     string `json:"from"`
	To       string `json:"to"`
	Cause    string `json:"cause"`
	Inferred bool   `json:"inferred"`
}

// Timeline holds both endpoints' transitions.
type Timeline struct {
	Client []Transition `json:"client"`
	Server []Transition `json:"server"`
}

// States holds one state per endpoint.
type States struct {
	Client string `json:"client"`
	Server string `json:"server"`
}

// Connection is one incarnation of a TCP connection.
type Connection struct {
	ID           uint64            `json:"id"`
	Client       Endpoint          `json:"client"`
	Server       Endpoint          `json:"server"`
	IPVersion    int               `json:"ip_version"`
	Tunneled     bool              `json:"tunneled,omitempty"`
	Incarnation  int               `json:"incarnation"`
	RolesGuessed bool              `json:"roles_guessed"`
	RoleReason   string            `json:"role_reason,omitempty"`
	Start        string            `json:"start"`
	End          string            `json:"end"`
	DurationUS   int64             `json:"duration_us"`
	FirstFrame   uint64            `json:"first_frame"`
	LastFrame    uint64            `json:"last_frame"`
	Packets      Pair              `json:"packets"`
	Bytes        Pair              `json:"bytes"`
	IPBytes      Pair              `json:"ip_bytes"`
	PayloadBytes Pair              `json:"payload_bytes"`
	Truncated    Pair              `json:"truncated_segments"`
	Handshake    string            `json:"handshake"`
	Close        string            `json:"close"`
	HalfClose    bool              `json:"half_close"`
	ClosedFirst  string            `json:"closed_first,omitempty"`
	ResetBy      string            `json:"reset_by,omitempty"`
	EffectiveMSS uint16            `json:"effective_mss,omitempty"`
	Timeline     Timeline          `json:"timeline"`
	FinalState   States            `json:"final_state"`
	EndReason    string            `json:"end_reason"`
	Violations   map[string]uint32 `json:"violations,omitempty"`
	Zeek         Zeek              `json:"zeek"`
	// Stats and Quality come from the sequence-space analysis (issue 3).
	Stats   Stats   `json:"stats"`
	Quality Quality `json:"capture_quality"`
}

// Zeek holds Zeek's verdicts on the connection, with Zeek's codes (conn.log
// conn_state and history). Zeek's originator is normally tcptrace's client;
// OrigIsClient says when Zeek's role heuristics chose the other side.
type Zeek struct {
	ConnState    string `json:"conn_state"`
	History      string `json:"history"`
	OrigIsClient bool   `json:"orig_is_client"`
	// The rest are the numbers of Zeek's conn.log row for the connection
	// (-T zeek), with Zeek's rules: Last is Zeek's last_time, which stops
	// once both sides have closed; OrigBytes and RespBytes are sequence-
	// space extents (TCP_Endpoint::Size); MissedBytes sums the content
	// gaps Zeek reports; the packet and IP-byte counts leave out segments
	// that failed --verify-checksums. Connections is how many conn.log rows
	// Zeek would write for this flow: when its timers or its 4-tuple reuse
	// rule split the flow, every field here describes the first.
	Last        string `json:"last"`
	DurationUS  int64  `json:"duration_us"`
	OrigBytes   uint64 `json:"orig_bytes"`
	RespBytes   uint64 `json:"resp_bytes"`
	MissedBytes uint64 `json:"missed_bytes"`
	OrigPkts    uint64 `json:"orig_pkts"`
	OrigIPBytes uint64 `json:"orig_ip_bytes"`
	RespPkts    uint64 `json:"resp_pkts"`
	RespIPBytes uint64 `json:"resp_ip_bytes"`
	Connections int    `json:"connections"`
}

// newZeek builds the zeek block of a flow.
func newZeek(z *reassembly.ZeekConn) Zeek {
	var out Zeek
	out.ConnState, out.History, out.OrigIsClient = z.Verdict()
	n := z.Counts()
	o, r := fsm.DirClient, fsm.DirServer
	if !out.OrigIsClient {
		o, r = r, o
	}
	out.Last = Time(n.Last)
	out.DurationUS = n.Last.Sub(n.Start).Microseconds()
	out.OrigBytes, out.RespBytes = n.Bytes[o], n.Bytes[r]
	out.MissedBytes = n.Missed[o] + n.Missed[r]
	out.OrigPkts, out.OrigIPBytes = n.Packets[o], n.IPBytes[o]
	out.RespPkts, out.RespIPBytes = n.Packets[r], n.IPBytes[r]
	out.Connections = z.Connections()
	return out
}

// TimeLayout is RFC 3339 with all nine fractional digits, in UTC. Unlike
// time.RFC3339Nano it keeps trailing zeros, so the strings have one width
// and sort as the times they denote.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// Time formats a capture timestamp with TimeLayout.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	var a [len(TimeLayout)]byte
	return string(appendTime(a[:0], t))
}

func endpoint(ap netip.AddrPort, e *fsm.Endpoint) Endpoint {
	initial := e.Initial
	if e.State == fsm.StateUnknown {
		// Never in evidence (the target of an unanswered SYN): no initial
		// state is assumed either.
		initial = fsm.StateUnknown
	}
	out := Endpoint{
		IP:            ap.Addr().Unmap().String(),
		Port:          ap.Port(),
		InitialState:  initial.String(),
		SACKPermitted: e.SACKPerm,
		Timestamps:    e.HasTS,
	}
	if e.SynSent {
		isn := uint32(e.ISS)
		out.ISN = &isn
	}
	if e.HasMSS {
		mss := e.MSS
		out.MSS = &mss
	}
	if e.HasWScale {
		ws := e.WScale
		out.WindowScale = &ws
	}
	return out
}

func transitions(tl []fsm.Transition) []Transition {
	out := make([]Transition, len(tl))
	for i, t := range tl {
		out[i] = Transition{Frame: t.Frame, Time: Time(t.Time), From: t.From.String(), To: t.To.String(), Cause: t.Cause, Inferred: t.Inferred}
	}
	return out
}

// NewConnection builds the report record of a finished flow.
func NewConnection(f *reassembly.Flow) Connection {
	c := &f.Conn
	cl, sv := &c.Ep[fsm.DirClient], &c.Ep[fsm.DirServer]
	out := Connection{
		ID:           f.ID,
		Client:       endpoint(f.Client, cl),
		Server:       endpoint(f.Server, sv),
		IPVersion:    4,
		Incarnation:  f.Incarnation,
		Tunneled:     f.Tunneled,
		RolesGuessed: f.RolesGuessed,
		RoleReason:   f.RoleReason,
		Start:        Time(f.First),
		End:          Time(f.Last),
		DurationUS:   f.Last.Sub(f.First).Microseconds(),
		FirstFrame:   f.FirstFrame,
		LastFrame:    f.LastFrame,
		Packets:      Pair{f.Packets[0], f.Packets[1]},
		Bytes:        Pair{f.Bytes[0], f.Bytes[1]},
		IPBytes:      Pair{f.IPBytes[0], f.IPBytes[1]},
		PayloadBytes: Pair{f.PayloadBytes[0], f.PayloadBytes[1]},
		Truncated:    Pair{f.Truncated[0], f.Truncated[1]},
		Handshake:    c.Handshake().String(),
		Close:        c.Close().String(),
		HalfClose:    c.HalfCloseData,
		EffectiveMSS: c.EffectiveMSS(f.IPv6),
		Timeline:     Timeline{Client: transitions(c.Timeline[fsm.DirClient]), Server: transitions(c.Timeline[fsm.DirServer])},
		FinalState:   States{Client: cl.State.String(), Server: sv.State.String()},
		EndReason:    f.End.String(),
	}
	if f.IPv6 {
		out.IPVersion = 6
	}
	out.Zeek = newZeek(&f.Zeek)
	dur := f.Last.Sub(f.First)
	out.Stats = Stats{Client: dirStats(&f.Half[fsm.DirClient], dur, f.Last), Server: dirStats(&f.Half[fsm.DirServer], dur, f.Last)}
	out.Quality = quality(f)
	if c.FinSeen {
		out.ClosedFirst = c.FirstFin.String()
	}
	if c.RstSeen {
		out.ResetBy = c.RstBy.String()
	}
	for v, n := range c.Violations() {
		if n > 0 && v != int(fsm.ViolationNone) {
			if out.Violations == nil {
				out.Violations = make(map[string]uint32)
			}
			out.Violations[fsm.Violation(v).String()] = n
		}
	}
	return out
}

// WriteJSON writes the whole report as one indented JSON document: the
// bytes json.MarshalIndent(r, "", "  ") gives, and a newline. The
// connections, most of a document, are encoded by hand as the streamed
// document's are (JSONStream.Connection), and the other members as it
// writes them; encoding the Report by reflection took 0.17 s of CPU and
// 28 MB of buffers for 1000 connections, more than reading the capture
// (issue 7). TestWriteJSONMarshalIndent holds it to the reflection's bytes.
func WriteJSON(w io.Writer, r *Report) error {
	s := newJSONStream(w)
	s.w.WriteString("{\n")
	s.field("schema_version", r.SchemaVersion, true)
	s.field("tool", r.Tool, true)
	s.field("capture", r.Capture, true)
	s.field("rollups", r.Rollups, true)
	s.field("findings", r.Findings, true)
	if r.Connections == nil {
		s.w.WriteString("  \"connections\": null\n}\n")
	} else {
		s.w.WriteString("  \"connections\": [")
		for i := range r.Connections {
			s.Connection(&r.Connections[i])
		}
		if s.n > 0 {
			s.w.WriteString("\n  ")
		}
		s.w.WriteString("]\n}\n")
	}
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

// JSONLines writes one JSON object per line: each connection as it is
// handed over, then a final capture record. Every line carries a "type"
// ("connection" or "capture") so a reader can tell them apart.
type JSONLines struct {
	w    stickyWriter
	enc  *json.Encoder // into w
	conn connEncoder   // connection lines, by hand (issue 7)
	buf  []byte        // one connection line, reused
}

// NewJSONLines returns a JSON Lines writer on w.
func NewJSONLines(w io.Writer) *JSONLines {
	j := &JSONLines{w: stickyWriter{w: w}}
	j.enc = json.NewEncoder(&j.w)
	return j
}

// stickyWriter keeps the first write error and returns it for every later
// write, as json.Encoder does: connection lines bypass the Encoder, and a
// failed write must still end every kind of line.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}

type typedCapture struct {
	Type          string  `json:"type"`
	SchemaVersion string  `json:"schema_version"`
	Capture       Capture `json:"capture"`
}

// Connection writes one connection line: {"type":"connection"} and c's
// fields, as encoding/json encodes them embedded (encode_test.go checks),
// in one write as json.Encoder writes a line.
func (j *JSONLines) Connection(c Connection) error {
	j.buf = append(j.conn.appendConnection(j.buf[:0], &c, true, false, ""), '\n')
	_, err := j.w.Write(j.buf)
	return err
}

// Flow writes the connection line of the finished flow f: the bytes
// Connection writes for NewConnection(f), encoded straight from f
// (encodeflow.go). f is only read.
func (j *JSONLines) Flow(f *reassembly.Flow) error {
	j.buf = append(j.conn.appendFlow(j.buf[:0], f, true, false, ""), '\n')
	_, err := j.w.Write(j.buf)
	return err
}

// Capture writes the closing capture line.
func (j *JSONLines) Capture(c Capture) error {
	return j.enc.Encode(typedCapture{Type: "capture", SchemaVersion: SchemaVersion, Capture: c})
}

// Sequence-space analysis (issue 3): per-direction statistics, capture
// quality and the per-packet lines of -T packets.

// RTT is a summary of round-trip samples, in microseconds.
type RTT struct {
	Samples  uint64 `json:"samples"`
	MinUS    int64  `json:"min_us"`
	AvgUS    int64  `json:"avg_us"`
	MaxUS    int64  `json:"max_us"`
	StddevUS int64  `json:"stddev_us"`
	P50US    int64  `json:"p50_us"`
	P95US    int64  `json:"p95_us"`
	P99US    int64  `json:"p99_us"`
}

// DirStats holds what one endpoint sent, in the spirit of Ostermann's
// tcptrace -l columns (docs/schema.md, "stats").
type DirStats struct {
	Packets              uint64            `json:"packets"`
	DataPackets          uint64            `json:"data_packets"`
	DataBytes            uint64            `json:"data_bytes"`
	AckPackets           uint64            `json:"ack_packets"`
	PureAcks             uint64            `json:"pure_acks"`
	PushPackets          uint64            `json:"push_packets"`
	SYN                  uint64            `json:"syn_packets"`
	FIN                  uint64            `json:"fin_packets"`
	RST                  uint64            `json:"rst_packets"`
	UniqueBytes          uint64            `json:"unique_bytes"`
	RetransPackets       uint64            `json:"retransmitted_packets"`
	RetransBytes         uint64            `json:"retransmitted_bytes"`
	OutOfOrder           uint64            `json:"out_of_order_packets"`
	ZeroWindowProbes     uint64            `json:"zero_window_probes"`
	ZeroWindowProbeBytes uint64            `json:"zero_window_probe_bytes"`
	SACKPackets          uint64            `json:"sack_packets"`
	DSACKPackets         uint64            `json:"dsack_packets"`
	MaxSACKBlocks        uint8             `json:"max_sack_blocks"`
	MaxSegment           uint32            `json:"max_segment_size"`
	MinSegment           uint32            `json:"min_segment_size"`
	AvgSegment           uint64            `json:"avg_segment_size"`
	MaxWindow            uint32            `json:"max_window"`
	MinWindow            uint32            `json:"min_window"`
	WindowScaled         bool              `json:"window_scaled"`
	ZeroWindows          uint64            `json:"zero_window_adverts"`
	ZeroWindowUS         int64             `json:"zero_window_us"`
	InitialWindowBytes   uint64            `json:"initial_window_bytes"`
	InitialWindowPackets uint64            `json:"initial_window_packets"`
	MissedBytes          uint64            `json:"missed_bytes"`
	TruncatedPackets     uint64            `json:"truncated_packets"`
	TruncatedBytes       uint64            `json:"truncated_bytes"`
	Duplicates           uint64            `json:"duplicate_packets"`
	IdleMaxUS            int64             `json:"idle_max_us"`
	Throughput           uint64            `json:"throughput_bytes_per_sec"`
	TSPackets            uint64            `json:"timestamp_packets"`
	TSBackwards          uint64            `json:"timestamp_backwards"`
	PeerMSS              *uint16           `json:"peer_mss,omitempty"`
	HandshakeRTTUS       *int64            `json:"handshake_rtt_us,omitempty"`
	RTT                  *RTT              `json:"rtt,omitempty"`
	Analysis             map[string]uint32 `json:"analysis,omitempty"`
}

// Stats holds both directions' statistics.
type Stats struct {
	Client DirStats `json:"client"`
	Server DirStats `json:"server"`
}

// DirQuality is the capture quality of one direction's data.
type DirQuality struct {
	CaptureLossEvents  uint64 `json:"capture_loss_events"`
	CaptureLossBytes   uint64 `json:"capture_loss_bytes"`
	NetworkLossEvents  uint64 `json:"network_loss_events"`
	NetworkLossBytes   uint64 `json:"network_loss_bytes"`
	Reordered          uint64 `json:"reordered"`
	UnresolvedGapBytes uint64 `json:"unresolved_gap_bytes"`
	SuperSegments      uint64 `json:"super_segments"`
	MaxSuperSegment    uint32 `json:"max_super_segment,omitempty"`
	HolesForgotten     uint64 `json:"holes_forgotten,omitempty"`
}

// Quality says how far the capture can be trusted for this connection, and
// which numbers that limits (Notes).
type Quality struct {
	OneSided  bool       `json:"one_sided"`
	Midstream bool       `json:"midstream"`
	Client    DirQuality `json:"client"`
	Server    DirQuality `json:"server"`
	Notes     []string   `json:"notes,omitempty"`
}

func us(d time.Duration) int64 { return d.Microseconds() }

func dirStats(h *reassembly.Half, dur time.Duration, end time.Time) DirStats {
	s := &h.Stats
	out := dirCounters(h, dur, end)
	if s.HasPeerMSS {
		mss := s.PeerMSS
		out.PeerMSS = &mss
	}
	if s.HasHandshakeRTT {
		r := us(s.HandshakeRTT)
		out.HandshakeRTTUS = &r
	}
	if r := &s.RTT; r.Samples > 0 {
		out.RTT = &RTT{Samples: r.Samples, MinUS: us(r.Min), AvgUS: us(r.Avg()), MaxUS: us(r.Max), StddevUS: us(r.Stddev()),
			P50US: us(r.Quantile(0.50)), P95US: us(r.Quantile(0.95)), P99US: us(r.Quantile(0.99))}
	}
	names := reassembly.VerdictNames()
	for i, n := range s.Verdicts {
		if n > 0 {
			if out.Analysis == nil {
				out.Analysis = make(map[string]uint32)
			}
			out.Analysis[names[i]] = n
		}
	}
	return out
}

// dirCounters returns DirStats without its optional members (the pointers
// and the analysis map): what the encoder of a finished flow (encodeflow.go)
// writes from the flow directly, without the allocations they cost.
func dirCounters(h *reassembly.Half, dur time.Duration, end time.Time) DirStats {
	s := &h.Stats
	out := DirStats{
		Packets: s.Packets, DataPackets: s.DataPackets, DataBytes: s.DataBytes,
		AckPackets: s.AckPackets, PureAcks: s.PureAcks, PushPackets: s.PushPackets,
		SYN: s.SYN, FIN: s.FIN, RST: s.RST,
		UniqueBytes: s.UniqueBytes, RetransPackets: s.RetransPackets, RetransBytes: s.RetransBytes,
		OutOfOrder: s.OutOfOrder, ZeroWindowProbes: s.ZeroWindowProbes, ZeroWindowProbeBytes: s.ZeroWindowProbeBytes,
		SACKPackets: s.SACKPackets, DSACKPackets: s.DSACKPackets, MaxSACKBlocks: s.MaxSACKBlocks,
		MaxSegment: s.MaxSegment, MinSegment: s.MinSegment,
		MaxWindow: s.MaxWindow, MinWindow: s.MinWindow, WindowScaled: s.WindowScaled,
		ZeroWindows: s.ZeroWindows, ZeroWindowUS: us(h.ZeroWindowDuration(end)),
		InitialWindowBytes: s.InitialWindowBytes, InitialWindowPackets: s.InitialWindowPackets,
		MissedBytes:      h.MissedBytes(),
		TruncatedPackets: s.TruncatedPackets, TruncatedBytes: s.TruncatedBytes,
		Duplicates: s.Duplicates, IdleMaxUS: us(s.IdleMax),
		TSPackets: s.TSPackets, TSBackwards: s.TSBackwards,
	}
	if s.DataPackets > 0 {
		out.AvgSegment = s.DataBytes / s.DataPackets
	}
	if dur > 0 {
		out.Throughput = uint64(float64(s.UniqueBytes) / dur.Seconds())
	}
	return out
}

func dirQuality(h *reassembly.Half) DirQuality {
	s := &h.Stats
	return DirQuality{
		CaptureLossEvents: s.CaptureLossEvents, CaptureLossBytes: s.CaptureLossBytes,
		NetworkLossEvents: s.NetworkLossEvents, NetworkLossBytes: s.NetworkLossBytes,
		Reordered: s.Reordered, UnresolvedGapBytes: h.UnresolvedGapBytes(),
		SuperSegments: s.SuperSegments, MaxSuperSegment: s.MaxSuperSegment,
		HolesForgotten: s.HolesDropped,
	}
}

// quality builds the capture-quality block and says which numbers it limits.
func quality(f *reassembly.Flow) Quality {
	q := Quality{
		OneSided:  f.Packets[0] == 0 || f.Packets[1] == 0,
		Midstream: f.Conn.Midstream,
		Client:    dirQuality(&f.Half[fsm.DirClient]),
		Server:    dirQuality(&f.Half[fsm.DirServer]),
	}
	if q.OneSided {
		q.Notes = append(q.Notes, noteOneSided)
	}
	if q.Midstream {
		q.Notes = append(q.Notes, noteMidstream)
	}
	for _, d := range []fsm.Dir{fsm.DirClient, fsm.DirServer} {
		dq := &q.Client
		if d == fsm.DirServer {
			dq = &q.Server
		}
		if dq.CaptureLossBytes > 0 {
			q.Notes = append(q.Notes, d.String()+noteCaptureLoss)
		}
		if dq.SuperSegments > 0 {
			q.Notes = append(q.Notes, d.String()+noteSuperSegments)
		}
		if dq.HolesForgotten > 0 {
			q.Notes = append(q.Notes, d.String()+noteHolesForgotten)
		}
	}
	return q
}

// The capture-quality notes; the last three follow a direction's name.
const (
	noteOneSided      = "one-sided capture: RTT, initial window, ACK-based verdicts (duplicate_ack, ack_lost_segment, spurious and fast retransmission) and capture-loss accounting need both directions"
	noteMidstream     = "started mid-stream: relative sequence numbers count from the first segment seen, windows are unscaled, no handshake RTT"
	noteCaptureLoss   = ": data acknowledged but not captured (capture loss, not network loss): lost_segment and ack_lost_segment verdicts there describe the capture point"
	noteSuperSegments = ": segments larger than the peer's MSS (TSO/GSO/GRO at the capture point): segment sizes and window_full describe the capture point, not the wire"
	// The sequence-space summary keeps 4 holes a direction (bounded
	// memory); Ostermann's tcptrace keeps every range.
	noteHolesForgotten = ": more holes in the sequence space open at once than tcptrace keeps (4): bytes that later filled a forgotten one count as retransmitted, so unique_bytes is low and retransmitted_bytes high by up to what they held"
)

// PacketLines writes -T packets: one JSON object per TCP frame, in frame
// order. It formats by hand into a reused buffer, so a line costs no
// allocation. Not safe for concurrent use.
type PacketLines struct {
	w     io.Writer
	buf   []byte
	names []string
	err   error
}

// NewPacketLines returns a -T packets writer on w (wrap w in a bufio.Writer).
func NewPacketLines(w io.Writer) *PacketLines {
	return &PacketLines{w: w, buf: make([]byte, 0, 256), names: make([]string, 0, 16)}
}

// Write writes the line of the frame f just observed, sent by d with
// payload length n. It returns the first write error, and writes nothing
// after one.
func (p *PacketLines) Write(frame uint64, f *reassembly.Flow, d fsm.Dir, n uint32) error {
	if p.err != nil {
		return p.err
	}
	b := p.buf[:0]
	b = append(b, `{"frame":`...)
	b = strconv.AppendUint(b, frame, 10)
	b = append(b, `,"conn":`...)
	b = strconv.AppendUint(b, f.ID, 10)
	b = append(b, `,"dir":"`...)
	b = append(b, d.String()...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, uint64(f.Pkt.Seq), 10)
	b = append(b, `,"ack":`...)
	b = strconv.AppendUint(b, uint64(f.Pkt.Ack), 10)
	b = append(b, `,"len":`...)
	b = strconv.AppendUint(b, uint64(n), 10)
	b = append(b, `,"analysis":[`...)
	p.names = f.Pkt.Verdict.AppendNames(p.names[:0])
	for i, name := range p.names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"')
	}
	b = append(b, ']')
	if f.Pkt.Verdict&reassembly.VerdictDuplicateAck != 0 {
		b = append(b, `,"dup_ack_num":`...)
		b = strconv.AppendUint(b, uint64(f.Pkt.DupAckNum), 10)
		b = append(b, `,"dup_ack_frame":`...)
		b = strconv.AppendUint(b, f.Pkt.DupAckFrame, 10)
	}
	b = append(b, "}\n"...)
	p.buf = b
	_, p.err = p.w.Write(b)
	return p.err
}
