package anomaly

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const (
	ln2    = math.Ln2
	ln2p32 = 32 * math.Ln2 // ln 2^32
	two31  = 1 << 31
)

// t4 is the outcome of the one-step-ahead prediction test (anomalies.md
// §3.2 T4) over one series.
type t4 struct {
	m       int       // predictions made: n − 3
	bits    []float64 // b_j
	logP    []float64 // ln p_j
	hist    [4]int    // k* counts
	logComb float64   // ln p_comb (Fisher/Gamma)
	hEst    float64   // median(b_j)
	hits    int       // predictions on the lattice
	g       uint32    // most common lattice spacing among hits
}

// minT4Samples is the fewest distinct 4-tuples T4 judges: its predictors
// need three increments before the one they predict.
const minT4Samples = 4

// runT4 predicts each x_j (j ≥ 3) from the samples before it only, so the
// fit cannot overfit what it scores. xs and ns are one host's distinct-tuple
// ISNs and capture times (Unix ns) in time order; w is the window of recent
// increments the predictors see.
func runT4(xs []uint32, ns []int64, w int) t4 {
	var r t4
	n := len(xs)
	if n < minT4Samples {
		return r
	}
	// d_i = uint32(x_i − x_{i−1}): forward distance, so a series crossing
	// 2^32 is no different from any other (anomalies.md §0).
	d := make([]uint32, n)
	tau := make([]float64, n) // seconds, at least 1 µs
	for i := 1; i < n; i++ {
		d[i] = xs[i] - xs[i-1]
		tau[i] = max(float64(ns[i]-ns[i-1])/1e9, 1e-6)
	}
	buf := make([]float64, 0, w)
	// The window's increments and rates, and the slopes of their pairs,
	// are kept sorted as the window slides (see slopes).
	var sl slopes
	var steps, rates sortedWin
	gHits := map[uint32]int{}
	r.m = n - 3
	r.bits = make([]float64, 0, r.m)
	r.logP = make([]float64, 0, r.m)
	var s float64
	for j := 3; j < n; j++ {
		D, T := d[max(1, j-w):j], tau[max(1, j-w):j]
		sl.slide(d, tau, max(1, j-w), j)
		if j == 3 {
			for i := 1; i < 3; i++ {
				steps.insert(float64(d[i]))
				rates.insert(float64(d[i]) / tau[i])
			}
		} else {
			if i := j - 1 - w; i >= 1 {
				steps.remove(float64(d[i]))
				rates.remove(float64(d[i]) / tau[i])
			}
			steps.insert(float64(d[j-1]))
			rates.insert(float64(d[j-1]) / tau[j-1])
		}
		prev := xs[j-1]
		var pred [4]uint32
		var valid [4]bool
		// P0 last value: constant and near-constant generators.
		pred[PredLast], valid[PredLast] = prev, true
		// P1 per-connection step: +1, +64000 (4.4BSD), lwIP's += ticks.
		pred[PredStep], valid[PredStep] = prev+roundU32(steps.median()), true
		// P2 clock: x̂ = x_{j−1} + round(r̂·τ_j), valid only while the
		// advance is below 2^31 (beyond, the wrap count is ambiguous).
		if adv := rates.median() * tau[j]; adv < two31 {
			pred[PredClock], valid[PredClock] = prev+roundU32(adv), true
		}
		// P3 step + clock (4.4BSD: +64000 per connection and +128000/s).
		if len(D) >= 3 {
			b := sl.median()
			buf = buf[:0]
			for i, v := range D {
				buf = append(buf, float64(v)-b*T[i])
			}
			a := median(buf)
			if adv := a + b*tau[j]; adv >= 0 && adv < two31 {
				pred[PredStepClock], valid[PredStepClock] = prev+roundU32(adv), true
			}
		}
		// k* = argmin |e_k|; ties go to the simpler predictor (lower
		// index): with evenly spaced samples P1, P2 and P3 predict the
		// same value, and a per-connection step is the plainer account.
		K, kBest, eBest := 0, -1, int64(math.MaxInt64)
		for k := range pred {
			if !valid[k] {
				continue
			}
			K++
			e := int64(int32(xs[j] - pred[k])) // signed residual
			if e < 0 {
				e = -e
			}
			if e < eBest {
				kBest, eBest = k, e
			}
		}
		if kBest < 0 {
			// No valid predictor: count as p_j = 1, b_j = 32 (§3.4).
			r.bits = append(r.bits, 32)
			r.logP = append(r.logP, 0)
			continue
		}
		r.hist[kBest]++
		// Lattice: g = gcd of the non-zero increments seen so far (gcd
		// skips zeros); a hit means this increment is on it too. g comes
		// from earlier samples only, so the 1/g factor is honest.
		var g uint32
		for _, v := range D {
			g = gcd(g, v)
		}
		geff := 1.0
		lattice := g >= 64 && d[j]%g == 0
		if lattice {
			geff = float64(g)
			r.hits++
			gHits[g]++
		}
		// b_j: bits an attacker must still guess.
		r.bits = append(r.bits, math.Log2(1+2*float64(eBest)/geff))
		// p_j = min(1, K(2|e|+1)/2^32) · (1/g on the lattice): Bonferroni
		// over the K predictors.
		lp := min(0, math.Log(float64(K))+math.Log(2*float64(eBest)+1)-ln2p32)
		if lattice {
			lp -= math.Log(float64(g))
		}
		r.logP = append(r.logP, lp)
		s -= lp
	}
	r.logComb = logFisher(s, r.m)
	r.hEst = median(slices.Clone(r.bits))
	for g, c := range gHits {
		if c > gHits[r.g] || (c == gHits[r.g] && g > r.g) {
			r.g = g
		}
	}
	return r
}

