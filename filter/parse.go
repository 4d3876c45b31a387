package filter

import "strings"

// Qualifier values, after gencode.h (Q_*). Protocols outside the supported subset
// never get this far: the parser refuses them.
type qproto uint8

const (
	pDefault qproto = iota
	pUndef          // qerr: no qualifier may be inherited here
	pLink
	pIP
	pIP6
	pTCP
	pUDP
	pSCTP
	pICMP
	pICMP6
)

var protoNames = map[string]qproto{
	"link": pLink, "ether": pLink, "ppp": pLink, "slip": pLink, "fddi": pLink, "tr": pLink, "wlan": pLink,
	"ip": pIP, "ip6": pIP6, "tcp": pTCP, "udp": pUDP, "sctp": pSCTP, "icmp": pICMP, "icmp6": pICMP6,
}

// pnames are the remaining protocol keywords of the grammar, all unsupported.
var pnames = map[string]bool{
	"arp": true, "rarp": true, "igmp": true, "igrp": true, "pim": true, "vrrp": true, "carp": true,
	"radio": true, "ah": true, "esp": true, "atalk": true, "aarp": true, "decnet": true, "lat": true,
	"sca": true, "moprc": true, "mopdl": true, "iso": true, "esis": true, "es-is": true, "isis": true,
	"is-is": true, "l1": true, "l2": true, "iih": true, "lsp": true, "snp": true, "csnp": true,
	"psnp": true, "clnp": true, "stp": true, "ipx": true, "netbeui": true,
}

type qdir uint8

const (
	dDefault qdir = iota
	dUndef
	dSrc
	dDst
	dOr
	dAnd
)

type qaddr uint8

const (
	aDefault qaddr = iota
	aUndef
	aHost
	aNet
	aPort
	aPortRange
)

// qual is a (protocol, direction, address type) triple; ids inherit the last one.
type qual struct {
	proto qproto
	dir   qdir
	addr  qaddr
}

var qerr = qual{pUndef, dUndef, aUndef}

// node is a boolean filter expression. Code generation walks it left to right, the
// order in which libpcap's parser runs its actions (which matters for vlan).
type node interface{ nodePos() int }

type (
	andNode struct {
		l, r node
		pos  int
	}
	orNode struct {
		l, r node
		pos  int
	}
	notNode struct {
		x   node
		pos int
	}
	// protoNode is a bare protocol name ("tcp", "ip6").
	protoNode struct {
		proto qproto
		pos   int
	}
	// idNode is an address, number or name under a qualifier.
	idNode struct {
		q    qual
		kind tokKind // tNum, tHID, tHID6 or tID
		text string  // tHID, tHID6, tID
		num  uint32  // tNum
		// masklen >= 0 for HID/NUM and HID6/NUM; mask != "" for "HID mask HID".
		masklen int
		mask    string
		pos     int
	}
	relNode struct {
		op       string // "=", ">", ">=" (after reversal)
		reversed bool
		l, r     arth
		pos      int
	}
	vlanNode struct {
		has bool
		num uint32
		pos int
	}
	// lenNode is "greater N" (ge) or "less N".
	lenNode struct {
		ge  bool
		n   uint32
		pos int
	}
)

func (n *andNode) nodePos() int   { return n.pos }
func (n *orNode) nodePos() int    { return n.pos }
func (n *notNode) nodePos() int   { return n.pos }
func (n *protoNode) nodePos() int { return n.pos }
func (n *idNode) nodePos() int    { return n.pos }
func (n *relNode) nodePos() int   { return n.pos }
func (n *vlanNode) nodePos() int  { return n.pos }
func (n *lenNode) nodePos() int   { return n.pos }

// arth is an arithmetic expression.
type arth interface{ arthPos() int }

type (
	numArth struct {
		v   uint32
		pos int
	}
	lenArth  struct{ pos int }
	loadArth struct {
		proto qproto
		idx   arth
		size  uint32
		pos   int
	}
	binArth struct {
		op   string
		l, r arth
		pos  int
	}
	negArth struct {
		x   arth
		pos int
	}
)

func (a *numArth) arthPos() int  { return a.pos }
func (a *lenArth) arthPos() int  { return a.pos }
func (a *loadArth) arthPos() int { return a.pos }
func (a *binArth) arthPos() int  { return a.pos }
func (a *negArth) arthPos() int  { return a.pos }

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	src   string
	toks  []token
	match []int // match[i]: for a '(' at i, the index after its ')', or -1
	i     int
	depth int
}

// bail carries a parse error up through panics; parse recovers it.
type bail struct{ err error }

