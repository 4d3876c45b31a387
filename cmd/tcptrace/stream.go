package main

import (
	"sort"

	"github.com/tcptrace/tcptrace/reassembly"
	"github.com/tcptrace/tcptrace/report"
)

// streamAfter is the number of connections up to which -T json is written
// as one document at the end, connections in id order. Past it, the
// document is streamed (report.JSONStream): the connections held so far go
// out in id order, and each later one as it finishes, so that memory is
// bounded by the connections the flow table holds (--max-flows) rather than
// by the capture's total (docs/schema.md). Connections finish as in every
// other report: idle, evicted, reused or at the end of the capture.
const streamAfter = 1024

// streamJSON writes the record of the finished flow f to the streamed -T
// json document once streamAfter connections have finished, starting the
// document (its head, then the connections held, in id order) the first
// time, and reports whether it did; the caller keeps f's record otherwise.
// It runs on the report side (pipeline.go), in order with the flows.
func (a *analysis) streamJSON(f *reassembly.Flow) bool {
	if a.o.format != "json" || (a.jstream == nil && len(a.conns) < streamAfter) {
		return false
	}
	if a.jstream == nil {
		a.jstream = report.NewJSONStream(a.out, report.SchemaVersion, "tcptrace "+version)
		sort.Slice(a.conns, func(i, j int) bool { return a.conns[i].ID < a.conns[j].ID })
		for i := range a.conns {
			a.streamConnection(&a.conns[i])
		}
		a.conns = nil
	}
	if err := a.jstream.Flow(f); err != nil && a.werr == nil {
		a.werr = err
	}
	return true
}

// streamConnection writes c to the streamed document.
func (a *analysis) streamConnection(c *report.Connection) {
	if err := a.jstream.Connection(c); err != nil && a.werr == nil {
		a.werr = err
	}
}

// finishStream writes the end of the streamed document.
func (a *analysis) finishStream(rollups []report.Rollup, findings []report.Finding) error {
	if a.werr != nil {
		return a.werr
	}
	return a.jstream.Close(a.capture, rollups, findings)
}
