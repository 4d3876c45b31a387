package filter

import (
	"net/netip"
	"strconv"
	"strings"
)

// tokKind is the lexical class of a token, after libpcap's scanner.l.
type tokKind uint8

const (
	tEOF  tokKind = iota
	tNum          // NUM: decimal, 0x hex or 0-prefixed octal, or a named constant (tcp-syn)
	tHID          // dotted IPv4 address or prefix of one (10.1)
	tHID6         // IPv6 address
	tEID          // MAC address (unsupported)
	tID           // any other name: host names, port ranges like 80-90
	tKey          // a keyword; tok.text holds it
	tOp           // punctuation; tok.text holds it ("&&" and "||" are folded into and/or keywords)
)

// token is one lexeme of a filter expression.
type token struct {
	kind tokKind
	text string // source text (keywords and operators normalized)
	num  uint32 // value of a tNum
	pos  int    // byte offset in the expression
}

// keywords lists every reserved word of libpcap's scanner that the parser must not
// mistake for a host name. Words outside the supported subset are still listed so
// that they are refused as unsupported rather than looked up as names.
var keywords = map[string]bool{
	"dst": true, "src": true, "host": true, "gateway": true, "net": true, "mask": true,
	"port": true, "portrange": true, "proto": true, "protochain": true, "less": true,
	"greater": true, "byte": true, "broadcast": true, "multicast": true, "and": true,
	"or": true, "not": true, "len": true, "inbound": true, "outbound": true, "ifindex": true,
	"vlan": true, "mpls": true, "pppoed": true, "pppoes": true, "geneve": true,
	"lane": true, "llc": true, "metac": true, "bcc": true, "oam": true, "oamf4": true,
	"oamf4ec": true, "oamf4sc": true, "sc": true, "ilmic": true, "vpi": true, "vci": true,
	"connectmsg": true, "metaconnect": true, "on": true, "ifname": true, "rset": true,
	"ruleset": true, "rnr": true, "rulenum": true, "srnr": true, "subrulenum": true,
	"reason": true, "action": true, "fisu": true, "lssu": true, "lsu": true, "msu": true,
	"hfisu": true, "hlssu": true, "hmsu": true, "sio": true, "opc": true, "dpc": true,
	"sls": true, "hsio": true, "hopc": true, "hdpc": true, "hsls": true, "type": true,
	"subtype": true, "direction": true, "dir": true, "address1": true, "addr1": true,
	"address2": true, "addr2": true, "address3": true, "addr3": true, "address4": true,
	"addr4": true, "ra": true, "ta": true,
	// protocol names (pname in grammar.y)
	"link": true, "ether": true, "ppp": true, "slip": true, "fddi": true, "tr": true,
	"wlan": true, "arp": true, "rarp": true, "ip": true, "sctp": true, "tcp": true,
	"udp": true, "icmp": true, "igmp": true, "igrp": true, "pim": true, "vrrp": true,
	"carp": true, "radio": true, "ip6": true, "icmp6": true, "ah": true, "esp": true,
	"atalk": true, "aarp": true, "decnet": true, "lat": true, "sca": true, "moprc": true,
	"mopdl": true, "iso": true, "esis": true, "es-is": true, "isis": true, "is-is": true,
	"l1": true, "l2": true, "iih": true, "lsp": true, "snp": true, "csnp": true,
	"psnp": true, "clnp": true, "stp": true, "ipx": true, "netbeui": true,
}

// numConsts are the scanner's named numbers (scanner.l returns NUM for them).
var numConsts = map[string]uint32{
	"icmptype": 0, "icmpcode": 1,
	"icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
	"icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
	"icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
	"icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
	"tcpflags": 13, "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08,
	"tcp-ack": 0x10, "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
}

