package filter

import "math/bits"

// A port of libpcap's optimize.c (bpf_optimize): value numbering, dead-store
// elimination, peephole rules, jump threading along edge dominators, OR/AND
// pullups and block interning, iterated to a fixed point. It is followed line by
// line, quirks included, because its output decides which truncated packets
// tcpdump keeps.

const valUnknown = 0

type valKey struct {
	code   int
	v0, v1 uint32
}

type vmapInfo struct {
	isConst  bool
	constVal uint32
}

// icode holds the flow graph and the traversal marks.
type icode struct {
	root    *block
	curMark int
}

func (ic *icode) isMarked(b *block) bool { return b.mark == ic.curMark }
func (ic *icode) markBlock(b *block)     { b.mark = ic.curMark }
func (ic *icode) unMarkAll()             { ic.curMark++ }

type optState struct {
	g    *gen
	ic   *icode
	done bool
	// nonBranch records a pass that did more than move branches; 100 passes in
	// a row without it end the loop (libpcap's cycle guard).
	nonBranch bool

	blocks    []*block
	edges     []*edge
	allDom    []uint32 // every block's dominator set, back to back
	allEdom   []uint32 // every edge's edge-dominator set, back to back
	nodewords int
	edgewords int
	levels    []*block

	values map[valKey]uint32
	curval uint32
	vmap   []vmapInfo
}

func setMember(p []uint32, a int) bool { return p[a/32]&(1<<(a%32)) != 0 }
func setInsert(p []uint32, a int)      { p[a/32] |= 1 << (a % 32) }
func setIntersect(a, b []uint32) {
	b = b[:len(a)]
	for i := range a {
		a[i] &= b[i]
	}
}

func (o *optState) findLevelsR(b *block) {
	if o.ic.isMarked(b) {
		return
	}
	o.ic.markBlock(b)
	b.link = nil
	level := 0
	if jt(b) != nil {
		o.findLevelsR(jt(b))
		o.findLevelsR(jf(b))
		level = max(jt(b).level, jf(b).level) + 1
	}
	b.level = level
	b.link = o.levels[level]
	o.levels[level] = b
}

func (o *optState) findLevels() {
	clear(o.levels)
	o.ic.unMarkAll()
	o.findLevelsR(o.ic.root)
}

func (o *optState) findDom(root *block) {
	for i := range o.allDom {
		o.allDom[i] = 0xffffffff
	}
	clear(root.dom)
	for level := root.level; level >= 0; level-- {
		for b := o.levels[level]; b != nil; b = b.link {
			setInsert(b.dom, b.id)
			if jt(b) == nil {
				continue
			}
			setIntersect(jt(b).dom, b.dom)
			setIntersect(jf(b).dom, b.dom)
		}
	}
}

func (o *optState) propedom(ep *edge) {
	setInsert(ep.edom, ep.id)
	if ep.succ != nil {
		setIntersect(ep.succ.et.edom, ep.edom)
		setIntersect(ep.succ.ef.edom, ep.edom)
	}
}

func (o *optState) findEdom(root *block) {
	for i := range o.allEdom {
		o.allEdom[i] = 0xffffffff
	}
	clear(root.et.edom)
	clear(root.ef.edom)
	for level := root.level; level >= 0; level-- {
		for b := o.levels[level]; b != nil; b = b.link {
			o.propedom(&b.et)
			o.propedom(&b.ef)
		}
	}
}

// atomuse returns the atom s uses: a scratch register, aAtom, xAtom, axAtom for
// both, or -1.
func atomuse(s *stmt) int {
	c := s.code
	if c == nop {
		return -1
	}
	switch bpfClass(c) {
	case bpfRET:
		switch c & 0x18 {
		case bpfA:
			return aAtom
		case bpfX:
			return xAtom
		}
		return -1
	case bpfLD, bpfLDX:
		switch bpfMode(c) {
		case bpfIND:
			return xAtom
		case bpfMEM:
			return int(s.k)
		}
		return -1
	case bpfST:
		return aAtom
	case bpfSTX:
		return xAtom
	case bpfJMP, bpfALU:
		if bpfSrc(c) == bpfX {
			return axAtom
		}
		return aAtom
	case bpfMISC:
		if c&0xf8 == bpfTXA {
			return xAtom
		}
		return aAtom
	}
	panic("filter: bad opcode")
}

