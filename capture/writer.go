package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"
)

// Writer writes frames to a pcap file (tcpdump -w), in the byte order of
// the machine that reads it most (little-endian), through gopacket's
// pcapgo.Writer. A pcap file has one link type; the caller keeps frames of
// any other out. Writing a frame allocates nothing. Not safe for concurrent
// use.
type Writer struct {
	link LinkType
	buf  *bufio.Writer
	pw   *pcapgo.Writer
}

// NewWriter writes a pcap file header for frames of link type link, cut at
// snaplen bytes, to w, and returns a Writer for the frames. Timestamps are
// written in nanoseconds when nsec is set, else in microseconds.
func NewWriter(w io.Writer, link LinkType, snaplen uint32, nsec bool) (*Writer, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	pw, magic := pcapgo.NewWriter(buf), uint32(0xa1b2c3d4)
	if nsec {
		pw, magic = pcapgo.NewWriterNanos(buf), 0xa1b23c4d
	}
	// The file header is ours: pcapgo's takes gopacket's layers.LinkType,
	// a uint8, which cannot hold LINUX_SLL2 (276).
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], magic)
	binary.LittleEndian.PutUint16(h[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snaplen)
	binary.LittleEndian.PutUint32(h[20:], uint32(link))
	if _, err := buf.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{link: link, buf: buf, pw: pw}, nil
}

// LinkType returns the link type of the file.
func (w *Writer) LinkType() LinkType { return w.link }

// Write writes one frame: its capture timestamp, captured bytes and length
// on the wire.
func (w *Writer) Write(ts time.Time, data []byte, wireLen uint32) error {
	if int(wireLen) < len(data) {
		return fmt.Errorf("frame of %d bytes captured longer than its wire length %d", len(data), wireLen)
	}
	return w.pw.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: int(wireLen)}, data)
}

// Flush writes buffered frames to the underlying writer.
func (w *Writer) Flush() error { return w.buf.Flush() }
