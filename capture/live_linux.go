//go:build linux

package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// sll2Len is the length of the LINUX_SLL2 header synthesized for frames of
// a cooked (SOCK_DGRAM) socket.
const sll2Len = 20

// Offsets of the kernel's ancillary loads (linux/filter.h): SKF_AD_OFF is
// -0x1000, which classic BPF reads as an unsigned offset.
const (
	skfAdOff      = 0xfffff000
	skfAdProtocol = 0
	skfAdPkttype  = 4
	skfAdIfindex  = 8
	skfAdHatype   = 28
)

// htons returns v in network byte order, as sockaddr_ll's protocol wants it.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// Live captures frames from a network interface through a Linux AF_PACKET
// socket, without libpcap or cgo. Use it like a Source:
//
//	for l.Next(&pkt) { ... }
//	if err := l.Err(); err != nil { ... }
//
// On an Ethernet or loopback interface it reads whole frames (link type
// EN10MB) and puts back the 802.1Q tag the kernel took out, as libpcap
// does; on an interface without a link-layer header (tun, WireGuard) it
// reads raw IP (RAW). On AnyInterface, and on interfaces of any other
// hardware type, it reads from a cooked socket, where the kernel removes
// the link-layer header, and puts a LINUX_SLL2 header in its place, built
// from the socket address the kernel reports: protocol, interface index,
// hardware type, packet type and link-layer source address, as tcpdump
// -y LINUX_SLL2 shows them. As libpcap does, the copies of outgoing
// packets on the loopback interface are skipped: each loopback packet is
// seen once, on its way in.
//
// Timestamps are the kernel's (SO_TIMESTAMPNS), taken when the frame
// reached the socket. Reading is zero-copy into one reused buffer, so
// steady-state capture allocates nothing. A Live is not safe for concurrent
// use, except for Stop.
type Live struct {
	name    string
	cfg     LiveConfig
	snaplen int
	link    LinkType
	cooked  bool // SOCK_DGRAM: a LINUX_SLL2 header is synthesized
	head    int  // headroom in buf before the received bytes, for a synthesized header or a VLAN tag
	ifindex int  // 0 for AnyInterface
	lo      int  // index of the loopback interface, 0 if none

	fd      int
	file    *os.File // owns fd; never reassigned, so Stop may use it from any goroutine
	rc      syscall.RawConn
	recvFn  func(fd uintptr) bool // l.recv, bound once so that reading allocates nothing
	started bool

	buf   []byte // headroom + snaplen
	oob   []byte
	sa    unix.RawSockaddrLinklayer
	iov   unix.Iovec
	msg   unix.Msghdr
	n     int           // what the last recvmsg returned
	errno syscall.Errno // and its error

	dec     Decoder
	stats   Stats
	counts  [numResults]uint64
	krecv   uint64 // PACKET_STATISTICS, summed: reading them resets the kernel's counters
	kdrop   uint64
	prevTS  time.Time
	back    uint64
	nextTik time.Time

	stop   atomic.Bool
	err    error
	done   bool
	closed bool
}

// OpenLive opens a packet socket on the named interface (AnyInterface for
// all of them). It needs CAP_NET_RAW: without it the error wraps
// ErrPermission. The socket lets no frame in until Start attaches the
// capture filter, so no frame escapes the filter; Next starts it with no
// filter if Start was not called.
func OpenLive(name string, cfg LiveConfig) (*Live, error) {
	l := &Live{name: name, cfg: cfg, snaplen: cfg.Snaplen, dec: Decoder{opt: cfg.Options}, fd: -1}
	if l.snaplen <= 0 || l.snaplen > DefaultSnaplen {
		l.snaplen = DefaultSnaplen
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("capture on %s: list interfaces: %w", name, err)
	}
	found := name == AnyInterface
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback != 0 && l.lo == 0 {
			l.lo = ifc.Index
		}
		if ifc.Name == name {
			l.ifindex, found = ifc.Index, true
		}
	}
	if !found {
		return nil, fmt.Errorf("capture on %s: no such interface (tcptrace -D lists them)", name)
	}
	if err := l.open(); err != nil {
		if l.fd >= 0 {
			unix.Close(l.fd)
		}
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	l.file = os.NewFile(uintptr(l.fd), name) // non-blocking: reads go through the runtime poller
	if l.rc, err = l.file.SyscallConn(); err != nil {
		l.file.Close()
		return nil, fmt.Errorf("capture on %s: %w", name, err)
	}
	l.recvFn = l.recv
	l.stats.Source, l.stats.Format, l.stats.Live = name, "af_packet", true
	return l, nil
}

