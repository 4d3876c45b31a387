package anomaly_test

import (
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/anomaly"
)

// every100ms returns n probe times exactly 100 000 µs apart, as nmap's
// OS_SEQ_PROBE_DELAY.
func every100ms(n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = time.Unix(1700000000, 0).Add(time.Duration(i) * 100 * time.Millisecond)
	}
	return ts
}

// The "Measured vectors" of anomalies.md §1: nmap 7.93's values and its
// SP/GCD/ISR for five generators behind a scapy SYN-ACK responder.
var nmapVectors = []struct {
	name         string
	isns         []uint32
	sp, gcd, isr int
	label        string
}{
	{"linux_rfc6528", []uint32{0x74193954, 0xDD3B221B, 0xB26E1AEA, 0x9E228EA8, 0x765BD794, 0x3E7CBF21}, 0x103, 1, 0x108, "Good luck!"},
	{"bsd_64k", []uint32{0x142440, 0x151E40, 0x161840, 0x171240, 0x180C40, 0x1A0040}, 0x11, 0xFA00, 0x9C, "Good luck!"},
	{"clock_250khz", []uint32{0x7F8AB, 0x85A5D, 0x8BC13, 0x91DAC, 0x97F69, 0x9E15F}, 0x43, 1, 0x8F, "Good luck!"},
	{"incr_1", []uint32{2, 3, 4, 5, 6, 7}, 0, 1, 0x1B, "Trivial joke"},
	{"rand16_shl16", []uint32{0x32A80000, 0x406C0000, 0xE83B0000, 0x52CD0000, 0x0B9E0000, 0xEB510000}, 0x85, 0x10000, 0x10A, "Good luck!"},
}

func TestNmapTSeqVectors(t *testing.T) {
	for _, tt := range nmapVectors {
		t.Run(tt.name, func(t *testing.T) {
			gcd, isr, sp, label, ok := anomaly.NmapTSeq(tt.isns, every100ms(len(tt.isns)))
			if !ok || sp != tt.sp || int(gcd) != tt.gcd || isr != tt.isr || label != tt.label {
				t.Errorf("NmapTSeq(%X) = SP=%X GCD=%X ISR=%X %q %v, want SP=%X GCD=%X ISR=%X %q true",
					tt.isns, sp, gcd, isr, label, ok, tt.sp, tt.gcd, tt.isr, tt.label)
			}
		})
	}
}

func TestNmapTSeqEdges(t *testing.T) {
	tests := []struct {
		name    string
		isns    []uint32
		times   []time.Time
		gcd     uint32
		isr, sp int
		ok      bool
	}{
		{"three samples", []uint32{1, 2, 3}, every100ms(3), 0, 0, 0, false},
		{"length mismatch", []uint32{1, 2, 3, 4}, every100ms(5), 0, 0, 0, false},
		{"constant", []uint32{7, 7, 7, 7}, every100ms(4), 0, 0, 0, true},
		// moddiff takes the short way round: 0xFFFFFFFF → 1 is 2 apart;
		// 20/s gives ISR round(8·log2 20) = round(34.6) = 0x23.
		{"wrap", []uint32{0xFFFFFFFD, 0xFFFFFFFF, 1, 3}, every100ms(4), 2, 0x23, 0, true},
		// Equal times count as 1 µs (nmap: "We divide by this later"):
		// 10^6/s gives round(8·19.93) = 159 = 0x9F.
		{"same time", []uint32{0, 1, 2, 3}, make([]time.Time, 4), 1, 0x9F, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gcd, isr, sp, _, ok := anomaly.NmapTSeq(tt.isns, tt.times)
			if gcd != tt.gcd || isr != tt.isr || sp != tt.sp || ok != tt.ok {
				t.Errorf("NmapTSeq(%X) = %X, %X, %X, %v, want %X, %X, %X, %v", tt.isns, gcd, isr, sp, ok, tt.gcd, tt.isr, tt.sp, tt.ok)
			}
		})
	}
}

func TestNmapDifficulty(t *testing.T) {
	tests := []struct {
		sp   int
		want string
	}{
		{0, "Trivial joke"}, {2, "Trivial joke"}, {3, "Easy"}, {5, "Easy"}, {6, "Medium"}, {10, "Medium"},
		{11, "Formidable"}, {12, "Worthy challenge"}, {15, "Worthy challenge"}, {16, "Good luck!"}, {259, "Good luck!"},
	}
	for _, tt := range tests {
		if got := anomaly.NmapDifficulty(tt.sp); got != tt.want {
			t.Errorf("NmapDifficulty(%d) = %q, want %q", tt.sp, got, tt.want)
		}
	}
}