// atomdef returns the atom s defines, or -1.
func atomdef(s *stmt) int {
	if s.code == nop {
		return -1
	}
	switch bpfClass(s.code) {
	case bpfLD, bpfALU:
		return aAtom
	case bpfLDX:
		return xAtom
	case bpfST, bpfSTX:
		return int(s.k)
	case bpfMISC:
		if s.code&0xf8 == bpfTAX {
			return xAtom
		}
		return aAtom
	}
	return -1
}

func atomMask(a int) uint32           { return 1 << a }
func atomElem(set uint32, a int) bool { return set&(1<<a) != 0 }

func useAtom(atom int, def uint32, use *uint32) {
	if atom < 0 {
		return
	}
	if atom == axAtom {
		if !atomElem(def, xAtom) {
			*use |= atomMask(xAtom)
		}
		if !atomElem(def, aAtom) {
			*use |= atomMask(aAtom)
		}
		return
	}
	if !atomElem(def, atom) {
		*use |= atomMask(atom)
	}
}

func computeLocalUD(b *block) {
	var def, use, killed uint32
	for s := b.stmts; s != nil; s = s.next {
		if s.s.code == nop {
			continue
		}
		useAtom(atomuse(&s.s), def, &use)
		if atom := atomdef(&s.s); atom >= 0 {
			if !atomElem(use, atom) {
				killed |= atomMask(atom)
			}
			def |= atomMask(atom)
		}
	}
	if bpfClass(b.s.code) == bpfJMP {
		useAtom(atomuse(&b.s), def, &use)
	}
	b.def, b.kill, b.inUse = def, killed, use
}

func (o *optState) findUD(root *block) {
	maxlevel := root.level
	for i := maxlevel; i >= 0; i-- {
		for p := o.levels[i]; p != nil; p = p.link {
			computeLocalUD(p)
			p.outUse = 0
		}
	}
	for i := 1; i <= maxlevel; i++ {
		for p := o.levels[i]; p != nil; p = p.link {
			p.outUse |= jt(p).inUse | jf(p).inUse
			p.inUse |= p.outUse &^ p.kill
		}
	}
}

func (o *optState) initVal() {
	o.curval = 0
	o.values = map[valKey]uint32{}
	o.vmap = o.vmap[:0]
	o.vmap = append(o.vmap, vmapInfo{})
}

// f returns the value number of an operation on value numbers (F in optimize.c).
func (o *optState) f(code int, v0, v1 uint32) uint32 {
	key := valKey{code, v0, v1}
	if v, ok := o.values[key]; ok {
		return v
	}
	o.curval++
	val := o.curval
	info := vmapInfo{}
	if bpfMode(code) == bpfIMM && (bpfClass(code) == bpfLD || bpfClass(code) == bpfLDX) {
		info = vmapInfo{isConst: true, constVal: v0}
	}
	o.vmap = append(o.vmap, info)
	o.values[key] = val
	return val
}

// k is K(i): the value number of a constant.
func (o *optState) k(i uint32) uint32 { return o.f(bpfLD|bpfIMM|bpfW, i, 0) }

func vstore(s *stmt, valp *uint32, newval uint32, alter bool) {
	if alter && newval != valUnknown && *valp == newval {
		s.code = nop
	} else {
		*valp = newval
	}
}

func (o *optState) fail(msg string) {
	panic(bail{&SyntaxError{Expr: o.g.expr, Pos: 0, Msg: msg}})
}

