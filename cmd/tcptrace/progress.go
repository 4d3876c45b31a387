package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tcptrace/tcptrace/capture"
)

// progressMin is the file size from which a progress bar is worth drawing.
const progressMin = 64 << 20

// progress draws a one-line bar on stderr while a large file is read, only
// when stderr is a terminal. It counts the bytes read from the file itself
// (compressed bytes for gzip input), so the bar is exact.
type progress struct {
	w     io.Writer
	name  string
	size  int64
	read  int64
	start time.Time
	drawn bool
}

// Read counts what the capture reader consumes from the file.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.read += int64(n)
	return n, err
}

// active reports whether the bar is drawn for this input.
func (p *progress) active() bool { return p.w != nil }

func newProgress(name string, stderr io.Writer, quiet bool) *progress {
	p := &progress{}
	if quiet || name == "-" {
		return p
	}
	f, ok := stderr.(*os.File)
	if !ok {
		return p
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return p
	}
	fi, err := os.Stat(name)
	if err != nil || fi.Size() < progressMin {
		return p
	}
	return &progress{w: stderr, name: name, size: fi.Size(), start: time.Now()}
}

func (p *progress) update(st capture.Stats) {
	if p.w == nil {
		return
	}
	frac := float64(p.read) / float64(p.size)
	if frac > 1 {
		frac = 1
	}
	const width = 30
	n := int(frac * width)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < n {
			bar[i] = '#'
		}
	}
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%s [%s] %3.0f%%  %d packets  %.0f pkt/s ", p.name, bar, frac*100, st.Packets, float64(st.Packets)/max(el, 1e-9))
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
