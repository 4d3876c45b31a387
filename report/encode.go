package report

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Hand-written JSON encoding of connection records (issue 7). On a
// 2M-packet capture, encoding the records took 1.8 s of the 8.4 s CPU of
// -T json: encoding/json walking Connection by reflection, appendIndent
// re-reading its output to indent it, and time.Time.Format. connEncoder
// writes the same bytes directly, compact or already indented, into a
// reused buffer, without allocating. Its output must stay byte for byte
// what json.Marshal (and appendIndent) give: encode_test.go compares the
// two on every capture in pcaps/ and on randomly filled records, every
// field set, so a field added to Connection or a type in it fails there
// until it is encoded here.

// connEncoder appends JSON values to b: compact, or indented as
// appendIndent(compact, prefix) would indent them (a newline, prefix and two
// spaces per level before every member, element and closing bracket of a
// non-empty object or array; ": " after every key). The zero value is ready
// to use. Not safe for concurrent use.
type connEncoder struct {
	b      []byte
	indent bool
	prefix string
	depth  int
	first  bool         // nothing written yet in the innermost object or array
	nl     []byte       // a newline, nlFor and the spaces of 16 levels
	nlFor  string       // the prefix in nl
	keys   []string     // a map's keys, sorted as encoding/json sorts them
	named  []namedCount // a counter map's members, for appendFlow
}

// begin starts a value appended to dst.
func (e *connEncoder) begin(dst []byte, indent bool, prefix string) {
	e.b, e.indent, e.prefix, e.depth = dst, indent, prefix, 0
	if indent && (e.nl == nil || prefix != e.nlFor) {
		e.nl = append(append(append(e.nl[:0], '\n'), prefix...), spaces...)
		e.nlFor = prefix
	}
}

// appendConnection appends c to dst as json.Marshal encodes it, indented
// with prefix if indent is set. With typed, the object starts with
// "type":"connection", as typedConnection (JSON Lines) is encoded.
func (e *connEncoder) appendConnection(dst []byte, c *Connection, typed, indent bool, prefix string) []byte {
	e.begin(dst, indent, prefix)
	e.open('{')
	if typed {
		e.str("type", "connection")
	}
	e.uint("id", c.ID)
	e.key("client")
	e.endpoint(&c.Client)
	e.key("server")
	e.endpoint(&c.Server)
	e.int("ip_version", int64(c.IPVersion))
	if c.Tunneled {
		e.bool("tunneled", true)
	}
	e.int("incarnation", int64(c.Incarnation))
	e.bool("roles_guessed", c.RolesGuessed)
	if c.RoleReason != "" {
		e.str("role_reason", c.RoleReason)
	}
	e.str("start", c.Start)
	e.str("end", c.End)
	e.int("duration_us", c.DurationUS)
	e.uint("first_frame", c.FirstFrame)
	e.uint("last_frame", c.LastFrame)
	e.pair("packets", c.Packets)
	e.pair("bytes", c.Bytes)
	e.pair("ip_bytes", c.IPBytes)
	e.pair("payload_bytes", c.PayloadBytes)
	e.pair("truncated_segments", c.Truncated)
	e.str("handshake", c.Handshake)
	e.str("close", c.Close)
	e.bool("half_close", c.HalfClose)
	if c.ClosedFirst != "" {
		e.str("closed_first", c.ClosedFirst)
	}
	if c.ResetBy != "" {
		e.str("reset_by", c.ResetBy)
	}
	if c.EffectiveMSS != 0 {
		e.uint("effective_mss", uint64(c.EffectiveMSS))
	}
	e.key("timeline")
	e.open('{')
	e.transitions("client", c.Timeline.Client)
	e.transitions("server", c.Timeline.Server)
	e.close('}')
	e.key("final_state")
	e.open('{')
	e.str("client", c.FinalState.Client)
	e.str("server", c.FinalState.Server)
	e.close('}')
	e.str("end_reason", c.EndReason)
	if len(c.Violations) > 0 {
		e.counts("violations", c.Violations)
	}
	e.key("zeek")
	e.zeek(&c.Zeek)
	e.key("stats")
	e.open('{')
	e.key("client")
	e.dirStats(&c.Stats.Client)
	e.key("server")
	e.dirStats(&c.Stats.Server)
	e.close('}')
	e.key("capture_quality")
	e.quality(&c.Quality)
	e.close('}')
	out := e.b
	e.b = nil
	return out
}

