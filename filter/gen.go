package filter

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The code generator is a port of the parts of libpcap 1.10's gencode.c that the
// supported constructs reach: the same blocks, the same statements (scratch
// registers included) and the same graph, built with the same backpatch lists.
// optimize.go then runs libpcap's optimizer on it and convert.go lays it out as
// icode_to_fcode does, so the program is the one tcpdump -d prints. That matters
// beyond logic: a load past the captured bytes rejects a packet, and libpcap's
// optimizer reorders tests (or_pullup, and_pullup), so only the same program keeps
// the same truncated packets.

// Classic BPF opcode fields (pcap/bpf.h).
const (
	bpfLD   = 0x00
	bpfLDX  = 0x01
	bpfST   = 0x02
	bpfSTX  = 0x03
	bpfALU  = 0x04
	bpfJMP  = 0x05
	bpfRET  = 0x06
	bpfMISC = 0x07

	bpfW = 0x00
	bpfH = 0x08
	bpfB = 0x10

	bpfIMM = 0x00
	bpfABS = 0x20
	bpfIND = 0x40
	bpfMEM = 0x60
	bpfLEN = 0x80
	bpfMSH = 0xa0

	bpfADD = 0x00
	bpfSUB = 0x10
	bpfMUL = 0x20
	bpfDIV = 0x30
	bpfOR  = 0x40
	bpfAND = 0x50
	bpfLSH = 0x60
	bpfRSH = 0x70
	bpfNEG = 0x80
	bpfMOD = 0x90
	bpfXOR = 0xa0

	bpfJA   = 0x00
	bpfJEQ  = 0x10
	bpfJGT  = 0x20
	bpfJGE  = 0x30
	bpfJSET = 0x40

	bpfK = 0x00
	bpfX = 0x08
	bpfA = 0x10

	bpfTAX = 0x00
	bpfTXA = 0x80

	memWords = 16 // BPF_MEMWORDS

	// Linux ancillary loads (linux/filter.h).
	skfAdOff            = 0xfffff000 // SKF_AD_OFF as a uint32
	skfAdVLANTag        = 44
	skfAdVLANTagPresent = 48
)

func bpfClass(c int) int { return c & 0x07 }
func bpfSize(c int) int  { return c & 0x18 }
func bpfMode(c int) int  { return c & 0xe0 }
func bpfOp(c int) int    { return c & 0xf0 }
func bpfSrc(c int) int   { return c & 0x08 }

// nop marks a deleted statement.
const nop = -1

// stmt is one instruction. jt and jf are set only on the rare jump inside a
// block's statement list (the kernel-mode VLAN test).
type stmt struct {
	code   int
	jt, jf *slist
	k      uint32
}

// slist is a statement list, as in libpcap.
type slist struct {
	s    stmt
	next *slist
}

// Atoms are the values the optimizer tracks: the scratch registers, A and X.
const (
	aAtom  = memWords
	xAtom  = memWords + 1
	nAtoms = memWords + 2
	axAtom = nAtoms
)

type edge struct {
	id   int
	code int
	edom []uint32
	succ *block
	pred *block
	next *edge
}

// block is a basic block: statements, then a branch (s) to et.succ (true) or
// ef.succ (false), or a return.
type block struct {
	id     int
	stmts  *slist
	s      stmt
	mark   int
	longjt int
	longjf int
	level  int
	offset int
	sense  bool
	et, ef edge
	head   *block
	link   *block

	dom       []uint32
	inEdges   *edge
	def, kill uint32
	inUse     uint32
	outUse    uint32
	oval      uint32
	val       [nAtoms]uint32
}

func jt(b *block) *block { return b.et.succ }
func jf(b *block) *block { return b.ef.succ }

// absOffset is bpf_abs_offset: a constant offset plus, optionally, a run-time
// part kept in a scratch register.
type absOffset struct {
	isVariable   bool
	constantPart uint32
	reg          int
}

// Ethernet types and IP protocol numbers used by the generator.
const (
	etherMTU    = 1500
	etherIP     = 0x0800
	etherARP    = 0x0806
	etherRARP   = 0x8035
	etherIPv6   = 0x86dd
	ether8021Q  = 0x8100
	ether8021AD = 0x88a8
	etherQinQ   = 0x9100

	protoICMP  = 1
	protoTCP   = 6
	protoUDP   = 17
	protoFrag  = 44
	protoICMP6 = 58
	protoSCTP  = 132
	protoUndef = -1 // PROTO_UNDEF: TCP, UDP or SCTP
)

// offrel says what a load offset is relative to (gencode.c's enum e_offrel).
type offrel uint8

