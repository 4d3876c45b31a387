package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/pflag"
)

// profiles holds the hidden flags for performance work (issue 7):
// --cpuprofile and --memprofile write pprof profiles of a run, and --serial
// runs everything on the read loop's goroutine (no prefetch.go, no
// pipeline.go) and reuses no flow, to measure what they gain and as the
// plain run the tests compare them with (TestConcurrentSameAsSerial).
type profiles struct {
	cpu, mem string
	serial   bool
	cpuFile  *os.File
}

// addProfileFlags registers the hidden profiling flags on fs.
func addProfileFlags(fs *pflag.FlagSet) *profiles {
	p := &profiles{}
	fs.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the run to `file`")
	fs.StringVar(&p.mem, "memprofile", "", "write a heap profile, taken when the report is written, to `file`")
	fs.BoolVar(&p.serial, "serial", false, "run everything on one goroutine and reuse no flow")
	fs.MarkHidden("cpuprofile")
	fs.MarkHidden("memprofile")
	fs.MarkHidden("serial")
	return p
}

// start begins the CPU profile, if asked for.
func (p *profiles) start() error {
	if p.cpu == "" {
		return nil
	}
	f, err := os.Create(p.cpu)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	p.cpuFile = f
	return nil
}

// heap writes the heap profile, if asked for: called at the end of the
// read, when what the run holds is largest.
func (p *profiles) heap() error {
	if p.mem == "" {
		return nil
	}
	f, err := os.Create(p.mem)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	runtime.GC()
	err = pprof.WriteHeapProfile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}

// stop ends the CPU profile.
func (p *profiles) stop() error {
	if p.cpuFile == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := p.cpuFile.Close()
	p.cpuFile = nil
	return err
}