func TestNmapClass1(t *testing.T) {
	tests := []struct {
		name  string
		isns  []uint32
		class string
		index uint32
	}{
		{"too few", []uint32{1, 2, 3}, "", 0},
		{"constant", []uint32{0xdeadbeef, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef}, "C", 0},
		{"64K", nmapVectors[1].isns, "64K", 1},
		{"i800", []uint32{800, 2400, 3200, 5600}, "i800", 10},
		{"TR linux", nmapVectors[0].isns, "TR", 9999999},
		{"TR 16 bits", nmapVectors[4].isns, "TR", 9999999},
		// 250 kHz: diffs 25010 25014 24985 25021 25078, gcd 1, truncated
		// mean 25021, deviations 11 7 36 0 57 → sqrt(4715/5) = 30.7 → 31.
		{"TD 250kHz", nmapVectors[2].isns, "TD", 31},
		{"TD incr", nmapVectors[3].isns, "TD", 0},
		// Steps 1000, 9000, 3000, 300 (gcd 100 → 10, 90, 30, 3): mean 33,
		// deviations 23 57 3 30 → sqrt(4687/4) = 34.2 → 34.
		{"TD small", []uint32{0, 1000, 10000, 13000, 13300}, "TD", 34},
		// Steps of a few million (gcd 1): mean 2500001, deviations 500000
		// 1499999 2500000 1500000 → sqrt(2.75e12) = 1658312.
		{"RI", []uint32{0, 3000001, 4000003, 9000004, 10000005}, "RI", 1658312},
		// 64K takes precedence over TR, as in nmap.
		{"64K over TR", []uint32{0, 64000 * 1000, 64000 * 3000, 64000 * 3001}, "64K", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, index := anomaly.NmapClass1(tt.isns)
			if class != tt.class || index != tt.index {
				t.Errorf("NmapClass1(%d) = %q, %d, want %q, %d", tt.isns, class, index, tt.class, tt.index)
			}
		})
	}
}

func TestNmapIPIDClass(t *testing.T) {
	tests := []struct {
		name      string
		ids       []uint16
		localhost bool
		want      string
	}{
		{"one", []uint16{5}, false, ""},
		{"zero", []uint16{0, 0, 0}, false, "Z"},
		{"constant", []uint16{0x1234, 0x1234, 0x1234}, false, "1234"},
		{"incr 1", []uint16{100, 101, 102, 104}, false, "I"},
		{"incr 2", []uint16{100, 102, 104, 110}, false, "I"},
		{"broken incr", []uint16{0x0100, 0x0200, 0x0400, 0x0500}, false, "BI"},
		{"random positive", []uint16{100, 1500, 2900, 4400}, false, "RI"},
		{"random", []uint16{100, 30000, 200, 5}, false, "RD"},
		// The u32 difference of a 16-bit wrap is huge: RD, before the mask.
		{"wrap is RD", []uint16{65534, 1, 3}, false, "RD"},
		// With two samples there is no RD test; the mask makes it +3.
		{"wrap two", []uint16{65534, 1}, false, "I"},
		{"odd mid steps", []uint16{100, 111, 124}, false, ""},
		// Loopback: nmap's own RST takes an ID, so steps of 2 become 1.
		{"localhost", []uint16{10, 12, 14, 16}, true, "I"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := anomaly.NmapIPIDClass(tt.ids, tt.localhost); got != tt.want {
				t.Errorf("NmapIPIDClass(%d, %v) = %q, want %q", tt.ids, tt.localhost, got, tt.want)
			}
		})
	}
}

func TestIdleScanCandidate(t *testing.T) {
	tests := []struct {
		name string
		ids  []uint16
		want bool
	}{
		{"global counter", []uint16{100, 101, 103, 104, 106}, true},
		{"broken counter", []uint16{0x0100, 0x0200, 0x0300, 0x0500}, true},
		{"busy counter", []uint16{100, 200, 300, 400}, false},
		{"random", []uint16{100, 30000, 200, 5}, false},
		{"zero", []uint16{0, 0, 0}, false},
	}
	for _, tt := range tests {
		if got := anomaly.IdleScanCandidate(tt.ids); got != tt.want {
			t.Errorf("IdleScanCandidate(%d) = %v, want %v", tt.ids, got, tt.want)
		}
	}
}