const (
	orLinkHdr offrel = iota
	orLinkType
	orLinkPL
	orTranIPv4
	orTranIPv6
)

// gen is gencode.c's compiler_state_t, reduced to what the subset uses.
type gen struct {
	expr   string
	link   uint16
	kernel bool // bpf_codegen_flags & BPF_SPECIAL_VLAN_HANDLING
	pos    int  // position of the construct being generated, for errors

	offLinkHdr  absOffset
	offLinkType absOffset
	offLinkPL   absOffset
	offNL       uint32

	isVlanVloffset bool
	vlanDepth      int

	regused [memWords]bool
	curreg  int
}

func (g *gen) fail(format string, args ...any) {
	panic(bail{&SyntaxError{Expr: g.expr, Pos: g.pos, Msg: fmt.Sprintf(format, args...)}})
}

func (g *gen) unsupported(construct string) {
	panic(bail{&UnsupportedError{Expr: g.expr, Pos: g.pos, Construct: construct}})
}

// linkName is libpcap's description of a link type, used in its error messages.
func linkName(lt uint16) string {
	switch lt {
	case LinkTypeEthernet:
		return "Ethernet"
	case LinkTypeLinuxSLL:
		return "Linux cooked v1"
	case LinkTypeLinuxSLL2:
		return "Linux cooked v2"
	case LinkTypeRaw, linkTypeRawAlt:
		return "Raw IP"
	case LinkTypeIPv4:
		return "Raw IPv4"
	case LinkTypeIPv6:
		return "Raw IPv6"
	case LinkTypeNull:
		return "BSD loopback"
	case LinkTypeLoop:
		return "OpenBSD loopback"
	}
	return "link type " + strconv.Itoa(int(lt))
}

// initLink sets the offsets for a link type (init_linktype).
func (g *gen) initLink() error {
	g.offLinkHdr = absOffset{reg: -1}
	g.offLinkType = absOffset{reg: -1}
	g.offLinkPL = absOffset{reg: -1}
	switch g.link {
	case LinkTypeEthernet:
		g.offLinkType.constantPart, g.offLinkPL.constantPart = 12, 14
	case LinkTypeLinuxSLL:
		g.offLinkType.constantPart, g.offLinkPL.constantPart = 14, 16
	case LinkTypeLinuxSLL2:
		g.offLinkType.constantPart, g.offLinkPL.constantPart = 0, 20
	case LinkTypeNull, LinkTypeLoop:
		g.offLinkType.constantPart, g.offLinkPL.constantPart = 0, 4
	case LinkTypeRaw, linkTypeRawAlt, LinkTypeIPv4, LinkTypeIPv6:
		g.offLinkType.constantPart, g.offLinkPL.constantPart = 0xffffffff, 0
	default:
		return &UnsupportedError{Expr: g.expr, Construct: "link type " + strconv.Itoa(int(g.link))}
	}
	return nil
}

// Scratch register allocation, exactly as gencode.c cycles through them.
func (g *gen) allocReg() int {
	for n := memWords; n > 0; n-- {
		if g.regused[g.curreg] {
			g.curreg = (g.curreg + 1) % memWords
		} else {
			g.regused[g.curreg] = true
			return g.curreg
		}
	}
	g.fail("too many registers needed to evaluate expression")
	return 0
}

func (g *gen) freeReg(n int) { g.regused[n] = false }

func newBlock(code int) *block {
	b := &block{}
	b.s.code = code
	b.head = b
	return b
}

func newStmt(code int) *slist { return &slist{s: stmt{code: code}} }

func newStmtK(code int, k uint32) *slist { return &slist{s: stmt{code: code, k: k}} }

// sappend appends s1 to the list s0.
func sappend(s0, s1 *slist) {
	for s0.next != nil {
		s0 = s0.next
	}
	s0.next = s1
}

func genRetblk(v uint32) *block {
	b := newBlock(bpfRET | bpfK)
	b.s.k = v
	return b
}

// uncond is gen_uncond: "ld #k; jeq #0", true iff rsense.
func uncond(rsense bool) *block {
	var k uint32 = 1
	if rsense {
		k = 0
	}
	b := newBlock(bpfJMP | bpfJEQ | bpfK)
	b.stmts = newStmtK(bpfLD|bpfIMM, k)
	return b
}

// backpatch, merge, genAnd, genOr and genNot are gencode.c's. The sense bit
// says which of jt and jf is a link in the block's pending-exit list.
func backpatch(list, target *block) {
	for list != nil {
		var next *block
		if !list.sense {
			next, list.et.succ = list.et.succ, target
		} else {
			next, list.ef.succ = list.ef.succ, target
		}
		list = next
	}
}