func (o *optState) foldOp(s *stmt, v0, v1 uint32) {
	a := o.vmap[v0].constVal
	b := o.vmap[v1].constVal
	switch bpfOp(s.code) {
	case bpfADD:
		a += b
	case bpfSUB:
		a -= b
	case bpfMUL:
		a *= b
	case bpfDIV:
		if b == 0 {
			o.fail("division by zero")
		}
		a /= b
	case bpfMOD:
		if b == 0 {
			o.fail("modulus by zero")
		}
		a %= b
	case bpfAND:
		a &= b
	case bpfOR:
		a |= b
	case bpfXOR:
		a ^= b
	case bpfLSH:
		if b < 32 {
			a <<= b
		} else {
			a = 0
		}
	case bpfRSH:
		if b < 32 {
			a >>= b
		} else {
			a = 0
		}
	default:
		panic("filter: bad fold")
	}
	s.k = a
	s.code = bpfLD | bpfIMM
	o.nonBranch = true
	o.done = false
}

func thisOp(s *slist) *slist {
	for s != nil && s.s.code == nop {
		s = s.next
	}
	return s
}

func optNot(b *block) { b.et.succ, b.ef.succ = b.ef.succ, b.et.succ }

func (o *optState) optPeep(b *block) {
	s := b.stmts
	if s == nil {
		return
	}
	last := s
	var next *slist
	for ; ; s = next {
		s = thisOp(s)
		if s == nil {
			break
		}
		next = thisOp(s.next)
		if next == nil {
			break
		}
		last = next

		// st M[k]; ldx M[k] -> st M[k]; tax
		if s.s.code == bpfST && next.s.code == bpfLDX|bpfMEM && s.s.k == next.s.k {
			o.nonBranch = true
			o.done = false
			next.s.code = bpfMISC | bpfTAX
		}
		// ld #k; tax -> ldx #k; txa
		if s.s.code == bpfLD|bpfIMM && next.s.code == bpfMISC|bpfTAX {
			s.s.code = bpfLDX | bpfIMM
			next.s.code = bpfMISC | bpfTXA
			o.nonBranch = true
			o.done = false
		}
		// tcp[k] and udp[k] with a constant k: fold the index into the load.
		if s.s.code == bpfLD|bpfIMM {
			if atomElem(b.outUse, xAtom) {
				continue
			}
			var add *slist
			if next.s.code != bpfLDX|bpfMSH|bpfB {
				add = next
			} else {
				add = thisOp(next.next)
			}
			if add == nil || add.s.code != bpfALU|bpfADD|bpfX {
				continue
			}
			tax := thisOp(add.next)
			if tax == nil || tax.s.code != bpfMISC|bpfTAX {
				continue
			}
			ild := thisOp(tax.next)
			if ild == nil || bpfClass(ild.s.code) != bpfLD || bpfMode(ild.s.code) != bpfIND {
				continue
			}
			ild.s.k += s.s.k
			s.s.code = nop
			add.s.code = nop
			tax.s.code = nop
			o.nonBranch = true
			o.done = false
		}
	}
	// A comparison with a constant, after an arithmetic step whose result
	// nobody else uses, can absorb the step.
	if b.s.code == bpfJMP|bpfJEQ|bpfK && !atomElem(b.outUse, aAtom) {
		switch {
		case last.s.code == bpfALU|bpfSUB|bpfX:
			val := b.val[xAtom]
			if o.vmap[val].isConst {
				// sub x; jeq #y -> jeq #(x+y)
				b.s.k += o.vmap[val].constVal
				last.s.code = nop
				o.nonBranch = true
				o.done = false
			} else if b.s.k == 0 {
				// sub x; jeq #0 -> jeq x
				last.s.code = nop
				b.s.code = bpfJMP | bpfJEQ | bpfX
				o.nonBranch = true
				o.done = false
			}
		case last.s.code == bpfALU|bpfSUB|bpfK:
			// sub #x; jeq #y -> jeq #(x+y)
			last.s.code = nop
			b.s.k += last.s.k
			o.nonBranch = true
			o.done = false
		case last.s.code == bpfALU|bpfAND|bpfK && b.s.k == 0:
			// and #k; jeq #0 -> jset #k, branches swapped
			b.s.k = last.s.k
			b.s.code = bpfJMP | bpfK | bpfJSET
			last.s.code = nop
			o.nonBranch = true
			o.done = false
			optNot(b)
		}
	}
	// jset #0 never jumps; jset #0xffffffff always does.
	if b.s.code == bpfJMP|bpfK|bpfJSET {
		if b.s.k == 0 {
			b.et.succ = jf(b)
		}
		if b.s.k == 0xffffffff {
			b.ef.succ = jt(b)
		}
	}
	// Compare with a known X as with a constant.
	if val := b.val[xAtom]; o.vmap[val].isConst && bpfSrc(b.s.code) == bpfX {
		b.s.code &^= bpfX
		b.s.k = o.vmap[val].constVal
	}
	// A known A decides the branch.
	if val := b.val[aAtom]; o.vmap[val].isConst && bpfSrc(b.s.code) == bpfK {
		v := o.vmap[val].constVal
		var t bool
		switch bpfOp(b.s.code) {
		case bpfJEQ:
			t = v == b.s.k
		case bpfJGT:
			t = v > b.s.k
		case bpfJGE:
			t = v >= b.s.k
		case bpfJSET:
			t = v&b.s.k != 0
		default:
			panic("filter: bad jump")
		}
		if jf(b) != jt(b) {
			o.nonBranch = true
			o.done = false
		}
		if t {
			b.ef.succ = jt(b)
		} else {
			b.et.succ = jf(b)
		}
	}
}