// socket opens a packet socket of type typ with protocol 0, which receives
// nothing until bound to a protocol.
func (l *Live) socket(typ int) error {
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return ErrPermission
	}
	if err != nil {
		return fmt.Errorf("open packet socket: %w", err)
	}
	l.fd = fd
	return nil
}

// open opens and configures the socket: link type, ancillary data, kernel
// timestamps, buffer, a filter that rejects everything, promiscuous mode,
// and last the binding that lets frames in.
func (l *Live) open() error {
	if l.name == AnyInterface {
		l.cooked = true
	} else {
		if err := l.socket(unix.SOCK_RAW); err != nil {
			return err
		}
		// Bound with protocol 0, the socket still receives nothing, but
		// its address tells the interface's hardware type.
		if err := unix.Bind(l.fd, &unix.SockaddrLinklayer{Ifindex: l.ifindex}); err != nil {
			return fmt.Errorf("bind: %w", err)
		}
		sa, err := unix.Getsockname(l.fd)
		if err != nil {
			return fmt.Errorf("getsockname: %w", err)
		}
		hatype := uint16(0)
		if ll, ok := sa.(*unix.SockaddrLinklayer); ok {
			hatype = ll.Hatype
		}
		switch hatype {
		case unix.ARPHRD_ETHER, unix.ARPHRD_LOOPBACK:
			l.link, l.head = LinkTypeEthernet, 4
		case unix.ARPHRD_NONE:
			l.link = LinkTypeRaw
		default:
			// A header we do not know how to read: let the kernel take it
			// off, as libpcap falls back to cooked mode.
			unix.Close(l.fd)
			l.fd, l.cooked = -1, true
		}
	}
	if l.cooked {
		if err := l.socket(unix.SOCK_DGRAM); err != nil {
			return err
		}
		l.link, l.head = LinkTypeLinuxSLL2, sll2Len
	}
	if err := unix.SetsockoptInt(l.fd, unix.SOL_PACKET, unix.PACKET_AUXDATA, 1); err != nil {
		return fmt.Errorf("PACKET_AUXDATA: %w", err)
	}
	if err := unix.SetsockoptInt(l.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	size := l.cfg.BufferSize
	if size <= 0 {
		size = 4 << 20
	}
	if unix.SetsockoptInt(l.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
		unix.SetsockoptInt(l.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, size) // capped by net.core.rmem_max
	}
	if err := l.attach([]bpf.RawInstruction{{Op: bpfRet, K: 0}}); err != nil {
		return err
	}
	if l.cfg.Promiscuous && l.ifindex != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(l.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(l.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return fmt.Errorf("promiscuous mode: %w", err)
		}
	}
	if err := unix.Bind(l.fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: l.ifindex}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}

	l.buf = make([]byte, l.head+l.snaplen)
	l.oob = make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.TpacketAuxdata{})))+unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))+64)
	l.iov.Base = &l.buf[l.head]
	l.iov.SetLen(l.snaplen)
	l.msg.Name = (*byte)(unsafe.Pointer(&l.sa))
	l.msg.Iov = &l.iov
	l.msg.Iovlen = 1
	l.msg.Control = &l.oob[0]
	return nil
}

// Classic BPF opcodes the filter rewriting needs (linux/bpf_common.h).
const (
	bpfLD   = 0x00
	bpfLDX  = 0x01
	bpfRet  = 0x06
	bpfW    = 0x00
	bpfH    = 0x08
	bpfB    = 0x10
	bpfABS  = 0x20
	bpfIND  = 0x40
	bpfLEN  = 0x80
	bpfMSH  = 0xa0
	bpfSize = 0x18
	bpfMode = 0xe0
)