// roundU32 rounds a non-negative advance to the nearest integer mod 2^32.
func roundU32(x float64) uint32 { return uint32(int64(math.Round(x))) }

// theilSen fits d ≈ a + b·τ robustly: b is the median slope over pairs with
// distinct τ and a the median of d − b·τ. When every τ is equal it returns
// b = 0, a = median(d) (anomalies.md §3.2 P3). buf is scratch.
func theilSen(d []uint32, tau []float64, buf []float64) (a, b float64) {
	buf = buf[:0]
	for i := range d {
		for k := i + 1; k < len(d); k++ {
			if dt := tau[k] - tau[i]; dt != 0 {
				buf = append(buf, (float64(d[k])-float64(d[i]))/dt)
			}
		}
	}
	if len(buf) > 0 {
		b = median(buf)
	}
	buf = buf[:0]
	for i, v := range d {
		buf = append(buf, float64(v)-b*tau[i])
	}
	return median(buf), b
}

// slopes is the sorted multiset of theilSen's pairwise slopes over a window
// d[lo:hi] that slides one increment at a time, as runT4's does. Sorting
// once and then trading the w−1 slopes of the increment that leaves for the
// w−1 of the one that arrives (a merge) costs O(w²) per prediction like
// theilSen's selection over all w(w−1)/2 slopes, but with w−1 divisions
// instead of w(w−1)/2 and a sequential pass instead of quickselect's
// swaps: a third of T4's time on a host with a thousand samples (issue 7).
// The slopes are the same floats theilSen computes, (d[k]−d[i])/(τ[k]−τ[i])
// for i < k, so the median is the same value.
type slopes struct {
	lo, hi  int
	sorted  []float64
	out, rm []float64
	add     []float64
}

// slopeTo appends to v the slopes between increment i and the others in
// d[lo:hi], pairs with equal τ left out, as theilSen does.
func slopeTo(v []float64, d []uint32, tau []float64, i, lo, hi int) []float64 {
	for k := lo; k < hi; k++ {
		a, b := min(i, k), max(i, k)
		if a == b {
			continue
		}
		if dt := tau[b] - tau[a]; dt != 0 {
			v = append(v, (float64(d[b])-float64(d[a]))/dt)
		}
	}
	return v
}

// slide moves the window to d[lo:hi]: lo and hi never decrease, and hi
// grows by one per call after the first.
func (s *slopes) slide(d []uint32, tau []float64, lo, hi int) {
	if s.hi == 0 || hi != s.hi+1 || lo < s.lo || lo > s.lo+1 {
		s.sorted = s.sorted[:0]
		for k := lo + 1; k < hi; k++ {
			s.sorted = slopeTo(s.sorted, d, tau, k, lo, k)
		}
		slices.Sort(s.sorted)
		s.lo, s.hi = lo, hi
		return
	}
	s.rm = s.rm[:0]
	if lo > s.lo {
		s.rm = slopeTo(s.rm, d, tau, s.lo, s.lo, s.hi)
		slices.Sort(s.rm)
	}
	s.add = slopeTo(s.add[:0], d, tau, s.hi, lo, s.hi)
	slices.Sort(s.add)
	// One pass: drop each value of rm once, merge in add.
	out := s.out[:0]
	r, a := 0, 0
	for _, v := range s.sorted {
		if r < len(s.rm) && v == s.rm[r] {
			r++
			continue
		}
		for a < len(s.add) && s.add[a] < v {
			out = append(out, s.add[a])
			a++
		}
		out = append(out, v)
	}
	out = append(out, s.add[a:]...)
	s.sorted, s.out = out, s.sorted
	s.lo, s.hi = lo, hi
}