// optStmt is opt_stmt: symbolic evaluation of s, and rewrites when alter is set.
func (o *optState) optStmt(s *stmt, val *[nAtoms]uint32, alter bool) {
	switch s.code {
	case bpfLD | bpfABS | bpfW, bpfLD | bpfABS | bpfH, bpfLD | bpfABS | bpfB:
		v := o.f(s.code, s.k, 0)
		vstore(s, &val[aAtom], v, alter)
	case bpfLD | bpfIND | bpfW, bpfLD | bpfIND | bpfH, bpfLD | bpfIND | bpfB:
		v := val[xAtom]
		if alter && o.vmap[v].isConst {
			s.code = bpfLD | bpfABS | bpfSize(s.code)
			s.k += o.vmap[v].constVal
			v = o.f(s.code, s.k, 0)
			o.nonBranch = true
			o.done = false
		} else {
			v = o.f(s.code, s.k, v)
		}
		vstore(s, &val[aAtom], v, alter)
	case bpfLD | bpfLEN:
		v := o.f(s.code, 0, 0)
		vstore(s, &val[aAtom], v, alter)
	case bpfLD | bpfIMM:
		v := o.k(s.k)
		vstore(s, &val[aAtom], v, alter)
	case bpfLDX | bpfIMM:
		v := o.k(s.k)
		vstore(s, &val[xAtom], v, alter)
	case bpfLDX | bpfMSH | bpfB:
		v := o.f(s.code, s.k, 0)
		vstore(s, &val[xAtom], v, alter)
	case bpfALU | bpfNEG:
		if alter && o.vmap[val[aAtom]].isConst {
			s.code = bpfLD | bpfIMM
			s.k = 0 - o.vmap[val[aAtom]].constVal
			val[aAtom] = o.k(s.k)
		} else {
			val[aAtom] = o.f(s.code, val[aAtom], 0)
		}
	case bpfALU | bpfADD | bpfK, bpfALU | bpfSUB | bpfK, bpfALU | bpfMUL | bpfK,
		bpfALU | bpfDIV | bpfK, bpfALU | bpfMOD | bpfK, bpfALU | bpfAND | bpfK,
		bpfALU | bpfOR | bpfK, bpfALU | bpfXOR | bpfK, bpfALU | bpfLSH | bpfK,
		bpfALU | bpfRSH | bpfK:
		op := bpfOp(s.code)
		if alter {
			if s.k == 0 {
				// Don't optimize away "sub #0": it may be needed later to
				// fix up the generated math code.
				switch op {
				case bpfADD, bpfLSH, bpfRSH, bpfOR, bpfXOR:
					s.code = nop
					return
				case bpfMUL, bpfAND:
					s.code = bpfLD | bpfIMM
					val[aAtom] = o.k(s.k)
					return
				case bpfDIV:
					o.fail("division by zero")
				case bpfMOD:
					o.fail("modulus by zero")
				}
			}
			if o.vmap[val[aAtom]].isConst {
				o.foldOp(s, val[aAtom], o.k(s.k))
				val[aAtom] = o.k(s.k)
				return
			}
		}
		val[aAtom] = o.f(s.code, val[aAtom], o.k(s.k))
	case bpfALU | bpfADD | bpfX, bpfALU | bpfSUB | bpfX, bpfALU | bpfMUL | bpfX,
		bpfALU | bpfDIV | bpfX, bpfALU | bpfMOD | bpfX, bpfALU | bpfAND | bpfX,
		bpfALU | bpfOR | bpfX, bpfALU | bpfXOR | bpfX, bpfALU | bpfLSH | bpfX,
		bpfALU | bpfRSH | bpfX:
		op := bpfOp(s.code)
		if alter && o.vmap[val[xAtom]].isConst {
			if o.vmap[val[aAtom]].isConst {
				o.foldOp(s, val[aAtom], val[xAtom])
				val[aAtom] = o.k(s.k)
			} else {
				s.code = bpfALU | bpfK | op
				s.k = o.vmap[val[xAtom]].constVal
				if (op == bpfLSH || op == bpfRSH) && s.k > 31 {
					o.fail("shift by more than 31 bits")
				}
				o.nonBranch = true
				o.done = false
				val[aAtom] = o.f(s.code, val[aAtom], o.k(s.k))
			}
			return
		}
		// Something done to an accumulator that is 0 can be simplified.
		if alter && o.vmap[val[aAtom]].isConst && o.vmap[val[aAtom]].constVal == 0 {
			switch op {
			case bpfADD, bpfOR, bpfXOR:
				s.code = bpfMISC | bpfTXA
				vstore(s, &val[aAtom], val[xAtom], alter)
				return
			case bpfMUL, bpfDIV, bpfMOD, bpfAND, bpfLSH, bpfRSH:
				s.code = bpfLD | bpfIMM
				s.k = 0
				vstore(s, &val[aAtom], o.k(s.k), alter)
				return
			}
		}
		val[aAtom] = o.f(s.code, val[aAtom], val[xAtom])
	case bpfMISC | bpfTXA:
		vstore(s, &val[aAtom], val[xAtom], alter)
	case bpfLD | bpfMEM:
		v := val[s.k]
		if alter && o.vmap[v].isConst {
			s.code = bpfLD | bpfIMM
			s.k = o.vmap[v].constVal
			o.nonBranch = true
			o.done = false
		}
		vstore(s, &val[aAtom], v, alter)
	case bpfMISC | bpfTAX:
		vstore(s, &val[xAtom], val[aAtom], alter)
	case bpfLDX | bpfMEM:
		v := val[s.k]
		if alter && o.vmap[v].isConst {
			s.code = bpfLDX | bpfIMM
			s.k = o.vmap[v].constVal
			o.nonBranch = true
			o.done = false
		}
		vstore(s, &val[xAtom], v, alter)
	case bpfST:
		vstore(s, &val[s.k], val[aAtom], alter)
	case bpfSTX:
		vstore(s, &val[s.k], val[xAtom], alter)
	}
}

