package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"time"
)

// pcapng block types and limits (draft-ietf-opsawg-pcapng).
const (
	ngSHB = 0x0a0d0d0a // section header; the value is a palindrome, so it reads the same in either byte order
	ngIDB = 1          // interface description
	ngPB  = 2          // packet (obsolete)
	ngSPB = 3          // simple packet
	ngEPB = 6          // enhanced packet
	ngBOM = 0x1a2b3c4d // byte-order magic

	// maxBlockLen bounds a block's total length. Real blocks are at most a
	// few hundred KiB; a larger length means the reader lost its place.
	maxBlockLen = 16 << 20
)

// blockName names a block type for error messages.
func blockName(typ uint32) string {
	switch typ {
	case ngSHB:
		return "section header block"
	case ngIDB:
		return "interface description block"
	case ngPB:
		return "packet block"
	case ngSPB:
		return "simple packet block"
	case ngEPB:
		return "enhanced packet block"
	}
	return fmt.Sprintf("block of type %#x", typ)
}

// ngNext reads blocks until one holds a packet. It returns io.EOF at a clean
// end of file.
func (s *Source) ngNext(f *frame) error {
	for {
		if got, err := s.ngBlock(f); err != nil || got {
			return err
		}
	}
}

// ngBlock reads one block: type u32, total length u32, body, total length
// u32 again. Packet blocks fill f and report true; section and interface
// blocks update the reader; every other block is skipped. NewSource calls
// it with a nil f to read the first section header.
func (s *Source) ngBlock(f *frame) (bool, error) {
	start := s.off
	h := s.hdr[:8]
	if n, err := s.readFull(h); err != nil {
		if n == 0 && err == io.EOF && f != nil {
			return false, io.EOF
		}
		return false, s.damaged(start, "block header", err)
	}
	typ := s.u32(h[0:4])
	head := 8
	if typ == ngSHB {
		// A section sets its own byte order, given by its byte-order magic.
		if _, err := s.readFull(s.hdr[8:12]); err != nil {
			return false, s.damaged(start, "section header block", err)
		}
		switch binary.LittleEndian.Uint32(s.hdr[8:12]) {
		case ngBOM:
			s.big = false
		case 0x4d3c2b1a:
			s.big = true
		default:
			return false, s.corrupt(start, "corrupt section header block", fmt.Errorf("byte-order magic % x", s.hdr[8:12]))
		}
		head = 12
	}
	blen := s.u32(h[4:8])
	minLen := uint32(12)
	if typ == ngSHB {
		minLen = 28
	}
	if blen < minLen || blen%4 != 0 || blen > maxBlockLen {
		return false, s.corrupt(start, "bad block length", fmt.Errorf("%d in %s", blen, blockName(typ)))
	}
	rest := int(blen) - head // the body and the trailing length
	var body, trailer []byte
	switch typ {
	case ngSHB, ngIDB, ngEPB, ngSPB, ngPB:
		b, err := s.read(rest)
		if err != nil {
			return false, s.cut(start, blockName(typ), head+len(b), int(blen), err)
		}
		body, trailer = b[:rest-4], b[rest-4:]
	default:
		if _, err := s.in.Discard(rest - 4); err != nil {
			return false, s.damaged(start, blockName(typ), err)
		}
		trailer = s.hdr[12:16]
		if _, err := s.readFull(trailer); err != nil {
			return false, s.damaged(start, blockName(typ), err)
		}
	}
	if t := s.u32(trailer); t != blen {
		return false, s.corrupt(start, "bad block length", fmt.Errorf("%s: %d at its start, %d at its end", blockName(typ), blen, t))
	}
	s.off = start + int64(blen)
	switch typ {
	case ngSHB:
		return false, s.ngSection(start, body)
	case ngIDB:
		return false, s.ngInterface(start, body)
	case ngEPB, ngPB, ngSPB:
		if f == nil {
			return false, s.corrupt(start, "missing section header block", nil)
		}
		return true, s.ngPacket(start, typ, body, f)
	}
	return false, nil
}

// ngSection starts a section: major u16, minor u16, section length i64,
// options. Interface ids are numbered afresh in each section.
func (s *Source) ngSection(start int64, body []byte) error {
	if major := s.u16(body[0:2]); major != 1 {
		return s.corrupt(start, "unsupported pcapng version", fmt.Errorf("%d.%d", major, s.u16(body[2:4])))
	}
	s.ifaces = s.ifaces[:0]
	return nil
}

