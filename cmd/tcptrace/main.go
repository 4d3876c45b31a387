// Command tcptrace reads TCP traffic from pcap or pcapng captures (files or
// standard input) or captures it live from a network interface (Linux,
// without libpcap), keeps the frames a tcpdump filter expression selects,
// rebuilds every connection's life the way RFC 9293 describes it, and
// reports what each endpoint went through.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/tcptrace/tcptrace/anomaly"
	"github.com/tcptrace/tcptrace/capture"
	"github.com/tcptrace/tcptrace/filter"
	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
)

// Exit codes (documented in README.md).
const (
	exitOK      = 0 // report written; every source read to its end
	exitFailure = 1 // a source could not be opened or read to its end, or the report could not be written; whatever was read is still reported
	exitUsage   = 2 // bad flags or arguments
)

const version = "0.1.0"

func main() {
	// Finished connections leave garbage behind (their report records),
	// and the findings engine holds up to its caps of per-host state: with
	// Go's default GOGC=100 the heap grows to twice that live set. At 30 it
	// grows to 1.3 times: the peak RSS of a 5-million-SYN random-tuple
	// flood stays under 300 MiB (bench/synflood.sh), and a capture ten
	// times as long with the same connections open peaks within 10 % of
	// the shorter one (issue 7; at 50 the live set's 1.5x swing put the
	// peak wherever the run happened to end in the collector's cycle). It
	// costs some 0.2 s of collector CPU in 30 s on the 20M-packet capture,
	// nothing measurable on the 2M one (bench/RESULTS.md). GOGC in the
	// environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(30)
	}
	adviseHugePages()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// format is the -T value: a pflag.Value whose Type lists the choices.
type format string

var formats = []string{"text", "json", "jsonl", "packets", "zeek", "zeek-json", "csv", "html"}

func (f *format) String() string { return string(*f) }
func (f *format) Type() string   { return strings.Join(formats, "|") }
func (f *format) Set(s string) error {
	for _, x := range formats {
		if s == x {
			*f = format(s)
			return nil
		}
	}
	return fmt.Errorf("unknown format %q (want %s)", s, f.Type())
}

// seconds is a duration flag that also takes a bare number of seconds
// (--msl 120), as tcpdump's and Ostermann's tcptrace's flags do, besides Go
// durations (--msl 2m, --duration 1.5s).
type seconds time.Duration

func (s *seconds) String() string {
	if *s == 0 {
		return "0" // pflag leaves a zero default out of --help
	}
	return time.Duration(*s).String()
}
func (s *seconds) Type() string { return "duration" }
func (s *seconds) Set(v string) error {
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if n < 0 || n > float64(math.MaxInt64/int64(time.Second)) {
			return fmt.Errorf("%s seconds is out of range", v)
		}
		*s = seconds(n * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is neither a number of seconds nor a duration like 90s or 2m", v)
	}
	*s = seconds(d)
	return nil
}

// ladderSel is the --ladder value: empty for every connection, or a list of
// connection ids.
type ladderSel struct {
	on  bool
	ids map[uint64]bool
}

func (l *ladderSel) String() string { return "" }
func (l *ladderSel) Type() string   { return "ids" }
func (l *ladderSel) Set(s string) error {
	l.on = true
	if s == "" || s == "all" {
		return nil
	}
	for _, p := range strings.Split(s, ",") {
		id, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
		if err != nil || id == 0 {
			return fmt.Errorf("bad connection id %q", p)
		}
		if l.ids == nil {
			l.ids = make(map[uint64]bool)
		}
		l.ids[id] = true
	}
	return nil
}

func (l *ladderSel) wants(id uint64) bool { return l.on && (l.ids == nil || l.ids[id]) }

