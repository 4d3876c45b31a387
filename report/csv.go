package report

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"
)

// CSVColumns are the header of -T csv, one column per field of csvRecord
// (docs/schema.md, "-T csv").
var CSVColumns = []string{
	"id", "client_ip", "client_port", "server_ip", "server_port", "ip_version", "incarnation",
	"roles_guessed", "start", "end", "duration_us", "first_frame", "last_frame",
	"handshake", "close", "closed_first", "reset_by", "half_close",
	"client_final_state", "server_final_state", "end_reason",
	"client_packets", "server_packets", "client_bytes", "server_bytes",
	"client_payload_bytes", "server_payload_bytes",
	"client_retransmitted_packets", "server_retransmitted_packets",
	"client_retransmitted_bytes", "server_retransmitted_bytes",
	"handshake_rtt_us", "effective_mss", "violations",
	"zeek_conn_state", "zeek_history", "zeek_uid",
	"findings", "worst_severity", "finding_kinds",
}

// severityRank orders finding severities, worst last.
var severityRank = map[string]int{"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}

// WriteCSV writes one row per connection after a header row (CSVColumns),
// quoted as RFC 4180 says. The findings columns count the findings that
// name the connection: an aggregated finding names the first of its
// connections.
func WriteCSV(w io.Writer, r *Report) error {
	type found struct {
		n     int
		worst string
		kinds []string
	}
	byConn := make(map[uint64]*found)
	for _, f := range r.Findings {
		if f.Connection == 0 {
			continue
		}
		e := byConn[f.Connection]
		if e == nil {
			e = &found{}
			byConn[f.Connection] = e
		}
		e.n++
		if severityRank[f.Severity] > severityRank[e.worst] {
			e.worst = f.Severity
		}
		e.kinds = append(e.kinds, f.Kind)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	for i := range r.Connections {
		c := &r.Connections[i]
		rtt := ""
		if p := c.Stats.Client.HandshakeRTTUS; p != nil {
			rtt = strconv.FormatInt(*p, 10)
		}
		mss := ""
		if c.EffectiveMSS != 0 {
			mss = u(uint64(c.EffectiveMSS))
		}
		f := byConn[c.ID]
		if f == nil {
			f = &found{}
		}
		rec := []string{
			u(c.ID), c.Client.IP, u(uint64(c.Client.Port)), c.Server.IP, u(uint64(c.Server.Port)),
			strconv.Itoa(c.IPVersion), strconv.Itoa(c.Incarnation),
			strconv.FormatBool(c.RolesGuessed), c.Start, c.End, strconv.FormatInt(c.DurationUS, 10),
			u(c.FirstFrame), u(c.LastFrame),
			c.Handshake, c.Close, c.ClosedFirst, c.ResetBy, strconv.FormatBool(c.HalfClose),
			c.FinalState.Client, c.FinalState.Server, c.EndReason,
			u(c.Packets.Client), u(c.Packets.Server), u(c.Bytes.Client), u(c.Bytes.Server),
			u(c.PayloadBytes.Client), u(c.PayloadBytes.Server),
			u(c.Stats.Client.RetransPackets), u(c.Stats.Server.RetransPackets),
			u(c.Stats.Client.RetransBytes), u(c.Stats.Server.RetransBytes),
			rtt, mss, csvViolations(c.Violations),
			c.Zeek.ConnState, c.Zeek.History, ZeekUID(c),
			strconv.Itoa(f.n), f.worst, strings.Join(f.kinds, ";"),
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvViolations renders the violations map as "name=count" pairs, sorted by
// name and joined with ";".
func csvViolations(v map[string]uint32) string {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		names[i] = k + "=" + strconv.FormatUint(uint64(v[k]), 10)
	}
	return strings.Join(names, ";")
}
