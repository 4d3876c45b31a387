package filter_test

import (
	"errors"
	"testing"

	"github.com/tcptrace/tcptrace/filter"
	"golang.org/x/net/bpf"
)

// FuzzCompile checks that no expression makes Compile panic, that every program
// it returns assembles, is accepted by x/net/bpf's VM and stays within the
// kernel's limits, and that the VM and Filter agree on it.
func FuzzCompile(f *testing.F) {
	for _, e := range captureExprs {
		f.Add(e)
	}
	for _, e := range diffExprs {
		f.Add(e)
	}
	for _, e := range []string{"((((", "not not not", "tcp[tcp[tcp[0]]]", "-(-(-len)) = 1", "vlan and vlan and vlan and vlan", "host ::ffff:1.2.3.4", "port 80 or (443 or (22 and not 25))"} {
		f.Add(e)
	}
	frames := framesFor(filter.LinkTypeEthernet)
	documented := func(err error) bool {
		var se *filter.SyntaxError
		var ue *filter.UnsupportedError
		return errors.As(err, &se) || errors.As(err, &ue) || errors.Is(err, filter.ErrRejectAll) || errors.Is(err, filter.ErrTooLong)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if kprog, err := filter.CompileKernel(expr, filter.LinkTypeEthernet, 262144); err != nil {
			if !documented(err) {
				t.Fatalf("CompileKernel(%q) = %v: not one of the documented errors", expr, err)
			}
		} else if _, err := bpf.Assemble(kprog); err != nil {
			t.Fatalf("Assemble(CompileKernel(%q)): %v", expr, err)
		}
		for _, lt := range []uint16{filter.LinkTypeEthernet, filter.LinkTypeLinuxSLL2, filter.LinkTypeNull} {
			prog, err := filter.Compile(expr, lt, 262144)
			if err != nil {
				if !documented(err) {
					t.Fatalf("Compile(%q) = %v: not one of the documented errors", expr, err)
				}
				continue
			}
			if len(prog) == 0 || len(prog) > 4096 {
				t.Fatalf("Compile(%q): %d instructions", expr, len(prog))
			}
			if _, err := bpf.Assemble(prog); err != nil {
				t.Fatalf("Assemble(Compile(%q)): %v", expr, err)
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				if !usesUnsupportedInsn(prog) {
					t.Fatalf("NewVM(Compile(%q)): %v", expr, err)
				}
				continue
			}
			if lt != filter.LinkTypeEthernet || usesUnsupportedInsn(prog) {
				continue
			}
			m, err := filter.New(expr, lt)
			if err != nil {
				t.Fatalf("New(%q): %v", expr, err)
			}
			for _, fr := range frames[:40] {
				want, err := vm.Run(fr)
				if err != nil {
					t.Fatalf("%q: VM.Run: %v", expr, err)
				}
				if got := m.Match(fr); got != (want != 0) {
					t.Fatalf("%q: Match(% x) = %v, x/net/bpf says %d", expr, fr, got, want)
				}
			}
		}
	})
}
