package filter

import "golang.org/x/net/bpf"

// convert is icode_to_fcode: lay the graph out depth first (false branch
// first), each block followed by the blocks it jumps to, and retry with an
// extra "ja" after any branch whose target is more than 255 instructions away.
func convert(ic *icode, root *block) []bpf.RawInstruction {
	for {
		ic.unMarkAll()
		n := countStmts(ic, root)
		c := &conv{ic: ic, prog: make([]bpf.RawInstruction, n), tail: n}
		ic.unMarkAll()
		if c.code(root) {
			return c.prog
		}
	}
}

func countStmts(ic *icode, p *block) int {
	if p == nil || ic.isMarked(p) {
		return 0
	}
	ic.markBlock(p)
	n := countStmts(ic, jt(p)) + countStmts(ic, jf(p))
	return slength(p.stmts) + n + 1 + p.longjt + p.longjf
}

type conv struct {
	ic   *icode
	prog []bpf.RawInstruction
	tail int
}

// code is convert_code_r. It returns false when a branch was found out of
// reach; the block is then marked to get a "ja" and the layout starts over.
func (c *conv) code(p *block) bool {
	if p == nil || c.ic.isMarked(p) {
		return true
	}
	c.ic.markBlock(p)
	if !c.code(jf(p)) || !c.code(jt(p)) {
		return false
	}
	slen := slength(p.stmts)
	c.tail -= slen + 1 + p.longjt + p.longjf
	dst := c.tail
	p.offset = dst

	// offset[] maps statement positions to list nodes for jumps inside the
	// block; like libpcap it counts deleted statements too.
	offset := make([]*slist, slen)
	src := p.stmts
	for off := 0; off < slen && src != nil; off++ {
		offset[off] = src
		src = src.next
	}
	off := 0
	for src := p.stmts; src != nil; src = src.next {
		if src.s.code == nop {
			continue
		}
		ins := &c.prog[dst]
		ins.Op = uint16(src.s.code)
		ins.K = src.s.k
		if bpfClass(src.s.code) == bpfJMP && src.s.code != bpfJMP|bpfJA && off != slen-2 {
			jtSet, jfSet := false, false
			for i := 0; i < slen; i++ {
				if offset[i] == src.s.jt {
					ins.Jt = uint8(i - off - 1)
					jtSet = true
				}
				if offset[i] == src.s.jf {
					ins.Jf = uint8(i - off - 1)
					jfSet = true
				}
			}
			if !jtSet || !jfSet {
				panic("filter: no destination for block-local jump")
			}
		}
		dst++
		off++
	}
	ins := &c.prog[dst]
	ins.Op = uint16(p.s.code)
	ins.K = p.s.k
	if jt(p) != nil {
		extra := 0
		o := uint32(jt(p).offset - (p.offset + slen) - 1)
		if o >= 256 {
			if p.longjt == 0 {
				p.longjt++
				return false
			}
			ins.Jt = uint8(extra)
			extra++
			c.prog[dst+extra] = bpf.RawInstruction{Op: bpfJMP | bpfJA, K: o - uint32(extra)}
		} else {
			ins.Jt = uint8(o)
		}
		o = uint32(jf(p).offset - (p.offset + slen) - 1)
		if o >= 256 {
			if p.longjf == 0 {
				p.longjf++
				return false
			}
			ins.Jf = uint8(extra)
			extra++
			c.prog[dst+extra] = bpf.RawInstruction{Op: bpfJMP | bpfJA, K: o - uint32(extra)}
		} else {
			ins.Jf = uint8(o)
		}
	}
	return true
}