func (o *optState) deadstmt(s *stmt, last *[nAtoms]*stmt) {
	if atom := atomuse(s); atom >= 0 {
		if atom == axAtom {
			last[xAtom] = nil
			last[aAtom] = nil
		} else {
			last[atom] = nil
		}
	}
	if atom := atomdef(s); atom >= 0 {
		if last[atom] != nil {
			o.nonBranch = true
			o.done = false
			last[atom].code = nop
		}
		last[atom] = s
	}
}

func (o *optState) optDeadstores(b *block) {
	var last [nAtoms]*stmt
	for s := b.stmts; s != nil; s = s.next {
		o.deadstmt(&s.s, &last)
	}
	o.deadstmt(&b.s, &last)
	for atom := range nAtoms {
		if last[atom] != nil && !atomElem(b.outUse, atom) {
			last[atom].code = nop
			// The store is gone, so the location's value is unknown.
			b.val[atom] = valUnknown
			o.nonBranch = true
			o.done = false
		}
	}
}

func (o *optState) optBlk(b *block, doStmts bool) {
	p := b.inEdges
	if p == nil {
		b.val = [nAtoms]uint32{}
	} else {
		b.val = p.pred.val
		for p = p.next; p != nil; p = p.next {
			for i := range nAtoms {
				if b.val[i] != p.pred.val[i] {
					b.val[i] = 0
				}
			}
		}
	}
	aval := b.val[aAtom]
	xval := b.val[xAtom]
	for s := b.stmts; s != nil; s = s.next {
		o.optStmt(&s.s, &b.val, doStmts)
	}
	// A block that uses nothing it computes and leaves A and X as they were,
	// or a return, needs no statements.
	if doStmts && ((b.outUse == 0 && aval != valUnknown && b.val[aAtom] == aval &&
		xval != valUnknown && b.val[xAtom] == xval) || bpfClass(b.s.code) == bpfRET) {
		if b.stmts != nil {
			b.stmts = nil
			o.nonBranch = true
			o.done = false
		}
	} else {
		o.optPeep(b)
		o.optDeadstores(b)
	}
	if bpfSrc(b.s.code) == bpfK {
		b.oval = o.k(b.s.k)
	} else {
		b.oval = b.val[xAtom]
	}
	b.et.code = b.s.code
	b.ef.code = -b.s.code
}

