package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/bpf"

	"github.com/tcptrace/tcptrace/capture"
	"github.com/tcptrace/tcptrace/filter"
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
)

// packetSource is what the read loop consumes: a capture file
// (capture.Source) or a live socket (capture.Live).
type packetSource interface {
	Next(*capture.Packet) bool
	Err() error
	Stats() capture.Stats
	Close() error
}

// endedQuiet is how long, in capture time, a connection that has ended
// must stay silent before -T jsonl writes it (reassembly.Table.FinishEnded).
const endedQuiet = 2 * time.Second

// tickEvery is how often, in capture time, the read loop finishes ended
// connections and flushes -w; on a live interface it also runs when no
// packet arrives.
const tickEvery = time.Second

// tap sees every frame before it is decoded: it applies the capture filter
// in user space (capture files, or a live socket the kernel cannot filter),
// copies kept frames to -w, and ends the capture at -c frames or after
// --duration of capture time. Not safe for concurrent use.
type tap struct {
	expr      string
	userspace bool
	filters   map[capture.LinkType]*filter.Filter // nil entry: the expression cannot be compiled for that link type
	lastLink  capture.LinkType
	last      *filter.Filter
	haveLast  bool

	count    uint64        // -c; 0: no limit
	kept     uint64        // frames kept so far, all sources
	duration time.Duration // --duration for files, in capture time; 0: no limit
	first    time.Time
	limited  bool        // -c or --duration ended the capture
	timedOut atomic.Bool // --duration's timer stopped a live capture

	pcap  *pcapOut
	warns []string
}

// frame is the capture.Options.Frame hook.
func (t *tap) frame(link capture.LinkType, ts time.Time, data []byte, wire uint32) capture.FrameAction {
	if t.duration > 0 {
		if t.first.IsZero() {
			t.first = ts
		} else if ts.Sub(t.first) >= t.duration {
			t.limited = true
			return capture.FrameStop
		}
	}
	if t.userspace && !t.match(link, data, wire) {
		return capture.FrameSkip
	}
	t.kept++
	if t.pcap != nil {
		t.pcap.write(link, ts, data, wire, t)
	}
	if t.count > 0 && t.kept >= t.count {
		t.limited = true
		return capture.FrameLast
	}
	return capture.FrameKeep
}

// match runs the filter compiled for the frame's link type; a pcapng file
// can mix link types, so there is one program per link type, compiled when
// its first frame arrives.
func (t *tap) match(link capture.LinkType, data []byte, wire uint32) bool {
	if !t.haveLast || link != t.lastLink {
		f, ok := t.filters[link]
		if !ok {
			var err error
			if f, err = filter.New(t.expr, uint16(link)); err != nil {
				f = nil
				t.warns = append(t.warns, fmt.Sprintf("filter cannot be applied to link type %s (%v): its frames are skipped", link, err))
			}
			t.filters[link] = f
		}
		t.last, t.lastLink, t.haveLast = f, link, true
	}
	return t.last != nil && t.last.MatchLen(data, int(wire))
}

// pcapOut is the -w file. The pcap header is written with the first
// frame's link type (or the live interface's, known at once); frames of
// another link type cannot go in the same pcap file and are left out, with
// a warning.
type pcapOut struct {
	name    string
	file    io.WriteCloser
	w       *capture.Writer
	link    capture.LinkType // for the header when no frame arrives
	snaplen uint32
	nsec    bool // nanosecond timestamps; microseconds only for a microsecond pcap input
	skipped map[capture.LinkType]bool
	err     error
}

func (p *pcapOut) write(link capture.LinkType, ts time.Time, data []byte, wire uint32, t *tap) {
	if p.err != nil {
		return
	}
	if p.w == nil {
		if p.w, p.err = capture.NewWriter(p.file, link, p.snaplen, p.nsec); p.err != nil {
			return
		}
	}
	if link != p.w.LinkType() {
		if !p.skipped[link] {
			p.skipped[link] = true
			t.warns = append(t.warns, fmt.Sprintf("-w %s: frames of link type %s left out: the pcap file holds %s", p.name, link, p.w.LinkType()))
		}
		return
	}
	p.err = p.w.Write(ts, data, wire)
}

