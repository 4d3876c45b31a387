package capture

import (
	"path/filepath"
	"testing"
	"time"
)

// SeedFrame is one frame of a shipped capture, copied out of the reader.
type SeedFrame struct {
	Link LinkType
	Data []byte
}

// SeedFrames returns every frame of the captures in the repository's pcaps/
// directory, in file order, to seed the fuzz targets with real traffic.
func SeedFrames(tb testing.TB) []SeedFrame {
	tb.Helper()
	var paths []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz"} {
		m, err := filepath.Glob(filepath.Join("..", "pcaps", pat))
		if err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		tb.Fatal("no captures in ../pcaps")
	}
	var frames []SeedFrame
	keep := func(link LinkType, _ time.Time, data []byte, _ uint32) FrameAction {
		frames = append(frames, SeedFrame{link, append([]byte(nil), data...)})
		return FrameSkip
	}
	for _, p := range paths {
		s, err := Open(p, Options{Frame: keep})
		if err != nil {
			tb.Fatal(err)
		}
		var pkt Packet
		for s.Next(&pkt) {
		}
		if err := s.Err(); err != nil {
			tb.Fatal(err)
		}
		s.Close()
	}
	return frames
}
