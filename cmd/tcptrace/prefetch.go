package main

import (
	"context"

	"github.com/tcptrace/tcptrace/capture"
)

// prefetch reads and decodes a capture file's packets on a goroutine of its
// own, ahead of the read loop, and hands them over in batches. Reading and
// decoding cost about a fifth of the read loop's time (issue 7); with the
// report side on a goroutine too (pipeline.go), a run's three stages share
// the cores instead of the read loop doing two of them in turn. The loop
// sees the packets in the order the file holds them, as from the source
// itself.
//
// It is used for files only when nothing runs inside the source's Next on
// the loop's behalf (the tap: filters, -c, --duration, -w), since those
// would then run on the producer's goroutine. A capture.Packet holds no
// pointer into the source's buffers, so a copied one stays valid.
type prefetch struct {
	ch   chan *prefetchBatch // filled batches, closed when the source ends
	free chan *prefetchBatch // batches the loop is done with
	cur  *prefetchBatch
	i    int
	done chan struct{} // closed when the producer has returned
}

// prefetchBatch is a run of decoded packets and the source's statistics
// after the last of them (for the progress bar).
type prefetchBatch struct {
	pkts  []capture.Packet
	stats capture.Stats
}

const (
	prefetchBatchLen = 256
	prefetchDepth    = 4
)

// startPrefetch starts the producer on src. It stops at the end of src, or
// at the next batch once ctx is done; the loop then drains what was read.
// The caller must call wait before using src again.
func startPrefetch(ctx context.Context, src *capture.Source) *prefetch {
	p := &prefetch{
		ch:   make(chan *prefetchBatch, prefetchDepth),
		free: make(chan *prefetchBatch, prefetchDepth+2),
		done: make(chan struct{}),
	}
	go func() {
		defer close(p.done)
		defer close(p.ch)
		for ctx.Err() == nil {
			var b *prefetchBatch
			select {
			case b = <-p.free:
				b.pkts = b.pkts[:0]
			default:
				b = &prefetchBatch{pkts: make([]capture.Packet, 0, prefetchBatchLen)}
			}
			more := true
			for len(b.pkts) < prefetchBatchLen {
				b.pkts = append(b.pkts, capture.Packet{})
				if !src.Next(&b.pkts[len(b.pkts)-1]) {
					b.pkts = b.pkts[:len(b.pkts)-1]
					more = false
					break
				}
			}
			b.stats = src.Stats()
			if len(b.pkts) > 0 {
				p.ch <- b
			}
			if !more {
				return
			}
		}
	}()
	return p
}

// Next copies the next packet into pkt; false once the producer has
// stopped and every packet it read was handed over.
func (p *prefetch) Next(pkt *capture.Packet) bool {
	for p.cur == nil || p.i == len(p.cur.pkts) {
		if p.cur != nil {
			select {
			case p.free <- p.cur:
			default:
			}
		}
		b, ok := <-p.ch
		if !ok {
			p.cur = nil
			return false
		}
		p.cur, p.i = b, 0
	}
	*pkt = p.cur.pkts[p.i]
	p.i++
	return true
}

// Stats returns the source's statistics as of the batch being read.
func (p *prefetch) Stats() capture.Stats {
	if p.cur == nil {
		return capture.Stats{}
	}
	return p.cur.stats
}

// Err is always nil: the caller reads the source's own error after wait.
func (p *prefetch) Err() error { return nil }

// Close does nothing: the caller closes the source after wait.
func (p *prefetch) Close() error { return nil }

// wait drains what is left (after the loop stopped early) and waits for the
// producer to return; after it the source belongs to the caller again.
func (p *prefetch) wait() {
	for range p.ch {
	}
	<-p.done
}
