package capture

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"
)

// Errors NewSource and Open return for input that is no capture at all.
var (
	ErrEmpty         = errors.New("empty capture file")
	ErrUnknownFormat = errors.New("not a pcap, pcapng or gzip file")
)

// FormatError reports a damaged capture file: what was wrong, and where.
type FormatError struct {
	File   string // the name given to Open or NewSource
	Offset int64  // byte offset of the damaged record or block
	// Decompressed is set for gzip input: Offset then counts bytes of the
	// decompressed stream.
	Decompressed bool
	Msg          string // what was being read ("truncated packet record")
	Err          error  // the cause, such as io.ErrUnexpectedEOF; may be nil
}

// Error renders the error as "FILE: MSG at byte N: ERR".
func (e *FormatError) Error() string {
	s := e.File + ": " + e.Msg + " at byte " + strconv.FormatInt(e.Offset, 10)
	if e.Decompressed {
		s += " (decompressed)"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *FormatError) Unwrap() error { return e.Err }

// Stats describes what a Source has read so far. Packets = TCP + Skipped,
// and Skipped is the sum of the SkippedBy fields.
type Stats struct {
	Source    string   // the name given to Open or NewSource ("stdin" for "-")
	Format    string   // "pcap", "pcap-nsec" or "pcapng", with "+gzip" appended for compressed input
	LinkTypes []string // link types of the frames read, in order of first appearance ("EN10MB")

	Packets      uint64 // frames read
	TCP          uint64 // frames delivered as TCP segments
	Skipped      uint64 // frames without a decodable TCP segment
	SkippedBy    Skips
	Truncated    uint64 // TCP frames with fewer payload bytes captured than declared (see Packet.Truncated)
	BadChecksums uint64 // TCP frames whose checksum failed (only with Options.VerifyChecksums)
	BadOptions   uint64 // TCP frames with an option that lied about its length
	Bytes        uint64 // sum of the frames' wire lengths
	// Filtered counts frames an Options.Frame hook skipped (a capture
	// filter run in user space); they are not in Packets.
	Filtered uint64

	// Live sources only: what the kernel's PACKET_STATISTICS counted for
	// the socket. KernelReceived is every frame the socket's filter let
	// in, dropped ones included; KernelDropped is those the kernel dropped
	// because the socket's buffer was full.
	Live           bool
	KernelReceived uint64
	KernelDropped  uint64

	First, Last time.Time // earliest and latest frame timestamps; zero before the first frame
	Warnings    []string  // oddities that did not stop reading, such as timestamps going backwards; each starts with "SOURCE: "
}

// Skips counts skipped frames by reason (see the Result constants).
type Skips struct {
	NonIP           uint64
	NonTCP          uint64
	Fragment        uint64
	Malformed       uint64
	Short           uint64
	UnsupportedLink uint64
	Empty           uint64
}

// maxCapLen is libpcap's MAXIMUM_SNAPLEN. A record claiming more captured
// bytes is corrupt (or the reader lost its place).
const maxCapLen = 256 << 10

// iface is one capture interface: the pcap file itself, or one pcapng
// interface description block.
type iface struct {
	link    LinkType
	snaplen uint32
	seen    bool // a frame of this interface was read
	// Timestamp units: 10^-exp seconds, or 2^-exp when pow2.
	pow2   bool
	exp    uint8
	offset int64 // if_tsoffset, seconds
}

// frame is one record as the readers return it.
type frame struct {
	data []byte // valid until the next read
	ifc  *iface
	ts   time.Time
	wire uint32
}

// Source reads TCP segments from a pcap or pcapng capture, gzip-compressed
// or not. Use it like bufio.Scanner:
//
//	for src.Next(&pkt) { ... }
//	if err := src.Err(); err != nil { ... }
//
// A Source reads into one reused buffer and decodes into the caller's
// Packet, so steady-state reading allocates nothing. It is not safe for
// concurrent use.
type Source struct {
	name string
	opt  Options
	file io.Closer // closed by Close; nil unless Open opened a file
	in   *bufio.Reader
	gz   *gzipReader
	off  int64 // bytes consumed from in
	ng   bool  // pcapng rather than pcap
	big  bool  // the current section or file is big-endian
	nsec bool  // pcap timestamps are in nanoseconds

	ifaces []iface // the pcap file's one interface, or the current pcapng section's
	hdr    [32]byte
	buf    []byte
	dec    Decoder

	stats  Stats
	counts [numResults]uint64
	links  []LinkType
	warns  []string
	prevTS time.Time
	back   uint64 // frames whose timestamp precedes the one before
	back1  uint64 // first such frame
	backBy time.Duration
	// Records whose original length is below their captured length: how
	// many, and the first one's offset, kind and two lengths.
	origLow                 uint64
	origLowAt               int64
	origLowWhat             string
	origLowOrig, origLowCap uint32
	// clamped counts pcapng timestamps outside what int64 Unix
	// nanoseconds hold, clampedAt the byte offset of the first.
	clamped   uint64
	clampedAt int64
	// pcap records whose fraction of a second is a second or more.
	fracOver   uint64
	fracOverAt int64
	// pcap records that captured more than the file's snaplen: how many,
	// and the first one's offset and captured length.
	overSnap    uint64
	overSnapAt  int64
	overSnapLen uint32
	overSnapMax uint32 // the snaplen

	err  error
	done bool
}

// Open opens a capture file; "-" reads standard input. The file's format
// is detected from its first bytes (see NewSource). Errors name the file.
func Open(path string, opt Options) (*Source, error) {
	if path == "-" {
		return NewSource(os.Stdin, "stdin", opt)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	}
	s, err := NewSource(f, path, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	s.file = f
	return s, nil
}

// NewSource reads a capture from r; name is used in errors and Stats. It
// detects pcap (either byte order, microsecond or nanosecond timestamps),
// pcapng, and either of them gzip-compressed, and reads the file header, so
// a file that is empty, of an unknown format or with a damaged header is
// reported here.
func NewSource(r io.Reader, name string, opt Options) (*Source, error) {
	s := &Source{name: name, opt: opt, dec: Decoder{opt: opt}}
	s.stats.Source = name
	s.in = bufio.NewReaderSize(r, 64<<10)
	magic, err := s.in.Peek(4)
	if len(magic) == 0 {
		if err == io.EOF {
			return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if magic[0] == 0x1f && len(magic) >= 2 && magic[1] == 0x8b {
		z, err := gzip.NewReader(s.in)
		if err != nil {
			return nil, fmt.Errorf("%s: gzip header: %w", name, err)
		}
		s.gz = &gzipReader{z: z}
		s.in = bufio.NewReaderSize(s.gz, 64<<10)
		if magic, err = s.in.Peek(4); len(magic) == 0 {
			if err == io.EOF {
				return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
			}
			return nil, s.damaged(0, "file header", err)
		}
	}
	if len(magic) < 4 {
		return nil, s.damaged(0, "file header", io.ErrUnexpectedEOF)
	}
	switch binary.BigEndian.Uint32(magic) {
	case pcapMicro, pcapNano, pcapMicroSwapped, pcapNanoSwapped:
		err = s.pcapHeader()
	case ngSHB:
		s.ng = true
		s.stats.Format = "pcapng"
		_, err = s.ngBlock(nil)
	default:
		if s.gz != nil && magic[0] == 0x1f && magic[1] == 0x8b {
			// Seen in the wild (python3-libtrace's examples): tshark and
			// tcpdump refuse such a file too, without saying why.
			return nil, fmt.Errorf("%s: %w (gzip inside gzip: gunzip it once and read the result)", name, ErrUnknownFormat)
		}
		return nil, fmt.Errorf("%s: %w (first bytes % x)", name, ErrUnknownFormat, magic)
	}
	if err != nil {
		return nil, err
	}
	if s.gz != nil {
		s.stats.Format += "+gzip"
	}
	return s, nil
}

// Next advances to the next TCP segment and decodes it into p, skipping
// (and counting) every frame without one. With Options.ICMPErrors it also stops at an
// ICMP error quoting TCP, with p.ICMP set. It returns false at the end of
// the input or when the file turns out to be damaged; Err tells which. p is
// meaningful only after Next returned true; it holds no slices, so it may
// be kept.
func (s *Source) Next(p *Packet) bool {
	if s.done {
		return false
	}
	var f frame
	for {
		var err error
		if s.ng {
			err = s.ngNext(&f)
		} else {
			err = s.pcapNext(&f)
		}
		if err != nil {
			if err != io.EOF {
				s.err = err
			}
			s.done = true
			return false
		}
		st := &s.stats
		if s.opt.Frame != nil {
			switch s.opt.Frame(f.ifc.link, f.ts, f.data, f.wire) {
			case FrameSkip:
				st.Filtered++
				continue
			case FrameStop:
				s.done = true
				return false
			case FrameLast:
				s.done = true // after this frame
			}
		}
		st.Packets++
		st.Bytes += uint64(f.wire)
		n := s.opt.FrameBase + st.Packets
		s.clock(f.ts, n)
		if !f.ifc.seen {
			s.newLink(f.ifc, n)
		}
		r := s.dec.decode(f.data, f.ifc.link, f.wire-uint32(len(f.data)), p)
		if r != ResultTCP {
			s.counts[r]++
			if s.opt.ICMPErrors && p.ICMP.Type != 0 {
				p.Frame, p.TS, p.WireLen = n, f.ts, f.wire
				return true
			}
			if s.done {
				return false
			}
			continue
		}
		p.Frame, p.TS, p.WireLen = n, f.ts, f.wire
		st.countTCP(p)
		return true
	}
}

// lowOrig notes a record whose original length is below its captured
// length, and returns the length to take for the frame on the wire: the
// captured one. Neither field moves the reader (pcap records are framed by
// the captured length, pcapng blocks by their own), so the record is read
// as tcpdump and tshark read it: whole, with a warning. Such records come
// from damaged or hand-made files (tcpdump's own tests have several).
func (s *Source) lowOrig(at int64, what string, orig, caplen uint32) uint32 {
	if s.origLow == 0 {
		s.origLowAt, s.origLowWhat, s.origLowOrig, s.origLowCap = at, what, orig, caplen
	}
	s.origLow++
	return caplen
}

// countTCP counts a frame delivered as a TCP segment, and what its
// decoding noted, in the statistics of every source.
func (st *Stats) countTCP(p *Packet) {
	st.TCP++
	if p.Truncated {
		st.Truncated++
	}
	if p.BadOptions {
		st.BadOptions++
	}
	if p.Checksum == ChecksumBad {
		st.BadChecksums++
	}
}

// clock tracks the time span and frames whose timestamp goes backwards.
// Capture order is kept: a reordered clock is reported, not corrected.
func (s *Source) clock(ts time.Time, n uint64) {
	st := &s.stats
	if st.Packets == 1 {
		st.First, st.Last = ts, ts
	} else {
		if ts.Before(s.prevTS) {
			if s.back == 0 {
				s.back1, s.backBy = n, s.prevTS.Sub(ts)
			}
			s.back++
		}
		if ts.Before(st.First) {
			st.First = ts
		}
		if ts.After(st.Last) {
			st.Last = ts
		}
	}
	s.prevTS = ts
}

// newLink records the first frame of an interface; it runs once per
// interface, off the per-packet path.
func (s *Source) newLink(ifc *iface, n uint64) {
	ifc.seen = true
	if slices.Contains(s.links, ifc.link) {
		return
	}
	s.links = append(s.links, ifc.link)
	if !ifc.link.Supported() {
		s.warns = append(s.warns, fmt.Sprintf("frame %d: link type %s is not supported; its frames are skipped", n, ifc.link))
	}
}

// Err returns the error that stopped Next, or nil at a clean end of input.
// Damage is reported as a *FormatError naming the file and byte offset;
// all frames before the damage were delivered.
func (s *Source) Err() error { return s.err }

// Stats returns what has been read so far. It may be called at any time;
// the result shares nothing with the Source.
func (s *Source) Stats() Stats {
	st := s.stats
	st.SkippedBy = Skips{
		NonIP:           s.counts[ResultNonIP],
		NonTCP:          s.counts[ResultNonTCP],
		Fragment:        s.counts[ResultFragment],
		Malformed:       s.counts[ResultMalformed],
		Short:           s.counts[ResultShort],
		UnsupportedLink: s.counts[ResultUnsupportedLink],
		Empty:           s.counts[ResultEmpty],
	}
	for _, c := range s.counts {
		st.Skipped += c
	}
	st.LinkTypes = make([]string, len(s.links))
	for i, l := range s.links {
		st.LinkTypes[i] = l.String()
	}
	st.Warnings = slices.Clone(s.warns)
	if s.back > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"timestamps go backwards %d time(s), first at frame %d (by %v); capture order kept",
			s.back, s.back1, s.backBy))
	}
	if s.clamped > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"timestamps outside the years 1678 to 2262 in %d record(s), first at byte %d; clamped to that range",
			s.clamped, s.clampedAt))
	}
	if s.fracOver > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"timestamps with a fraction of a second of a second or more in %d record(s), first at byte %d; carried into the seconds",
			s.fracOver, s.fracOverAt))
	}
	if s.origLow > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"original length below the captured length in %d record(s), first at byte %d (%s: %d below %d); using the captured length",
			s.origLow, s.origLowAt, s.origLowWhat, s.origLowOrig, s.origLowCap))
	}
	if s.overSnap > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf(
			"captured length exceeds the file's snaplen %d in %d record(s), first at byte %d (%d bytes); frames kept whole",
			s.overSnapMax, s.overSnap, s.overSnapAt, s.overSnapLen))
	}
	for i, w := range st.Warnings {
		st.Warnings[i] = s.name + ": " + w
	}
	return st
}