// useConflict reports whether a register used on exit from succ has a different
// value there than on exit from b.
func useConflict(b, succ *block) bool {
	use := succ.outUse
	if use == 0 {
		return false
	}
	for atom := range nAtoms {
		if atomElem(use, atom) && b.val[atom] != succ.val[atom] {
			return true
		}
	}
	return false
}

// foldEdge returns the child of child that an edge dominated by ep can jump to
// directly, or nil.
func foldEdge(child *block, ep *edge) *block {
	code := ep.code
	sense := true
	if code < 0 {
		code = -code
		sense = false
	}
	if child.s.code != code {
		return nil
	}
	aval0, oval0 := child.val[aAtom], child.oval
	aval1, oval1 := ep.pred.val[aAtom], ep.pred.oval
	if aval0 != aval1 {
		return nil
	}
	if oval0 == oval1 {
		if sense {
			return jt(child)
		}
		return jf(child)
	}
	if sense && code == bpfJMP|bpfJEQ|bpfK {
		return jf(child)
	}
	return nil
}

func (o *optState) optJ(ep *edge) {
	if jt(ep.succ) == nil {
		return
	}
	if jt(ep.succ) == jf(ep.succ) {
		if !useConflict(ep.pred, jt(ep.succ)) {
			o.nonBranch = true
			o.done = false
			ep.succ = jt(ep.succ)
		}
	}
top:
	for i := 0; i < o.edgewords; i++ {
		x := ep.edom[i]
		for x != 0 {
			k := bits.TrailingZeros32(x)
			x &^= 1 << k
			k += i * 32
			target := foldEdge(ep.succ, o.edges[k])
			if target != nil && !useConflict(ep.pred, target) {
				o.done = false
				ep.succ = target
				if jt(target) != nil {
					goto top
				}
				return
			}
		}
	}
}

