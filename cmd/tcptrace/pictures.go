package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
)

// keepTrace keeps what the pictures of a finished flow need (its kept
// packets, made compact): for every connection with -T html, for the one
// --svg names otherwise. The flow itself is not kept.
func (a *analysis) keepTrace(f *reassembly.Flow) {
	if a.o.format != "html" && a.o.svgID != f.ID {
		return
	}
	if a.traces == nil {
		a.traces = make(map[uint64]*report.Trace)
	}
	a.traces[f.ID] = report.NewTrace(f)
}

// writeSVG writes --svg's two files: conn-ID-ladder.svg and conn-ID-tseq.svg
// (the time-sequence graph of the direction that sent more), in -o's
// directory, or the current one when the report goes to stdout.
func (a *analysis) writeSVG() error {
	id := a.o.svgID
	if id == 0 {
		return nil
	}
	t := a.traces[id]
	if t == nil {
		return fmt.Errorf("--svg %d: the capture has no connection #%d", id, id)
	}
	dir := "."
	if a.o.output != "" {
		dir = filepath.Dir(a.o.output)
	}
	write := func(name string, draw func(*os.File) error) error {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("conn-%d-%s.svg", id, name)))
		if err != nil {
			return err
		}
		if err := draw(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := write("ladder", func(f *os.File) error { return report.WriteLadderSVG(f, t) }); err != nil {
		return err
	}
	return write("tseq", func(f *os.File) error { return report.WriteTimeSeqSVG(f, t, t.DataDir()) })
}