func merge(b0, b1 *block) {
	p := &b0
	for *p != nil {
		if !(*p).sense {
			p = &(*p).et.succ
		} else {
			p = &(*p).ef.succ
		}
	}
	*p = b1
}

func genAnd(b0, b1 *block) {
	backpatch(b0, b1.head)
	b0.sense = !b0.sense
	b1.sense = !b1.sense
	merge(b1, b0)
	b1.sense = !b1.sense
	b1.head = b0.head
}

func genOr(b0, b1 *block) {
	b0.sense = !b0.sense
	backpatch(b0, b1.head)
	b0.sense = !b0.sense
	merge(b1, b0)
	b1.head = b0.head
}

func genNot(b *block) { b.sense = !b.sense }

// absOffsetVarpart is gen_abs_offset_varpart: "ldx M[reg]" for a variable offset.
func (g *gen) absOffsetVarpart(off *absOffset) *slist {
	if !off.isVariable {
		return nil
	}
	if off.reg == -1 {
		off.reg = g.allocReg()
	}
	return newStmtK(bpfLDX|bpfMEM, uint32(off.reg))
}

// loadAbsOffsetRel is gen_load_absoffsetrel.
func (g *gen) loadAbsOffsetRel(off *absOffset, offset uint32, size int) *slist {
	s := g.absOffsetVarpart(off)
	if s != nil {
		sappend(s, newStmtK(bpfLD|bpfIND|size, off.constantPart+offset))
		return s
	}
	return newStmtK(bpfLD|bpfABS|size, off.constantPart+offset)
}

// loadxIPHdrLen is gen_loadx_iphdrlen: X = IPv4 header length (+ variable part).
func (g *gen) loadxIPHdrLen() *slist {
	s := g.absOffsetVarpart(&g.offLinkPL)
	if s != nil {
		sappend(s, newStmtK(bpfLD|bpfIND|bpfB, g.offLinkPL.constantPart+g.offNL))
		sappend(s, newStmtK(bpfALU|bpfAND|bpfK, 0xf))
		sappend(s, newStmtK(bpfALU|bpfLSH|bpfK, 2))
		sappend(s, newStmt(bpfALU|bpfADD|bpfX))
		sappend(s, newStmt(bpfMISC|bpfTAX))
		return s
	}
	return newStmtK(bpfLDX|bpfMSH|bpfB, g.offLinkPL.constantPart+g.offNL)
}

// loadA is gen_load_a.
func (g *gen) loadA(rel offrel, offset uint32, size int) *slist {
	switch rel {
	case orLinkHdr:
		return g.loadAbsOffsetRel(&g.offLinkHdr, offset, size)
	case orLinkType:
		return g.loadAbsOffsetRel(&g.offLinkType, offset, size)
	case orLinkPL:
		return g.loadAbsOffsetRel(&g.offLinkPL, g.offNL+offset, size)
	case orTranIPv4:
		s := g.loadxIPHdrLen()
		sappend(s, newStmtK(bpfLD|bpfIND|size, g.offLinkPL.constantPart+g.offNL+offset))
		return s
	case orTranIPv6:
		return g.loadAbsOffsetRel(&g.offLinkPL, g.offNL+40+offset, size)
	}
	panic("filter: bad offrel")
}

// ncmp is gen_ncmp; cmp, mcmp, cmpGE and cmpLE are its wrappers.
func (g *gen) ncmp(rel offrel, offset uint32, size int, mask uint32, jtype int, reverse bool, v uint32) *block {
	s := g.loadA(rel, offset, size)
	if mask != 0xffffffff {
		sappend(s, newStmtK(bpfALU|bpfAND|bpfK, mask))
	}
	b := newBlock(bpfJMP | jtype | bpfK)
	b.stmts = s
	b.s.k = v
	if reverse && (jtype == bpfJGT || jtype == bpfJGE) {
		genNot(b)
	}
	return b
}

func (g *gen) cmp(rel offrel, offset uint32, size int, v uint32) *block {
	return g.ncmp(rel, offset, size, 0xffffffff, bpfJEQ, false, v)
}

func (g *gen) mcmp(rel offrel, offset uint32, size int, v, mask uint32) *block {
	return g.ncmp(rel, offset, size, mask, bpfJEQ, false, v)
}