// Close releases the file opened by Open; Next returns false afterwards.
// It does not close standard input or a reader given to NewSource.
func (s *Source) Close() error {
	s.done = true
	var err error
	if s.gz != nil {
		err = s.gz.z.Close()
	}
	if s.file != nil {
		err = s.file.Close()
		s.file = nil
	}
	return err
}

// gzipReader remembers the error of a damaged gzip stream, so that a read
// that fails can blame the compression rather than the capture inside.
type gzipReader struct {
	z   *gzip.Reader
	err error
}

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	if err != nil && err != io.EOF {
		g.err = err
	}
	return n, err
}

// readFull reads len(b) bytes from the input. Like io.ReadFull, it returns
// io.EOF only if no byte was read.
func (s *Source) readFull(b []byte) (int, error) { return io.ReadFull(s.in, b) }

// next returns the next n bytes of input, valid until the next read: in
// place in the input buffer when they fit in it (no copy: a packet record
// is read once, issue 7), else as read does.
func (s *Source) next(n int) ([]byte, error) {
	if b, err := s.in.Peek(n); err == nil {
		s.in.Discard(n)
		return b, nil
	}
	// Too large for the buffer, or the input ends: read says which.
	return s.read(n)
}

// read returns the next n bytes of input in s.buf, which it reuses. A
// buffer too small grows while it fills, so that a length field that lies
// costs memory only for bytes that exist.
func (s *Source) read(n int) ([]byte, error) {
	if n <= cap(s.buf) {
		b := s.buf[:n]
		m, err := s.readFull(b)
		return b[:m], err
	}
	b := s.buf[:0]
	for len(b) < n {
		k := min(n-len(b), max(cap(b), 64<<10))
		b = slices.Grow(b, k)
		m, err := s.readFull(b[len(b) : len(b)+k])
		b = b[:len(b)+m]
		if err != nil {
			s.buf = b
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return b, err
		}
	}
	s.buf = b
	return b, nil
}

