package main

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestHugePages runs adviseHugePages in a fresh process (this test binary
// again, as main would at start), fills 32 MiB of the heap with flow-sized
// objects, and reads how much of its memory the kernel backs with huge
// pages. With the machine's THP in "madvise" mode, the advice is what puts
// the heap on huge pages; GODEBUG=disablethp=1 keeps it off them. In
// "always" mode the heap is on huge pages without the advice, and in
// "never" mode on none whatever is asked; under strict overcommit nothing
// is advised. In those cases the test checks that no range was mapped.
func TestHugePages(t *testing.T) {
	if os.Getenv("TCPTRACE_HUGE_CHILD") != "" {
		return // the child's side runs in TestHugePagesChild
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		mode = []byte("(no THP: " + err.Error() + ")")
	}
	t.Logf("transparent_hugepage/enabled: %s", bytes.TrimSpace(mode))
	run := func(godebug string) (huge, heapSys uint64) {
		t.Helper()
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe, "-test.run=^TestHugePagesChild$")
		cmd.Env = append(os.Environ(), "TCPTRACE_HUGE_CHILD=1", "GODEBUG="+godebug)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) == 3 && f[0] == "huge-child" {
				huge, _ = strconv.ParseUint(f[1], 10, 64)
				heapSys, _ = strconv.ParseUint(f[2], 10, 64)
				return huge, heapSys
			}
		}
		t.Fatalf("child printed no result:\n%s", out)
		return 0, 0
	}
	advised, advisedSys := run("")
	off, offSys := run("disablethp=1")
	t.Logf("AnonHugePages: %d KiB advised, %d KiB with disablethp=1; heap reserved %d and %d MiB", advised>>10, off>>10, advisedSys>>20, offSys>>20)
	oc, _ := os.ReadFile("/proc/sys/vm/overcommit_memory")
	t.Logf("vm.overcommit_memory: %s", bytes.TrimSpace(oc))
	switch {
	case ^uintptr(0)>>32 != 0 && bytes.Contains(mode, []byte("[madvise]")) && !bytes.HasPrefix(oc, []byte("2")):
		if advised < 8<<20 {
			t.Errorf("advised heap: %d KiB on huge pages, want most of the 32 MiB filled", advised>>10)
		}
		if off != 0 {
			t.Errorf("GODEBUG=disablethp=1: %d KiB on huge pages, want none", off>>10)
		}
		if advisedSys < hugeHeapBytes {
			t.Errorf("advised heap reserved %d MiB, want at least the %d MiB advised", advisedSys>>20, hugeHeapBytes>>20)
		}
	default:
		// Nothing to advise, strict overcommit or 32 bits: adviseHugePages must
		// leave the heap alone.
		if advisedSys >= hugeHeapBytes {
			t.Errorf("THP mode %q, overcommit %q: the heap reserved %d MiB; want no advised range mapped", bytes.TrimSpace(mode), bytes.TrimSpace(oc), advisedSys>>20)
		}
	}
}

// TestHugePagesChild is TestHugePages's fresh process.
func TestHugePagesChild(t *testing.T) {
	if os.Getenv("TCPTRACE_HUGE_CHILD") == "" {
		return
	}
	adviseHugePages()
	// Flow-sized objects, each written, as the table makes them.
	const size, total = 3200, 32 << 20
	objs := make([][]byte, 0, total/size)
	for range total / size {
		b := make([]byte, size)
		b[0], b[size-1] = 1, 1
		objs = append(objs, b)
	}
	rollup, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	var huge uint64
	for _, line := range strings.Split(string(rollup), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "AnonHugePages:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			huge = kb << 10
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(objs)
	os.Stdout.WriteString("huge-child " + strconv.FormatUint(huge, 10) + " " + strconv.FormatUint(ms.HeapSys, 10) + "\n")
}