// linktype is gen_linktype for the supported link types.
func (g *gen) linktype(proto uint32) *block {
	switch g.link {
	case LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeLinuxSLL2:
		// All Ethernet types used here are above ETHERMTU, so this is
		// gen_ether_linktype's and gen_linux_sll_linktype's default case.
		return g.cmp(orLinkType, 0, bpfH, proto)
	case LinkTypeRaw, linkTypeRawAlt:
		switch proto {
		case etherIP:
			return g.mcmp(orLinkHdr, 0, bpfB, 0x40, 0xf0)
		case etherIPv6:
			return g.mcmp(orLinkHdr, 0, bpfB, 0x60, 0xf0)
		}
		return uncond(false)
	case LinkTypeIPv4:
		return uncond(proto == etherIP)
	case LinkTypeIPv6:
		return uncond(proto == etherIPv6)
	case LinkTypeNull, LinkTypeLoop:
		switch proto {
		case etherIP:
			return g.loopbackLinktype(2)
		case etherIPv6:
			if g.kernel {
				// A live capture only sees this platform's AF_INET6.
				return g.loopbackLinktype(10)
			}
			// A capture file may come from any system: BSD, FreeBSD and
			// Darwin number AF_INET6 differently.
			b0 := g.loopbackLinktype(24)
			b1 := g.loopbackLinktype(28)
			genOr(b0, b1)
			b0 = g.loopbackLinktype(30)
			genOr(b0, b1)
			return b1
		}
		return uncond(false)
	}
	panic("filter: bad link type")
}

// loopbackLinktype is gen_loopback_linktype: the 4-byte AF_ value is in network
// byte order for LOOP, and in the writer's byte order for NULL, taken to be
// little-endian (libpcap knows from the file header; nearly every capture is
// little-endian).
func (g *gen) loopbackLinktype(af uint32) *block {
	if g.link == LinkTypeNull {
		af <<= 24 // htonl of a little-endian value
	}
	return g.cmp(orLinkHdr, 0, bpfW, af)
}

// protoIP and protoIP6 are gen_proto's Q_IP and Q_IPV6 cases. The IPv6 one also
// looks behind one fragment header, and behind nothing else.
func (g *gen) protoIP(v uint32) *block {
	b0 := g.linktype(etherIP)
	b1 := g.cmp(orLinkPL, 9, bpfB, v)
	genAnd(b0, b1)
	return b1
}

func (g *gen) protoIP6(v uint32) *block {
	b0 := g.linktype(etherIPv6)
	b2 := g.cmp(orLinkPL, 6, bpfB, protoFrag)
	b1 := g.cmp(orLinkPL, 40, bpfB, v)
	genAnd(b2, b1)
	b2 = g.cmp(orLinkPL, 6, bpfB, v)
	genOr(b2, b1)
	genAnd(b0, b1)
	return b1
}

// protoAbbrev is gen_proto_abbrev: a bare protocol name.
func (g *gen) protoAbbrev(p qproto) *block {
	switch p {
	case pIP:
		return g.linktype(etherIP)
	case pIP6:
		return g.linktype(etherIPv6)
	case pTCP, pUDP, pSCTP:
		v := uint32(ipProto(p))
		b0 := g.protoIP(v)
		b1 := g.protoIP6(v)
		genOr(b0, b1)
		return b1
	case pICMP:
		return g.protoIP(protoICMP)
	case pICMP6:
		return g.protoIP6(protoICMP6)
	}
	g.fail("link layer applied in wrong context")
	return nil
}

func ipProto(p qproto) int {
	switch p {
	case pTCP:
		return protoTCP
	case pUDP:
		return protoUDP
	case pSCTP:
		return protoSCTP
	}
	return protoUndef
}

var protoWords = map[qproto]string{pLink: "link", pIP: "ip", pIP6: "ip6", pTCP: "tcp", pUDP: "udp", pSCTP: "sctp", pICMP: "icmp", pICMP6: "icmp6"}

// ipfrag is gen_ipfrag: true unless this is an IPv4 fragment other than the first.
func (g *gen) ipfrag() *block {
	b := newBlock(bpfJMP | bpfJSET | bpfK)
	b.s.k = 0x1fff
	b.stmts = g.loadA(orLinkPL, 6, bpfH)
	genNot(b)
	return b
}

// dirPair builds the test for a direction qualifier from a per-side generator,
// as the Q_SRC/Q_DST/Q_AND/Q_OR switches in gencode.c do.
func (g *gen) dirPair(dir qdir, side func(src bool) *block) *block {
	switch dir {
	case dSrc:
		return side(true)
	case dDst:
		return side(false)
	case dAnd:
		b0 := side(true)
		b1 := side(false)
		genAnd(b0, b1)
		return b1
	}
	b0 := side(true)
	b1 := side(false)
	genOr(b0, b1)
	return b1
}

// hostop is gen_hostop.
func (g *gen) hostop(addr, mask uint32, dir qdir, proto uint32, srcOff, dstOff uint32) *block {
	return g.dirPair(dir, func(src bool) *block {
		off := dstOff
		if src {
			off = srcOff
		}
		b0 := g.linktype(proto)
		b1 := g.mcmp(orLinkPL, off, bpfW, addr, mask)
		genAnd(b0, b1)
		return b1
	})
}

