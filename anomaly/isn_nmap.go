package anomaly

import (
	"fmt"
	"math"
	"time"
)

// moddiff is nmap's MOD_DIFF (utils.h): the shorter way round the 32-bit
// circle between a and b.
func moddiff(a, b uint32) uint32 { return min(a-b, b-a) }

// gcd is Euclid's algorithm with gcd(0, x) = x, as nmap's gcd_n_uint.
func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// NmapTSeq computes nmap's 2nd-generation sequence-predictability triple
// (the SEQ line's GCD, ISR and SP) and the "TCP Sequence Prediction:
// Difficulty" label over the ISNs isns, sampled at times (one per ISN, in
// sample order). It reproduces HostOsScan::makeTSeqFP (nmap osscan2.cc) so
// that tcptrace's numbers can be compared with an nmap -O run on the same
// traffic:
//
//	d[j]    = moddiff(x[j], x[j-1])            shorter way round 2^32
//	rate[j] = d[j]·10^6 / dt[j]                dt in whole µs, 0 becomes 1
//	gcd     = gcd(d[1..n-1]); gcd 0 (constant ISN) gives ISR = SP = 0
//	ISR     = round(8·log2(mean(rate)))
//	sd      = sqrt(Σ(rate[j]/div − mean/div)² / (n−2)), div = gcd if gcd > 9 else 1
//	SP      = 0 if sd ≤ 1 else round(8·log2(sd))
//
// As in nmap the rates are single-precision floats and "round" is
// truncation of x+0.5. ok is false, and the other results are zero, when
// there are fewer than 4 samples (nmap prints nothing then) or when the
// slices differ in length.
//
// The label is not a verdict: a 4.4BSD 64K-rule host and a pure 250 kHz
// clock both print "Good luck!" (anomalies.md §1). The ISNTracker decides
// with prediction residuals instead and reports this triple for
// familiarity.
func NmapTSeq(isns []uint32, times []time.Time) (gcdv uint32, isr int, sp int, label string, ok bool) {
	n := len(isns)
	if n < 4 || len(times) != n {
		return 0, 0, 0, "", false
	}
	rates := make([]float32, n-1)
	var avg float64
	for j := 1; j < n; j++ {
		d := moddiff(isns[j], isns[j-1])
		gcdv = gcd(gcdv, d)
		// TIMEVAL_SUBTRACT works in whole microseconds.
		dt := times[j].Sub(times[j-1]).Microseconds()
		if dt == 0 {
			dt = 1 // nmap: "We divide by this later"
		}
		// nmap stores seq_rates as float; keep the rounding so SP
		// matches nmap's to the last digit.
		rates[j-1] = float32(float64(d) * 1000000.0 / float64(dt))
		avg += float64(rates[j-1])
	}
	avg /= float64(n - 1)
	if gcdv == 0 {
		// Constant ISN: nmap forces ISR = SP = 0.
		return 0, 0, 0, NmapDifficulty(0), true
	}
	if r := math.Log(avg)/math.Log(2.0)*8 + 0.5; r > 0 {
		isr = int(r)
	}
	// "Normally we don't divide by gcd ... if a system inherently uses a
	// large gcd such as 64,000, we want to get rid of it ... so we divide
	// by the gcd if it is at least 9" (osscan2.cc; the test is gcd > 9).
	div := uint32(1)
	if gcdv > 9 {
		div = gcdv
	}
	var ss float64
	for _, r := range rates {
		x := float64(r/float32(div)) - avg/float64(div)
		ss += x * x
	}
	sd := math.Sqrt(ss / float64(n-2))
	if sd > 1 {
		sp = int(math.Log(sd)/math.Log(2.0)*8 + 0.5)
	}
	return gcdv, isr, sp, NmapDifficulty(sp), true
}

// NmapDifficulty is nmap's seqidx2difficultystr (osscan2.cc): the words
// nmap -O -v prints after "TCP Sequence Prediction: Difficulty=SP".
func NmapDifficulty(sp int) string {
	switch {
	case sp < 3:
		return "Trivial joke"
	case sp < 6:
		return "Easy"
	case sp < 11:
		return "Medium"
	case sp < 12:
		return "Formidable"
	case sp < 16:
		return "Worthy challenge"
	}
	return "Good luck!"
}