func (p *parser) tok() token       { return p.toks[p.i] }
func (p *parser) peek(n int) token { return p.toks[min(p.i+n, len(p.toks)-1)] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) fail(pos int, msg string) {
	panic(bail{&SyntaxError{Expr: p.src, Pos: pos, Msg: msg}})
}

func (p *parser) unsupported(pos int, construct string) {
	panic(bail{&UnsupportedError{Expr: p.src, Pos: pos, Construct: construct}})
}

func (p *parser) unexpected() {
	t := p.tok()
	if t.kind == tEOF {
		p.fail(t.pos, "unexpected end of expression")
	}
	p.fail(t.pos, "unexpected "+quote(t.text))
}

func quote(s string) string { return `"` + s + `"` }

func (p *parser) isKey(t token, words ...string) bool {
	if t.kind != tKey {
		return false
	}
	for _, w := range words {
		if t.text == w {
			return true
		}
	}
	return false
}

func (p *parser) isOp(t token, ops ...string) bool {
	if t.kind != tOp {
		return false
	}
	for _, o := range ops {
		if t.text == o {
			return true
		}
	}
	return false
}

func (p *parser) expectOp(op string) token {
	if !p.isOp(p.tok(), op) {
		p.unexpected()
	}
	return p.next()
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail(p.tok().pos, "expression nested too deeply")
	}
}

func (p *parser) leave() { p.depth-- }

// parse parses a whole filter expression; it returns nil for an empty one.
func parse(expr string) (n node, err error) {
	toks, serr := lex(expr)
	if serr != nil {
		return nil, serr
	}
	p := &parser{src: expr, toks: toks, match: matchParens(toks)}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			n, err = nil, b.err
		}
	}()
	if p.tok().kind == tEOF {
		return nil, nil
	}
	n, _ = p.expr(qerr)
	if p.tok().kind != tEOF {
		p.unexpected()
	}
	return n, nil
}

// expr: term | expr and term | expr and id | expr or term | expr or id.
// Operators are left-associative with equal precedence, as in grammar.y.
func (p *parser) expr(ctx qual) (node, qual) {
	p.enter()
	defer p.leave()
	n, q := p.term(ctx)
	for p.isKey(p.tok(), "and", "or") {
		op := p.next()
		// The and/or's semantic value is the expression before it, so an id
		// after it inherits that expression's qualifiers.
		r, rq := p.termOrID(q)
		if op.text == "and" {
			n = &andNode{l: n, r: r, pos: op.pos}
		} else {
			n = &orNode{l: n, r: r, pos: op.pos}
		}
		q = rq
	}
	return n, q
}

// term: rterm | not term.
func (p *parser) term(ctx qual) (node, qual) {
	if p.isKey(p.tok(), "not") {
		t := p.next()
		p.enter()
		defer p.leave()
		x, q := p.term(ctx)
		return &notNode{x: x, pos: t.pos}, q
	}
	return p.rterm(ctx)
}

// termOrID parses what may follow and/or: a term or a bare id.
func (p *parser) termOrID(ctx qual) (node, qual) {
	t := p.tok()
	switch {
	case p.isKey(t, "not"):
		p.next()
		p.enter()
		defer p.leave()
		x, q := p.termOrID(ctx)
		return &notNode{x: x, pos: t.pos}, q
	case p.startsID():
		return p.id(ctx), ctx
	}
	return p.rterm(ctx)
}

// arithOps are the binary arithmetic operators; relOps the comparisons.
var arithOps = map[string]bool{"+": true, "-": true, "*": true, "/": true, "%": true, "&": true, "|": true, "^": true, "<<": true, ">>": true}
var relOps = map[string]bool{"=": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true}

func (p *parser) isArithOrRel(t token) bool {
	return t.kind == tOp && (arithOps[t.text] || relOps[t.text])
}

// matchParens pairs the parentheses once, so that the lookahead below stays
// linear: scanning for the match at every nesting level made a deeply nested
// expression cubic (a fuzzer's 2,000 parentheses took 20 s).
func matchParens(toks []token) []int {
	match := make([]int, len(toks))
	var open []int
	for i, t := range toks {
		match[i] = -1
		if t.kind != tOp {
			continue
		}
		switch t.text {
		case "(":
			open = append(open, i)
		case ")":
			if n := len(open); n > 0 {
				match[open[n-1]] = i + 1
				open = open[:n-1]
			}
		}
	}
	return match
}

// matchParen returns the index of the token after the ')' matching the '(' at i,
// or -1.
func (p *parser) matchParen(i int) int {
	if !p.isOp(p.toks[i], "(") {
		return -1
	}
	return p.match[i]
}