// host is gen_host for IPv4 addresses and networks.
func (g *gen) host(addr, mask uint32, q qual, typ string) *block {
	switch q.proto {
	case pDefault:
		b0 := g.host(addr, mask, qual{pIP, q.dir, q.addr}, typ)
		b1 := g.hostop(addr, mask, q.dir, etherARP, 14, 24)
		genOr(b0, b1)
		b0 = g.hostop(addr, mask, q.dir, etherRARP, 14, 24)
		genOr(b1, b0)
		return b0
	case pIP:
		return g.hostop(addr, mask, q.dir, etherIP, 12, 16)
	case pLink:
		g.fail("link-layer modifier applied to %s", typ)
	case pIP6:
		g.fail("'ip6' modifier applied to ip %s", typ)
	}
	g.fail("'%s' modifier applied to %s", protoWords[q.proto], typ)
	return nil
}

// hostop6 is gen_hostop6: the last word's test first in the list, so the program
// tests the link type, then the words from first to last.
func (g *gen) hostop6(a, m [4]uint32, dir qdir) *block {
	return g.dirPair(dir, func(src bool) *block {
		off := uint32(24)
		if src {
			off = 8
		}
		b1 := g.mcmp(orLinkPL, off+12, bpfW, a[3], m[3])
		b0 := g.mcmp(orLinkPL, off+8, bpfW, a[2], m[2])
		genAnd(b0, b1)
		b0 = g.mcmp(orLinkPL, off+4, bpfW, a[1], m[1])
		genAnd(b0, b1)
		b0 = g.mcmp(orLinkPL, off, bpfW, a[0], m[0])
		genAnd(b0, b1)
		b0 = g.linktype(etherIPv6)
		genAnd(b0, b1)
		return b1
	})
}

func (g *gen) host6(a, m [4]uint32, q qual, typ string) *block {
	switch q.proto {
	case pDefault, pIP6:
		return g.hostop6(a, m, q.dir)
	case pLink:
		g.fail("link-layer modifier applied to ip6 %s", typ)
	}
	g.fail("'%s' modifier applied to ip6 %s", protoWords[q.proto], typ)
	return nil
}

// portop, portop6, portrangeop and portrangeop6 are gencode.c's.
func (g *gen) portop(port uint32, proto uint32, dir qdir) *block {
	tmp := g.cmp(orLinkPL, 9, bpfB, proto)
	b0 := g.ipfrag()
	genAnd(tmp, b0)
	b1 := g.dirPair(dir, func(src bool) *block {
		if src {
			return g.cmp(orTranIPv4, 0, bpfH, port)
		}
		return g.cmp(orTranIPv4, 2, bpfH, port)
	})
	genAnd(b0, b1)
	return b1
}

func (g *gen) portop6(port uint32, proto uint32, dir qdir) *block {
	b0 := g.cmp(orLinkPL, 6, bpfB, proto)
	b1 := g.dirPair(dir, func(src bool) *block {
		if src {
			return g.cmp(orTranIPv6, 0, bpfH, port)
		}
		return g.cmp(orTranIPv6, 2, bpfH, port)
	})
	genAnd(b0, b1)
	return b1
}

func (g *gen) rangeAtom(rel offrel, src bool, lo, hi uint32) *block {
	if lo > hi {
		lo, hi = hi, lo
	}
	off := uint32(2)
	if src {
		off = 0
	}
	b1 := g.ncmp(rel, off, bpfH, 0xffffffff, bpfJGE, false, lo)
	b2 := g.ncmp(rel, off, bpfH, 0xffffffff, bpfJGT, true, hi)
	genAnd(b1, b2)
	return b2
}

func (g *gen) portrangeop(lo, hi, proto uint32, dir qdir) *block {
	tmp := g.cmp(orLinkPL, 9, bpfB, proto)
	b0 := g.ipfrag()
	genAnd(tmp, b0)
	b1 := g.dirPair(dir, func(src bool) *block { return g.rangeAtom(orTranIPv4, src, lo, hi) })
	genAnd(b0, b1)
	return b1
}

func (g *gen) portrangeop6(lo, hi, proto uint32, dir qdir) *block {
	b0 := g.cmp(orLinkPL, 6, bpfB, proto)
	b1 := g.dirPair(dir, func(src bool) *block { return g.rangeAtom(orTranIPv6, src, lo, hi) })
	genAnd(b0, b1)
	return b1
}