type options struct {
	reads        []string
	format       format
	output       string
	count        uint64
	msl          time.Duration
	idle         time.Duration
	maxFlows     int
	quiet        bool
	verify       bool
	dedup        bool
	numeric      bool
	ladder       ladderSel
	ladderPkts   int
	svgID        uint64 // --svg: write this connection's pictures (pictures.go)
	printVersion bool
	findings     anomaly.Config // thresholds of the findings engine (findings_flags.go)

	// Live capture and filters (live.go).
	iface      string
	filterExpr string
	listIfaces bool
	snaplen    int
	noPromisc  bool
	duration   time.Duration
	write      string
	snapshot   time.Duration
	user       string
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	o.format = "text"
	fs := pflag.NewFlagSet("tcptrace", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(stderr)
	def := reassembly.DefaultConfig()
	fs.StringArrayVarP(&o.reads, "read", "r", nil, "read packets from `file` (pcap, pcapng, gzip-compressed; - for stdin); repeatable")
	fs.StringVarP(&o.iface, "interface", "i", "", "capture live on `iface` (any: every interface); needs CAP_NET_RAW")
	fs.StringVarP(&o.filterExpr, "filter", "f", "", "keep only the frames matching `expr`, a tcpdump filter expression (or give it after -r/-i as trailing arguments)")
	fs.BoolVarP(&o.listIfaces, "list-interfaces", "D", false, "list the interfaces -i can capture on and exit")
	fs.VarP(&o.format, "format", "T", "report format: text, json, jsonl (one JSON object per connection as it completes), packets (one JSON object per TCP frame with its tshark-style analysis), zeek (a Zeek conn.log), zeek-json (its JSON variant), csv (one row per connection) or html (one self-contained page with pictures)")
	fs.StringVarP(&o.output, "output", "o", "", "write the report to `file` instead of stdout (- for stdout)")
	fs.Uint64VarP(&o.count, "count", "c", 0, "stop after reading `n` packets (0: no limit)")
	fs.Var((*seconds)(&o.duration), "duration", "stop after this long: wall-clock time for -i, capture time from the first frame for -r (0: no limit)")
	fs.IntVarP(&o.snaplen, "snaplen", "s", 0, "live capture: keep `n` bytes of each frame (0: 262144)")
	fs.BoolVarP(&o.noPromisc, "no-promiscuous-mode", "p", false, "live capture: do not put the interface in promiscuous mode")
	fs.StringVarP(&o.write, "write", "w", "", "also write the frames read (those the filter keeps) to `file` as pcap (- for stdout)")
	fs.Var((*seconds)(&o.snapshot), "snapshot-interval", "with -T jsonl, write a record of the connections still open every `interval` of capture time")
	fs.StringVarP(&o.user, "relinquish-privileges", "Z", "", "after opening the capture socket, drop root privileges and run as `user` (with its groups)")
	o.msl = def.FSM.MSL
	fs.Var((*seconds)(&o.msl), "msl", "maximum segment lifetime; TIME-WAIT lasts 2*msl (30s gives Linux's 60 s, 120s gives RFC 9293's 240 s)")
	o.idle = def.IdleTimeout
	fs.Var((*seconds)(&o.idle), "idle-timeout", "finish a connection idle this long in capture time")
	fs.IntVar(&o.maxFlows, "max-flows", def.MaxFlows, "connections held at once; past it a closed one (TIME-WAIT, reset) leaves first, else an unanswered SYN, else the least recently active open one is evicted, counted in capture.flows (0: no limit; each costs about 3.5 KiB of heap)")
	fs.VarP(&o.ladder, "ladder", "", "draw ladder diagrams in the text report: for every connection, or for the listed `ids` (--ladder=3,7)")
	fs.Lookup("ladder").NoOptDefVal = "all"
	fs.IntVar(&o.ladderPkts, "ladder-packets", 200, "packets per connection kept for --ladder, -T html and --svg (the first and the last half)")
	fs.Uint64Var(&o.svgID, "svg", 0, "also write connection `id`'s ladder diagram and time-sequence graph as conn-ID-ladder.svg and conn-ID-tseq.svg, next to -o (else in the current directory)")
	fs.BoolVar(&o.verify, "verify-checksums", false, "verify TCP checksums; a segment that fails is counted and marked (Zeek history C) but not followed, as zeek does without -C")
	fs.BoolVar(&o.dedup, "dedup", false, "drop the second copy of an IPv4 segment (same addresses, ports, IP ID, numbers, flags, length and window within 100 ms), as tcpdump -i any on a router or Docker host records each forwarded packet once per interface")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print no warnings or progress on stderr")
	fs.BoolVarP(&o.numeric, "numeric", "n", false, "accepted for tcpdump compatibility: tcptrace never resolves names")
	fs.BoolVarP(&o.printVersion, "version", "V", false, "print the version and exit")
	prof := addProfileFlags(fs)
	addFindingFlags(fs, &o.findings)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tcptrace [flags] (-r FILE ... | -i IFACE) [filter expression]\n       tcptrace [flags] FILE ...\n\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return exitOK
		}
		// With ContinueOnError pflag leaves the message to the caller.
		fmt.Fprintf(stderr, "tcptrace: %v\ntcptrace: run 'tcptrace --help' for the flags\n", err)
		return exitUsage
	}
	if o.printVersion {
		fmt.Fprintf(stdout, "tcptrace %s\n", version)
		return exitOK
	}
	if o.listIfaces {
		if err := listInterfaces(stdout); err != nil {
			fmt.Fprintf(stderr, "tcptrace: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	// With -r or -i, trailing arguments are the filter expression, as for
	// tcpdump; without, they are capture files.
	sources := o.reads
	live := o.iface != ""
	expr := o.filterExpr
	if live || len(sources) > 0 {
		if fs.NArg() > 0 {
			if expr != "" {
				fmt.Fprintln(stderr, "tcptrace: the filter is given twice: with -f and as trailing arguments")
				return exitUsage
			}
			expr = strings.Join(fs.Args(), " ")
		}
	} else {
		sources = fs.Args()
	}
	if live && len(sources) > 0 {
		fmt.Fprintln(stderr, "tcptrace: -i and -r cannot be combined")
		return exitUsage
	}
	if len(sources) == 0 && !live {
		fmt.Fprintln(stderr, "tcptrace: no input: give a capture file, or -r FILE (- for stdin)")
		fs.Usage()
		return exitUsage
	}
	if o.msl <= 0 || o.idle < 0 || o.maxFlows < 0 || o.ladderPkts < 2 {
		fmt.Fprintln(stderr, "tcptrace: --msl must be positive, --idle-timeout and --max-flows not negative, --ladder-packets at least 2")
		return exitUsage
	}
	if o.ladder.on && o.format != "text" {
		fmt.Fprintln(stderr, "tcptrace: --ladder draws in the text report (-T text)")
		return exitUsage
	}
	if code := checkLiveFlags(&o, expr, stderr); code != exitOK {
		return code
	}
	if err := prof.start(); err != nil {
		fmt.Fprintf(stderr, "tcptrace: %v\n", err)
		return exitFailure
	}
	defer prof.stop()

	t := &tap{expr: expr, userspace: expr != "" && !live, filters: make(map[capture.LinkType]*filter.Filter), count: o.count}
	var a *analysis
	var l *capture.Live
	if live {
		var err error
		if l, err = openLive(&o, t, &a, stderr); err != nil {
			fmt.Fprintf(stderr, "tcptrace: %v\n", err)
			if isFilterError(err) {
				return exitUsage
			}
			return exitFailure
		}
		defer l.Close()
		if o.user != "" {
			if err := dropPrivileges(o.user); err != nil {
				fmt.Fprintf(stderr, "tcptrace: -Z %s: %v\n", o.user, err)
				return exitFailure
			}
		}
	} else {
		t.duration = o.duration
	}
	if o.write != "" {
		link, snaplen := capture.LinkTypeEthernet, uint32(capture.DefaultSnaplen)
		if l != nil {
			link, snaplen = l.LinkType(), uint32(l.Snaplen())
		}
		p, err := openPcapOut(o.write, stdout, link, snaplen)
		if err != nil {
			fmt.Fprintf(stderr, "tcptrace: %v\n", err)
			return exitFailure
		}
		t.pcap = p
	}

	out := stdout
	if o.output != "" && o.output != "-" {
		f, err := os.Create(o.output)
		if err != nil {
			fmt.Fprintf(stderr, "tcptrace: %v\n", err)
			return exitFailure
		}
		defer f.Close()
		out = f
	}
	a = newAnalysis(&o, out)
	if a.jsonl != nil && !live {
		// Reading files, -T jsonl is written through a buffer, flushed at
		// every tick of capture time (periodic), so that a capture piped
		// in still gives its lines as connections end; a write a line
		// (100,000 on the 2M-packet benchmark) cost about 5 % of the run
		// (issue 7). A live capture, whose ticks also come from the wall
		// clock, writes each line at once.
		a.jbuf = bufio.NewWriterSize(out, 64<<10)
		a.jsonl = report.NewJSONLines(a.jbuf)
	}
	if usePipeline(&o) && !prof.serial {
		a.startPipeline()
	}
	a.prefetch = !prof.serial
	a.recycle = !prof.serial
	a.tap = t
	a.capture.Filter = expr
	code := exitOK
	if live {
		if err := a.readLive(ctx, l); err != nil {
			a.capture.Errors = append(a.capture.Errors, err.Error())
			fmt.Fprintf(stderr, "tcptrace: %v\n", err)
			code = exitFailure
		}
	}
	for _, name := range sources {
		if err := a.read(ctx, name, stdin, stderr); err != nil {
			a.capture.Errors = append(a.capture.Errors, err.Error())
			fmt.Fprintf(stderr, "tcptrace: %v\n", err)
			code = exitFailure
		}
		if a.stopped {
			break
		}
	}
	if t.pcap != nil {
		if err := t.pcap.close(); err != nil {
			a.capture.Errors = append(a.capture.Errors, err.Error())
			fmt.Fprintf(stderr, "tcptrace: %v\n", err)
			code = exitFailure
		}
	}
	for _, w := range t.warns {
		a.capture.Warnings = append(a.capture.Warnings, w)
		if !o.quiet {
			fmt.Fprintf(stderr, "tcptrace: warning: %s\n", w)
		}
	}
	if err := prof.heap(); err != nil {
		fmt.Fprintf(stderr, "tcptrace: %v\n", err)
	}
	if err := a.finish(); err != nil {
		fmt.Fprintf(stderr, "tcptrace: write report: %v\n", err)
		return exitFailure
	}
	return code
}

// analysis is one run: the flow table fed by every source in turn.
type analysis struct {
	engine  *anomaly.Engine // findings and rollups over finished connections
	o       *options
	out     io.Writer
	table   *reassembly.Table
	jsonl   *report.JSONLines
	jbuf    *bufio.Writer       // under jsonl, reading files
	pkts    *report.PacketLines // -T packets
	pktbuf  *bufio.Writer
	conns   []report.Connection
	spill   *textSpill // the text report's connections past spillAfter (textspill.go)
	ladders map[uint64]*reassembly.Flow
	svg     *report.Trace      // the flow --svg names (pictures.go)
	html    *report.HTMLPage   // -T html (pictures.go)
	jstream *report.JSONStream // -T json of more than streamAfter connections (stream.go)
	pipe    *pipeline          // the report side's goroutine (pipeline.go)
	dedup   *capture.Dedup     // --dedup
	// prefetch: files are read and decoded on a goroutine of their own
	// (prefetch.go). recycle: finished flows go back to the table for
	// reuse (done). --serial turns both off, and the pipeline: the plain
	// run the tests compare the others with.
	prefetch, recycle bool

	capture report.Capture
	frames  uint64
	last    time.Time
	stopped bool
	werr    error

	// Live capture, filters and streaming (live.go).
	tap      *tap
	ticking  bool // periodic work is due every tickEvery of capture time
	nextTick time.Time
	nextSnap time.Time
}

func newAnalysis(o *options, out io.Writer) *analysis {
	a := &analysis{o: o, out: out, ladders: make(map[uint64]*reassembly.Flow)}
	cfg := reassembly.DefaultConfig()
	cfg.FSM.MSL = o.msl
	cfg.IdleTimeout = o.idle
	cfg.MaxFlows = o.maxFlows
	if o.ladder.on || o.format == "html" || o.svgID != 0 {
		cfg.KeepSteps = o.ladderPkts
	}
	if o.format == "jsonl" {
		a.jsonl = report.NewJSONLines(out)
	}
	if o.format == "packets" {
		a.pktbuf = bufio.NewWriterSize(out, 64<<10)
		a.pkts = report.NewPacketLines(a.pktbuf)
	}
	a.table = reassembly.NewTable(cfg, a.handoff)
	if o.dedup {
		a.dedup = new(capture.Dedup)
	}
	a.engine = anomaly.NewEngine(o.findings)
	a.tap = &tap{}
	a.ticking = a.jsonl != nil || o.write != ""
	return a
}

// record builds, encodes and writes the record of the finished flow f, and
// hands f back to the table unless a report keeps it. It runs after the
// findings engine has read f: on the read loop's goroutine without a
// pipeline, on the record stage's with one (pipeline.go).
func (a *analysis) record(f *reassembly.Flow) {
	a.keepTrace(f)
	if a.pkts != nil {
		// -T packets writes frames, not connections; the read loop
		// still holds the flows it writes, so none is recycled.
		return
	}
	// Every report below copies what it needs of f (the engine, the
	// record, the picture traces), so f goes back to the table for reuse
	// unless the text report's --ladder keeps it.
	if a.o.format == "html" {
		c := report.NewConnection(f)
		a.addHTML(f, &c)
		a.reuse(f)
		return
	}
	// -T jsonl and a streamed -T json encode the record straight from f,
	// without building a report.Connection (report/encodeflow.go).
	if a.jsonl != nil {
		if err := a.jsonl.Flow(f); err != nil && a.werr == nil {
			a.werr = err
		}
		a.reuse(f)
		return
	}
	if a.streamJSON(f) {
		a.reuse(f)
		return
	}
	c := report.NewConnection(f)
	if a.o.ladder.wants(f.ID) {
		a.ladders[f.ID] = f
	} else {
		a.reuse(f)
	}
	if !a.spillText(&c) {
		a.conns = append(a.conns, c)
	}
}

// reuse hands f back to the table for a later flow (reassembly.Table.Recycle).
func (a *analysis) reuse(f *reassembly.Flow) {
	if a.recycle {
		a.table.Recycle(f)
	}
}

// read feeds one source through the flow table.
func (a *analysis) read(ctx context.Context, name string, stdin io.Reader, stderr io.Writer) error {
	opt := capture.Options{FrameBase: a.frames, VerifyChecksums: a.o.verify, ICMPErrors: true}
	if a.tap.active() {
		opt.Frame = a.tap.frame
	}
	prog := newProgress(name, stderr, a.o.quiet)
	// The input is opened so that a signal interrupts a read waiting for
	// data (a FIFO, a pipe): see interruptible.
	r, f, stop, err := interruptible(ctx, name, stdin)
	if err != nil {
		return err
	}
	defer stop()
	if f != nil {
		defer f.Close()
	}
	if prog.active() {
		r = &countingReader{r: r, p: prog} // a large regular file read with a progress bar: count its bytes
	}
	srcName := name
	if name == "-" {
		srcName = "stdin"
	}
	src, err := capture.NewSource(r, srcName, opt)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
			a.stopped, a.capture.Interrupted = true, true
			return nil
		}
		return err
	}
	defer src.Close()
	if a.tap.pcap != nil && a.tap.pcap.w == nil {
		a.tap.pcap.nsec = src.Stats().Format != "pcap" // keep microsecond files in microseconds
	}
	if a.prefetch && !a.tap.active() {
		pf := startPrefetch(ctx, src)
		a.loop(ctx, pf, prog)
		pf.wait()
	} else {
		a.loop(ctx, src, prog)
	}
	st := src.Stats()
	a.frames += st.Packets
	a.merge(st)
	err = src.Err()
	if err != nil && ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil // interrupted while waiting for data
	}
	return err
}

