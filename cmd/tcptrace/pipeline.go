package main

import (
	"time"

	"github.com/tcptrace/tcptrace/reassembly"
)

// The report side of a run (the findings engine, building each connection's
// record, encoding and writing it) costs about as much as the packet side
// (decoding, the flow table, the state machine and the sequence analysis).
// The pipeline runs it on two more goroutines, fed the finished flows in
// batches, so that a run keeps both cores of a small machine busy: the
// engine stage runs the findings engine over each batch and passes it on
// to the record stage, which builds, encodes and writes each connection's
// record, hands the flow back to the table (reuse) and runs the report
// work queued in order with the flows (serial). Each stage takes the
// batches in the order the table finished the flows, so the report is the
// one a single goroutine writes.
//
// A Flow handed to the done callback is final: the table no longer
// touches it (reassembly.Table), and neither stage writes it (the engine
// keeps what it needs in its own state; records copy or encode it). The
// stages still never read one flow at once, since some reads build state
// as they go (ZeekConn.Verdict's history): the engine stage finishes a
// whole batch before passing it on, and only the record stage, after
// that, hands a flow back for reuse.
//
// Each stage owns its state: the engine stage a.engine; the record stage
// everything a record goes to (a.conns, a.jsonl, a.jstream, a.spill,
// a.html, a.svg, a.ladders, a.werr). The read loop touches neither until
// drain has waited for both.

// pipeBatch is how many finished flows go down the pipeline at once;
// pipeDepth how many batches may wait before each stage. The flows waiting
// are bounded by their product.
const (
	pipeBatch = 64
	pipeDepth = 4
)

// pipeItem is one finished flow with the capture time of the latest packet
// when it finished, or a piece of report work (a snapshot, the start of a
// streamed document) that must run in order with the flows.
type pipeItem struct {
	f    *reassembly.Flow
	last time.Time
	fn   func()
}

// pipeline hands finished flows to the report stages. Its methods are
// called from the read loop's goroutine only.
type pipeline struct {
	batch []pipeItem
	ch    chan []pipeItem // to the engine stage
	recs  chan []pipeItem // from the engine stage to the record stage
	free  chan []pipeItem // batches the record stage is done with, for reuse
	done  chan struct{}   // closed when both stages have returned
}

// usePipeline reports whether the run hands finished flows to other
// goroutines: for the reports built from finished connections, not for
// -T packets, which writes from the read loop.
func usePipeline(o *options) bool { return o.format != "packets" }

// startPipeline starts the engine and record stages.
func (a *analysis) startPipeline() {
	p := &pipeline{
		ch:   make(chan []pipeItem, pipeDepth),
		recs: make(chan []pipeItem, pipeDepth),
		free: make(chan []pipeItem, 2*pipeDepth+3),
		done: make(chan struct{}),
	}
	p.batch = make([]pipeItem, 0, pipeBatch)
	a.pipe = p
	go func() {
		defer close(p.recs)
		for b := range p.ch {
			for i := range b {
				a.findings(&b[i])
			}
			p.recs <- b
		}
	}()
	go func() {
		defer close(p.done)
		for b := range p.recs {
			for i := range b {
				a.output(&b[i])
				b[i] = pipeItem{} // drop the flow for the GC
			}
			select {
			case p.free <- b[:0]:
			default:
			}
		}
	}()
}

// findings is an item's work on the engine stage: the findings engine
// reads a finished flow.
func (a *analysis) findings(it *pipeItem) {
	if it.fn == nil {
		a.engine.Flow(it.f, it.last)
	}
}

// output is an item's work on the record stage: a flow's record, or a
// piece of report work.
func (a *analysis) output(it *pipeItem) {
	if it.fn != nil {
		it.fn()
		return
	}
	a.record(it.f)
}

// handoff is the flow table's done callback.
func (a *analysis) handoff(f *reassembly.Flow) {
	a.queue(pipeItem{f: f, last: a.last})
}

// serial runs fn in order with the finished flows' records: on the record
// stage when there is one. fn must not touch the flow table or the engine.
func (a *analysis) serial(fn func()) {
	a.queue(pipeItem{fn: fn})
}

func (a *analysis) queue(it pipeItem) {
	p := a.pipe
	if p == nil {
		// --serial, or -T packets: both stages' work at once, here.
		a.findings(&it)
		a.output(&it)
		return
	}
	p.batch = append(p.batch, it)
	if len(p.batch) == pipeBatch {
		a.send()
	}
}

// send hands the current batch to the engine stage.
func (a *analysis) send() {
	p := a.pipe
	if p == nil || len(p.batch) == 0 {
		return
	}
	p.ch <- p.batch
	select {
	case p.batch = <-p.free:
	default:
		p.batch = make([]pipeItem, 0, pipeBatch)
	}
}

// drain hands over what is left and waits for both stages to finish: the
// engine's findings and rollups, and the records, are complete after it,
// and the report side belongs to the caller again.
func (a *analysis) drain() {
	p := a.pipe
	if p == nil {
		return
	}
	a.send()
	close(p.ch)
	<-p.done
	a.pipe = nil
}