// ports is gen_port or gen_portrange, or'ed after the IPv6 twin, as gen_ncode
// does: gen_or(gen_port6(...), b).
func (g *gen) ports(lo, hi uint32, isRange bool, proto int, dir qdir) *block {
	one := func(v6 bool) *block {
		op := func(p uint32) *block {
			switch {
			case isRange && v6:
				return g.portrangeop6(lo, hi, p, dir)
			case isRange:
				return g.portrangeop(lo, hi, p, dir)
			case v6:
				return g.portop6(lo, p, dir)
			}
			return g.portop(lo, p, dir)
		}
		var b0 *block
		if v6 {
			b0 = g.linktype(etherIPv6)
		} else {
			b0 = g.linktype(etherIP)
		}
		var b1 *block
		if proto == protoUndef {
			tmp := op(protoTCP)
			b1 = op(protoUDP)
			genOr(tmp, b1)
			tmp = op(protoSCTP)
			genOr(tmp, b1)
		} else {
			b1 = op(uint32(proto))
		}
		genAnd(b0, b1)
		return b1
	}
	b := one(false)
	genOr(one(true), b)
	return b
}

// portProto checks the protocol qualifier of port and portrange.
func (g *gen) portProto(q qual, what string) int {
	switch q.proto {
	case pDefault:
		return protoUndef
	case pTCP, pUDP, pSCTP:
		return ipProto(q.proto)
	}
	g.fail("illegal qualifier of '%s'", what)
	return 0
}

// atoin is __pcap_atoin: a dotted IPv4 address or prefix, and its length in bits.
func (g *gen) atoin(s string) (uint32, int) {
	var v uint32
	n := 0
	for _, part := range strings.Split(s, ".") {
		x, err := strconv.ParseUint(part, 10, 32)
		if err != nil || x > 255 {
			g.fail("invalid IPv4 address '%s'", s)
		}
		v = v<<8 | uint32(x)
		n += 8
	}
	return v, n
}

// id generates code for an address, number or name under its qualifiers
// (grammar.y's nid actions with gen_ncode, gen_scode, gen_mcode and gen_mcode6).
func (g *gen) id(n *idNode) *block {
	q := n.q
	if q.addr == aUndef {
		g.fail("syntax error in filter expression")
	}
	switch n.kind {
	case tNum:
		return g.ncode("", n.num, q)
	case tHID:
		if n.masklen >= 0 || n.mask != "" {
			return g.mcode(n)
		}
		switch q.addr {
		case aPort:
			g.fail("'port' modifier applied to ip host")
		case aPortRange:
			g.fail("'portrange' modifier applied to ip host")
		}
		return g.ncode(n.text, 0, q)
	case tHID6:
		return g.mcode6(n)
	case tID:
		return g.scode(n)
	}
	panic("filter: bad id")
}

func (g *gen) ncode(s string, v uint32, q qual) *block {
	vlen := 32
	if s != "" {
		v, vlen = g.atoin(s)
	}
	switch q.addr {
	case aDefault, aHost, aNet:
		if q.proto == pLink {
			g.fail("illegal link layer address")
		}
		mask := uint32(0xffffffff)
		if s == "" && q.addr == aNet {
			// Promote a short net number: "net 10" is 10.0.0.0/8.
			for v != 0 && v&0xff000000 == 0 {
				v <<= 8
				mask <<= 8
			}
		} else {
			// Promote a short address: "host 10.1" is 10.1.0.0/16.
			v <<= 32 - vlen
			mask <<= 32 - vlen
		}
		typ := "host"
		if q.addr == aNet {
			typ = "net"
		}
		return g.host(v, mask, q, typ)
	case aPort, aPortRange:
		what := "port"
		if q.addr == aPortRange {
			what = "portrange"
		}
		proto := g.portProto(q, what)
		if v > 65535 {
			g.fail("illegal port number %d > 65535", v)
		}
		return g.ports(v, v, q.addr == aPortRange, proto, q.dir)
	}
	g.fail("syntax error in filter expression")
	return nil
}

func (g *gen) mcode(n *idNode) *block {
	q := n.q
	a, nlen := g.atoin(n.text)
	a <<= 32 - nlen
	var m uint32
	if n.mask != "" {
		mv, mlen := g.atoin(n.mask)
		m = mv << (32 - mlen)
		if a&^m != 0 {
			g.fail("non-network bits set in \"%s mask %s\"", n.text, n.mask)
		}
	} else {
		if n.masklen > 32 {
			g.fail("mask length must be <= 32")
		}
		if n.masklen > 0 {
			m = 0xffffffff << (32 - n.masklen)
		}
		if a&^m != 0 {
			g.fail("non-network bits set in \"%s/%d\"", n.text, n.masklen)
		}
	}
	if q.addr != aNet {
		g.fail("Mask syntax for networks only")
	}
	return g.host(a, m, q, "net")
}

