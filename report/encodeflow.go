package report

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// Encoding a finished flow's record straight from the flow (issue 7). -T
// json and -T jsonl write most records as soon as their flow finishes, and
// building a Connection first cost about as much as encoding it: 18
// allocations a record (the addresses, six time strings, the timelines,
// the maps and the optional fields' pointers) and time.Time formatting into
// strings that were copied once more into the output. appendFlow writes
// the bytes appendConnection writes for NewConnection(f), reading f, with
// times and addresses appended into the output. The field list is kept in
// step with NewConnection and appendConnection by encode_test.go, which
// compares appendFlow(f) with encoding/json's NewConnection(f) on every
// connection of every capture in pcaps/.

// namedCount is one member of a counter map: a violation or verdict name
// and its count.
type namedCount struct {
	name string
	n    uint32
}

// appendFlow appends the record of the finished flow f to dst as
// json.Marshal encodes NewConnection(f), indented with prefix if indent is
// set; typed as in appendConnection.
func (e *connEncoder) appendFlow(dst []byte, f *reassembly.Flow, typed, indent bool, prefix string) []byte {
	e.begin(dst, indent, prefix)
	c := &f.Conn
	cl, sv := &c.Ep[fsm.DirClient], &c.Ep[fsm.DirServer]
	e.open('{')
	if typed {
		e.str("type", "connection")
	}
	e.uint("id", f.ID)
	e.key("client")
	e.flowEndpoint(f.Client, cl)
	e.key("server")
	e.flowEndpoint(f.Server, sv)
	ipVersion := int64(4)
	if f.IPv6 {
		ipVersion = 6
	}
	e.int("ip_version", ipVersion)
	if f.Tunneled {
		e.bool("tunneled", true)
	}
	e.int("incarnation", int64(f.Incarnation))
	e.bool("roles_guessed", f.RolesGuessed)
	if f.RoleReason != "" {
		e.str("role_reason", f.RoleReason)
	}
	e.time("start", f.First)
	e.time("end", f.Last)
	dur := f.Last.Sub(f.First)
	e.int("duration_us", dur.Microseconds())
	e.uint("first_frame", f.FirstFrame)
	e.uint("last_frame", f.LastFrame)
	e.pair("packets", Pair{f.Packets[0], f.Packets[1]})
	e.pair("bytes", Pair{f.Bytes[0], f.Bytes[1]})
	e.pair("ip_bytes", Pair{f.IPBytes[0], f.IPBytes[1]})
	e.pair("payload_bytes", Pair{f.PayloadBytes[0], f.PayloadBytes[1]})
	e.pair("truncated_segments", Pair{f.Truncated[0], f.Truncated[1]})
	e.str("handshake", c.Handshake().String())
	e.str("close", c.Close().String())
	e.bool("half_close", c.HalfCloseData)
	if c.FinSeen {
		e.str("closed_first", c.FirstFin.String())
	}
	if c.RstSeen {
		e.str("reset_by", c.RstBy.String())
	}
	if mss := c.EffectiveMSS(f.IPv6); mss != 0 {
		e.uint("effective_mss", uint64(mss))
	}
	e.key("timeline")
	e.open('{')
	e.flowTransitions("client", c.Timeline[fsm.DirClient])
	e.flowTransitions("server", c.Timeline[fsm.DirServer])
	e.close('}')
	e.key("final_state")
	e.open('{')
	e.str("client", cl.State.String())
	e.str("server", sv.State.String())
	e.close('}')
	e.str("end_reason", f.End.String())
	e.named = e.named[:0]
	for v, n := range c.Violations() {
		if n > 0 && v != int(fsm.ViolationNone) {
			e.named = append(e.named, namedCount{fsm.Violation(v).String(), n})
		}
	}
	e.namedCounts("violations")
	e.key("zeek")
	e.flowZeek(&f.Zeek)
	e.key("stats")
	e.open('{')
	e.key("client")
	e.flowDirStats(&f.Half[fsm.DirClient], dur, f.Last)
	e.key("server")
	e.flowDirStats(&f.Half[fsm.DirServer], dur, f.Last)
	e.close('}')
	e.key("capture_quality")
	e.flowQuality(f)
	e.close('}')
	out := e.b
	e.b = nil
	clear(e.named) // hold no name past the record
	return out
}

