package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcptrace/tcptrace/capture"
)

// FuzzDecode feeds arbitrary frames of arbitrary link types to Decode. It
// must never panic, and what it returns must be consistent. Crashers land in
// testdata/fuzz/FuzzDecode, which go test replays as regression cases.
func FuzzDecode(f *testing.F) {
	for _, tt := range decodeTests {
		f.Add(tt.frame, uint16(tt.link))
	}
	for _, fr := range capture.SeedFrames(f) {
		f.Add(fr.Data, uint16(fr.Link))
	}
	f.Fuzz(func(t *testing.T, data []byte, link uint16) {
		d := capture.NewDecoder(capture.Options{VerifyChecksums: true})
		var p capture.Packet
		r := d.Decode(data, capture.LinkType(link), &p)
		if r.String() == "" || len(r.String()) > 16 {
			t.Fatalf("Decode = %q", r)
		}
		if r != capture.ResultTCP {
			return
		}
		switch {
		case p.CapLen != uint32(len(data)):
			t.Errorf("CapLen = %d for %d bytes", p.CapLen, len(data))
		case !p.Src.Addr().IsValid() || !p.Dst.Addr().IsValid() || p.Src.Addr().Is4() == p.IPv6:
			t.Errorf("addresses %v, %v with IPv6 %v", p.Src, p.Dst, p.IPv6)
		case p.TCPOptLen > 40 || p.TCPOptLen%4 != 0 || p.Seg.SACKCount > 4:
			t.Errorf("TCPOptLen %d, SACKCount %d", p.TCPOptLen, p.Seg.SACKCount)
		case p.OptionsCut && !p.Truncated:
			t.Errorf("OptionsCut without Truncated")
		case p.Checksum == capture.ChecksumUnchecked:
			t.Errorf("checksum unchecked")
		case p.Truncated && p.Checksum != capture.ChecksumUnknown:
			t.Errorf("truncated segment with checksum verdict %v", p.Checksum)
		}
	})
}

// addCorpusSeeds adds every capture smaller than 4 KiB in pcaps/ and in
// the external corpus (when present) whose magic is one of magics.
func addCorpusSeeds(f *testing.F, magics ...uint32) {
	paths, _ := filepath.Glob(filepath.Join("..", "pcaps", "*"))
	filepath.WalkDir(corpusDir(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil || len(b) >= 4<<10 || len(b) < 4 {
			continue
		}
		m := binary.BigEndian.Uint32(b)
		for _, want := range magics {
			if m == want {
				f.Add(b)
			}
		}
	}
}

// fuzzSource reads data to the end. It must not panic, must end with nil
// or a *FormatError, and its counts must add up.
func fuzzSource(t *testing.T, data []byte) {
	s, err := capture.NewSource(bytes.NewReader(data), "fuzz", capture.Options{VerifyChecksums: true})
	if err != nil {
		if err.Error() == "" {
			t.Fatal("empty error")
		}
		return
	}
	var p capture.Packet
	var n, last uint64
	for s.Next(&p) {
		if p.Frame <= last {
			t.Fatalf("frame %d after %d", p.Frame, last)
		}
		last = p.Frame
		n++
	}
	var fe *capture.FormatError
	if err := s.Err(); err != nil && !errors.As(err, &fe) {
		t.Fatalf("Err() = %v (%T), want a *FormatError", err, err)
	}
	st := s.Stats()
	if st.TCP != n || st.TCP+st.Skipped != st.Packets {
		t.Fatalf("Stats() = %+v after %d segments", st, n)
	}
}

// FuzzPcap fuzzes the pcap reader (and gzip), seeded with small captures.
func FuzzPcap(f *testing.F) {
	f.Add(testPcap(binary.LittleEndian, false))
	f.Add(testPcap(binary.BigEndian, true))
	f.Add(gz(f, testPcap(binary.LittleEndian, true)))
	f.Add(allocPcap(16))
	addCorpusSeeds(f, 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1)
	f.Fuzz(fuzzSource)
}

// FuzzPcapng fuzzes the pcapng reader, seeded with small captures.
func FuzzPcapng(f *testing.F) {
	f.Add(testPcapng())
	f.Add(gz(f, testPcapng()))
	addCorpusSeeds(f, 0x0a0d0d0a)
	f.Fuzz(fuzzSource)
}
