package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
)

// keepTrace keeps what the pictures of the flow --svg names need (its kept
// packets, made compact). The flow itself is not kept.
func (a *analysis) keepTrace(f *reassembly.Flow) {
	if a.o.svgID != f.ID {
		return
	}
	a.svg = report.NewTrace(f)
}

// addHTML adds a finished connection to the -T html page, which encodes
// it at once: the run keeps neither the Connection nor the flow's packets.
func (a *analysis) addHTML(f *reassembly.Flow, c *report.Connection) {
	if a.html == nil {
		a.html = report.NewHTMLPage(a.o.ladderPkts)
	}
	t := a.svg
	if t == nil || a.o.svgID != f.ID {
		t = report.NewTrace(f)
	}
	if err := a.html.Add(c, t); err != nil && a.werr == nil {
		a.werr = err
	}
}

// writeHTML writes the -T html page.
func (a *analysis) writeHTML(r *report.Report) error {
	if a.werr != nil {
		return a.werr
	}
	if a.html == nil {
		a.html = report.NewHTMLPage(a.o.ladderPkts)
	}
	return a.html.Write(a.out, r)
}

// writeSVG writes --svg's two files: conn-ID-ladder.svg and conn-ID-tseq.svg
// (the time-sequence graph of the direction that sent more), in -o's
// directory, or the current one when the report goes to stdout.
func (a *analysis) writeSVG() error {
	id := a.o.svgID
	if id == 0 {
		return nil
	}
	t := a.svg
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