func (e *connEncoder) endpoint(p *Endpoint) {
	e.open('{')
	e.str("ip", p.IP)
	e.uint("port", uint64(p.Port))
	e.str("initial_state", p.InitialState)
	if p.ISN != nil {
		e.uint("isn", uint64(*p.ISN))
	}
	if p.MSS != nil {
		e.uint("mss", uint64(*p.MSS))
	}
	if p.WindowScale != nil {
		e.uint("window_scale", uint64(*p.WindowScale))
	}
	e.bool("sack_permitted", p.SACKPermitted)
	e.bool("timestamps", p.Timestamps)
	e.close('}')
}

func (e *connEncoder) pair(name string, p Pair) {
	e.key(name)
	e.open('{')
	e.uint("client", p.Client)
	e.uint("server", p.Server)
	e.close('}')
}

// transitions writes a timeline: null when nil, as encoding/json writes a
// nil slice (NewConnection never leaves one nil).
func (e *connEncoder) transitions(name string, ts []Transition) {
	e.key(name)
	if ts == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.open('[')
	for i := range ts {
		t := &ts[i]
		e.elem()
		e.open('{')
		e.uint("frame", t.Frame)
		e.str("time", t.Time)
		e.str("from", t.From)
		e.str("to", t.To)
		e.str("cause", t.Cause)
		e.bool("inferred", t.Inferred)
		e.close('}')
	}
	e.close(']')
}

func (e *connEncoder) zeek(z *Zeek) {
	e.open('{')
	e.str("conn_state", z.ConnState)
	e.str("history", z.History)
	e.bool("orig_is_client", z.OrigIsClient)
	e.str("last", z.Last)
	e.int("duration_us", z.DurationUS)
	e.uint("orig_bytes", z.OrigBytes)
	e.uint("resp_bytes", z.RespBytes)
	e.uint("missed_bytes", z.MissedBytes)
	e.uint("orig_pkts", z.OrigPkts)
	e.uint("orig_ip_bytes", z.OrigIPBytes)
	e.uint("resp_pkts", z.RespPkts)
	e.uint("resp_ip_bytes", z.RespIPBytes)
	e.int("connections", int64(z.Connections))
	e.close('}')
}

// dirCounters writes the members of s that are always there: all but the
// optional tail, which dirStats and flowDirStats each write from their own
// source.
func (e *connEncoder) dirCounters(s *DirStats) {
	e.uint("packets", s.Packets)
	e.uint("data_packets", s.DataPackets)
	e.uint("data_bytes", s.DataBytes)
	e.uint("ack_packets", s.AckPackets)
	e.uint("pure_acks", s.PureAcks)
	e.uint("push_packets", s.PushPackets)
	e.uint("syn_packets", s.SYN)
	e.uint("fin_packets", s.FIN)
	e.uint("rst_packets", s.RST)
	e.uint("unique_bytes", s.UniqueBytes)
	e.uint("retransmitted_packets", s.RetransPackets)
	e.uint("retransmitted_bytes", s.RetransBytes)
	e.uint("out_of_order_packets", s.OutOfOrder)
	e.uint("zero_window_probes", s.ZeroWindowProbes)
	e.uint("zero_window_probe_bytes", s.ZeroWindowProbeBytes)
	e.uint("sack_packets", s.SACKPackets)
	e.uint("dsack_packets", s.DSACKPackets)
	e.uint("max_sack_blocks", uint64(s.MaxSACKBlocks))
	e.uint("max_segment_size", uint64(s.MaxSegment))
	e.uint("min_segment_size", uint64(s.MinSegment))
	e.uint("avg_segment_size", s.AvgSegment)
	e.uint("max_window", uint64(s.MaxWindow))
	e.uint("min_window", uint64(s.MinWindow))
	e.bool("window_scaled", s.WindowScaled)
	e.uint("zero_window_adverts", s.ZeroWindows)
	e.int("zero_window_us", s.ZeroWindowUS)
	e.uint("initial_window_bytes", s.InitialWindowBytes)
	e.uint("initial_window_packets", s.InitialWindowPackets)
	e.uint("missed_bytes", s.MissedBytes)
	e.uint("truncated_packets", s.TruncatedPackets)
	e.uint("truncated_bytes", s.TruncatedBytes)
	e.uint("duplicate_packets", s.Duplicates)
	e.int("idle_max_us", s.IdleMaxUS)
	e.uint("throughput_bytes_per_sec", s.Throughput)
	e.uint("timestamp_packets", s.TSPackets)
	e.uint("timestamp_backwards", s.TSBackwards)
}

