package main

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"syscall"
)

// hugeHeapBytes is how much of the heap's address space adviseHugePages
// asks transparent huge pages for: more than the benchmark's whole heap
// (at most 73 MiB on the 2M-packet capture and 77 MiB on the 20M-packet
// one at GOGC=30, GODEBUG=gctrace=1), so that the flow table, its index and the
// findings engine's tables sit in it. Past it the heap grows on ordinary
// pages.
const hugeHeapBytes = 128 << 20

// adviseHugePages asks the kernel to back the first hugeHeapBytes of the
// Go heap with 2 MiB pages when the machine's transparent huge pages are
// in "madvise" mode (as on the benchmark machine), as they are in "always"
// mode.
//
// Why: every packet reads and writes its flow, a 3.2 KiB object among
// thousands that were touched in no particular order, so with 4 KiB pages
// a packet is likely to miss the TLB as well. A 500,000-packet capture
// with 2000 connections open took 0.78 s instead of 0.94 s (median of 8
// runs), the 2M-packet benchmark 1.84 s instead of 1.92 s and its
// snaplen-128 twin 1.70 s instead of 1.86 s (median of 5), for the same
// peak RSS (issue 7). The Go runtime advises huge pages for its own
// metadata only.
//
// How: a freshly mapped large allocation is not touched by the runtime
// (fresh memory is already zero), so advising it before anyone writes to
// it makes the kernel fault it in as huge pages later. Once it is
// garbage, its pages go back to the heap, which hands out its lowest free
// pages first: the flows and tables allocated next land in the advised
// range. The collection right after drops it at once, before it could
// raise the first collection's goal to its size.
//
// A 32-bit process, whose whole address space is 4 GiB, is left alone.
// GODEBUG=disablethp=1, the runtime's own switch to keep the heap off huge
// pages, turns this off as well. So does strict overcommit accounting
// (vm.overcommit_memory=2), under which the untouched range would still be
// charged.
func adviseHugePages() {
	if ^uintptr(0)>>32 == 0 || strings.Contains(os.Getenv("GODEBUG"), "disablethp=1") {
		return
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !bytes.Contains(mode, []byte("[madvise]")) {
		return // "always" needs no advice, "never" takes none
	}
	if oc, err := os.ReadFile("/proc/sys/vm/overcommit_memory"); err != nil || bytes.HasPrefix(oc, []byte("2")) {
		// Strict accounting charges the whole range when it is mapped,
		// and a refused mapping is fatal to a Go program.
		return
	}
	b := make([]byte, hugeHeapBytes)
	// An error (a kernel without THP) leaves the heap as it was.
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
	runtime.KeepAlive(b)
	runtime.GC()
}
