package main

import (
	"time"

	"github.com/tcptrace/tcptrace/reassembly"
)

// The report side of a run (the findings engine, building each connection's
// record, encoding and writing it) costs about as much as the packet side
// (decoding, the flow table, the state machine and the sequence analysis).
// The pipeline runs it on a second goroutine, fed the finished flows in
// batches, so that a run uses two cores. One goroutine consumes them, in
// the order the table finished them, so the report is the one a single
// goroutine writes. A Flow handed to the done callback is final (the table
// only reads it afterwards, to carry the sequence state of a reused 4-tuple
// over), so the consumer may read it freely.

// pipeBatch is how many finished flows go to the consumer at once; pipeDepth
// how many batches may wait. The flows waiting are bounded by their product.
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

// pipeline hands finished flows to the consumer goroutine. Its methods are
// called from the read loop's goroutine only.
type pipeline struct {
	batch []pipeItem
	ch    chan []pipeItem
	free  chan []pipeItem // batches the consumer is done with, for reuse
	done  chan struct{}   // closed when the consumer has returned
}

// usePipeline reports whether the run hands finished flows to a second
// goroutine: for the reports built from finished connections, not for
// -T packets, which writes from the read loop.
func usePipeline(o *options) bool { return o.format != "packets" }

// startPipeline starts the consumer goroutine.
func (a *analysis) startPipeline() {
	p := &pipeline{ch: make(chan []pipeItem, pipeDepth), free: make(chan []pipeItem, pipeDepth+2), done: make(chan struct{})}
	p.batch = make([]pipeItem, 0, pipeBatch)
	a.pipe = p
	go func() {
		defer close(p.done)
		for b := range p.ch {
			for i := range b {
				a.run(&b[i])
				b[i] = pipeItem{} // drop the flow for the GC
			}
			select {
			case p.free <- b[:0]:
			default:
			}
		}
	}()
}

// run does one item's report work, on the consumer goroutine (or on the
// read loop's without a pipeline).
func (a *analysis) run(it *pipeItem) {
	if it.fn != nil {
		it.fn()
		return
	}
	a.done(it.f, it.last)
}

// handoff is the flow table's done callback.
func (a *analysis) handoff(f *reassembly.Flow) {
	a.queue(pipeItem{f: f, last: a.last})
}

// serial runs fn in order with the finished flows: on the consumer
// goroutine when there is one. fn must not touch the flow table.
func (a *analysis) serial(fn func()) {
	a.queue(pipeItem{fn: fn})
}

func (a *analysis) queue(it pipeItem) {
	p := a.pipe
	if p == nil {
		a.run(&it)
		return
	}
	p.batch = append(p.batch, it)
	if len(p.batch) == pipeBatch {
		a.send()
	}
}

// send hands the current batch to the consumer.
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

// drain hands over what is left and waits for the consumer to finish; after
// it, the report side belongs to the caller again.
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
