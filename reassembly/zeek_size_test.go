package reassembly

import (
	"testing"
	"unsafe"
)

// TestZeekSizes keeps ZeekConn, which every flow holds, from growing back
// unnoticed (64-bit sizes; 32-bit ones are smaller).
func TestZeekSizes(t *testing.T) {
	if got := unsafe.Sizeof(ZeekConn{}); got > 504 {
		t.Errorf("unsafe.Sizeof(ZeekConn{}) = %d, want at most 504", got)
	}
	if got := unsafe.Sizeof(zeekEndpoint{}); got > 152 {
		t.Errorf("unsafe.Sizeof(zeekEndpoint{}) = %d, want at most 152", got)
	}
}

// TestZeekThresholds: the table holds exactly the thresholds that
// Connection::ScaledHistoryEntry's uint32 arithmetic goes through, and
// scaled follows it to the last one, where the count starts again.
func TestZeekThresholds(t *testing.T) {
	thr := uint32(1)
	for i, want := range zeekThresholds {
		if thr != want {
			t.Fatalf("zeekThresholds[%d] = %d, want %d", i, want, thr)
		}
		next := thr * 10
		if next <= thr {
			if i != len(zeekThresholds)-1 {
				t.Fatalf("threshold %d wraps at index %d, before the end of the table", thr, i)
			}
			break
		}
		thr = next
	}

	// Drive one counter through every threshold (cnt is set just short of
	// each, as Observe would reach it one segment at a time).
	var z ZeekConn
	z.pieces = 1
	e := &z.ep[0]
	for i, want := range zeekThresholds {
		e.cnt[scaledRxmit] = want - 1
		z.scaled(0, scaledRxmit)
		if int(z.histLen) != i+1 {
			t.Fatalf("after threshold %d (%d): %d letters, want %d", i, want, z.histLen, i+1)
		}
	}
	if last := len(zeekThresholds) - 1; e.thr[scaledRxmit] != uint8(last) || e.cnt[scaledRxmit] != 0 {
		t.Errorf("after the last threshold: index %d, count %d; want %d, 0", e.thr[scaledRxmit], e.cnt[scaledRxmit], last)
	}
}
