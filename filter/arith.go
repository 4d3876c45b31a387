package filter

// arthv is gencode.c's struct arth: statements that leave a value in scratch
// register regno, and the protocol checks (b) the value depends on.
type arthv struct {
	s     *slist
	regno int
	b     *block
}

var aluOps = map[string]int{
	"+": bpfADD, "-": bpfSUB, "*": bpfMUL, "/": bpfDIV, "%": bpfMOD,
	"&": bpfAND, "|": bpfOR, "^": bpfXOR, "<<": bpfLSH, ">>": bpfRSH,
}

func xferToX(a *arthv) *slist { return newStmtK(bpfLDX|bpfMEM, uint32(a.regno)) }
func xferToA(a *arthv) *slist { return newStmtK(bpfLD|bpfMEM, uint32(a.regno)) }

// arith generates an arithmetic expression, children first, left to right, as
// yacc reduces them.
func (g *gen) arith(a arth) *arthv {
	switch a := a.(type) {
	case *numArth:
		g.pos = a.pos
		return g.loadi(a.v)
	case *lenArth:
		g.pos = a.pos
		reg := g.allocReg()
		s := newStmt(bpfLD | bpfLEN)
		s.next = newStmtK(bpfST, uint32(reg))
		return &arthv{s: s, regno: reg}
	case *negArth:
		x := g.arith(a.x)
		sappend(x.s, xferToA(x))
		sappend(x.s, newStmtK(bpfALU|bpfNEG, 0))
		sappend(x.s, newStmtK(bpfST, uint32(x.regno)))
		return x
	case *loadArth:
		idx := g.arith(a.idx)
		g.pos = a.pos
		return g.load(a.proto, idx, a.size)
	case *binArth:
		l := g.arith(a.l)
		r := g.arith(a.r)
		g.pos = a.pos
		return g.binary(aluOps[a.op], l, r)
	}
	panic("filter: bad arithmetic")
}

// loadi is gen_loadi.
func (g *gen) loadi(v uint32) *arthv {
	reg := g.allocReg()
	s := newStmtK(bpfLD|bpfIMM, v)
	s.next = newStmtK(bpfST, uint32(reg))
	return &arthv{s: s, regno: reg}
}

// binary is gen_arth. Its result keeps only the left operand's protocol checks,
// as libpcap 1.10's does.
func (g *gen) binary(code int, a0, a1 *arthv) *arthv {
	// Checked before optimization, on the right operand's first statement.
	if first := a1.s.s; first.code == bpfLD|bpfIMM {
		switch {
		case code == bpfDIV && first.k == 0:
			g.fail("division by zero")
		case code == bpfMOD && first.k == 0:
			g.fail("modulus by zero")
		case (code == bpfLSH || code == bpfRSH) && first.k > 31:
			g.fail("shift by more than 31 bits")
		}
	}
	s0 := xferToX(a1)
	s1 := xferToA(a0)
	s2 := newStmt(bpfALU | bpfX | code)
	sappend(s1, s2)
	sappend(s0, s1)
	sappend(a1.s, s0)
	sappend(a0.s, a1.s)
	g.freeReg(a0.regno)
	g.freeReg(a1.regno)
	st := newStmt(bpfST)
	a0.regno = g.allocReg()
	st.s.k = uint32(a0.regno)
	sappend(a0.s, st)
	return a0
}

// load is gen_load: proto[idx : size].
func (g *gen) load(proto qproto, inst *arthv, size uint32) *arthv {
	regno := g.allocReg()
	g.freeReg(inst.regno)
	var code int
	switch size {
	case 1:
		code = bpfB
	case 2:
		code = bpfH
	case 4:
		code = bpfW
	default:
		g.fail("data size must be 1, 2, or 4")
	}
	switch proto {
	case pLink:
		s := g.absOffsetVarpart(&g.offLinkHdr)
		if s != nil {
			sappend(s, xferToA(inst))
			sappend(s, newStmt(bpfALU|bpfADD|bpfX))
			sappend(s, newStmt(bpfMISC|bpfTAX))
		} else {
			s = xferToX(inst)
		}
		sappend(s, newStmtK(bpfLD|bpfIND|code, g.offLinkHdr.constantPart))
		sappend(inst.s, s)
	case pIP, pIP6:
		s := g.absOffsetVarpart(&g.offLinkPL)
		if s != nil {
			sappend(s, xferToA(inst))
			sappend(s, newStmt(bpfALU|bpfADD|bpfX))
			sappend(s, newStmt(bpfMISC|bpfTAX))
		} else {
			s = xferToX(inst)
		}
		sappend(s, newStmtK(bpfLD|bpfIND|code, g.offLinkPL.constantPart+g.offNL))
		sappend(inst.s, s)
		b := g.protoAbbrev(proto)
		if inst.b != nil {
			genAnd(inst.b, b)
		}
		inst.b = b
	default: // tcp, udp, sctp, icmp: relative to the IPv4 transport header
		s := g.loadxIPHdrLen()
		sappend(s, xferToA(inst))
		sappend(s, newStmt(bpfALU|bpfADD|bpfX))
		sappend(s, newStmt(bpfMISC|bpfTAX))
		sappend(s, newStmtK(bpfLD|bpfIND|code, g.offLinkPL.constantPart+g.offNL))
		sappend(inst.s, s)
		// Only IPv4, and only the first fragment.
		b := g.ipfrag()
		genAnd(g.protoAbbrev(proto), b)
		if inst.b != nil {
			genAnd(inst.b, b)
		}
		genAnd(g.protoAbbrev(pIP), b)
		inst.b = b
	}
	inst.regno = regno
	sappend(inst.s, newStmtK(bpfST, uint32(regno)))
	return inst
}

// relation is gen_relation: the protocol checks of both sides (left first), then
// one block computing both values and comparing them.
func (g *gen) relation(n *relNode) *block {
	a0 := g.arith(n.l)
	a1 := g.arith(n.r)
	g.pos = n.pos
	code := map[string]int{"=": bpfJEQ, ">": bpfJGT, ">=": bpfJGE}[n.op]
	s0 := xferToX(a1)
	s1 := xferToA(a0)
	var b *block
	if code == bpfJEQ {
		s2 := newStmt(bpfALU | bpfSUB | bpfX)
		b = newBlock(bpfJMP | code | bpfK)
		sappend(s1, s2)
	} else {
		b = newBlock(bpfJMP | code | bpfX)
	}
	if n.reversed {
		genNot(b)
	}
	sappend(s0, s1)
	sappend(a1.s, s0)
	sappend(a0.s, a1.s)
	b.stmts = a0.s
	g.freeReg(a0.regno)
	g.freeReg(a1.regno)
	var tmp *block
	switch {
	case a0.b != nil && a1.b != nil:
		genAnd(a0.b, a1.b)
		tmp = a1.b
	case a0.b != nil:
		tmp = a0.b
	default:
		tmp = a1.b
	}
	if tmp != nil {
		genAnd(tmp, b)
	}
	return b
}