// succPtr returns the address of b's jt or jf field.
func succPtr(b *block, t bool) **block {
	if t {
		return &b.et.succ
	}
	return &b.ef.succ
}

// pullup is or_pullup (or is true) and and_pullup: in a chain of tests that
// share an exit, move a later test of the same value up next to the first one.
func (o *optState) pullup(b, root *block, or bool) {
	ep := b.inEdges
	if ep == nil {
		return
	}
	val := ep.pred.val[aAtom]
	for ep = ep.next; ep != nil; ep = ep.next {
		if val != ep.pred.val[aAtom] {
			return
		}
	}
	first := b.inEdges.pred
	diffp := succPtr(first, jt(first) == b)
	// For "or" the chain follows false edges and shares the true exit.
	shared := func(x *block) *block {
		if or {
			return jt(x)
		}
		return jf(x)
	}
	chain := func(x *block) **block { return succPtr(x, !or) }
	atTop := true
	for {
		if *diffp == nil {
			return
		}
		if shared(*diffp) != shared(b) {
			return
		}
		if !setMember((*diffp).dom, b.id) {
			return
		}
		if (*diffp).val[aAtom] != val {
			break
		}
		diffp = chain(*diffp)
		atTop = false
	}
	samep := chain(*diffp)
	for {
		if *samep == nil {
			return
		}
		if shared(*samep) != shared(b) {
			return
		}
		if !setMember((*samep).dom, b.id) {
			return
		}
		if (*samep).val[aAtom] == val {
			break
		}
		samep = chain(*samep)
	}
	pull := *samep
	*samep = *chain(pull)
	*chain(pull) = *diffp
	if atTop {
		for ep := b.inEdges; ep != nil; ep = ep.next {
			if jt(ep.pred) == b {
				ep.pred.et.succ = pull
			} else {
				ep.pred.ef.succ = pull
			}
		}
	} else {
		*diffp = pull
	}
	o.done = false
	o.findDom(root)
}

func (o *optState) optBlks(doStmts bool) {
	o.initVal()
	root := o.ic.root
	maxlevel := root.level
	o.findInedges(root)
	for i := maxlevel; i >= 0; i-- {
		for p := o.levels[i]; p != nil; p = p.link {
			o.optBlk(p, doStmts)
		}
	}
	if doStmts {
		return
	}
	for i := 1; i <= maxlevel; i++ {
		for p := o.levels[i]; p != nil; p = p.link {
			o.optJ(&p.et)
			o.optJ(&p.ef)
		}
	}
	o.findInedges(root)
	for i := 1; i <= maxlevel; i++ {
		for p := o.levels[i]; p != nil; p = p.link {
			o.pullup(p, root, true)
			o.pullup(p, root, false)
		}
	}
}

func (o *optState) findInedges(root *block) {
	for _, b := range o.blocks {
		b.inEdges = nil
	}
	for level := root.level; level > 0; level-- {
		for b := o.levels[level]; b != nil; b = b.link {
			b.et.next = jt(b).inEdges
			jt(b).inEdges = &b.et
			b.ef.next = jf(b).inEdges
			jf(b).inEdges = &b.ef
		}
	}
}

func optRoot(bp **block) {
	s := (*bp).stmts
	(*bp).stmts = nil
	for bpfClass((*bp).s.code) == bpfJMP && jt(*bp) == jf(*bp) {
		*bp = jt(*bp)
	}
	if tmp := (*bp).stmts; tmp != nil {
		if s == nil {
			s = tmp
		} else {
			sappend(s, tmp)
		}
	}
	(*bp).stmts = s
	if bpfClass((*bp).s.code) == bpfRET {
		(*bp).stmts = nil
	}
}

func (o *optState) optLoop(doStmts bool) {
	loops := 0
	for {
		o.done = true
		o.nonBranch = false
		o.findLevels()
		o.findDom(o.ic.root)
		o.findUD(o.ic.root)
		o.findEdom(o.ic.root)
		o.optBlks(doStmts)
		if o.done {
			break
		}
		if o.nonBranch {
			loops = 0
		} else {
			loops++
			if loops >= 100 {
				o.done = true
				break
			}
		}
	}
}

