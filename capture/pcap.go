package capture

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// pcap magic numbers as the first four bytes read big-endian: the file's
// byte order is the one in which the magic reads 0xa1b2c3d4 (microsecond
// timestamps) or 0xa1b23c4d (nanosecond timestamps).
const (
	pcapMicro        = 0xa1b2c3d4
	pcapNano         = 0xa1b23c4d
	pcapMicroSwapped = 0xd4c3b2a1
	pcapNanoSwapped  = 0x4d3cb2a1
)

// pcapHeader reads the 24-byte pcap file header: magic, version major and
// minor, thiszone, sigfigs, snaplen, and link type (whose upper bits may
// carry FCS information, which we ignore: payload lengths come from IP).
func (s *Source) pcapHeader() error {
	h := s.hdr[:24]
	if _, err := s.readFull(h); err != nil {
		return s.damaged(0, "pcap file header", err)
	}
	switch binary.BigEndian.Uint32(h) {
	case pcapMicro:
		s.big = true
	case pcapNano:
		s.big, s.nsec = true, true
	case pcapNanoSwapped:
		s.nsec = true
	}
	s.stats.Format = "pcap"
	if s.nsec {
		s.stats.Format = "pcap-nsec"
	}
	if major := s.u16(h[4:6]); major != 2 {
		return s.corrupt(4, "unsupported pcap version", fmt.Errorf("%d.%d", major, s.u16(h[6:8])))
	}
	s.ifaces = append(s.ifaces[:0], iface{
		link:    LinkType(s.u32(h[20:24])),
		snaplen: s.u32(h[16:20]),
	})
	s.off = 24
	return nil
}

// pcapNext reads the next packet record: a 16-byte header (seconds,
// microseconds or nanoseconds, captured length, original length) and the
// captured bytes. It returns io.EOF at a clean end of file.
func (s *Source) pcapNext(f *frame) error {
	start := s.off
	h, err := s.in.Peek(16)
	if err == nil {
		s.in.Discard(16)
	} else {
		h = s.hdr[:16]
		if n, err := s.readFull(h); err != nil {
			if n == 0 && err == io.EOF {
				return io.EOF
			}
			return s.damaged(start, "packet record header", err)
		}
	}
	sec, frac := s.u32(h[0:4]), s.u32(h[4:8])
	caplen, orig := s.u32(h[8:12]), s.u32(h[12:16])
	if caplen > maxCapLen {
		return s.corrupt(start, "corrupt packet record", fmt.Errorf("captured length %d exceeds %d", caplen, maxCapLen))
	}
	if caplen > orig {
		orig = s.lowOrig(start, "packet record", orig, caplen)
	}
	if snap := s.ifaces[0].snaplen; snap != 0 && caplen > snap {
		// libpcap cuts such a record to the snaplen; Wireshark keeps it
		// whole. The bytes are there and the lengths are consistent, so
		// keep them, and say so once.
		if s.overSnap == 0 {
			s.overSnapAt, s.overSnapLen, s.overSnapMax = start, caplen, snap
		}
		s.overSnap++
	}
	data, err := s.next(int(caplen))
	if err != nil {
		return s.cut(start, "packet record", 16+len(data), 16+int(caplen), err)
	}
	s.off += 16 + int64(caplen)
	nsec := int64(frac)
	if !s.nsec {
		nsec *= 1000
	}
	if nsec >= 1e9 {
		// A fraction of a second over one second: damaged, or written by
		// hand. Carried into the seconds, as libpcap's time arithmetic
		// (timersub) does with it; tshark's 32-bit product wraps instead.
		if s.fracOver == 0 {
			s.fracOverAt = start
		}
		s.fracOver++
	}
	f.data, f.ifc, f.wire = data, &s.ifaces[0], orig
	f.ts = time.Unix(int64(sec), nsec).UTC()
	return nil
}