func (l *Live) attach(prog []bpf.RawInstruction) error {
	f := make([]unix.SockFilter, len(prog))
	for i, ins := range prog {
		f[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	if err := unix.SetsockoptSockFprog(l.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &fprog); err != nil {
		return fmt.Errorf("attach filter: %w", err)
	}
	return nil
}

// LinkType returns the link type of the frames Next reads: EN10MB, RAW or
// LINUX_SLL2. Compile the capture filter for it.
func (l *Live) LinkType() LinkType { return l.link }

// Snaplen returns the snapshot length in effect.
func (l *Live) Snaplen() int { return l.snaplen }

// Start attaches prog, a classic BPF program for frames of l.LinkType()
// that returns the number of bytes to keep (0 to drop), in place of the
// filter that kept everything out, so that frames start to arrive. A nil
// prog keeps every frame.
//
// On a cooked socket the kernel runs the program on the packet without
// its link-layer header. Start rewrites the program for that, as libpcap
// does: offsets past the LINUX_SLL2 header move down by its length, and
// loads of its protocol, interface index, hardware type and packet type
// fields become the kernel's ancillary loads. A program that reads any
// other byte of the header, or the packet length (len, greater, less, which
// the kernel counts without the header) gets an error wrapping
// ErrKernelFilter, and the socket stays closed to frames: call Start(nil)
// and filter in user space.
func (l *Live) Start(prog []bpf.RawInstruction) error {
	if l.started {
		return errors.New("capture already started")
	}
	if prog == nil {
		prog = []bpf.RawInstruction{{Op: bpfRet, K: uint32(l.snaplen)}}
	} else if l.cooked {
		var err error
		if prog, err = cookedProgram(prog); err != nil {
			return err
		}
	}
	if err := l.attach(prog); err != nil {
		return fmt.Errorf("capture on %s: %w", l.name, err)
	}
	l.started = true
	if l.cfg.Tick != nil && l.cfg.TickInterval > 0 {
		l.nextTik = time.Now().Add(l.cfg.TickInterval)
		l.file.SetReadDeadline(l.nextTik)
	}
	return nil
}

// cookedProgram rewrites a program compiled for LINUX_SLL2 frames for a
// cooked socket; see Start.
func cookedProgram(prog []bpf.RawInstruction) ([]bpf.RawInstruction, error) {
	out := slices.Clone(prog)
	for i := range out {
		ins := &out[i]
		if class := ins.Op & 0x07; class != bpfLD && class != bpfLDX {
			continue
		}
		switch ins.Op & bpfMode {
		case bpfLEN:
			return nil, fmt.Errorf("%w: it tests the packet length", ErrKernelFilter)
		case bpfABS:
			if ins.K >= skfAdOff {
				continue // already an ancillary load
			}
			if ins.K >= sll2Len {
				ins.K -= sll2Len
				continue
			}
			switch size := ins.Op & bpfSize; {
			case ins.K == 0 && size == bpfH:
				ins.K = skfAdOff + skfAdProtocol
			case ins.K == 4 && size == bpfW:
				ins.K = skfAdOff + skfAdIfindex
			case ins.K == 8 && size == bpfH:
				ins.K = skfAdOff + skfAdHatype
			case ins.K == 10 && size == bpfB:
				ins.K = skfAdOff + skfAdPkttype
			default:
				return nil, fmt.Errorf("%w: it reads byte %d of the LINUX_SLL2 header", ErrKernelFilter, ins.K)
			}
		case bpfIND, bpfMSH:
			if ins.K < sll2Len {
				return nil, fmt.Errorf("%w: it reads byte %d of the LINUX_SLL2 header", ErrKernelFilter, ins.K)
			}
			ins.K -= sll2Len
		}
	}
	return out, nil
}

// Stop makes Next return false as soon as possible, even while it waits
// for a frame, with no error. It is safe to call from any goroutine (a
// signal handler's, a timer's) and more than once.
func (l *Live) Stop() {
	l.stop.Store(true)
	l.file.SetReadDeadline(time.Unix(1, 0))
}

// recv reads one frame with recvmsg(2); it reports false when none is
// queued, so that the runtime poller waits for one.
func (l *Live) recv(fd uintptr) bool {
	for {
		l.msg.Namelen = uint32(unsafe.Sizeof(l.sa))
		l.msg.SetControllen(len(l.oob))
		// MSG_TRUNC: return the frame's length even when the buffer cut it.
		n, _, e := syscall.Syscall(unix.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&l.msg)), unix.MSG_TRUNC)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		l.n, l.errno = int(n), e
		return true
	}
}

