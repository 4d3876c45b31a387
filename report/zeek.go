package report

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Zeek's conn.log, as Zeek's ASCII writer writes it (-T zeek) and as its
// JSON writer does (-T zeek-json, LogAscii::use_json=T). The fields, their
// order and their types are those of the corpus baselines (zeek/zeek at
// a13de64f, scripts/base/protocols/conn/main.zeek); the value rules are
// set_conn's: duration, orig_bytes and resp_bytes only when the duration
// is positive, history only when not empty, local_orig and local_resp from
// Site::local_nets, which by default (private_address_space_is_local) is
// Site::private_address_space.

// ZeekFields are conn.log's field names, in Zeek's order.
var ZeekFields = []string{
	"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
	"orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
	"orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "ip_proto",
}

// ZeekTypes are the Zeek types of ZeekFields, as the #types header line
// names them.
var ZeekTypes = []string{
	"time", "string", "addr", "port", "addr", "port", "enum", "string", "interval",
	"count", "count", "string", "bool", "bool", "count", "string",
	"count", "count", "count", "count", "set[string]", "count",
}

// zeekValue is one field of a row; an unset field (Zeek's &optional left
// empty) is written as "-" in TSV and left out of JSON.
type zeekValue struct {
	set  bool
	kind zeekKind
	f    float64 // seconds, for zeekSeconds
	s    string  // the value of a string, a count or a bool ("T" or "F")
}

// zeekKind says how a value is written.
type zeekKind uint8

const (
	zeekCount   zeekKind = iota // count and port: digits
	zeekString                  // string, addr and enum: quoted in JSON
	zeekBool                    // T or F; true or false in JSON
	zeekSeconds                 // time and interval
)

// zeekRow returns c's conn.log fields in ZeekFields order.
func zeekRow(c *Connection) []zeekValue {
	z := &c.Zeek
	origIP, origPort, respIP, respPort := c.Client.IP, c.Client.Port, c.Server.IP, c.Server.Port
	if !z.OrigIsClient {
		origIP, origPort, respIP, respPort = respIP, respPort, origIP, origPort
	}
	str := func(s string) zeekValue { return zeekValue{set: s != "", kind: zeekString, s: s} }
	count := func(n uint64) zeekValue { return zeekValue{set: true, s: strconv.FormatUint(n, 10)} }
	boolean := func(b bool) zeekValue {
		if b {
			return zeekValue{set: true, kind: zeekBool, s: "T"}
		}
		return zeekValue{set: true, kind: zeekBool, s: "F"}
	}
	start, _ := time.Parse(time.RFC3339Nano, c.Start)
	last, _ := time.Parse(time.RFC3339Nano, z.Last)
	ts, lastTS := zeekTime(start), zeekTime(last)
	row := []zeekValue{
		{set: true, kind: zeekSeconds, f: ts},
		str(ZeekUID(c)),
		str(origIP), count(uint64(origPort)), str(respIP), count(uint64(respPort)),
		str("tcp"),
		{},         // service: tcptrace identifies no application protocol
		{}, {}, {}, // duration, orig_bytes, resp_bytes: below
		str(z.ConnState),
		boolean(zeekLocal(origIP)), boolean(zeekLocal(respIP)),
		count(z.MissedBytes),
		str(z.History),
		count(z.OrigPkts), count(z.OrigIPBytes), count(z.RespPkts), count(z.RespIPBytes),
		{}, // tunnel_parents: the uids of tunnel connections, which tcptrace does not track
		count(6),
	}
	// set_conn: "if ( c$duration > 0secs )", the duration being
	// last_time - start_time in Zeek's double seconds.
	if d := lastTS - ts; d > 0 {
		row[8] = zeekValue{set: true, kind: zeekSeconds, f: d}
		row[9], row[10] = count(z.OrigBytes), count(z.RespBytes)
	}
	return row
}

// zeekTime is a capture time as Zeek holds it: a double of seconds since
// the epoch, from the microsecond timestamp libpcap gives it
// (tv_sec + tv_usec/1e6; nanosecond captures are truncated to
// microseconds on reading).
func zeekTime(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix()) + float64(t.Nanosecond()/1000)/1e6
}

// zeekPrivate is Site::private_address_space of Zeek's base scripts
// (scripts/base/utils/site.zeek), which Site::local_nets holds by default.
var zeekPrivate = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "2002::/24", "10.0.0.0/8", "2002:a00::/24", "100.64.0.0/10", "2002:6440::/26",
		"127.0.0.0/8", "2002:7f00::/24", "169.254.0.0/16", "2002:a9fe::/32", "172.16.0.0/12", "2002:ac10::/28",
		"192.0.0.0/24", "2002:c000::/40", "192.0.2.0/24", "2002:c000:200::/40", "192.168.0.0/16", "2002:c0a8::/32",
		"198.18.0.0/15", "2002:c612::/31", "198.51.100.0/24", "2002:c633:6400::/40", "203.0.113.0/24",
		"2002:cb00:7100::/40", "240.0.0.0/4", "2002:f000::/20", "255.255.255.255/32", "2002:ffff:ffff::/48",
		"::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:2::/48", "2001:db8::/32",
		"fc00::/7", "fe80::/10",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// zeekLocal is Site::is_local_addr with Zeek's default Site::local_nets.