// median is median of the slopes, or 0 (theilSen's b for a window whose τ
// are all equal) when there are none.
func (s *slopes) median() float64 {
	if len(s.sorted) == 0 {
		return 0
	}
	return sortedMedian(s.sorted)
}

// sortedMedian is median(v) for v sorted, without the selection: the same
// value, (v[n/2−1] + v[n/2])/2 for an even count being median's
// (max(lower half) + kth(n/2))/2.
func sortedMedian(v []float64) float64 {
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// sortedWin holds the values of a sliding window in order (runT4's
// increments and rates: w values, one in and one out per prediction).
type sortedWin struct{ v []float64 }

func (s *sortedWin) insert(x float64) {
	i, _ := slices.BinarySearch(s.v, x)
	s.v = slices.Insert(s.v, i, x)
}

// remove deletes one value equal to x, which s holds.
func (s *sortedWin) remove(x float64) {
	if i, ok := slices.BinarySearch(s.v, x); ok {
		s.v = slices.Delete(s.v, i, i+1)
	}
}

func (s *sortedWin) median() float64 { return sortedMedian(s.v) }

// verdict is what the §3.2 tests concluded about one series.
type verdict struct {
	n int
	// T1
	zeros  int
	zeroLP float64
	// T2
	repeats  int
	constant bool
	repLP    float64
	hColl    float64
	// T3
	stuck   int
	stuckLP float64
	// T4
	t4 t4
}

// testSeries runs T1–T4 on one host's series.
func testSeries(xs []uint32, ns []int64, w int) verdict {
	n := len(xs)
	v := verdict{n: n}
	// T1 zero: p = n·2^-32.
	for _, x := range xs {
		if x == 0 {
			v.zeros++
		}
	}
	v.zeroLP = min(0, math.Log(float64(n))-ln2p32)
	// T2 constant / repeated: r = n − distinct against the birthday
	// expectation λ = n(n−1)/2^33, p_r = P(Poisson(λ) ≥ r).
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	distinct := len(slices.Compact(sorted))
	v.repeats = n - distinct
	v.constant = distinct == 1 && n >= 2
	if v.repeats >= 1 {
		lambda := float64(n) * float64(n-1) / (1 << 33)
		v.repLP = logPoissonTail(v.repeats, lambda)
		v.hColl = math.Log2(float64(n) * float64(n-1) / (2 * float64(v.repeats)))
	}
	// T3 stuck bits (n ≥ 16): k bits equal in every sample;
	// p_bits = C(32,k)·2^{k(1−n)}.
	if n >= 16 {
		var and, or uint32 = math.MaxUint32, 0
		for _, x := range xs {
			and &= x
			or |= x
		}
		// A bit is stuck at 1 if set in the AND, at 0 if clear in the OR.
		for b := range 32 {
			if and>>b&1 == 1 || or>>b&1 == 0 {
				v.stuck++
			}
		}
		if v.stuck > 0 {
			v.stuckLP = logChoose(32, v.stuck) + float64(v.stuck)*float64(1-n)*ln2
		}
	}
	v.t4 = runT4(xs, ns, w)
	return v
}

// t4Fires applies the T4 decision rule at level alpha: flag when m ≥ 2,
// p_comb ≤ α and H_est < 28; with one prediction only when p_1 ≤ 1e−9
// (then tentative).
func t4Fires(r t4, alpha float64) (fired, tentative bool) {
	switch {
	case r.m >= 2:
		return r.logComb <= math.Log(alpha) && r.hEst < 28, false
	case r.m == 1:
		return r.logP[0] <= math.Log(1e-9) && r.hEst < 28, true
	}
	return false, false
}

// t4Subtype names the generator from the predictor that won most often
// (ties to the simpler one), with the lattice when most predictions hit it.
func t4Subtype(r t4) string {
	k := 0
	for i, c := range r.hist {
		if c > r.hist[k] {
			k = i
		}
	}
	s := [4]string{"near_constant", "counter_step", "counter_time", "counter_step_time"}[k]
	if r.g >= 64 && 2*r.hits >= r.m {
		s += fmt.Sprintf("+lattice(%d)", r.g)
	}
	return s
}

// severityFor maps the bits left to guess to a severity (anomalies.md
// §3.3): below 16 bits the next ISN falls inside one unscaled 64 KiB
// window, so about one blind guess suffices.
func severityFor(h float64) Severity {
	switch {
	case h < 16:
		return SeverityCritical
	case h < 24:
		return SeverityHigh
	case h < 28:
		return SeverityMedium
	}
	// §3.3 stops at 28 bits; T2 and T3 can fire above it (one stuck bit
	// leaves 31).
	return SeverityLow
}

// decide turns a verdict into an ISNPredictable finding, or reports false.
// The test with the smallest p decides (zero and constant first, as they
// are critical whatever the rest say); severity comes from the fewest bits
// any fired test leaves.
//
// bits0 is what the deciding test says is left to guess, for the
// explanation.
func decide(v verdict, alpha float64) (f ISNFinding, bits0 float64, ok bool) {
	la := math.Log(alpha)
	f = ISNFinding{Kind: ISNPredictable, N: v.n, Repeats: v.repeats, StuckBits: v.stuck}
	h := math.Inf(1)  // fewest bits left by any fired test, for severity
	lp := math.Inf(1) // ln p of the deciding test
	pick := func(sub string, p, bits, sevBits float64) {
		h = min(h, sevBits)
		if p < lp {
			lp, f.Subtype, bits0 = p, sub, bits
		}
	}
	// Zero, then constant, name the finding whatever the other tests
	// say: they are critical, and "zero" points at a packet crafter
	// (hping3 -M 0) where "constant" would not.
	switch {
	case v.zeros > 0 && v.zeroLP <= la:
		pick("zero", v.zeroLP, 0, 0)
	case v.constant:
		pick("constant", v.repLP, 0, 0)
	}
	if f.Subtype == "" {
		if v.repeats >= 1 && v.repLP <= la {
			pick("repeated", v.repLP, v.hColl, v.hColl)
		}
		if v.stuck >= 1 && v.stuckLP <= la {
			pick("low_entropy", v.stuckLP, float64(32-v.stuck), float64(32-v.stuck))
		}
		if ok, tent := t4Fires(v.t4, alpha); ok {
			sev := v.t4.hEst
			if tent {
				// One prediction: severity capped at medium (§3.2).
				sev = max(sev, 24)
			}
			pick(t4Subtype(v.t4), v.t4.logComb, v.t4.hEst, sev)
			f.Tentative = tent && f.Subtype == t4Subtype(v.t4)
		}
	}
	if f.Subtype == "" {
		return f, 0, false
	}
	f.Severity = severityFor(h) // zero and constant leave h = 0: critical
	f.Confidence = -math.Expm1(lp)
	f.EvidenceLog10 = -lp / math.Ln10
	return f, bits0, true
}

// Findings scores every tracked host and returns its conclusions:
// crafted-constant findings first (they have no host, by first time), then
// per host and role (address order, client first) the global
// ISNPredictable finding, the per-peer ones by peer, and the generator
// hints in a fixed order. It does not change the tracker: call it again
// after more samples for an updated view.
func (tr *ISNTracker) Findings() []ISNFinding {
	c := tr.config()
	type entry struct {
		k hostKey
		i int32 // host number in tr.hosts
	}
	keys := make([]entry, tr.hosts.n)
	for i := range keys {
		keys[i] = entry{tr.key(tr.hosts.at(int32(i)).id), int32(i)}
	}
	slices.SortFunc(keys, func(a, b entry) int {
		return cmp.Or(a.k.addr.Compare(b.k.addr), cmp.Compare(a.k.role, b.k.role))
	})
	// Each host's tests are independent and pure (T4 alone is O(n·w²) per
	// host, a tenth of a second on a large capture, run after the last
	// packet): they run on every core, and the results are put back in
	// host order, so the report is the one a single goroutine gives.
	per := make([][]ISNFinding, len(keys))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(keys)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(keys) {
					return
				}
				per[i] = tr.findings(tr.hosts.at(keys[i].i), keys[i].k, c)
			}
		})
	}
	wg.Wait()
	out := tr.crafted.findings()
	for _, f := range per {
		out = append(out, f...)
	}
	return out
}

