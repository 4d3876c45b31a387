package reassembly

import (
	"testing"
	"unsafe"
)

// TestFlowSizeClass keeps a Flow in the allocator's 3200-byte size class
// (3184 bytes and the 8-byte header the allocator adds to an object of this
// size with pointers): 9 bytes more and every open connection takes 3456
// (issue 7: memory per open connection). Make room by ordering fields so
// that none is padded (small ones together), or by moving state used by
// few flows behind a pointer.
func TestFlowSizeClass(t *testing.T) {
	const class, header = 3200, 8
	if n := unsafe.Sizeof(Flow{}); n+header > class {
		t.Errorf("unsafe.Sizeof(Flow{}) = %d, want at most %d (the %d-byte size class)", n, class-header, class)
	}
}