// ngInterface adds an interface: link type u16, reserved u16, snaplen u32,
// options. It reads if_tsresol (9) and if_tsoffset (14).
func (s *Source) ngInterface(start int64, body []byte) error {
	if len(body) < 8 {
		return s.corrupt(start, "corrupt interface description block", errors.New("too short"))
	}
	ifc := iface{link: LinkType(s.u16(body[0:2])), snaplen: s.u32(body[4:8]), exp: 6}
	for opts := body[8:]; len(opts) >= 4; {
		code, n := s.u16(opts[0:2]), int(s.u16(opts[2:4]))
		if code == 0 { // opt_endofopt
			break
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(opts) {
			return s.corrupt(start, "corrupt interface description block", fmt.Errorf("option %d runs past the block", code))
		}
		v := opts[4 : 4+n]
		switch {
		case code == 9 && n == 1: // if_tsresol: 10^-v, or 2^-v when the top bit is set
			ifc.pow2, ifc.exp = v[0]&0x80 != 0, v[0]&0x7f
			if ifc.pow2 && ifc.exp > 63 || !ifc.pow2 && ifc.exp > 19 {
				return s.corrupt(start, "corrupt interface description block", fmt.Errorf("unsupported timestamp resolution %#x", v[0]))
			}
		case code == 14 && n == 8: // if_tsoffset, seconds
			ifc.offset = int64(s.u64(v))
		}
		opts = opts[4+padded:]
	}
	s.ifaces = append(s.ifaces, ifc)
	return nil
}

// ngPacket fills f from an enhanced packet block (interface u32, timestamp
// high u32 and low u32, captured length, original length, data, options),
// an obsolete packet block (the same with a u16 interface and a u16 drop
// count), or a simple packet block (original length, data; interface 0, no
// timestamp: the frame gets the previous frame's).
func (s *Source) ngPacket(start int64, typ uint32, body []byte, f *frame) error {
	var ifid, caplen, orig uint32
	var ts uint64
	switch typ {
	case ngEPB, ngPB:
		if len(body) < 20 {
			return s.corrupt(start, "corrupt "+blockName(typ), errors.New("too short"))
		}
		if typ == ngEPB {
			ifid = s.u32(body[0:4])
		} else {
			ifid = uint32(s.u16(body[0:2]))
		}
		ts = uint64(s.u32(body[4:8]))<<32 | uint64(s.u32(body[8:12]))
		caplen, orig = s.u32(body[12:16]), s.u32(body[16:20])
		if int64(caplen) > int64(len(body)-20) {
			return s.corrupt(start, "corrupt "+blockName(typ), fmt.Errorf("captured length %d exceeds the block", caplen))
		}
		f.data = body[20 : 20+caplen]
	case ngSPB:
		if len(body) < 4 {
			return s.corrupt(start, "corrupt simple packet block", errors.New("too short"))
		}
		orig = s.u32(body[0:4])
		caplen = min(orig, uint32(len(body)-4))
		if len(s.ifaces) > 0 && s.ifaces[0].snaplen != 0 {
			caplen = min(caplen, s.ifaces[0].snaplen)
		}
		f.data = body[4 : 4+caplen]
	}
	if caplen > maxCapLen {
		return s.corrupt(start, "corrupt "+blockName(typ), fmt.Errorf("captured length %d exceeds %d", caplen, maxCapLen))
	}
	if int(ifid) >= len(s.ifaces) {
		return s.corrupt(start, fmt.Sprintf("%s refers to undefined interface %d", blockName(typ), ifid), nil)
	}
	if orig < caplen {
		orig = s.lowOrig(start, blockName(typ), orig, caplen)
	}
	f.ifc, f.wire = &s.ifaces[ifid], orig
	var ok bool
	if typ == ngSPB {
		f.ts = s.prevTS
	} else if f.ts, ok = f.ifc.time(ts); !ok {
		if s.clamped == 0 {
			s.clampedAt = start
		}
		s.clamped++
	}
	return nil
}

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// The seconds of the earliest and the latest times whose every nanosecond
// int64 Unix nanoseconds hold (1678-09-21 to 2262-04-11).
const (
	minSec = math.MinInt64/1_000_000_000 + 1
	maxSec = math.MaxInt64/1_000_000_000 - 1
)

// time converts a timestamp in the interface's units to a time, and says
// whether it was in range. pcapng's 64-bit timestamps and if_tsoffset reach
// far past what int64 Unix nanoseconds hold, which is how the rest of the
// program keeps capture times (the state machine's timers, the engine's
// windows): such a time comes back clamped to minSec or maxSec, so that
// every later computation stays in order, and ok false for a warning.
func (ifc *iface) time(ts uint64) (t time.Time, ok bool) {
	var sec, nsec uint64
	k := uint(ifc.exp)
	if ifc.pow2 {
		sec = ts >> k
		if k > 0 {
			hi, lo := bits.Mul64(ts&(1<<k-1), 1e9)
			nsec = hi<<(64-k) | lo>>k
		}
	} else {
		p := pow10[k]
		sec = ts / p
		if frac := ts % p; k <= 9 {
			nsec = frac * pow10[9-k]
		} else {
			nsec = frac / pow10[k-9]
		}
	}
	ok = true
	var abs int64
	switch off := ifc.offset; {
	case sec > maxSec, off > 0 && int64(sec) > maxSec-off:
		abs, ok = maxSec, false
	case off < 0 && int64(sec) < minSec-off:
		abs, ok = minSec, false
	default:
		abs = int64(sec) + off
	}
	return time.Unix(abs, int64(nsec)).UTC(), ok
}