// parenIsArith reports whether the '(' at the current token opens an arithmetic
// operand, that is, whether the matching ')' is followed by an operator.
func (p *parser) parenIsArith() bool {
	j := p.matchParen(p.i)
	return j >= 0 && p.isArithOrRel(p.toks[j])
}

// startsID reports whether the current token begins an id (grammar.y's id) rather
// than a term. The grammar decides with LALR(1) lookahead; this looks a little
// further into parentheses to reach the same decision.
func (p *parser) startsID() bool {
	i := p.i
	for {
		t := p.toks[i]
		switch {
		case t.kind == tHID || t.kind == tHID6 || t.kind == tEID || t.kind == tID:
			return true
		case t.kind == tNum:
			n := p.toks[min(i+1, len(p.toks)-1)]
			return !p.isArithOrRel(n) && !p.isOp(n, "[")
		case p.isOp(t, "("):
			if j := p.matchParen(i); j >= 0 && p.isArithOrRel(p.toks[j]) {
				return false
			}
			i++
		case p.isKey(t, "not"):
			i++
		default:
			return false
		}
	}
}

// id: nid | pnum | ( pid ) | not id, parsed under the inherited qualifiers ctx.
func (p *parser) id(ctx qual) node {
	p.enter()
	defer p.leave()
	t := p.tok()
	switch {
	case p.isKey(t, "not"):
		p.next()
		return &notNode{x: p.id(ctx), pos: t.pos}
	case p.isOp(t, "("):
		if !p.startsID() {
			p.unexpected()
		}
		p.next()
		n := p.id(ctx)
		for p.isKey(p.tok(), "and", "or") {
			op := p.next()
			r := p.id(ctx)
			if op.text == "and" {
				n = &andNode{l: n, r: r, pos: op.pos}
			} else {
				n = &orNode{l: n, r: r, pos: op.pos}
			}
		}
		p.expectOp(")")
		return n
	case t.kind == tNum:
		p.next()
		return &idNode{q: ctx, kind: tNum, num: t.num, masklen: -1, pos: t.pos}
	case t.kind == tHID:
		p.next()
		n := &idNode{q: ctx, kind: tHID, text: t.text, masklen: -1, pos: t.pos}
		switch {
		case p.isOp(p.tok(), "/"):
			p.next()
			m := p.tok()
			if m.kind != tNum {
				p.unexpected()
			}
			p.next()
			n.masklen = int(min(m.num, 1<<16))
		case p.isKey(p.tok(), "mask"):
			p.next()
			m := p.tok()
			if m.kind != tHID {
				p.unexpected()
			}
			p.next()
			n.mask = m.text
		}
		return n
	case t.kind == tHID6:
		p.next()
		n := &idNode{q: ctx, kind: tHID6, text: t.text, masklen: 128, pos: t.pos}
		if p.isOp(p.tok(), "/") {
			p.next()
			m := p.tok()
			if m.kind != tNum {
				p.unexpected()
			}
			p.next()
			n.masklen = int(min(m.num, 1<<16))
		}
		return n
	case t.kind == tEID:
		p.unsupported(t.pos, "MAC address")
	case t.kind == tID:
		p.next()
		return &idNode{q: ctx, kind: tID, text: t.text, masklen: -1, pos: t.pos}
	}
	p.unexpected()
	return nil
}

// rterm: head id | ( expr ) | pname | arth relop arth | other.
func (p *parser) rterm(ctx qual) (node, qual) {
	t := p.tok()
	switch {
	case p.isOp(t, "("):
		if p.parenIsArith() {
			return p.relation(), qerr
		}
		p.next()
		n, _ := p.expr(ctx)
		p.expectOp(")")
		// The group's value is the '(' token's, which is the value before it.
		return n, ctx
	case t.kind == tNum || p.isKey(t, "len") || p.isOp(t, "-"):
		return p.relation(), qerr
	case t.kind == tKey:
		return p.keyword(ctx)
	}
	p.unexpected()
	return nil, qerr
}