func (g *gen) mcode6(n *idNode) *block {
	q := n.q
	addr, err := netip.ParseAddr(n.text)
	if err != nil {
		g.fail("invalid ip6 address %s", n.text)
	}
	if n.masklen > 128 {
		g.fail("mask length must be <= 128")
	}
	b := addr.As16()
	var mb [16]byte
	for i := 0; i < n.masklen/8; i++ {
		mb[i] = 0xff
	}
	if n.masklen%8 != 0 {
		mb[n.masklen/8] = 0xff << (8 - n.masklen%8)
	}
	var a, m [4]uint32
	for i := range 4 {
		a[i] = uint32(b[4*i])<<24 | uint32(b[4*i+1])<<16 | uint32(b[4*i+2])<<8 | uint32(b[4*i+3])
		m[i] = uint32(mb[4*i])<<24 | uint32(mb[4*i+1])<<16 | uint32(mb[4*i+2])<<8 | uint32(mb[4*i+3])
		if a[i]&^m[i] != 0 {
			g.fail("non-network bits set in \"%s/%d\"", n.text, n.masklen)
		}
	}
	switch q.addr {
	case aDefault, aHost:
		if n.masklen != 128 {
			g.fail("Mask syntax for networks only")
		}
		return g.host6(a, m, q, "host")
	case aNet:
		return g.host6(a, m, q, "net")
	}
	g.fail("invalid qualifier against IPv6 address")
	return nil
}

// scode handles a name. Names are never resolved; the only name-shaped values
// understood are numeric port ranges ("80-90").
func (g *gen) scode(n *idNode) *block {
	q := n.q
	switch q.addr {
	case aPortRange:
		proto := g.portProto(q, "portrange")
		lo, hi, ok := strings.Cut(n.text, "-")
		l, err1 := strconv.ParseUint(lo, 10, 32)
		h, err2 := strconv.ParseUint(hi, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			g.unsupported("portrange name " + quote(n.text))
		}
		if l > 65535 {
			g.fail("illegal port number %d > 65535", l)
		}
		if h > 65535 {
			g.fail("illegal port number %d > 65535", h)
		}
		return g.ports(uint32(l), uint32(h), true, proto, q.dir)
	case aPort:
		g.portProto(q, "port")
		g.unsupported("port name " + quote(n.text))
	case aNet:
		g.unsupported("net name " + quote(n.text))
	}
	g.unsupported("host name " + quote(n.text))
	return nil
}

// vlan is gen_vlan for Ethernet: test for an 802.1Q, 802.1ad or QinQ tag (and
// its VLAN ID), then move the link-type and payload offsets 4 bytes on for the
// rest of the expression, whatever the boolean structure around it.
func (g *gen) vlan(n *vlanNode) *block {
	if g.link != LinkTypeEthernet {
		g.fail("no VLAN support for %s", linkName(g.link))
	}
	var b0 *block
	if g.kernel && g.vlanDepth == 0 && !g.offLinkHdr.isVariable {
		b0 = g.vlanBPFExtensions(n)
	} else {
		b0 = g.vlanTPIDTest()
		if n.has {
			b1 := g.vlanVIDTest(n.num)
			genAnd(b0, b1)
			b0 = b1
		}
		g.offLinkPL.constantPart += 4
		g.offLinkType.constantPart += 4
	}
	g.vlanDepth++
	return b0
}

func (g *gen) vlanTPIDTest() *block {
	b0 := g.linktype(ether8021Q)
	b1 := g.linktype(ether8021AD)
	genOr(b0, b1)
	b0 = b1
	b1 = g.linktype(etherQinQ)
	genOr(b0, b1)
	return b1
}

func (g *gen) vlanVIDTest(num uint32) *block {
	if num > 0x0fff {
		g.fail("VLAN tag %d greater than maximum %d", num, 0x0fff)
	}
	return g.mcmp(orLinkPL, 0, bpfH, num, 0x0fff)
}