// optimize is bpf_optimize.
func optimize(g *gen, ic *icode) {
	o := &optState{g: g, ic: ic}
	o.init()
	o.optLoop(false)
	o.optLoop(true)
	o.internBlocks()
	optRoot(&ic.root)
}

func (o *optState) makeMarks(p *block) {
	if !o.ic.isMarked(p) {
		o.ic.markBlock(p)
		if bpfClass(p.s.code) != bpfRET {
			o.makeMarks(jt(p))
			o.makeMarks(jf(p))
		}
	}
}

func eqSlist(x, y *slist) bool {
	for {
		for x != nil && x.s.code == nop {
			x = x.next
		}
		for y != nil && y.s.code == nop {
			y = y.next
		}
		if x == nil {
			return y == nil
		}
		if y == nil {
			return false
		}
		if x.s.code != y.s.code || x.s.k != y.s.k {
			return false
		}
		x, y = x.next, y.next
	}
}

func eqBlk(b0, b1 *block) bool {
	return b0.s.code == b1.s.code && b0.s.k == b1.s.k && b0.et.succ == b1.et.succ &&
		b0.ef.succ == b1.ef.succ && eqSlist(b0.stmts, b1.stmts)
}

// internBlocks merges identical blocks.
func (o *optState) internBlocks() {
	n := len(o.blocks)
	for {
		done := true
		for _, b := range o.blocks {
			b.link = nil
		}
		o.ic.unMarkAll()
		o.makeMarks(o.ic.root)
		for i := n - 2; i >= 0; i-- {
			bi := o.blocks[i]
			if !o.ic.isMarked(bi) {
				continue
			}
			for j := i + 1; j < n; j++ {
				bj := o.blocks[j]
				if !o.ic.isMarked(bj) {
					continue
				}
				if eqBlk(bi, bj) {
					if bj.link != nil {
						bi.link = bj.link
					} else {
						bi.link = bj
					}
					break
				}
			}
		}
		for _, p := range o.blocks {
			if jt(p) == nil {
				continue
			}
			if jt(p).link != nil {
				done = false
				p.et.succ = jt(p).link
			}
			if jf(p).link != nil {
				done = false
				p.ef.succ = jf(p).link
			}
		}
		if done {
			return
		}
	}
}

func slength(s *slist) int {
	n := 0
	for ; s != nil; s = s.next {
		if s.s.code != nop {
			n++
		}
	}
	return n
}

func (o *optState) numberBlks(p *block) {
	if p == nil || o.ic.isMarked(p) {
		return
	}
	o.ic.markBlock(p)
	p.id = len(o.blocks)
	o.blocks = append(o.blocks, p)
	o.numberBlks(jt(p))
	o.numberBlks(jf(p))
}

// init is opt_init: number the blocks depth first and size the sets.
func (o *optState) init() {
	o.ic.unMarkAll()
	o.numberBlks(o.ic.root)
	n := len(o.blocks)
	o.edges = make([]*edge, 2*n)
	o.levels = make([]*block, n)
	o.edgewords = 2*n/32 + 1
	o.nodewords = n/32 + 1
	nw, ew := o.nodewords, o.edgewords
	o.allDom = make([]uint32, n*nw)
	o.allEdom = make([]uint32, 2*n*ew)
	for i, b := range o.blocks {
		b.dom = o.allDom[i*nw : (i+1)*nw : (i+1)*nw]
		b.et.edom = o.allEdom[2*i*ew : (2*i+1)*ew : (2*i+1)*ew]
		b.ef.edom = o.allEdom[(2*i+1)*ew : (2*i+2)*ew : (2*i+2)*ew]
		b.et.id = i
		o.edges[i] = &b.et
		b.ef.id = n + i
		o.edges[n+i] = &b.ef
		b.et.pred = b
		b.ef.pred = b
	}
}