// unsupportedWords are keywords that start constructs outside the subset.
var unsupportedWords = map[string]bool{
	"gateway": true, "proto": true, "protochain": true, "byte": true, "broadcast": true,
	"multicast": true, "inbound": true, "outbound": true, "ifindex": true, "mpls": true,
	"pppoed": true, "pppoes": true, "geneve": true, "lane": true, "llc": true, "metac": true,
	"bcc": true, "oam": true, "oamf4": true, "oamf4ec": true, "oamf4sc": true, "sc": true,
	"ilmic": true, "vpi": true, "vci": true, "connectmsg": true, "metaconnect": true,
	"on": true, "ifname": true, "rset": true, "ruleset": true, "rnr": true, "rulenum": true,
	"srnr": true, "subrulenum": true, "reason": true, "action": true, "fisu": true,
	"lssu": true, "lsu": true, "msu": true, "hfisu": true, "hlssu": true, "hmsu": true,
	"sio": true, "opc": true, "dpc": true, "sls": true, "hsio": true, "hopc": true,
	"hdpc": true, "hsls": true, "type": true, "subtype": true, "direction": true, "dir": true,
	"address1": true, "addr1": true, "address2": true, "addr2": true, "address3": true,
	"addr3": true, "address4": true, "addr4": true, "ra": true, "ta": true,
}

// keyword parses an rterm that starts with a keyword.
func (p *parser) keyword(ctx qual) (node, qual) {
	t := p.tok()
	w := t.text
	switch {
	case w == "vlan":
		p.next()
		n := &vlanNode{pos: t.pos}
		if p.tok().kind == tNum || p.isOp(p.tok(), "(") {
			n.has, n.num = true, p.pnum()
		}
		return n, qerr
	case w == "greater" || w == "less":
		p.next()
		v := p.tok()
		if v.kind != tNum {
			p.unexpected()
		}
		p.next()
		return &lenNode{ge: w == "greater", n: v.num, pos: t.pos}, qerr
	case w == "src" || w == "dst" || w == "host" || w == "net" || w == "port" || w == "portrange":
		q := p.head(pDefault, t.pos)
		return p.id(q), q
	}
	if pr, ok := protoNames[w]; ok {
		n := p.peek(1)
		switch {
		case p.isOp(n, "["):
			return p.relation(), qerr
		case p.isKey(n, "src", "dst", "host", "net", "port", "portrange"):
			if pr == pLink {
				p.unsupported(t.pos, p.headText())
			}
			p.next()
			q := p.head(pr, t.pos)
			return p.id(q), q
		case n.kind == tKey && unsupportedWords[n.text]:
			p.unsupported(t.pos, w+" "+n.text)
		}
		if pr == pLink {
			p.unsupported(t.pos, w)
		}
		p.next()
		return &protoNode{proto: pr, pos: t.pos}, qerr
	}
	if pnames[w] {
		n := p.peek(1)
		switch {
		case p.isOp(n, "["):
			p.unsupported(t.pos, w+"[]")
		case p.isKey(n, "src", "dst", "host", "net", "port", "portrange"):
			p.unsupported(t.pos, p.headText())
		case n.kind == tKey && unsupportedWords[n.text]:
			p.unsupported(t.pos, w+" "+n.text)
		}
		p.unsupported(t.pos, w)
	}
	if unsupportedWords[w] {
		p.unsupported(t.pos, w)
	}
	p.unexpected()
	return nil, qerr
}

// headText returns the words of the qualifier list starting at the current token
// ("ether src host"), to name an unsupported construct.
func (p *parser) headText() string {
	words := []string{p.tok().text}
	for j := 1; ; j++ {
		t := p.peek(j)
		switch {
		case p.isKey(t, "src", "dst"):
			words = append(words, t.text)
			if o := p.peek(j + 1); p.isKey(o, "and", "or") && p.isKey(p.peek(j+2), "src", "dst") {
				words = append(words, o.text, p.peek(j+2).text)
				j += 2
			}
		case p.isKey(t, "host", "net", "port", "portrange") || t.kind == tKey && unsupportedWords[t.text]:
			return strings.Join(append(words, t.text), " ")
		default:
			return strings.Join(words, " ")
		}
	}
}

// head: pqual dqual aqual | pqual dqual | pqual aqual, with the pqual already taken.
func (p *parser) head(pr qproto, pos int) qual {
	q := qual{proto: pr}
	t := p.tok()
	switch {
	case p.isKey(t, "src", "dst"):
		p.next()
		q.dir = dSrc
		if t.text == "dst" {
			q.dir = dDst
		}
		// "src or dst" and "src and dst" are single qualifiers.
		if o := p.tok(); p.isKey(o, "and", "or") {
			other := "dst"
			if t.text == "dst" {
				other = "src"
			}
			if p.isKey(p.peek(1), other) {
				p.next()
				p.next()
				q.dir = dOr
				if o.text == "and" {
					q.dir = dAnd
				}
			}
		}
	}
	t = p.tok()
	switch {
	case p.isKey(t, "host"):
		q.addr = aHost
	case p.isKey(t, "net"):
		q.addr = aNet
	case p.isKey(t, "port"):
		q.addr = aPort
	case p.isKey(t, "portrange"):
		q.addr = aPortRange
	case t.kind == tKey && unsupportedWords[t.text]:
		p.unsupported(pos, strings.TrimSpace(p.src[pos:t.pos]+t.text))
	default:
		if q.dir == dDefault {
			p.unexpected()
		}
		return q
	}
	p.next()
	return q
}