// NmapClass1 classifies isns the way 1st-generation nmap (up to 4.2x,
// osscan.cc get_fingerprint) did, returning the TSeq Class and its
// sequence index:
//
//	C     constant ISN (every difference 0), index 0
//	64K   gcd of the differences a multiple of 64 000 (4.4BSD), index 1
//	i800  gcd a multiple of 800, index 10
//	TR    "truly random": a difference above 50 000 000, index 9999999
//	TD    time dependent: index < 75 (Windows 3.x/95/NT4)
//	RI    random increments: index ≥ 75
//
// Differences are moddiff's. For TD and RI the index is
// round(sqrt(Σ moddiff(d/gcd, avg)² / (n−1))) with avg the truncated mean
// of d/gcd. As in nmap, C, 64K and i800 take precedence over TR (nmap
// tests them after the TR loop and overwrites the class). It needs 4
// samples, as nmap did; with fewer it returns "" and 0.
func NmapClass1(isns []uint32) (class string, index uint32) {
	n := len(isns)
	if n < 4 {
		return "", 0
	}
	var g uint32
	tr := false
	for j := 1; j < n; j++ {
		d := moddiff(isns[j], isns[j-1])
		g = gcd(g, d)
		if d > 50000000 {
			tr = true
		}
	}
	switch {
	case g == 0:
		return "C", 0
	case g%64000 == 0:
		return "64K", 1
	case g%800 == 0:
		return "i800", 10
	case tr:
		return "TR", 9999999
	}
	// nmap accumulates in an unsigned int; with no difference above 5e7 and
	// 6 samples it cannot overflow, but passive series are longer.
	var sum uint64
	for j := 1; j < n; j++ {
		sum += uint64(moddiff(isns[j], isns[j-1]) / g)
	}
	// seq_avg_inc = (unsigned int)(0.5 + sum/(n-1)) with integer division
	// first, so the mean is truncated.
	avg := uint32(sum / uint64(n-1))
	var ss float64
	for j := 1; j < n; j++ {
		m := float64(moddiff(moddiff(isns[j], isns[j-1])/g, avg))
		ss += m * m
	}
	index = uint32(0.5 + math.Sqrt(ss/float64(n-1)))
	if index < 75 {
		return "TD", index
	}
	return "RI", index
}

// NmapIPIDClass classifies a series of IPv4 IP IDs the way nmap's
// get_ipid_sequence_16 (osscan2.cc get_diffs and identify_sequence) does
// for the TI, CI and II tests, returning the value nmap prints:
//
//	RD   random: more than 2 samples and a difference (u32, before the
//	     16-bit mask, so a 16-bit wrap counts too) above 20 000
//	Z    every ID 0
//	%X   constant: the first ID in hex (every masked difference 0)
//	RI   random positive increments: a difference above 1000 that is not
//	     a multiple of 256, or is at least 25 600
//	BI   broken increment (byte-swapped counter): all differences
//	     multiples of 256 and at most 5120
//	I    incremental: all differences even, or all below 10
//
// It returns "" when nmap would omit the test (fewer than 2 IDs, or no
// class fits). localhost applies nmap's loopback correction (every
// difference of at least 2 is reduced by the RST nmap's own stack sends).
// This is an info classifier: passive gaps between a host's SYN-ACKs turn
// I into RI; see IdleScanCandidate.
func NmapIPIDClass(ids []uint16, localhost bool) string {
	n := len(ids)
	if n < 2 {
		return ""
	}
	diffs := make([]uint32, n-1)
	allZero := true
	for i := 1; i < n; i++ {
		if ids[i-1] != 0 || ids[i] != 0 {
			allZero = false
		}
		diffs[i-1] = uint32(ids[i]) - uint32(ids[i-1])
		if n > 2 && diffs[i-1] > 20000 {
			return "RD"
		}
	}
	if allZero {
		return "Z"
	}
	for i := range diffs {
		diffs[i] &= 0xffff
	}
	if localhost {
		all := true
		for _, d := range diffs {
			if d < 2 {
				all = false
				break
			}
		}
		if all {
			for i, d := range diffs {
				if d%256 == 0 {
					diffs[i] = d - 256
				} else {
					diffs[i] = d - 1
				}
			}
		}
	}
	constant := true
	for _, d := range diffs {
		if d != 0 {
			constant = false
			break
		}
	}
	if constant {
		return fmt.Sprintf("%X", ids[0])
	}
	for _, d := range diffs {
		if d > 1000 && (d%256 != 0 || d >= 25600) {
			return "RI"
		}
	}
	bi, by2, lt10 := true, true, true
	for _, d := range diffs {
		if d > 5120 || d%256 != 0 {
			bi = false
		}
		if d%2 != 0 {
			by2 = false
		}
		if d > 9 {
			lt10 = false
		}
	}
	switch {
	case bi:
		return "BI"
	case by2, lt10:
		return "I"
	}
	return ""
}

// IdleScanCandidate reports whether a host's IP IDs (from its SYN-ACKs and
// RSTs, in capture order) come from one global incremental counter that an
// idle scan (nmap -sI) could use as a zombie: NmapIPIDClass says I or BI and
// the median step is below 10 (anomalies.md §1). For BI the step is counted
// in units of the byte-swapped counter (difference/256), since a BI host's
// counter advances by 256 per packet on the wire.
func IdleScanCandidate(ids []uint16) bool {
	c := NmapIPIDClass(ids, false)
	if c != "I" && c != "BI" {
		return false
	}
	steps := make([]float64, len(ids)-1)
	for i := 1; i < len(ids); i++ {
		d := uint32(ids[i]-ids[i-1]) & 0xffff
		if c == "BI" {
			d /= 256
		}
		steps[i-1] = float64(d)
	}
	return median(steps) < 10
}
