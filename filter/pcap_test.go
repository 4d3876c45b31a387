package filter_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// A tiny classic-pcap reader and writer, so that the tests depend on nothing but
// tcpdump.

type record struct {
	sec, frac uint32
	wireLen   uint32
	data      []byte
}

func (r record) String() string {
	return fmt.Sprintf("%d.%d len %d caplen %d % x", r.sec, r.frac, r.wireLen, len(r.data), r.data)
}

func equalRecords(a, b record) bool {
	return a.sec == b.sec && a.frac == b.frac && a.wireLen == b.wireLen && bytes.Equal(a.data, b.data)
}

// readPcap parses a classic pcap file of either byte order and precision.
func readPcap(b []byte) (linkType uint16, recs []record, err error) {
	if len(b) < 24 {
		return 0, nil, errors.New("short pcap header")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return 0, nil, fmt.Errorf("not a classic pcap file (magic %x)", b[:4])
	}
	linkType = uint16(bo.Uint32(b[20:]))
	for b = b[24:]; len(b) > 0; {
		if len(b) < 16 {
			return 0, nil, errors.New("short record header")
		}
		n := bo.Uint32(b[8:])
		if uint32(len(b)-16) < n {
			return 0, nil, errors.New("short record")
		}
		recs = append(recs, record{sec: bo.Uint32(b), frac: bo.Uint32(b[4:]), wireLen: bo.Uint32(b[12:]), data: b[16 : 16+n]})
		b = b[16+n:]
	}
	return linkType, recs, nil
}

// writePcap writes a little-endian microsecond pcap file.
func writePcap(path string, linkType uint16, recs []record) error {
	var buf bytes.Buffer
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h, 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], uint32(linkType))
	buf.Write(h)
	for _, r := range recs {
		rh := make([]byte, 16)
		binary.LittleEndian.PutUint32(rh, r.sec)
		binary.LittleEndian.PutUint32(rh[4:], r.frac)
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(r.data)))
		binary.LittleEndian.PutUint32(rh[12:], r.wireLen)
		buf.Write(rh)
		buf.Write(r.data)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// tcpdumpPath finds tcpdump. Tests skip without it, except in CI.
func tcpdumpPath(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/tcpdump", "/usr/bin/tcpdump"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("tcpdump"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("tcpdump not found, and CI=true: the comparison with libpcap must run")
	}
	t.Skip("tcpdump not found")
	return ""
}

func TestMain(m *testing.M) {
	code := m.Run()
	if emptyDir != "" {
		os.RemoveAll(emptyDir)
	}
	os.Exit(code)
}
