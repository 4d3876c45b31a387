package filter

import (
	"errors"
	"fmt"

	"golang.org/x/net/bpf"
)

// Link types accepted by Compile and New: pcap LINKTYPE_* values.
const (
	LinkTypeNull      = 0   // BSD loopback: 4-byte AF_ value in the writer's byte order (taken as little-endian)
	LinkTypeEthernet  = 1   // Ethernet II; the Ethernet type is at offset 12
	LinkTypeRaw       = 101 // raw IPv4 or IPv6, told apart by the version nibble
	LinkTypeLoop      = 108 // OpenBSD loopback: 4-byte AF_ value in network byte order
	LinkTypeLinuxSLL  = 113 // Linux cooked capture v1; protocol at 14, header 16 bytes
	LinkTypeIPv4      = 228 // raw IPv4
	LinkTypeIPv6      = 229 // raw IPv6
	LinkTypeLinuxSLL2 = 276 // Linux cooked capture v2; protocol at 0, header 20 bytes

	linkTypeRawAlt = 12 // DLT_RAW as some Linux captures record it
)

// DefaultSnaplen is the snapshot length New compiles for, tcpdump's default.
const DefaultSnaplen = 262144

// ErrRejectAll is returned for an expression that no packet can match, such as
// "ip and ip6", which tcpdump also refuses.
var ErrRejectAll = errors.New("expression rejects all packets")

// maxInsns is the kernel's limit on a classic BPF program (BPF_MAXINSNS).
const maxInsns = 4096

// ErrTooLong is returned when the program would exceed the kernel's limit of
// 4096 instructions.
var ErrTooLong = errors.New("filter program too long")

// SyntaxError reports an expression that tcpdump would refuse: a syntax error, or
// a semantic one such as "port" applied to an IPv4 address. Msg is libpcap's
// message where it has one. Pos is the byte offset in Expr of the offending
// token, or 0 for what only the optimizer finds (a division by a constant that
// folds to zero).
type SyntaxError struct {
	Expr string
	Pos  int
	Msg  string
}

// Error formats the error as `filter "EXPR": MSG at POS`.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("filter %q: %s at %d", e.Expr, e.Msg, e.Pos)
}

// UnsupportedError reports a valid pcap-filter construct outside the subset this
// package compiles, such as "ether host", "arp" or "ip proto". Host and port names
// are unsupported too: names are never resolved. Pos is the construct's byte
// offset in Expr.
type UnsupportedError struct {
	Expr      string
	Pos       int
	Construct string
}

// Error names the construct.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("filter construct %q is not supported", e.Construct)
}

// Compile compiles a tcpdump filter expression to classic BPF for captures of the
// given link type, as pcap_compile does for a capture file (tcpdump -r): the
// program accepts exactly the packets libpcap's accepts, including which truncated
// packets are rejected because a test reads past their captured bytes. Accepted
// packets return snaplen. An empty expression compiles to a program accepting
// everything.
//
// The program tests "vlan" by looking for the tag in the frame. On a live Linux
// socket the kernel usually strips the tag first; use CompileKernel there.
func Compile(expr string, linkType uint16, snaplen uint32) ([]bpf.Instruction, error) {
	return compile(expr, linkType, snaplen, false)
}

// CompileKernel is Compile for a filter attached to a live Linux packet socket
// (SO_ATTACH_FILTER), as pcap_compile does for a live capture: the outermost
// "vlan" test also accepts a tag the kernel moved into packet metadata, read
// with the SKF_AD_VLAN_TAG_PRESENT and SKF_AD_VLAN_TAG extensions, and later
// offsets move only when the tag is still in the frame. Without "vlan" the program
// equals Compile's. The result cannot run in x/net/bpf's VM.
func CompileKernel(expr string, linkType uint16, snaplen uint32) ([]bpf.Instruction, error) {
	return compile(expr, linkType, snaplen, true)
}

func compile(expr string, linkType uint16, snaplen uint32, kernel bool) (prog []bpf.Instruction, err error) {
	raw, err := compileRaw(expr, linkType, snaplen, kernel)
	if err != nil {
		return nil, err
	}
	prog = make([]bpf.Instruction, len(raw))
	for i, r := range raw {
		// Keep the exact encoding where x/net/bpf's types cannot express it
		// (an 8-bit load at an ancillary offset, for one).
		ins := r.Disassemble()
		if back, err := ins.Assemble(); err != nil || back != r {
			ins = r
		}
		prog[i] = ins
	}
	return prog, nil
}

// compileRaw runs the whole pipeline of pcap_compile: parse, generate,
// optimize, lay out.
func compileRaw(expr string, linkType uint16, snaplen uint32, kernel bool) (raw []bpf.RawInstruction, err error) {
	if snaplen == 0 {
		return nil, fmt.Errorf("filter %q: snaplen of 0 rejects all packets", expr)
	}
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	g := &gen{expr: expr, link: linkType, kernel: kernel}
	if err := g.initLink(); err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			raw, err = nil, b.err
		}
	}()
	ic := &icode{}
	if n == nil {
		ic.root = genRetblk(snaplen)
	} else {
		ic.root = g.finish(g.node(n), snaplen)
	}
	optimize(g, ic)
	if ic.root.s.code == bpfRET|bpfK && ic.root.s.k == 0 {
		return nil, fmt.Errorf("filter %q: %w", expr, ErrRejectAll)
	}
	raw = convert(ic, ic.root)
	if len(raw) > maxInsns {
		return nil, fmt.Errorf("filter %q: %w: %d instructions, the kernel takes %d", expr, ErrTooLong, len(raw), maxInsns)
	}
	return raw, nil
}

// Filter is a compiled expression with an interpreter, for filtering packets in
// user space (capture files). It is safe for concurrent use; the zero value is not
// usable.
type Filter struct {
	expr string
	prog []bpf.Instruction
	raw  []bpf.RawInstruction
}

// New compiles expr for linkType with DefaultSnaplen.
func New(expr string, linkType uint16) (*Filter, error) {
	prog, err := Compile(expr, linkType, DefaultSnaplen)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("filter %q: assemble: %w", expr, err)
	}
	return &Filter{expr: expr, prog: prog, raw: raw}, nil
}

// Match reports whether frame, a whole packet starting at the link-layer header,
// passes the filter. It does not allocate.
func (f *Filter) Match(frame []byte) bool {
	return run(f.raw, frame, uint32(len(frame)), nil) != 0
}

// MatchLen is Match for a packet captured truncated: data holds the captured
// bytes and wireLen the length on the wire (pcap's orig_len), which is what "len",
// "greater" and "less" test, as in libpcap.
func (f *Filter) MatchLen(data []byte, wireLen int) bool {
	return run(f.raw, data, uint32(wireLen), nil) != 0
}

// Program returns the compiled program. The caller must not modify it.
func (f *Filter) Program() []bpf.Instruction { return f.prog }

// String returns the expression the filter was compiled from.
func (f *Filter) String() string { return f.expr }