// flowEndpoint writes what endpoint(ap, ep) holds.
func (e *connEncoder) flowEndpoint(ap netip.AddrPort, ep *fsm.Endpoint) {
	initial := ep.Initial
	if ep.State == fsm.StateUnknown {
		initial = fsm.StateUnknown // as endpoint: never in evidence
	}
	e.open('{')
	e.key("ip")
	e.addr(ap.Addr().Unmap())
	e.uint("port", uint64(ap.Port()))
	e.str("initial_state", initial.String())
	if ep.SynSent {
		e.uint("isn", uint64(uint32(ep.ISS)))
	}
	if ep.HasMSS {
		e.uint("mss", uint64(ep.MSS))
	}
	if ep.HasWScale {
		e.uint("window_scale", uint64(ep.WScale))
	}
	e.bool("sack_permitted", ep.SACKPerm)
	e.bool("timestamps", ep.HasTS)
	e.close('}')
}

// addr appends a's String form as a JSON string without building it. A
// valid address without a zone needs no escaping; the others (no address
// at all, a zone, which may hold anything) go through String.
func (e *connEncoder) addr(a netip.Addr) {
	if !a.IsValid() || a.Zone() != "" {
		e.b = appendJSONString(e.b, a.String())
		return
	}
	e.b = append(e.b, '"')
	e.b = a.AppendTo(e.b)
	e.b = append(e.b, '"')
}

// time writes t as Time formats it: "" for the zero time.
func (e *connEncoder) time(name string, t time.Time) {
	e.key(name)
	e.b = append(e.b, '"')
	if !t.IsZero() {
		e.b = appendTime(e.b, t)
	}
	e.b = append(e.b, '"')
}

// flowTransitions writes what transitions(tl) holds: never null, as it
// makes a slice even of a nil timeline.
func (e *connEncoder) flowTransitions(name string, tl []fsm.Transition) {
	e.key(name)
	e.open('[')
	for i := range tl {
		t := &tl[i]
		e.elem()
		e.open('{')
		e.uint("frame", t.Frame)
		e.time("time", t.Time)
		e.str("from", t.From.String())
		e.str("to", t.To.String())
		e.str("cause", t.Cause)
		e.bool("inferred", t.Inferred)
		e.close('}')
	}
	e.close(']')
}

// flowZeek writes what newZeek(z) holds.
func (e *connEncoder) flowZeek(z *reassembly.ZeekConn) {
	state, history, origIsClient := z.Verdict()
	n := z.Counts()
	o, r := fsm.DirClient, fsm.DirServer
	if !origIsClient {
		o, r = r, o
	}
	e.open('{')
	e.str("conn_state", state)
	e.str("history", history)
	e.bool("orig_is_client", origIsClient)
	e.time("last", n.Last)
	e.int("duration_us", n.Last.Sub(n.Start).Microseconds())
	e.uint("orig_bytes", n.Bytes[o])
	e.uint("resp_bytes", n.Bytes[r])
	e.uint("missed_bytes", n.Missed[o]+n.Missed[r])
	e.uint("orig_pkts", n.Packets[o])
	e.uint("orig_ip_bytes", n.IPBytes[o])
	e.uint("resp_pkts", n.Packets[r])
	e.uint("resp_ip_bytes", n.IPBytes[r])
	e.int("connections", int64(z.Connections()))
	e.close('}')
}