// Next waits for the next TCP segment and decodes it into p, skipping (and
// counting) every frame without one. With Options.ICMPErrors it also stops at an
// ICMP error quoting TCP, with p.ICMP set. It returns false after Stop, after a
// Frame hook ends the capture, or when reading fails; Err tells which.
func (l *Live) Next(p *Packet) bool {
	if !l.started && !l.done {
		if err := l.Start(nil); err != nil {
			l.err, l.done = err, true
		}
	}
	for !l.done {
		if l.stop.Load() {
			l.done = true
			break
		}
		if err := l.rc.Read(l.recvFn); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				if !l.stop.Load() && l.cfg.Tick != nil {
					l.tick()
				}
				continue
			}
			l.err, l.done = fmt.Errorf("capture on %s: %w", l.name, err), true
			break
		}
		if l.errno != 0 {
			if l.errno == unix.ENETDOWN {
				l.err = fmt.Errorf("capture on %s: the interface went down", l.name)
			} else {
				l.err = fmt.Errorf("capture on %s: %w", l.name, l.errno)
			}
			l.done = true
			break
		}
		data, wire, ts, ok := l.frame()
		if !ok {
			continue
		}
		st := &l.stats
		if l.cfg.Options.Frame != nil {
			switch l.cfg.Options.Frame(l.link, ts, data, wire) {
			case FrameSkip:
				st.Filtered++
				continue
			case FrameStop:
				l.done = true
				return false
			case FrameLast:
				l.done = true // after this frame
			}
		}
		st.Packets++
		st.Bytes += uint64(wire)
		l.clock(ts)
		r := l.dec.decode(data, l.link, wire-uint32(len(data)), p)
		if r != ResultTCP {
			l.counts[r]++
			if l.cfg.Options.ICMPErrors && p.ICMP.Type != 0 {
				p.Frame, p.TS, p.WireLen = l.cfg.Options.FrameBase+st.Packets, ts, wire
				return true
			}
			continue
		}
		p.Frame, p.TS, p.WireLen = l.cfg.Options.FrameBase+st.Packets, ts, wire
		st.countTCP(p)
		return true
	}
	return false
}

// tick runs the Tick callback and arms the next one.
func (l *Live) tick() {
	now := time.Now()
	if now.Before(l.nextTik) {
		return
	}
	l.cfg.Tick(now)
	l.nextTik = now.Add(l.cfg.TickInterval)
	l.file.SetReadDeadline(l.nextTik)
}

// frame turns what recvmsg returned into a frame: its captured bytes, with
// a synthesized LINUX_SLL2 header or a reinserted VLAN tag, its length on
// the wire and its kernel timestamp. ok is false for a frame to skip.
func (l *Live) frame() (data []byte, wire uint32, ts time.Time, ok bool) {
	capLen := min(l.n, l.snaplen)
	wireLen := l.n
	var aux unix.TpacketAuxdata
	haveAux := false
	hdr := unix.CmsgLen(0)
	oob := l.oob[:l.msg.Controllen]
	for off := 0; off+hdr <= len(oob); {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[off]))
		if int(h.Len) < hdr || off+int(h.Len) > len(oob) {
			break
		}
		body := oob[off+hdr : off+int(h.Len)]
		switch {
		case h.Level == unix.SOL_PACKET && h.Type == unix.PACKET_AUXDATA && len(body) >= int(unsafe.Sizeof(aux)):
			aux, haveAux = *(*unix.TpacketAuxdata)(unsafe.Pointer(&body[0])), true
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && len(body) >= int(unsafe.Sizeof(unix.Timespec{})):
			t := (*unix.Timespec)(unsafe.Pointer(&body[0]))
			ts = time.Unix(t.Unix()).UTC() // Unix: Sec and Nsec are int32 on 32-bit platforms
		}
		off += unix.CmsgSpace(int(h.Len) - hdr)
	}
	if l.sa.Pkttype == unix.PACKET_OUTGOING && l.lo != 0 && int(l.sa.Ifindex) == l.lo {
		// libpcap: the same packet comes back in on the loopback interface.
		return nil, 0, ts, false
	}
	if haveAux {
		wireLen = int(aux.Len) // the length before a filter's return value cut it
	}
	if wireLen < capLen {
		wireLen = capLen
	}
	if ts.IsZero() {
		ts = time.Now().UTC() // no kernel timestamp: never seen on Linux since 2.6.22
	}
	start := l.head
	switch {
	case l.cooked:
		h := l.buf[start-sll2Len : start]
		// sll_protocol is already in network byte order in memory.
		binary.NativeEndian.PutUint16(h[0:2], l.sa.Protocol)
		h[2], h[3] = 0, 0
		binary.BigEndian.PutUint32(h[4:8], uint32(l.sa.Ifindex))
		binary.BigEndian.PutUint16(h[8:10], l.sa.Hatype)
		h[10], h[11] = l.sa.Pkttype, l.sa.Halen
		copy(h[12:20], l.sa.Addr[:])
		start -= sll2Len
		capLen += sll2Len
		wireLen += sll2Len
	case l.link == LinkTypeEthernet && haveAux && (aux.Vlan_tci != 0 || aux.Status&unix.TP_STATUS_VLAN_VALID != 0) && capLen >= 12:
		// The kernel moved the outermost 802.1Q tag into the auxiliary
		// data; put it back after the MAC addresses, as libpcap does.
		h := l.buf[start-4:]
		copy(h[0:12], l.buf[start:start+12])
		tpid := uint16(0x8100)
		if aux.Status&unix.TP_STATUS_VLAN_TPID_VALID != 0 {
			tpid = aux.Vlan_tpid
		}
		binary.BigEndian.PutUint16(h[12:14], tpid)
		binary.BigEndian.PutUint16(h[14:16], aux.Vlan_tci)
		start -= 4
		capLen += 4
		wireLen += 4
	}
	capLen = min(capLen, l.snaplen)
	return l.buf[start : start+capLen], uint32(wireLen), ts, true
}

