package main

import (
	"bufio"
	"io"
	"os"
	"sort"

	"github.com/tcptrace/tcptrace/report"
)

// spillAfter is the number of connections the text report holds in memory.
// Past it, each connection's text block is rendered as it finishes and
// written to an unlinked temporary file, and the report is assembled at the
// end (head and findings, then the blocks), so that memory stays bounded by
// the connections open at once: a SYN flood of millions of random tuples
// finishes millions of connections. The blocks held so far are written in
// id order, the rest in the order the connections finished.
const spillAfter = 1024

// textSpill is the temporary file of rendered connection blocks.
type textSpill struct {
	f *os.File
	w *bufio.Writer
	n int // connections written
}

// spillText takes c for the text report once more than spillAfter
// connections have finished, and reports whether it did; the caller keeps c
// otherwise. A failure to make or write the temporary file is the report's
// write error; the run then fails, and later connections are dropped rather
// than held.
func (a *analysis) spillText(c *report.Connection) bool {
	if a.o.format != "text" || (a.spill == nil && len(a.conns) < spillAfter) {
		return false
	}
	if a.spill == nil {
		if a.werr != nil {
			// The temporary file could not be made (or the report not
			// written): the run fails anyway; keep memory bounded by
			// dropping the connection rather than holding it.
			return true
		}
		f, err := os.CreateTemp("", "tcptrace-report-*")
		if err != nil {
			a.werr = err
			return true
		}
		os.Remove(f.Name()) // nothing is left behind, whatever happens
		a.spill = &textSpill{f: f, w: bufio.NewWriterSize(f, 256<<10)}
		sort.Slice(a.conns, func(i, j int) bool { return a.conns[i].ID < a.conns[j].ID })
		for i := range a.conns {
			a.spill.add(a, &a.conns[i])
		}
		a.conns = nil
	}
	a.spill.add(a, c)
	return true
}

func (s *textSpill) add(a *analysis, c *report.Connection) {
	if err := report.WriteTextConnection(s.w, c); err != nil && a.werr == nil {
		a.werr = err
	}
	s.n++
}

// writeSpilled writes the text report of r, whose connections were
// spilled, to a.out, and removes the temporary file.
func (a *analysis) writeSpilled(r *report.Report) error {
	defer a.spill.f.Close()
	if a.werr != nil {
		return a.werr
	}
	if err := a.spill.w.Flush(); err != nil {
		return err
	}
	if _, err := a.spill.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := report.WriteTextHead(a.out, r, a.spill.n); err != nil {
		return err
	}
	_, err := io.Copy(a.out, a.spill.f)
	return err
}