// lex splits expr into tokens. Like flex, it takes the longest match and, on a tie,
// the earlier rule (keywords and numbers before names), so "80-90" and "len-1" are
// names, "tcp-syn" is a number and "10.0.0.1" is an address.
func lex(expr string) ([]token, *SyntaxError) {
	var toks []token
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isAlnum(c) || c == ':':
			t, n, err := lexWord(expr, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += n
			continue
		}
		// Operators: two-character ones first.
		if i+1 < len(expr) {
			two := expr[i : i+2]
			switch two {
			case "&&":
				toks = append(toks, token{kind: tKey, text: "and", pos: i})
				i += 2
				continue
			case "||":
				toks = append(toks, token{kind: tKey, text: "or", pos: i})
				i += 2
				continue
			case ">=", "<=", "!=", "<<", ">>":
				toks = append(toks, token{kind: tOp, text: two, pos: i})
				i += 2
				continue
			case "==":
				toks = append(toks, token{kind: tOp, text: "=", pos: i})
				i += 2
				continue
			}
		}
		switch c {
		case '(', ')', '[', ']', ':', '/', '+', '-', '*', '%', '&', '|', '^', '=', '<', '>':
			toks = append(toks, token{kind: tOp, text: string(c), pos: i})
			i++
		case '!':
			toks = append(toks, token{kind: tKey, text: "not", pos: i})
			i++
		default:
			return nil, &SyntaxError{Expr: expr, Pos: i, Msg: "illegal character " + strconv.QuoteRune(rune(c))}
		}
	}
	toks = append(toks, token{kind: tEOF, pos: len(expr)})
	return toks, nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// lexWord lexes an address, number, keyword or name starting at expr[i].
func lexWord(expr string, i int) (token, int, *SyntaxError) {
	// IPv6 and MAC addresses: the longest run of hex digits, colons and dots, if it
	// contains a colon and parses. Otherwise fall back to the other rules (so the
	// "13:1" of "tcp[13:1]" is a number, a colon and a number).
	j := i
	for j < len(expr) && (isHex(expr[j]) || expr[j] == ':' || expr[j] == '.') {
		j++
	}
	if run := expr[i:j]; strings.IndexByte(run, ':') >= 0 {
		if isMAC(run) {
			return token{kind: tEID, text: run, pos: i}, j - i, nil
		}
		if a, err := netip.ParseAddr(run); err == nil && a.Is6() && a.Zone() == "" {
			return token{kind: tHID6, text: run, pos: i}, j - i, nil
		}
	}
	if expr[i] == ':' {
		return token{kind: tOp, text: ":", pos: i}, 1, nil
	}
	// Name rule: [A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?
	j = i + 1
	for j < len(expr) && (isAlnum(expr[j]) || expr[j] == '-' || expr[j] == '_' || expr[j] == '.') {
		j++
	}
	for j > i+1 && (expr[j-1] == '-' || expr[j-1] == '_') {
		j--
	}
	word := expr[i:j]
	// Number rule: [0-9]+ or 0x[0-9a-f]+, which wins only when the name rule
	// matches no more than it does.
	if expr[i] >= '0' && expr[i] <= '9' {
		if n := numLen(expr[i:]); n == len(word) {
			v, msg := parseNum(word)
			if msg != "" {
				return token{}, 0, &SyntaxError{Expr: expr, Pos: i, Msg: msg}
			}
			return token{kind: tNum, text: word, num: v, pos: i}, n, nil
		}
		if isDotted(word) {
			return token{kind: tHID, text: word, pos: i}, len(word), nil
		}
	}
	if v, ok := numConsts[word]; ok {
		return token{kind: tNum, text: word, num: v, pos: i}, len(word), nil
	}
	if keywords[word] {
		return token{kind: tKey, text: word, pos: i}, len(word), nil
	}
	return token{kind: tID, text: word, pos: i}, len(word), nil
}

// numLen returns the length of the number at the start of s.
func numLen(s string) int {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2]) {
		n := 2
		for n < len(s) && isHex(s[n]) {
			n++
		}
		return n
	}
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// parseNum converts a number token as libpcap's stoulen does: 0x is hex, a
// leading 0 is octal, and values must fit in 32 bits.
func parseNum(s string) (uint32, string) {
	base, digits := 10, s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
		if strings.ContainsAny(digits, "89") {
			return 0, "number " + s + " contains non-octal digit"
		}
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, "number " + s + " overflows 32 bits"
	}
	return uint32(v), ""
}

// isDotted reports whether s is 2 to 4 dot-separated decimal numbers (libpcap's HID).
func isDotted(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 || len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// isMAC reports whether s is six colon-separated groups of one or two hex digits.
func isMAC(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return false
	}
	for _, p := range parts {
		if len(p) < 1 || len(p) > 2 || !isHex(p[0]) || !isHex(p[len(p)-1]) {
			return false
		}
	}
	return true
}