// series returns S_H, h's ring, in time order (ties in arrival order).
func series(ring []isnSample, h *host) []isnSample {
	s := make([]isnSample, 0, len(ring))
	s = append(s, ring[h.head:]...)
	s = append(s, ring[:h.head]...)
	slices.SortStableFunc(s, func(a, b isnSample) int { return cmp.Compare(a.ns, b.ns) })
	return s
}

func split(s []isnSample) ([]uint32, []int64) {
	xs := make([]uint32, len(s))
	ns := make([]int64, len(s))
	for i, e := range s {
		xs[i], ns[i] = e.isn, e.ns
	}
	return xs, ns
}

func utc(ns int64) time.Time { return time.Unix(0, ns).UTC() }

func (tr *ISNTracker) findings(h *host, k hostKey, c ISNConfig) []ISNFinding {
	var out []ISNFinding
	s := series(tr.ring(h), h)
	if len(s) > 0 {
		xs, ns := split(s)
		v := testSeries(xs, ns, c.Window)
		if f, bits, ok := decide(v, c.Alpha); ok {
			fill(&f, k, xs, ns, v.t4, bits)
			out = append(out, f)
		}
		// T5 runs unless T4 already predicts the whole series. §3.2 says
		// "if the global series is not flagged"; but T2 and T3 fire, at
		// low severity, on the clustered values of a per-peer clock, and
		// must not hide the per-peer predictor.
		if ok, _ := t4Fires(v.t4, c.Alpha); !ok {
			out = append(out, perPeer(k, s, c)...)
		}
	}
	var hints []hintAgg // none until a tuple was used twice
	if h.hints != 0 {
		hints = tr.hints[h.hints-1][:]
	}
	for i := range hints {
		a := &hints[i]
		if a.count == 0 {
			continue
		}
		f := ISNFinding{
			Kind: ISNGeneratorHint, Subtype: hintNames[i], Severity: SeverityInfo,
			Confidence: 1, Host: k.addr, Role: k.role, N: a.count,
			RateHz: median(slices.Clone(a.rates)), FirstTime: utc(a.first), LastTime: utc(a.last), RFC: RFCISN,
		}
		f.Explanation = hintExplanation(i, k, f.RateHz, a.count)
		out = append(out, f)
	}
	return out
}