// pnum: NUM | ( pnum ).
func (p *parser) pnum() uint32 {
	p.enter()
	defer p.leave()
	t := p.tok()
	if p.isOp(t, "(") {
		p.next()
		v := p.pnum()
		p.expectOp(")")
		return v
	}
	if t.kind != tNum {
		p.unexpected()
	}
	p.next()
	return t.num
}

// relation: arth relop arth.
func (p *parser) relation() node {
	l := p.arth()
	t := p.tok()
	if t.kind != tOp || !relOps[t.text] {
		p.unexpected()
	}
	p.next()
	r := p.arth()
	n := &relNode{l: l, r: r, pos: t.pos}
	switch t.text {
	case "=", ">", ">=":
		n.op = t.text
	case "!=":
		n.op, n.reversed = "=", true
	case "<=":
		n.op, n.reversed = ">", true
	case "<":
		n.op, n.reversed = ">=", true
	}
	return n
}

// arthPrec is the yacc precedence of an arithmetic operator; 0 means none. In
// libpcap 1.10 '%' and '^' have no declared precedence, so yacc resolves every
// conflict involving them by shifting (they group to the right of anything).
var arthPrec = map[string]int{"|": 1, "&": 2, "<<": 3, ">>": 3, "+": 4, "-": 4, "*": 5, "/": 5, "neg": 6}

// arth parses an arithmetic expression with a shift-reduce loop that resolves
// conflicts exactly as yacc does with grammar.y's precedence declarations.
func (p *parser) arth() arth {
	p.enter()
	defer p.leave()
	type op struct {
		text string
		pos  int
	}
	var vals []arth
	var ops []op
	reduce := func() {
		o := ops[len(ops)-1]
		ops = ops[:len(ops)-1]
		if o.text == "neg" {
			vals[len(vals)-1] = &negArth{x: vals[len(vals)-1], pos: o.pos}
			return
		}
		l, r := vals[len(vals)-2], vals[len(vals)-1]
		vals = vals[:len(vals)-2]
		vals = append(vals, &binArth{op: o.text, l: l, r: r, pos: o.pos})
	}
	for {
		for p.isOp(p.tok(), "-") {
			ops = append(ops, op{"neg", p.next().pos})
			if len(ops) > maxDepth {
				p.fail(p.tok().pos, "expression nested too deeply")
			}
		}
		vals = append(vals, p.primary())
		t := p.tok()
		if t.kind != tOp || !arithOps[t.text] {
			break
		}
		for len(ops) > 0 {
			top, look := arthPrec[ops[len(ops)-1].text], arthPrec[t.text]
			if top == 0 || look == 0 || top < look {
				break // shift
			}
			reduce() // higher precedence, or equal and left-associative
		}
		ops = append(ops, op{t.text, t.pos})
		if len(ops) > maxDepth {
			p.fail(t.pos, "expression nested too deeply")
		}
		p.next()
	}
	for len(ops) > 0 {
		reduce()
	}
	return vals[0]
}

// primary: NUM | len | pname [ arth ] | pname [ arth : NUM ] | ( arth ).
func (p *parser) primary() arth {
	t := p.tok()
	switch {
	case t.kind == tNum:
		p.next()
		return &numArth{v: t.num, pos: t.pos}
	case p.isKey(t, "len"):
		p.next()
		return &lenArth{pos: t.pos}
	case p.isOp(t, "("):
		p.next()
		a := p.arth()
		p.expectOp(")")
		return a
	case t.kind == tKey && p.isOp(p.peek(1), "["):
		pr, ok := protoNames[t.text]
		if !ok || pr == pICMP6 {
			if pnames[t.text] || t.text == "icmp6" {
				p.unsupported(t.pos, t.text+"[]")
			}
			p.unexpected()
		}
		p.next()
		p.next()
		idx := p.arth()
		size := uint32(1)
		if p.isOp(p.tok(), ":") {
			p.next()
			s := p.tok()
			if s.kind != tNum {
				p.unexpected()
			}
			p.next()
			size = s.num
		}
		p.expectOp("]")
		return &loadArth{proto: pr, idx: idx, size: size, pos: t.pos}
	}
	p.unexpected()
	return nil
}