func (e *connEncoder) dirStats(s *DirStats) {
	e.open('{')
	e.dirCounters(s)
	if s.PeerMSS != nil {
		e.uint("peer_mss", uint64(*s.PeerMSS))
	}
	if s.HandshakeRTTUS != nil {
		e.int("handshake_rtt_us", *s.HandshakeRTTUS)
	}
	if r := s.RTT; r != nil {
		e.key("rtt")
		e.open('{')
		e.uint("samples", r.Samples)
		e.int("min_us", r.MinUS)
		e.int("avg_us", r.AvgUS)
		e.int("max_us", r.MaxUS)
		e.int("stddev_us", r.StddevUS)
		e.int("p50_us", r.P50US)
		e.int("p95_us", r.P95US)
		e.int("p99_us", r.P99US)
		e.close('}')
	}
	if len(s.Analysis) > 0 {
		e.counts("analysis", s.Analysis)
	}
	e.close('}')
}

func (e *connEncoder) quality(q *Quality) {
	e.open('{')
	e.bool("one_sided", q.OneSided)
	e.bool("midstream", q.Midstream)
	e.key("client")
	e.dirQuality(&q.Client)
	e.key("server")
	e.dirQuality(&q.Server)
	if len(q.Notes) > 0 {
		e.key("notes")
		e.open('[')
		for _, n := range q.Notes {
			e.elem()
			e.b = appendJSONString(e.b, n)
		}
		e.close(']')
	}
	e.close('}')
}

func (e *connEncoder) dirQuality(q *DirQuality) {
	e.open('{')
	e.uint("capture_loss_events", q.CaptureLossEvents)
	e.uint("capture_loss_bytes", q.CaptureLossBytes)
	e.uint("network_loss_events", q.NetworkLossEvents)
	e.uint("network_loss_bytes", q.NetworkLossBytes)
	e.uint("reordered", q.Reordered)
	e.uint("unresolved_gap_bytes", q.UnresolvedGapBytes)
	e.uint("super_segments", q.SuperSegments)
	if q.MaxSuperSegment != 0 {
		e.uint("max_super_segment", uint64(q.MaxSuperSegment))
	}
	if q.HolesForgotten != 0 {
		e.uint("holes_forgotten", q.HolesForgotten)
	}
	e.close('}')
}