// flowDirStats writes what dirStats(h, dur, end) holds: the counters through
// the same code as dirStats, the optional members from the flow.
func (e *connEncoder) flowDirStats(h *reassembly.Half, dur time.Duration, end time.Time) {
	s := &h.Stats
	c := dirCounters(h, dur, end)
	e.open('{')
	e.dirCounters(&c)
	if s.HasPeerMSS {
		e.uint("peer_mss", uint64(s.PeerMSS))
	}
	if s.HasHandshakeRTT {
		e.int("handshake_rtt_us", us(s.HandshakeRTT))
	}
	if r := &s.RTT; r.Samples > 0 {
		e.key("rtt")
		e.open('{')
		e.uint("samples", r.Samples)
		e.int("min_us", us(r.Min))
		e.int("avg_us", us(r.Avg()))
		e.int("max_us", us(r.Max))
		e.int("stddev_us", us(r.Stddev()))
		e.int("p50_us", us(r.Quantile(0.50)))
		e.int("p95_us", us(r.Quantile(0.95)))
		e.int("p99_us", us(r.Quantile(0.99)))
		e.close('}')
	}
	names := reassembly.VerdictNames()
	e.named = e.named[:0]
	for i, n := range s.Verdicts {
		if n > 0 {
			e.named = append(e.named, namedCount{names[i], n})
		}
	}
	e.namedCounts("analysis")
	e.close('}')
}

// flowQuality writes what quality(f) holds.
func (e *connEncoder) flowQuality(f *reassembly.Flow) {
	oneSided := f.Packets[0] == 0 || f.Packets[1] == 0
	q := [2]DirQuality{dirQuality(&f.Half[fsm.DirClient]), dirQuality(&f.Half[fsm.DirServer])}
	e.open('{')
	e.bool("one_sided", oneSided)
	e.bool("midstream", f.Conn.Midstream)
	e.key("client")
	e.dirQuality(&q[fsm.DirClient])
	e.key("server")
	e.dirQuality(&q[fsm.DirServer])
	notes := oneSided || f.Conn.Midstream
	for d := range q {
		notes = notes || q[d].CaptureLossBytes > 0 || q[d].SuperSegments > 0 || q[d].HolesForgotten > 0
	}
	if notes {
		e.key("notes")
		e.open('[')
		if oneSided {
			e.elem()
			e.b = appendJSONString(e.b, noteOneSided)
		}
		if f.Conn.Midstream {
			e.elem()
			e.b = appendJSONString(e.b, noteMidstream)
		}
		for d := range q {
			if q[d].CaptureLossBytes > 0 {
				e.elem()
				e.b = appendJSONString2(e.b, fsm.Dir(d).String(), noteCaptureLoss)
			}
			if q[d].SuperSegments > 0 {
				e.elem()
				e.b = appendJSONString2(e.b, fsm.Dir(d).String(), noteSuperSegments)
			}
			if q[d].HolesForgotten > 0 {
				e.elem()
				e.b = appendJSONString2(e.b, fsm.Dir(d).String(), noteHolesForgotten)
			}
		}
		e.close(']')
	}
	e.close('}')
}

// namedCounts writes e.named as encoding/json writes the map NewConnection
// fills from it (name to count; a later duplicate name replaces an earlier
// one): keys sorted byte-wise, nothing when empty (omitempty).
func (e *connEncoder) namedCounts(name string) {
	if len(e.named) == 0 {
		return
	}
	// Stable: of equal names, the later, which the map keeps, stays last.
	slices.SortStableFunc(e.named, func(x, y namedCount) int { return strings.Compare(x.name, y.name) })
	e.key(name)
	e.open('{')
	for i, x := range e.named {
		if i+1 < len(e.named) && e.named[i+1].name == x.name {
			continue
		}
		if !e.first {
			e.b = append(e.b, ',')
		}
		e.first = false
		if e.indent {
			e.b = e.newline(e.b)
		}
		e.b = appendJSONString(e.b, x.name)
		e.b = append(e.b, ':')
		if e.indent {
			e.b = append(e.b, ' ')
		}
		e.b = strconv.AppendUint(e.b, uint64(x.n), 10)
	}
	e.close('}')
}

// appendJSONString2 appends a+b quoted as appendJSONString quotes it,
// without building a+b. a must be ASCII, so that no character spans the
// two.
func appendJSONString2(dst []byte, a, b string) []byte {
	dst = appendJSONString(dst, a)
	dst = dst[:len(dst)-1] // a's closing quote
	mid := len(dst)
	dst = appendJSONString(dst, b)
	copy(dst[mid:], dst[mid+1:]) // b's opening quote
	return dst[:len(dst)-1]
}