// loop feeds a source through the flow table until it ends, a limit is
// reached or ctx is cancelled.
func (a *analysis) loop(ctx context.Context, src packetSource, prog *progress) {
	var p capture.Packet
	var n uint64
	for src.Next(&p) {
		if p.ICMP.Type != 0 {
			// An ICMP error quoting TCP: a lookup, never a segment of the flow.
			a.table.ICMPError(p.TS, p.Frame, p.Src, p.Dst, p.Seg.Seq, p.ICMP.SeqQuoted, reassembly.ICMPReject{From: p.ICMP.From, Type: p.ICMP.Type, Code: p.ICMP.Code, V6: p.ICMP.V6})
		} else if a.dedup != nil && a.dedup.Copy(&p) {
			a.capture.Duplicates++
		} else {
			f, d := a.table.Observe(p.TS, p.Src, p.Dst, p.Seg, reassembly.Meta{Frame: p.Frame, WireLen: p.WireLen, IPLen: p.IPLen, Truncated: p.Truncated, IPv6: p.IPv6, Tunneled: p.Tunneled, IPID: p.IPID, TTL: p.TTL, BadChecksum: p.Checksum == capture.ChecksumBad})
			if a.pkts != nil {
				if err := a.pkts.Write(p.Frame, f, d, p.Seg.Len); err != nil && a.werr == nil {
					a.werr = err
				}
			}
		}
		if p.TS.After(a.last) {
			a.last = p.TS
		}
		if a.ticking && !p.TS.Before(a.nextTick) {
			a.periodic(p.TS)
		}
		n++
		if n&4095 == 0 {
			// A prefetching source stops by itself once ctx is done, and
			// every packet it decoded is analysed, so that the capture
			// statistics count what the report covers.
			if _, ok := src.(*prefetch); !ok && ctx.Err() != nil {
				a.stopped = true
				a.capture.Interrupted = true
				break
			}
			prog.update(src.Stats())
		}
	}
	if ctx.Err() != nil {
		a.stopped = true
		a.capture.Interrupted = true
	}
	if a.tap.limited {
		// -c or --duration: the report covers what was read before.
		a.stopped = true
		a.capture.Interrupted = true
	}
	prog.done()
}