// clock tracks the time span and frames whose timestamp goes backwards.
func (l *Live) clock(ts time.Time) {
	st := &l.stats
	if st.Packets == 1 {
		st.First, st.Last = ts, ts
	} else {
		if ts.Before(l.prevTS) {
			l.back++
		}
		if ts.Before(st.First) {
			st.First = ts
		}
		if ts.After(st.Last) {
			st.Last = ts
		}
	}
	l.prevTS = ts
}

// Err returns the error that stopped Next, or nil after Stop or the end a
// Frame hook chose.
func (l *Live) Err() error { return l.err }

// Stats returns what has been captured so far, with the kernel's counters
// for the socket. It may be called at any time from the reading goroutine;
// the result shares nothing with the Live.
func (l *Live) Stats() Stats {
	l.kernelStats()
	st := l.stats
	st.KernelReceived, st.KernelDropped = l.krecv, l.kdrop
	st.SkippedBy = Skips{
		NonIP:           l.counts[ResultNonIP],
		NonTCP:          l.counts[ResultNonTCP],
		Fragment:        l.counts[ResultFragment],
		Malformed:       l.counts[ResultMalformed],
		Short:           l.counts[ResultShort],
		UnsupportedLink: l.counts[ResultUnsupportedLink],
		Empty:           l.counts[ResultEmpty],
	}
	for _, c := range l.counts {
		st.Skipped += c
	}
	st.LinkTypes = []string{l.link.String()}
	if l.back > 0 {
		st.Warnings = []string{fmt.Sprintf("kernel timestamps went backwards %d time(s); capture order kept", l.back)}
	}
	if l.kdrop > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf("the kernel dropped %d frame(s): the socket buffer overflowed", l.kdrop))
	}
	return st
}

// kernelStats adds the kernel's PACKET_STATISTICS, which reading resets,
// to the running totals.
func (l *Live) kernelStats() {
	if l.closed {
		return
	}
	l.rc.Control(func(fd uintptr) {
		if s, err := unix.GetsockoptTpacketStats(int(fd), unix.SOL_PACKET, unix.PACKET_STATISTICS); err == nil {
			l.krecv += uint64(s.Packets)
			l.kdrop += uint64(s.Drops)
		}
	})
}

// Close closes the socket, taking the interface out of promiscuous mode.
// Stats still works afterwards. Close must not be called while Next runs;
// use Stop to end a capture from another goroutine.
func (l *Live) Close() error {
	if l.closed {
		return nil
	}
	l.kernelStats()
	l.closed, l.done = true, true
	return l.file.Close()
}
