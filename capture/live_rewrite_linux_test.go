package capture

import (
	"errors"
	"reflect"
	"testing"

	"golang.org/x/net/bpf"
)

// TestCookedProgram checks the rewriting of LINUX_SLL2 programs for a cooked
// socket, libpcap's fix_program: header fields become ancillary loads,
// offsets past the header move down, and what the kernel cannot see fails.
func TestCookedProgram(t *testing.T) {
	ld := func(size, k uint32) bpf.RawInstruction {
		op := map[uint32]uint16{1: bpfB, 2: bpfH, 4: bpfW}[size]
		return bpf.RawInstruction{Op: bpfLD | bpfABS | op, K: k}
	}
	ind := bpf.RawInstruction{Op: bpfLD | bpfIND | bpfH, K: 22}
	msh := bpf.RawInstruction{Op: bpfLDX | bpfMSH | bpfB, K: 20}
	ret := bpf.RawInstruction{Op: bpfRet, K: 262144}
	tests := []struct {
		name string
		in   []bpf.RawInstruction
		want []bpf.RawInstruction // nil: ErrKernelFilter
	}{
		{"protocol", []bpf.RawInstruction{ld(2, 0), ret}, []bpf.RawInstruction{ld(2, skfAdOff+skfAdProtocol), ret}},
		{"ifindex", []bpf.RawInstruction{ld(4, 4)}, []bpf.RawInstruction{ld(4, skfAdOff+skfAdIfindex)}},
		{"hatype", []bpf.RawInstruction{ld(2, 8)}, []bpf.RawInstruction{ld(2, skfAdOff+skfAdHatype)}},
		{"pkttype", []bpf.RawInstruction{ld(1, 10)}, []bpf.RawInstruction{ld(1, skfAdOff+skfAdPkttype)}},
		{"ip proto", []bpf.RawInstruction{ld(1, 29)}, []bpf.RawInstruction{ld(1, 9)}},
		{"tcp port", []bpf.RawInstruction{msh, ind}, []bpf.RawInstruction{{Op: msh.Op, K: 0}, {Op: ind.Op, K: 2}}},
		{"ancillary kept", []bpf.RawInstruction{ld(4, skfAdOff+44)}, []bpf.RawInstruction{ld(4, skfAdOff+44)}},
		{"len", []bpf.RawInstruction{{Op: bpfLD | bpfLEN}}, nil},
		{"address byte", []bpf.RawInstruction{ld(1, 12)}, nil},
		{"protocol as a byte", []bpf.RawInstruction{ld(1, 0)}, nil},
		{"indirect in header", []bpf.RawInstruction{{Op: bpfLD | bpfIND | bpfB, K: 3}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cookedProgram(tt.in)
			if tt.want == nil {
				if !errors.Is(err, ErrKernelFilter) {
					t.Errorf("cookedProgram(%v) = %v, %v, want ErrKernelFilter", tt.in, got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("cookedProgram(%v) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
		})
	}
}