func zeekLocal(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range zeekPrivate {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ZeekUID returns the connection's conn.log uid: "C" and 96 bits in base 62,
// as Zeek's uids look. Zeek draws them at random; tcptrace derives them from
// the connection's start time, 4-tuple and id (the first 96 bits of their
// SHA-256), so the same capture always gives the same uids.
func ZeekUID(c *Connection) string {
	h := sha256.Sum256([]byte(c.Start + " " + c.Client.IP + " " + strconv.Itoa(int(c.Client.Port)) + " " +
		c.Server.IP + " " + strconv.Itoa(int(c.Server.Port)) + " " + strconv.FormatUint(c.ID, 10)))
	b := []byte{'C'}
	b = appendBase62(b, binary.BigEndian.Uint64(h[:8]))
	b = appendBase62(b, uint64(binary.BigEndian.Uint32(h[8:12])))
	return string(b)
}

func appendBase62(b []byte, n uint64) []byte {
	var buf [11]byte
	i := len(buf)
	for {
		i--
		buf[i] = base62[n%62]
		n /= 62
		if n == 0 {
			break
		}
	}
	return append(b, buf[i:]...)
}

// zeekLogTime is the #open and #close time: Zeek's "%Y-%m-%d-%H-%M-%S".
// Zeek writes its wall clock there; tcptrace writes the capture's first
// and last timestamps (UTC), so the log is reproducible.
func zeekLogTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t = time.Unix(0, 0)
	}
	return t.UTC().Format("2006-01-02-15-04-05")
}

// WriteZeek writes the connections as Zeek's conn.log in its default
// tab-separated format, header and footer included, one row per
// connection in connection order.
func WriteZeek(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n")
	bw.WriteString("#open\t" + zeekLogTime(r.Capture.First) + "\n")
	bw.WriteString("#fields\t" + strings.Join(ZeekFields, "\t") + "\n")
	bw.WriteString("#types\t" + strings.Join(ZeekTypes, "\t") + "\n")
	var b []byte
	for i := range r.Connections {
		b = b[:0]
		for j, v := range zeekRow(&r.Connections[i]) {
			if j > 0 {
				b = append(b, '\t')
			}
			switch {
			case !v.set:
				b = append(b, '-')
			case v.kind == zeekSeconds:
				// Zeek's ASCII formatter renders times and intervals
				// with six decimals, trailing zeros kept.
				b = strconv.AppendFloat(b, v.f, 'f', 6, 64)
			default:
				b = append(b, v.s...)
			}
		}
		b = append(b, '\n')
		bw.Write(b)
	}
	bw.WriteString("#close\t" + zeekLogTime(r.Capture.Last) + "\n")
	return bw.Flush()
}

// WriteZeekJSON writes the connections as Zeek's JSON conn.log: one object
// per line, keys in field order, unset fields left out, times and
// intervals as numbers of seconds (JSON::TS_EPOCH, Zeek's default), and no
// header.
func WriteZeekJSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	var b []byte
	for i := range r.Connections {
		b = append(b[:0], '{')
		for j, v := range zeekRow(&r.Connections[i]) {
			if !v.set {
				continue
			}
			if len(b) > 1 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, ZeekFields[j])
			b = append(b, ':')
			switch v.kind {
			case zeekSeconds:
				b = appendZeekJSONFloat(b, v.f)
			case zeekString:
				b = strconv.AppendQuote(b, v.s)
			case zeekBool:
				b = strconv.AppendBool(b, v.s == "T")
			default:
				b = append(b, v.s...)
			}
		}
		b = append(b, "}\n"...)
		bw.Write(b)
	}
	return bw.Flush()
}

// appendZeekJSONFloat writes f as Zeek's JSON writer does (rapidjson's
// Writer::Double): the shortest digits that read back as f, in decimal
// notation with at least one fractional digit, or in exponent notation
// for very small or large magnitudes (rapidjson's Prettify).
func appendZeekJSONFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		return append(b, "0.0"...)
	}
	if f < 0 {
		b = append(b, '-')
		f = -f
	}
	// Digits d1d2...dn and exponent e with f = 0.d1...dn × 10^kk.
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	n := len(digits)
	kk := x + 1 // position of the decimal point after the first kk digits
	switch {
	case n <= kk && kk <= 21:
		b = append(b, digits...)
		b = append(b, strings.Repeat("0", kk-n)...)
		return append(b, ".0"...)
	case 0 < kk && kk <= 21:
		b = append(b, digits[:kk]...)
		b = append(b, '.')
		return append(b, digits[kk:]...)
	case -6 < kk && kk <= 0:
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -kk)...)
		return append(b, digits...)
	}
	b = append(b, digits[0])
	if n > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'e')
	return strconv.AppendInt(b, int64(kk-1), 10)
}