// damaged builds the error for a failed read of what, starting at off.
func (s *Source) damaged(off int64, what string, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	e := &FormatError{File: s.name, Offset: off, Decompressed: s.gz != nil, Msg: "truncated " + what, Err: err}
	if s.gz != nil && s.gz.err != nil {
		e.Err = s.gz.err
		if errors.Is(s.gz.err, io.ErrUnexpectedEOF) {
			e.Msg = "truncated gzip stream in " + what
		} else {
			e.Msg = "damaged gzip stream in " + what
		}
	} else if err != io.ErrUnexpectedEOF {
		e.Msg = "reading " + what // an I/O error, not damage
	}
	return e
}

// cut is damaged for a record or block of n bytes at off of which only got
// were read: how much is missing tells a capture cut short (a little) from
// a length field that lies (more than the file holds).
func (s *Source) cut(off int64, what string, got, n int, err error) error {
	return s.damaged(off, fmt.Sprintf("%s (%d of its %d bytes present)", what, got, n), err)
}

// corrupt builds the error for a record or block at off whose fields make
// no sense.
func (s *Source) corrupt(off int64, msg string, err error) error {
	return &FormatError{File: s.name, Offset: off, Decompressed: s.gz != nil, Msg: msg, Err: err}
}

func (s *Source) u16(b []byte) uint16 {
	if s.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (s *Source) u32(b []byte) uint32 {
	if s.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (s *Source) u64(b []byte) uint64 {
	if s.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}