// merge adds one source's statistics to the capture block.
func (a *analysis) merge(st capture.Stats) {
	c := &a.capture
	c.Sources = append(c.Sources, st.Source)
	if st.Format != "" {
		c.Formats = appendNew(c.Formats, st.Format)
	}
	for _, l := range st.LinkTypes {
		c.LinkTypes = appendNew(c.LinkTypes, l)
	}
	c.Packets += st.Packets
	c.TCPPackets += st.TCP
	c.Skipped += st.Skipped
	if st.Skipped > 0 {
		if c.SkippedBy == nil {
			c.SkippedBy = new(report.Skips)
		}
		k, by := c.SkippedBy, st.SkippedBy
		k.NonIP += by.NonIP
		k.NonTCP += by.NonTCP
		k.Fragment += by.Fragment
		k.Malformed += by.Malformed
		k.Short += by.Short
		k.UnsupportedLink += by.UnsupportedLink
		k.Empty += by.Empty
	}
	c.Truncated += st.Truncated
	c.BadChecksums += st.BadChecksums
	c.Bytes += st.Bytes
	if !st.First.IsZero() && (c.First == "" || report.Time(st.First) < c.First) {
		c.First = report.Time(st.First)
	}
	if !st.Last.IsZero() && report.Time(st.Last) > c.Last {
		c.Last = report.Time(st.Last)
	}
	c.Warnings = append(c.Warnings, st.Warnings...)
	c.Filtered += st.Filtered
	if st.Live {
		kr, kd := st.KernelReceived, st.KernelDropped
		c.KernelReceived, c.KernelDropped = &kr, &kd
	}
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// finish flushes the flow table and writes the report.
func (a *analysis) finish() error {
	a.table.Flush(a.last)
	a.drain()
	if err := a.writeSVG(); err != nil {
		return err
	}
	ts := a.table.Stats()
	a.capture.Flows = report.Flows{Connections: ts.Flows, MaxConcurrent: ts.MaxConcurrent, Reused: ts.Reused, Evicted: ts.Evicted, EvictedLimit: ts.EvictedLimit}
	if a.capture.Sources == nil {
		a.capture.Sources = []string{}
	}
	if a.capture.LinkTypes == nil {
		a.capture.LinkTypes = []string{}
	}
	if a.capture.Formats == nil {
		a.capture.Formats = []string{}
	}
	if a.pkts != nil {
		if a.werr != nil {
			return a.werr
		}
		return a.pktbuf.Flush()
	}
	fs, rs := a.engine.Finish()
	findings, rollups := report.NewFindings(fs), report.NewRollups(rs)
	if a.jsonl != nil {
		for _, r := range rollups {
			if err := a.jsonl.Rollup(r); err != nil && a.werr == nil {
				a.werr = err
			}
		}
		for _, f := range findings {
			if err := a.jsonl.Finding(f); err != nil && a.werr == nil {
				a.werr = err
			}
		}
		if a.werr != nil {
			return a.werr
		}
		if err := a.jsonl.Capture(a.capture); err != nil || a.jbuf == nil {
			return err
		}
		return a.jbuf.Flush()
	}
	if a.jstream != nil {
		return a.finishStream(rollups, findings)
	}
	sort.Slice(a.conns, func(i, j int) bool { return a.conns[i].ID < a.conns[j].ID })
	r := &report.Report{SchemaVersion: report.SchemaVersion, Tool: "tcptrace " + version, Capture: a.capture, Rollups: rollups, Findings: findings, Connections: a.conns}
	if r.Connections == nil {
		r.Connections = []report.Connection{}
	}
	switch a.o.format {
	case "json":
		return report.WriteJSON(a.out, r)
	case "zeek":
		return report.WriteZeek(a.out, r)
	case "zeek-json":
		return report.WriteZeekJSON(a.out, r)
	case "csv":
		return report.WriteCSV(a.out, r)
	case "html":
		return a.writeHTML(r)
	}
	if a.spill != nil {
		if err := a.writeSpilled(r); err != nil {
			return err
		}
	} else if err := report.WriteText(a.out, r); err != nil {
		return err
	}
	ids := make([]uint64, 0, len(a.ladders))
	for id := range a.ladders {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		fmt.Fprintln(a.out)
		if err := report.WriteLadder(a.out, a.ladders[id]); err != nil {
			return err
		}
	}
	return nil
}