// perPeer is T5: when the host as a whole is not flagged, rerun T4 on the
// samples toward each peer address with at least 5 of them. The level is
// split over the peers tested (Bonferroni) so a host still raises a false
// alarm with probability at most α (anomalies.md §3.4: "α is per host").
func perPeer(k hostKey, s []isnSample, c ISNConfig) []ISNFinding {
	groups := map[netip.Addr][]isnSample{}
	for _, e := range s {
		p := e.key.peer()
		groups[p] = append(groups[p], e)
	}
	var peers []netip.Addr
	for p, g := range groups {
		// One peer holding every sample is the global test again.
		if len(g) >= 5 && len(g) < len(s) {
			peers = append(peers, p)
		}
	}
	slices.SortFunc(peers, netip.Addr.Compare)
	var out []ISNFinding
	alpha := c.Alpha / float64(max(1, len(peers)))
	for _, p := range peers {
		xs, ns := split(groups[p])
		r := runT4(xs, ns, c.Window)
		ok, tent := t4Fires(r, alpha)
		if !ok {
			continue
		}
		f := ISNFinding{Kind: ISNPredictable, N: len(xs), Subtype: t4Subtype(r), Tentative: tent,
			Scope: ScopePerPeer, Peer: p}
		f.Severity = severityFor(r.hEst)
		if tent {
			f.Severity = min(f.Severity, SeverityMedium)
		}
		// Report the Bonferroni-adjusted p, the one compared with α.
		lp := min(0, r.logComb+math.Log(float64(len(peers))))
		f.Confidence = -math.Expm1(lp)
		f.EvidenceLog10 = -lp / math.Ln10
		fill(&f, k, xs, ns, r, r.hEst)
		out = append(out, f)
	}
	return out
}