// vlanBPFExtensions is gen_vlan_bpf_extensions, for a live Linux socket: the
// kernel usually strips the outer tag and reports it in packet metadata
// (SKF_AD_VLAN_TAG_PRESENT, SKF_AD_VLAN_TAG), so the test is "metadata says
// tagged, or the frame still carries a tag", and later offsets move by 4, at run
// time, only in the second case.
func (g *gen) vlanBPFExtensions(n *vlanNode) *block {
	b0 := newBlock(bpfJMP | bpfJEQ | bpfK)
	b0.stmts = newStmtK(bpfLD|bpfB|bpfABS, skfAdOff+skfAdVLANTagPresent)
	b0.s.k = 1

	// Both tests are generated before the offsets become variable, so they
	// read the frame at fixed offsets.
	bTPID := g.vlanTPIDTest()
	var bVID *block
	if n.has {
		bVID = g.vlanVIDTest(n.num)
	}

	// gen_vlan_patch_tpid_test: move the offsets on when the tag is in the frame.
	g.isVlanVloffset = true
	var s slist
	g.vloffsetAdd(&g.offLinkPL, 4, &s)
	g.vloffsetAdd(&g.offLinkType, 4, &s)
	sappend(s.next, bTPID.head.stmts)
	bTPID.head.stmts = s.next

	genOr(b0, bTPID)
	b0 = bTPID

	if n.has {
		// gen_vlan_patch_vid_test: take the VID from the metadata when it
		// is there, with a jump inside the block.
		p := newStmtK(bpfLD|bpfB|bpfABS, skfAdOff+skfAdVLANTagPresent)
		sjeq := newStmtK(bpfJMP|bpfJEQ|bpfK, 1)
		sjeq.s.jf = bVID.stmts
		sappend(p, sjeq)
		s2 := newStmtK(bpfLD|bpfB|bpfABS, skfAdOff+skfAdVLANTag)
		sappend(p, s2)
		sjeq.s.jt = s2
		cnt := 0
		for x := bVID.stmts; x != nil; x = x.next {
			cnt++
		}
		sappend(p, newStmtK(bpfJMP|bpfJA, uint32(cnt-1)))
		sappend(p, bVID.stmts)
		bVID.stmts = p
		genAnd(b0, bVID)
		b0 = bVID
	}
	return b0
}

// vloffsetAdd is gen_vlan_vloffset_add.
func (g *gen) vloffsetAdd(off *absOffset, v uint32, s *slist) {
	off.isVariable = true
	if off.reg == -1 {
		off.reg = g.allocReg()
	}
	sappend(s, newStmtK(bpfLD|bpfMEM, uint32(off.reg)))
	sappend(s, newStmtK(bpfALU|bpfADD|bpfK, v))
	sappend(s, newStmtK(bpfST, uint32(off.reg)))
}

// insertComputeVloffsets is insert_compute_vloffsets for the VLAN case: zero the
// run-time offsets at the start of the program.
func (g *gen) insertComputeVloffsets(b *block) {
	if !g.isVlanVloffset {
		return
	}
	if g.offLinkPL.reg == -1 {
		g.offLinkPL.reg = g.allocReg()
	}
	if g.offLinkType.reg == -1 {
		g.offLinkType.reg = g.allocReg()
	}
	s := newStmtK(bpfLD|bpfW|bpfIMM, 0)
	sappend(s, newStmtK(bpfST, uint32(g.offLinkPL.reg)))
	sappend(s, newStmtK(bpfST, uint32(g.offLinkType.reg)))
	sappend(s, b.stmts)
	b.stmts = s
}

// lenTest is gen_len: "greater N" is len >= N, "less N" is not len > N.
func (g *gen) lenTest(n *lenNode) *block {
	jtype := bpfJGE
	if !n.ge {
		jtype = bpfJGT
	}
	b := newBlock(bpfJMP | jtype | bpfK)
	b.stmts = newStmt(bpfLD | bpfLEN)
	b.s.k = n.n
	if !n.ge {
		genNot(b)
	}
	return b
}

// node generates a boolean expression left to right: the order in which
// grammar.y's actions run, which decides where "vlan" moves the offsets and how
// scratch registers are handed out.
func (g *gen) node(n node) *block {
	g.pos = n.nodePos()
	switch n := n.(type) {
	case *andNode:
		l := g.node(n.l)
		r := g.node(n.r)
		genAnd(l, r)
		return r
	case *orNode:
		l := g.node(n.l)
		r := g.node(n.r)
		genOr(l, r)
		return r
	case *notNode:
		x := g.node(n.x)
		genNot(x)
		return x
	case *protoNode:
		return g.protoAbbrev(n.proto)
	case *idNode:
		return g.id(n)
	case *vlanNode:
		return g.vlan(n)
	case *lenNode:
		return g.lenTest(n)
	case *relNode:
		return g.relation(n)
	}
	panic("filter: bad node")
}

// finish is finish_parse: the expression's exits go to "ret #snaplen" and
// "ret #0".
func (g *gen) finish(p *block, snaplen uint32) *block {
	g.insertComputeVloffsets(p.head)
	backpatch(p, genRetblk(snaplen))
	p.sense = !p.sense
	backpatch(p, genRetblk(0))
	return p.head
}