// close writes the header if no frame came, flushes and closes the file.
func (p *pcapOut) close() error {
	if p.err == nil && p.w == nil {
		p.w, p.err = capture.NewWriter(p.file, p.link, p.snaplen, p.nsec)
	}
	if p.err == nil {
		p.err = p.w.Flush()
	}
	if err := p.file.Close(); p.err == nil && err != nil && p.name != "-" {
		p.err = err
	}
	if p.err != nil {
		return fmt.Errorf("-w %s: %w", p.name, p.err)
	}
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// openPcapOut creates the -w file ("-" for stdout).
func openPcapOut(name string, stdout io.Writer, link capture.LinkType, snaplen uint32) (*pcapOut, error) {
	p := &pcapOut{name: name, link: link, snaplen: snaplen, nsec: true, skipped: make(map[capture.LinkType]bool)}
	if name == "-" {
		p.file = nopCloser{stdout}
		return p, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	p.file = f
	return p, nil
}

// compileCheck compiles the filter once before anything is read, so that an
// expression tcptrace cannot filter with is a usage error naming the
// construct, whatever the link types met later.
func compileCheck(expr string) error {
	_, err := filter.Compile(expr, filter.LinkTypeEthernet, filter.DefaultSnaplen)
	return err
}

// liveProgram compiles the filter for a live socket's link type.
func liveProgram(expr string, link capture.LinkType, snaplen int) ([]bpf.RawInstruction, error) {
	compile := filter.CompileKernel
	if link == capture.LinkTypeLinuxSLL2 {
		compile = filter.Compile // a cooked socket has no VLAN tag to find in the frame or its metadata
	}
	prog, err := compile(expr, uint16(link), uint32(snaplen))
	if err != nil {
		return nil, err
	}
	return bpf.Assemble(prog)
}

// openLive opens the -i interface and starts it with the capture filter
// in the kernel, or in user space (t.userspace) when the kernel cannot run
// it on that socket. a is set before the first Next, which is when the tick
// callback first runs.
func openLive(o *options, t *tap, a **analysis, stderr io.Writer) (*capture.Live, error) {
	cfg := capture.LiveConfig{
		Snaplen:      o.snaplen,
		Promiscuous:  !o.noPromisc,
		Options:      capture.Options{VerifyChecksums: o.verify, ICMPErrors: true, Frame: t.frame},
		Tick:         func(now time.Time) { (*a).periodic(now) },
		TickInterval: tickEvery,
	}
	l, err := capture.OpenLive(o.iface, cfg)
	if err != nil {
		return nil, err
	}
	var prog []bpf.RawInstruction
	if t.expr != "" {
		if prog, err = liveProgram(t.expr, l.LinkType(), l.Snaplen()); err != nil {
			l.Close()
			return nil, err
		}
	}
	if err = l.Start(prog); errors.Is(err, capture.ErrKernelFilter) {
		t.userspace = true
		if !o.quiet {
			fmt.Fprintf(stderr, "tcptrace: %v; filtering in user space\n", err)
		}
		err = l.Start(nil)
	}
	if err != nil {
		l.Close()
		return nil, err
	}
	if !o.quiet {
		fmt.Fprintf(stderr, "tcptrace: listening on %s, link-type %s, snapshot length %d bytes\n", o.iface, l.LinkType(), l.Snaplen())
	}
	return l, nil
}

// listInterfaces writes -D: one line per interface, with its index, name,
// flags and addresses, then the any pseudo-interface.
func listInterfaces(w io.Writer) error {
	ifaces, err := net.Interfaces()
	if err != nil {
		return err
	}
	slices.SortFunc(ifaces, func(a, b net.Interface) int { return a.Index - b.Index })
	for _, ifc := range ifaces {
		var addrs []string
		if as, err := ifc.Addrs(); err == nil {
			for _, a := range as {
				addrs = append(addrs, a.String())
			}
		}
		flags := strings.ReplaceAll(ifc.Flags.String(), "|", ",")
		fmt.Fprintf(w, "%d.%s [%s]", ifc.Index, ifc.Name, flags)
		if len(addrs) > 0 {
			fmt.Fprintf(w, " %s", strings.Join(addrs, " "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%d.%s (all interfaces, in LINUX_SLL2 frames)\n", len(ifaces)+1, capture.AnyInterface)
	return nil
}

// periodic runs every tickEvery of capture time (and, on a quiet live
// interface, of wall-clock time): with -T jsonl it writes the connections
// that have ended and, every --snapshot-interval, the ones still open; it
// flushes -w.
func (a *analysis) periodic(now time.Time) {
	if now.Before(a.nextTick) {
		return
	}
	a.nextTick = now.Add(tickEvery)
	if a.jsonl != nil {
		a.table.FinishEnded(now, endedQuiet)
		if a.jbuf != nil {
			a.serial(a.flushLines) // and leaves the buffer
		}
		a.send() // what ended goes out now, not a batch later
	}
	if a.tap.pcap != nil && a.tap.pcap.w != nil && a.tap.pcap.err == nil {
		a.tap.pcap.err = a.tap.pcap.w.Flush()
	}
	if a.o.snapshot > 0 && a.jsonl != nil {
		if a.nextSnap.IsZero() {
			a.nextSnap = now.Add(a.o.snapshot)
		} else if !now.Before(a.nextSnap) {
			a.nextSnap = now.Add(a.o.snapshot)
			a.snapshot(now)
		}
	}
}

// flushLines writes out the buffered -T jsonl lines; it runs on the report
// side, in order with the lines (pipeline.go).
func (a *analysis) flushLines() {
	if err := a.jbuf.Flush(); err != nil && a.werr == nil {
		a.werr = err
	}
}

// snapshot writes the connections still open.
func (a *analysis) snapshot(now time.Time) {
	s := report.Snapshot{Time: report.Time(now), Open: a.table.Len(), Connections: make([]report.OpenConnection, 0, a.table.Len())}
	a.table.Each(func(f *reassembly.Flow) { s.Connections = append(s.Connections, report.NewOpenConnection(f)) })
	slices.SortFunc(s.Connections, func(x, y report.OpenConnection) int { return int(x.ID) - int(y.ID) })
	a.serial(func() {
		if err := a.jsonl.Snapshot(s); err != nil && a.werr == nil {
			a.werr = err
		}
	})
}

// interruptible opens a capture input so that a signal can interrupt a
// read that waits for data (a FIFO, a pipe on standard input): stop sets a
// read deadline in the past, which only pollable files honour; reads from
// regular files never wait. The caller closes the file.
func interruptible(ctx context.Context, name string, stdin io.Reader) (r io.Reader, f *os.File, stop func() bool, err error) {
	if name == "-" {
		sf, ok := stdin.(*os.File)
		if !ok {
			return stdin, nil, func() bool { return false }, nil
		}
		// A pipe on standard input: open it again, non-blocking, so that
		// the deadline works without changing the file description the
		// shell shares.
		if fi, err := sf.Stat(); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
			return stdin, nil, func() bool { return false }, nil
		}
		rc, err := sf.SyscallConn()
		if err != nil {
			return stdin, nil, func() bool { return false }, nil
		}
		fd := -1
		rc.Control(func(u uintptr) { fd = int(u) })
		if f, err = os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", fd), os.O_RDONLY|syscall.O_NONBLOCK, 0); err != nil {
			return stdin, nil, func() bool { return false }, nil
		}
	} else {
		if f, err = os.Open(name); err != nil {
			return nil, nil, nil, err
		}
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			f.Close()
			return nil, nil, nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
		}
	}
	stop = context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
	return f, f, stop, nil
}

// active reports whether the tap has anything to do, so that files read
// without filter, limit or -w skip the per-frame call.
func (t *tap) active() bool {
	return t.userspace || t.count > 0 || t.duration > 0 || t.pcap != nil
}

// checkLiveFlags checks the flags of live capture, filtering and streaming;
// it returns exitOK or exitUsage.
func checkLiveFlags(o *options, expr string, stderr io.Writer) int {
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "tcptrace: %s\n", msg)
		return exitUsage
	}
	switch {
	case o.snaplen < 0 || o.duration < 0 || o.snapshot < 0:
		return usage("--snaplen, --duration and --snapshot-interval must not be negative")
	case o.snapshot > 0 && o.format != "jsonl":
		return usage("--snapshot-interval writes snapshot records in -T jsonl")
	case o.user != "" && o.iface == "":
		return usage("-Z drops privileges once the capture socket is open: it needs -i")
	case o.write == "-" && (o.output == "" || o.output == "-"):
		return usage("-w - writes the pcap on stdout: send the report elsewhere with -o")
	case o.write != "" && o.write == o.output:
		return usage("-w and -o name the same file")
	}
	if expr != "" {
		if err := compileCheck(expr); err != nil {
			return usage(err.Error())
		}
	}
	return exitOK
}

// isFilterError reports whether err is the filter compiler's refusal.
func isFilterError(err error) bool {
	var se *filter.SyntaxError
	var ue *filter.UnsupportedError
	return errors.As(err, &se) || errors.As(err, &ue) || errors.Is(err, filter.ErrRejectAll) || errors.Is(err, filter.ErrTooLong)
}

// readLive feeds the live capture through the flow table until a signal,
// -c, --duration or a read error ends it.
func (a *analysis) readLive(ctx context.Context, l *capture.Live) error {
	a.ticking = true
	stop := context.AfterFunc(ctx, l.Stop)
	defer stop()
	if a.o.duration > 0 {
		timer := time.AfterFunc(a.o.duration, func() {
			a.tap.timedOut.Store(true)
			l.Stop()
		})
		defer timer.Stop()
	}
	a.loop(ctx, l, &progress{})
	if a.tap.timedOut.Load() {
		a.stopped = true
		a.capture.Interrupted = true
	}
	st := l.Stats()
	a.frames += st.Packets
	a.merge(st)
	return l.Err()
}