// counts writes a map of counters with its keys in encoding/json's order
// (byte-wise, before escaping).
func (e *connEncoder) counts(name string, m map[string]uint32) {
	e.key(name)
	e.keys = e.keys[:0]
	for k := range m {
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	e.open('{')
	for _, k := range e.keys {
		if !e.first {
			e.b = append(e.b, ',')
		}
		e.first = false
		if e.indent {
			e.b = e.newline(e.b)
		}
		e.b = appendJSONString(e.b, k)
		e.b = append(e.b, ':')
		if e.indent {
			e.b = append(e.b, ' ')
		}
		e.b = strconv.AppendUint(e.b, uint64(m[k]), 10)
	}
	e.close('}')
	clear(e.keys) // hold no key past the record
}

// open starts an object or array.
func (e *connEncoder) open(c byte) {
	e.b = append(e.b, c)
	e.depth++
	e.first = true
}

// close ends an object or array; an empty one stays "{}" or "[]".
func (e *connEncoder) close(c byte) {
	e.depth--
	if e.indent && !e.first {
		e.b = e.newline(e.b)
	}
	e.b = append(e.b, c)
	e.first = false
}

// elem starts an array element.
func (e *connEncoder) elem() {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	if e.indent {
		e.b = e.newline(e.b)
	}
}

// key starts an object member. name needs no escaping.
func (e *connEncoder) key(name string) {
	b := e.b
	if !e.first {
		b = append(b, ',')
	}
	e.first = false
	if e.indent {
		b = e.newline(b)
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':', ' ')
	} else {
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	e.b = b
}

// newline appends a newline and the indentation of the current depth, in
// one append from nl for the depths a record has.
func (e *connEncoder) newline(b []byte) []byte {
	if n := 1 + len(e.prefix) + 2*e.depth; n <= len(e.nl) {
		return append(b, e.nl[:n]...)
	}
	b = append(b, '\n')
	b = append(b, e.prefix...)
	n := 2 * e.depth
	for n > len(spaces) {
		b = append(b, spaces...)
		n -= len(spaces)
	}
	return append(b, spaces[:n]...)
}

func (e *connEncoder) str(name, v string) {
	e.key(name)
	e.b = appendJSONString(e.b, v)
}

func (e *connEncoder) uint(name string, v uint64) {
	e.key(name)
	e.b = strconv.AppendUint(e.b, v, 10)
}

func (e *connEncoder) int(name string, v int64) {
	e.key(name)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *connEncoder) bool(name string, v bool) {
	e.key(name)
	e.b = strconv.AppendBool(e.b, v)
}

// htmlSafe marks the bytes encoding/json copies into a string unescaped
// with HTML escaping on (its default): printable ASCII but for '"', '\\',
// '<', '>' and '&'. DEL is copied as is.
var htmlSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes a string by
// default: '"' and '\\' escaped with a backslash, \b \f \n \r \t by name,
// other control characters and <, >, & as \u00XX, U+2028 and U+2029 as
// \u2028 and \u2029, each byte of invalid UTF-8 as \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if htmlSafe[b] {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendTime appends t in UTC as t.UTC().Format(TimeLayout) writes it, by
// hand for years 0 to 9999 (Format's layout interpretation was a visible
// share of building a record, issue 7), with Format for any other. The
// date comes from the days since the Unix epoch by Hinnant's
// civil_from_days (proleptic Gregorian, as package time counts), and the
// digits from a table of pairs, into one fixed array: t.Date, t.Clock and
// a division per digit were a fifth of encoding a record.
func appendTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	days := sec / 86400
	if sec%86400 < 0 {
		days--
	}
	sod := int(sec - days*86400)
	// civil_from_days: eras of 400 years from 0000-03-01.
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365], from March 1
	mp := (5*doy + 2) / 153                                // [0, 11], March first
	day := int(doy - (153*mp+2)/5 + 1)
	month := int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	if year < 0 || year > 9999 {
		return t.UTC().AppendFormat(dst, TimeLayout)
	}
	var a [len("2006-01-02T15:04:05.000000000Z")]byte
	put2(a[0:], int(year)/100)
	put2(a[2:], int(year)%100)
	a[4] = '-'
	put2(a[5:], month)
	a[7] = '-'
	put2(a[8:], day)
	a[10] = 'T'
	put2(a[11:], sod/3600)
	a[13] = ':'
	put2(a[14:], sod/60%60)
	a[16] = ':'
	put2(a[17:], sod%60)
	a[19] = '.'
	ns := t.Nanosecond()
	a[20] = byte('0' + ns/1e8)
	ns %= 1e8
	put2(a[21:], ns/1e6)
	put2(a[23:], ns/1e4%100)
	put2(a[25:], ns/100%100)
	put2(a[27:], ns%100)
	a[29] = 'Z'
	return append(dst, a[:]...)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// put2 writes v in [0, 99] as two digits at b[0:2].
func put2(b []byte, v int) {
	b[0], b[1] = digitPairs[2*v], digitPairs[2*v+1]
}