// fill adds the evidence common to ISNPredictable findings.
// bits is the H the severity came from, for the explanation.
func fill(f *ISNFinding, k hostKey, xs []uint32, ns []int64, r t4, bits float64) {
	f.Host, f.Role, f.RFC = k.addr, k.role, RFCISN
	f.M, f.Bits, f.Predictors = r.m, r.bits, r.hist
	if r.m > 0 {
		f.HEst = r.hEst
	}
	f.GCD = r.g
	if r.hits == 0 {
		var g uint32
		for i := 1; i < len(xs); i++ {
			g = gcd(g, xs[i]-xs[i-1])
		}
		f.GCD = g
	}
	if len(xs) > 1 {
		rates := make([]float64, 0, len(xs)-1)
		for i := 1; i < len(xs); i++ {
			rates = append(rates, float64(xs[i]-xs[i-1])/max(float64(ns[i]-ns[i-1])/1e9, 1e-6))
		}
		f.RateHz = median(rates)
	}
	times := make([]time.Time, len(ns))
	for i, t := range ns {
		times[i] = utc(t)
	}
	f.Nmap.GCD, f.Nmap.ISR, f.Nmap.SP, f.Nmap.Label, f.Nmap.OK = NmapTSeq(xs, times)
	f.Class1, f.Class1Index = NmapClass1(xs)
	f.FirstTime, f.LastTime = times[0], times[len(times)-1]
	if f.Subtype == "zero" || f.Subtype == "constant" {
		f.ISN = xs[0]
	}
	f.Explanation = predictableExplanation(f, bits)
}

func predictableExplanation(f *ISNFinding, bits float64) string {
	who := fmt.Sprintf("%s (as %s)", f.Host, f.Role)
	toward := ""
	if f.Scope == ScopePerPeer {
		toward = " toward " + f.Peer.String()
	}
	var what string
	switch f.Subtype {
	case "zero":
		what = "sends SYNs with sequence number 0, the mark of a packet crafter (hping3 -M 0) or a broken stack"
	case "constant":
		what = fmt.Sprintf("uses the same ISN %#x for every connection", f.ISN)
	default:
		what = fmt.Sprintf("chooses ISNs%s that leave an off-path attacker about %.0f of 32 bits to guess (%s)", toward, bits, f.Subtype)
	}
	return fmt.Sprintf("%s %s, so blind spoofing and RST/data injection into its connections are feasible; "+
		"find the device or tool behind it and update or replace its TCP stack so ISNs follow RFC 6528 (clock + keyed hash of the 4-tuple).", who, what)
}

func hintExplanation(c int, k hostKey, rate float64, n int) string {
	who := fmt.Sprintf("%s (as %s)", k.addr, k.role)
	switch c {
	case hintClock4us:
		return fmt.Sprintf("%s advanced its ISN by %.3g/s across %d reconnection(s) of the same 4-tuple: a 4 µs clock as RFC 9293 §3.4.1 and RFC 6528 prescribe; no action needed.", who, rate, n)
	case hintLinux64ns:
		return fmt.Sprintf("%s advanced its ISN by %.3g/s across %d reconnection(s) of the same 4-tuple: Linux's 64 ns ISN clock (secure_seq.c); no action needed.", who, rate, n)
	case hintTimeWait:
		return fmt.Sprintf("%s reopened a 4-tuple in TIME-WAIT %d time(s) with ISN = previous snd_nxt + 65537, Linux's deterministic TIME-WAIT reuse; no action needed.", who, n)
	}
	return fmt.Sprintf("The ISNs of %s did not follow a clock across %d reconnection(s) of the same 4-tuple (median %.3g/s): it deviates from RFC 9293 MUST-8, e.g. purely random ISNs, which risks old duplicates being accepted; informational.", who, n, rate)
}

// findings returns the crafted-constant findings, sorted by first time and
// ISN.
func (c *crafted) findings() []ISNFinding {
	var out []ISNFinding
	for isn, f := range c.found {
		lp := f.logP()
		out = append(out, ISNFinding{
			Kind: CraftedConstantISN, Severity: SeverityLow, Role: RoleClient,
			Confidence: -math.Expm1(lp), EvidenceLog10: -lp / math.Ln10,
			N: f.syns, ISN: isn, Sources: f.sources,
			FirstTime: utc(f.first), LastTime: utc(f.last), RFC: RFCISN,
			Explanation: fmt.Sprintf("ISN %#x appeared in %d SYNs from %d source addresses within 60 s: a packet crafter with a fixed sequence number, likely a spoofed SYN flood (hping3 -M/--rand-source); filter or rate-limit it upstream.", isn, f.syns, f.sources),
		})
	}
	slices.SortFunc(out, func(a, b ISNFinding) int {
		return cmp.Or(a.FirstTime.Compare(b.FirstTime), cmp.Compare(a.ISN, b.ISN))
	})
	return out
}
