package fsm

import (
	"testing"
	"time"
	"unsafe"
)

// TestSizes keeps the per-flow state from growing back unnoticed: every
// open flow holds a Conn, and up to eight Transitions per side (the
// performance issue's budget is about 1 KB per open flow, everything
// included). The limits are 64-bit sizes; 32-bit ones are smaller.
func TestSizes(t *testing.T) {
	for _, tt := range []struct {
		name      string
		got, want uintptr
	}{
		{"Conn", unsafe.Sizeof(Conn{}), 608},
		{"Endpoint", unsafe.Sizeof(Endpoint{}), 208},
		{"receipt", unsafe.Sizeof(receipt{}), 28},
		{"Transition", unsafe.Sizeof(Transition{}), 56},
		{"nanotime", unsafe.Sizeof(nanotime(0)), 8},
	} {
		if tt.got > tt.want {
			t.Errorf("unsafe.Sizeof(%s{}) = %d, want at most %d", tt.name, tt.got, tt.want)
		}
	}
}

// TestNanotime: every capture time, the Unix epoch included, and the zero
// time.Time survive the round trip exactly (==, not just Equal).
func TestNanotime(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Unix(0, 0).UTC(),
		time.Unix(0, 1).UTC(),
		time.Unix(1, 999999999).UTC(),
		time.Unix(1<<32-1, 999999999).UTC(), // the last pcap second
		time.Date(2026, 11, 25, 10, 0, 0, 123456789, time.UTC),
	} {
		if got := nanoOf(tm).time(); got != tm {
			t.Errorf("nanoOf(%v).time() = %v, want %v", tm, got, tm)
		}
	}
	if nanoOf(time.Time{}) != 0 {
		t.Errorf("nanoOf(zero) = %d, want 0", nanoOf(time.Time{}))
	}
	a, b := time.Unix(5, 0).UTC(), time.Unix(5, 1).UTC()
	if !(nanoOf(a) < nanoOf(b)) || !(nanoOf(time.Time{}) < nanoOf(time.Unix(0, 0))) {
		t.Errorf("nanotime does not order like time.Time")
	}
}
