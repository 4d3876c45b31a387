package anomaly_test

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/anomaly"
)

var (
	scanner = netip.MustParseAddr("10.99.0.1")
	target  = netip.MustParseAddr("10.99.0.2")
	t0      = time.Unix(1700000000, 0).UTC()
)

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// serve feeds isns as SYN-ACKs of target:7000 to successive client ports of
// scanner (one distinct tuple each) at the given times.
func serve(tr *anomaly.ISNTracker, isns []uint32, times []time.Time) {
	for i, x := range isns {
		tr.Add(target, anomaly.RoleServer, anomaly.Tuple{Local: ap(target, 7000), Remote: ap(scanner, uint16(40000+i))}, x, times[i])
	}
}

// only returns the findings of kind k.
func only(fs []anomaly.ISNFinding, k anomaly.ISNKind) []anomaly.ISNFinding {
	var out []anomaly.ISNFinding
	for _, f := range fs {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// TestISNVerdictsOnNmapVectors checks the "Expected verdicts on the §1
// vectors" of anomalies.md §3.4, with nmap's exact 100 ms spacing.
func TestISNVerdictsOnNmapVectors(t *testing.T) {
	tests := []struct {
		name     string
		vec      int
		flagged  bool
		subtype  string             // exact, when flagged
		severity []anomaly.Severity // any of
		gcd      uint32
		maxHEst  float64
	}{
		{"linux not flagged", 0, false, "", nil, 0, 0},
		{"64K rule", 1, true, "counter_step+lattice(64000)", []anomaly.Severity{anomaly.SeverityCritical}, 64000, 2},
		// Evenly spaced samples make P1 (step) and P2 (clock) predict the
		// same value; the tie goes to P1. TestISNClock250kHz has real
		// timing.
		{"250 kHz even spacing", 2, true, "counter_step", []anomaly.Severity{anomaly.SeverityCritical}, 0, 8},
		{"+1", 3, true, "counter_step", []anomaly.Severity{anomaly.SeverityCritical}, 0, 0},
		{"16 random bits", 4, true, "", []anomaly.Severity{anomaly.SeverityHigh, anomaly.SeverityCritical}, 65536, 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := nmapVectors[tt.vec]
			var tr anomaly.ISNTracker
			serve(&tr, v.isns, every100ms(len(v.isns)))
			fs := only(tr.Findings(), anomaly.ISNPredictable)
			if !tt.flagged {
				if len(fs) != 0 {
					t.Fatalf("Findings() = %+v, want none", fs)
				}
				return
			}
			if len(fs) != 1 {
				t.Fatalf("Findings() = %+v, want 1 isn_predictable", fs)
			}
			f := fs[0]
			if tt.subtype != "" && f.Subtype != tt.subtype {
				t.Errorf("Subtype = %q, want %q", f.Subtype, tt.subtype)
			}
			if !containsSev(tt.severity, f.Severity) {
				t.Errorf("Severity = %v, want one of %v", f.Severity, tt.severity)
			}
			if tt.gcd != 0 && f.GCD != tt.gcd {
				t.Errorf("GCD = %d, want %d", f.GCD, tt.gcd)
			}
			if f.HEst > tt.maxHEst {
				t.Errorf("HEst = %.2f, want ≤ %v (bits %v)", f.HEst, tt.maxHEst, f.Bits)
			}
			if f.Host != target || f.Role != anomaly.RoleServer || f.Scope != anomaly.ScopeGlobal || f.N != 6 || f.M != 3 || len(f.Bits) != 3 {
				t.Errorf("finding = %+v, want host %v server global N 6 M 3", f, target)
			}
			// The evidence carries nmap's triple over the same samples.
			if !f.Nmap.OK || f.Nmap.SP != v.sp || int(f.Nmap.GCD) != v.gcd || f.Nmap.ISR != v.isr || f.Nmap.Label != v.label {
				t.Errorf("Nmap = %+v, want SP=%X GCD=%X ISR=%X %q", f.Nmap, v.sp, v.gcd, v.isr, v.label)
			}
			if f.Confidence < 1-1e-6 || f.EvidenceLog10 < 6 || f.RFC != anomaly.RFCISN || f.Explanation == "" {
				t.Errorf("Confidence %v EvidenceLog10 %v RFC %q Explanation %q", f.Confidence, f.EvidenceLog10, f.RFC, f.Explanation)
			}
		})
	}
}

func containsSev(s []anomaly.Severity, v anomaly.Severity) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestISNBits pins b_j of the 64K vector: two exact predictions, then a
// double step on the 64000 lattice, log2(1 + 2·64000/64000) = log2 3.
func TestISNBits(t *testing.T) {
	var tr anomaly.ISNTracker
	serve(&tr, nmapVectors[1].isns, every100ms(6))
	f := only(tr.Findings(), anomaly.ISNPredictable)[0]
	want := []float64{0, 0, math.Log2(3)}
	for i := range want {
		if math.Abs(f.Bits[i]-want[i]) > 1e-9 {
			t.Fatalf("Bits = %v, want %v", f.Bits, want)
		}
	}
	if f.Predictors != [4]int{0, 3, 0, 0} || f.Class1 != "64K" || f.RateHz != 640000 {
		t.Errorf("Predictors %v Class1 %q RateHz %v, want [0 3 0 0] 64K 640000", f.Predictors, f.Class1, f.RateHz)
	}
}

// jittered returns n times with gaps drawn uniformly from [lo, hi).
func jittered(r *rand.Rand, n int, lo, hi time.Duration) []time.Time {
	ts := make([]time.Time, n)
	t := t0
	for i := range ts {
		ts[i] = t
		t = t.Add(lo + time.Duration(r.Int64N(int64(hi-lo))))
	}
	return ts
}

// clock returns ISNs base + ⌊rate·elapsed⌋ at times ts.
func clock(base uint32, rate float64, ts []time.Time) []uint32 {
	xs := make([]uint32, len(ts))
	for i, t := range ts {
		xs[i] = base + uint32(uint64(rate*t.Sub(ts[0]).Seconds()))
	}
	return xs
}

// TestISNGenerators runs generators with realistic, uneven connection times.
func TestISNGenerators(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	bsd := func(ts []time.Time) []uint32 {
		// 4.4BSD: +64000 per connection and +64000 every 500 ms.
		xs := make([]uint32, len(ts))
		for i, t := range ts {
			xs[i] = 1 + 64000*uint32(i) + 64000*uint32(2*t.Sub(ts[0]).Seconds())
		}
		return xs
	}
	ts := jittered(r, 20, 50*time.Millisecond, 2*time.Second)
	tests := []struct {
		name     string
		isns     []uint32
		times    []time.Time
		subtype  string
		severity anomaly.Severity
	}{
		{"250 kHz clock", clock(0x7F8AB, 250000, ts), ts, "counter_time", anomaly.SeverityCritical},
		{"250 kHz clock across 2^32", clock(0xFFFF0000, 250000, ts), ts, "counter_time", anomaly.SeverityCritical},
		// +64000 every 500 ms is a staircase in time, so P1, P2 and P3 all
		// come close; which wins depends on the timing. The lattice is
		// the constant.
		{"4.4BSD step and clock", bsd(ts), ts, "counter_*+lattice(64000)", anomaly.SeverityCritical},
		{"64K across 2^32", func() []uint32 {
			xs := make([]uint32, 20)
			for i := range xs {
				xs[i] = 0xFFFA0000 + 64000*uint32(i)
			}
			return xs
		}(), ts, "counter_step+lattice(64000)", anomaly.SeverityCritical},
		{"constant", []uint32{6510, 6510, 6510, 6510, 6510}, ts[:5], "constant", anomaly.SeverityCritical},
		{"near constant", []uint32{1000, 1003, 999, 1001, 1002, 998, 1000}, ts[:7], "near_constant", anomaly.SeverityCritical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr anomaly.ISNTracker
			serve(&tr, tt.isns, tt.times)
			fs := only(tr.Findings(), anomaly.ISNPredictable)
			if len(fs) != 1 || !subtypeMatch(tt.subtype, fs[0].Subtype) || fs[0].Severity != tt.severity {
				t.Fatalf("Findings() = %+v, want one %s %v", fs, tt.subtype, tt.severity)
			}
		})
	}
}

// subtypeMatch reports whether got matches want, where a "*" in want
// stands for any run of characters.
func subtypeMatch(want, got string) bool {
	pre, post, ok := strings.Cut(want, "*")
	if !ok {
		return want == got
	}
	return len(got) >= len(pre)+len(post) && strings.HasPrefix(got, pre) && strings.HasSuffix(got, post)
}

// TestISNRandomControls: RFC 6528 hosts (uniform ISNs) raise an alarm with
// probability ≤ α each; 10 000 hosts at α = 1e-6 should give none.
func TestISNRandomControls(t *testing.T) {
	r := rand.New(rand.NewPCG(6528, 9293))
	var tr anomaly.ISNTracker
	peers := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")}
	const hosts, per = 10000, 20
	for h := range hosts {
		a := netip.AddrFrom4([4]byte{10, byte(h >> 16), byte(h >> 8), byte(h)})
		t := t0
		for i := range per {
			t = t.Add(time.Duration(1+r.Int64N(2e9)) * time.Nanosecond)
			// A few peers, so T5 (per peer) runs too.
			tup := anomaly.Tuple{Local: ap(a, uint16(1024+i)), Remote: ap(peers[r.IntN(len(peers))], 443)}
			tr.Add(a, anomaly.RoleClient, tup, r.Uint32(), t)
		}
	}
	fs := only(tr.Findings(), anomaly.ISNPredictable)
	t.Logf("%d false alarms over %d random hosts", len(fs), hosts)
	if len(fs) > 1 {
		t.Errorf("Findings() = %d isn_predictable on random ISNs, want ≤ 1: %+v", len(fs), fs[0])
	}
	if s := tr.Stats(); s.Hosts != hosts || s.Samples != hosts*per {
		t.Errorf("Stats() = %+v, want %d hosts %d samples", s, hosts, hosts*per)
	}
}

// TestISNSameTuple: RFC 6528 hosts are clock-monotone per 4-tuple, and
// Linux reuses a TIME-WAIT tuple with ISN = snd_nxt + 65537. Neither may be
// flagged (anomalies.md §3.1); both are hinted (§3.5).
func TestISNSameTuple(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	peer := netip.MustParseAddr("192.0.2.80")
	tests := []struct {
		name string
		rate float64 // per-tuple clock
		tw   bool
		hint string
	}{
		{"linux 64 ns clock", 15.625e6, false, "clock_linux_64ns"},
		{"rfc 793 4 µs clock", 250000, false, "clock_4us"},
		{"linux time-wait reuse", 0, true, "linux_timewait_reuse"},
		{"random per tuple", -1, false, "not_clock_monotone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr anomaly.ISNTracker
			const tuples, reconnects = 8, 12
			n := 0
			for k := range tuples {
				tup := anomaly.Tuple{Local: ap(scanner, uint16(50000+k)), Remote: ap(peer, 80)}
				f := r.Uint32() // F(4-tuple, secret)
				tm := t0.Add(time.Duration(k) * 17 * time.Millisecond)
				isn := f + uint32(uint64(tt.rate*tm.Sub(t0).Seconds()))
				if tt.rate <= 0 {
					isn = f
				}
				var sndNxt uint32
				for i := range reconnects {
					s := anomaly.ISNSample{Host: scanner, Role: anomaly.RoleClient, Tuple: tup, ISN: isn, Time: tm}
					if tt.tw && i > 0 {
						s.PrevSndNxt, s.HasPrevSndNxt = sndNxt, true
					}
					tr.AddSample(s)
					// A retransmitted SYN 1 s later is the same attempt.
					tr.AddSample(anomaly.ISNSample{Host: scanner, Role: anomaly.RoleClient, Tuple: tup, ISN: isn, Time: tm.Add(time.Second)})
					n++
					sndNxt = isn + 1 + uint32(r.IntN(100000)) + 1 // SYN, data, FIN
					dt := 300*time.Millisecond + time.Duration(r.IntN(1e6))
					tm = tm.Add(dt)
					switch {
					case tt.tw:
						isn = sndNxt + 65537
					case tt.rate < 0:
						isn = r.Uint32()
					default:
						isn = f + uint32(uint64(tt.rate*tm.Sub(t0).Seconds()))
					}
				}
			}
			fs := tr.Findings()
			if p := only(fs, anomaly.ISNPredictable); len(p) != 0 {
				t.Errorf("Findings() flagged %+v, want no isn_predictable", p)
			}
			h := only(fs, anomaly.ISNGeneratorHint)
			if len(h) != 1 || h[0].Subtype != tt.hint || h[0].N != tuples*(reconnects-1) || h[0].Severity != anomaly.SeverityInfo {
				t.Errorf("hints = %+v, want one %s over %d pairs", h, tt.hint, tuples*(reconnects-1))
			}
			s := tr.Stats()
			if s.Retransmissions != tuples*reconnects || s.Reincarnations != tuples*(reconnects-1) {
				t.Errorf("Stats() = %+v, want %d retransmissions, %d reincarnations", s, tuples*reconnects, tuples*(reconnects-1))
			}
		})
	}
}

// TestISNZero: hping3 -S -M 0 -c 10 sends ISN 0 from incrementing ports.
func TestISNZero(t *testing.T) {
	var tr anomaly.ISNTracker
	for i := range 10 {
		tr.Add(scanner, anomaly.RoleClient, anomaly.Tuple{Local: ap(scanner, uint16(2000+i)), Remote: ap(target, 8080)}, 0, t0.Add(time.Duration(i)*time.Second))
	}
	fs := tr.Findings()
	if len(fs) != 1 || fs[0].Kind != anomaly.ISNPredictable || fs[0].Subtype != "zero" || fs[0].Severity != anomaly.SeverityCritical ||
		fs[0].Host != scanner || fs[0].Role != anomaly.RoleClient || fs[0].N != 10 {
		t.Fatalf("Findings() = %+v, want one critical zero for %v client", fs, scanner)
	}
	if !strings.Contains(fs[0].Explanation, "hping3") {
		t.Errorf("Explanation = %q, want it to name the likely tool", fs[0].Explanation)
	}
}

// TestISNNmapScanner: nmap -O sends its six SEQ probes with tcpSeqBase+i,
// 100 ms apart, from new source ports; the scanner itself is the
// predictable client (anomalies.md §6 recipe 13).
func TestISNNmapScanner(t *testing.T) {
	var tr anomaly.ISNTracker
	r := rand.New(rand.NewPCG(7, 7))
	base := r.Uint32()
	for i := range 6 {
		tm := t0.Add(time.Duration(i)*100*time.Millisecond + time.Duration(r.IntN(300))*time.Microsecond)
		tr.Add(scanner, anomaly.RoleClient, anomaly.Tuple{Local: ap(scanner, uint16(60000+i)), Remote: ap(target, 7000)}, base+uint32(i), tm)
		// The target's SYN-ACKs are Linux-random.
		tr.Add(target, anomaly.RoleServer, anomaly.Tuple{Local: ap(target, 7000), Remote: ap(scanner, uint16(60000+i))}, r.Uint32(), tm)
	}
	fs := only(tr.Findings(), anomaly.ISNPredictable)
	if len(fs) != 1 || fs[0].Host != scanner || fs[0].Role != anomaly.RoleClient || fs[0].Subtype != "counter_step" || fs[0].Severity != anomaly.SeverityCritical {
		t.Fatalf("Findings() = %+v, want scanner client counter_step critical only", fs)
	}
}

// TestISNTentative: four samples allow one prediction; a hit at p ≤ 1e-9
// is reported as tentative and at most medium.
func TestISNTentative(t *testing.T) {
	var tr anomaly.ISNTracker
	serve(&tr, []uint32{100, 101, 102, 103}, every100ms(4))
	fs := tr.Findings()
	if len(fs) != 1 || !fs[0].Tentative || fs[0].Severity != anomaly.SeverityMedium || fs[0].M != 1 {
		t.Fatalf("Findings() = %+v, want one tentative medium", fs)
	}
	tr = anomaly.ISNTracker{}
	serve(&tr, []uint32{100, 101, 102}, every100ms(3))
	if fs := tr.Findings(); len(fs) != 0 {
		t.Fatalf("Findings() on 3 samples = %+v, want none", fs)
	}
}

// TestISNPerPeer: a generator whose F() ignores ports is random across
// peers but a clock toward each one (anomalies.md §3.2 T5).
func TestISNPerPeer(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 13))
	var tr anomaly.ISNTracker
	var peers [3]netip.Addr
	var offs [3]uint32
	for i := range peers {
		peers[i] = netip.AddrFrom4([4]byte{198, 51, 100, byte(i + 1)})
		offs[i] = r.Uint32()
	}
	ts := jittered(r, 30, 100*time.Millisecond, 3*time.Second)
	for i, tm := range ts {
		p := i % 3
		isn := offs[p] + uint32(uint64(250000*tm.Sub(t0).Seconds()))
		tr.Add(target, anomaly.RoleServer, anomaly.Tuple{Local: ap(target, 443), Remote: ap(peers[p], uint16(30000+i))}, isn, tm)
	}
	var fs []anomaly.ISNFinding
	for _, f := range only(tr.Findings(), anomaly.ISNPredictable) {
		switch {
		case f.Scope == anomaly.ScopePerPeer:
			fs = append(fs, f)
		case f.Subtype != "low_entropy" && f.Subtype != "repeated":
			// Three offsets cluster the values, which T2/T3 may see;
			// T4 must not predict the interleaved series.
			t.Errorf("global finding %+v, want none from T4", f)
		}
	}
	if len(fs) != 3 {
		t.Fatalf("Findings() = %+v, want 3 per-peer findings", fs)
	}
	for i, f := range fs {
		if f.Scope != anomaly.ScopePerPeer || f.Peer != peers[i] || f.Subtype != "counter_time" || f.N != 10 {
			t.Errorf("finding %d = %+v, want per_peer %v counter_time N 10", i, f, peers[i])
		}
	}
}

// TestISNRepeatedAndStuck: T2 and T3 on series T4 cannot predict.
func TestISNRepeatedAndStuck(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 19))
	ts := jittered(r, 40, time.Second, 2*time.Second)
	rep := make([]uint32, 40) // values from a pool of 8
	pool := make([]uint32, 8)
	for i := range pool {
		pool[i] = r.Uint32()
	}
	for i := range rep {
		rep[i] = pool[r.IntN(len(pool))]
	}
	stuck := make([]uint32, 40) // 12 random bits in the middle
	for i := range stuck {
		stuck[i] = 0x40000001 | r.Uint32()&0x00FFF000
	}
	tests := []struct {
		name     string
		isns     []uint32
		subtype  string
		severity anomaly.Severity
	}{
		{"repeated", rep, "repeated", anomaly.SeverityCritical},
		{"low entropy", stuck, "low_entropy", anomaly.SeverityCritical},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr anomaly.ISNTracker
			serve(&tr, tt.isns, ts)
			fs := tr.Findings()
			if len(fs) != 1 || fs[0].Subtype != tt.subtype || fs[0].Severity != tt.severity {
				t.Fatalf("Findings() = %+v, want one %s %v", fs, tt.subtype, tt.severity)
			}
		})
	}
}

// TestISNCrafted: one ISN in ≥ 10 SYNs from ≥ 5 sources within 60 s.
func TestISNCrafted(t *testing.T) {
	tests := []struct {
		name    string
		syns    int
		sources int
		gap     time.Duration
		want    bool
	}{
		{"spoofed flood", 12, 12, 100 * time.Millisecond, true},
		{"ten from five", 10, 5, time.Second, true},
		{"nine SYNs", 9, 9, time.Second, false},
		{"four sources", 12, 4, time.Second, false},
		{"spread over minutes", 12, 12, 10 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr anomaly.ISNTracker
			r := rand.New(rand.NewPCG(23, 29))
			for i := range tt.syns {
				src := netip.AddrFrom4([4]byte{203, 0, 113, byte(i % tt.sources)})
				tm := t0.Add(time.Duration(i) * tt.gap)
				tr.Add(src, anomaly.RoleClient, anomaly.Tuple{Local: ap(src, uint16(1000+i)), Remote: ap(target, 80)}, 0xdeadbeef, tm)
				// Background traffic with random ISNs.
				tr.Add(target, anomaly.RoleClient, anomaly.Tuple{Local: ap(target, uint16(5000+i)), Remote: ap(src, 80)}, r.Uint32(), tm)
			}
			c := only(tr.Findings(), anomaly.CraftedConstantISN)
			if !tt.want {
				if len(c) != 0 {
					t.Fatalf("Findings() = %+v, want no crafted_constant_isn", c)
				}
				return
			}
			if len(c) != 1 || c[0].ISN != 0xdeadbeef || c[0].N != tt.syns || c[0].Sources != tt.sources || c[0].Severity != anomaly.SeverityLow || c[0].EvidenceLog10 < 6 {
				t.Fatalf("Findings() = %+v, want one low crafted_constant_isn 0xdeadbeef", c)
			}
		})
	}
}

// TestISNLimits: hosts beyond MaxHosts and samples beyond MaxSamplesPerHost
// are counted, and the most recent samples are the ones kept.
func TestISNLimits(t *testing.T) {
	tr := anomaly.NewISNTracker(anomaly.ISNConfig{MaxHosts: 2, MaxSamplesPerHost: 8})
	for h := range 3 {
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(h + 1)})
		for i := range 20 {
			// Random first, then +1 counter for the last 8.
			x := uint32(i) * 2654435761
			if i >= 12 {
				x = uint32(i)
			}
			tr.Add(a, anomaly.RoleServer, anomaly.Tuple{Local: ap(a, 80), Remote: ap(scanner, uint16(i))}, x, t0.Add(time.Duration(i)*time.Second))
		}
	}
	s := tr.Stats()
	if s.Hosts != 2 || s.DroppedHosts != 20 || s.Evicted != 2*12 {
		t.Errorf("Stats() = %+v, want 2 hosts, 20 dropped, 24 evicted", s)
	}
	fs := tr.Findings()
	if len(fs) != 2 || fs[0].N != 8 || fs[0].Subtype != "counter_step" || !fs[0].FirstTime.Equal(t0.Add(12*time.Second)) {
		t.Errorf("Findings() = %+v, want 2 counter_step over the last 8 samples", fs)
	}
	tr = anomaly.NewISNTracker(anomaly.ISNConfig{MaxSamples: 5})
	serve(tr, []uint32{1, 2, 3, 4, 5, 6, 7}, every100ms(7))
	if s := tr.Stats(); s.DroppedBudget != 2 {
		t.Errorf("Stats().DroppedBudget = %d, want 2", s.DroppedBudget)
	}
}

// TestISNDedupe: a SYN retransmitted within 130 s is one attempt; the same
// ISN on the same tuple after that is a new connection.
func TestISNDedupe(t *testing.T) {
	var tr anomaly.ISNTracker
	tup := anomaly.Tuple{Local: ap(scanner, 1234), Remote: ap(target, 80)}
	for _, d := range []time.Duration{0, time.Second, 3 * time.Second, 127 * time.Second, 200 * time.Second} {
		tr.Add(scanner, anomaly.RoleClient, tup, 42, t0.Add(d))
	}
	if s := tr.Stats(); s.Retransmissions != 3 || s.Reincarnations != 1 {
		t.Errorf("Stats() = %+v, want 3 retransmissions, 1 reincarnation", s)
	}
}

func TestISNStrings(t *testing.T) {
	tests := []struct {
		v    interface{ String() string }
		want string
	}{
		{anomaly.ISNPredictable, "isn_predictable"},
		{anomaly.ISNGeneratorHint, "isn_generator_hint"},
		{anomaly.CraftedConstantISN, "crafted_constant_isn"},
		{anomaly.ISNKind(0), "ISNKind(0)"},
		{anomaly.SeverityInfo, "info"},
		{anomaly.SeverityLow, "low"},
		{anomaly.SeverityMedium, "medium"},
		{anomaly.SeverityHigh, "high"},
		{anomaly.SeverityCritical, "critical"},
		{anomaly.Severity(9), "Severity(9)"},
		{anomaly.ScopeGlobal, "global"},
		{anomaly.ScopePerPeer, "per_peer"},
		{anomaly.Scope(7), "Scope(7)"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func BenchmarkISNTrackerAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n = 1 << 16
	type in struct {
		host netip.Addr
		tup  anomaly.Tuple
		isn  uint32
		t    time.Time
	}
	ins := make([]in, n)
	for i := range ins {
		h := netip.AddrFrom4([4]byte{10, 1, byte(r.IntN(4)), byte(r.IntN(256))})
		ins[i] = in{h, anomaly.Tuple{Local: ap(h, uint16(r.IntN(65536))), Remote: ap(target, 443)}, r.Uint32(), t0.Add(time.Duration(i) * time.Millisecond)}
	}
	tr := anomaly.NewISNTracker(anomaly.ISNConfig{})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := &ins[i%n]
		tr.Add(s.host, anomaly.RoleClient, s.tup, s.isn, s.t)
		i++
	}
}

// TestISNCopies: a server's SYN-ACKs seen twice, before and after a NAT
// (the same ISN, acknowledging the same client ISN, to another address
// within a second), are one sample each; a server that repeats its ISN to
// other clients' SYNs is still caught, and so is a copy that came more
// than a second later.
func TestISNCopies(t *testing.T) {
	nat := netip.MustParseAddr("192.0.2.99")
	r := rand.New(rand.NewPCG(7, 7))
	base := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name      string
		copyDelay time.Duration
		copies    uint64
		flagged   bool
	}{
		{"NAT copies", 50 * time.Microsecond, 20, false},
		{"copies two seconds apart", 2 * time.Second, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tr anomaly.ISNTracker
			for i := range 20 {
				isn, at := r.Uint32(), base.Add(time.Duration(i)*10*time.Second)
				for k, remote := range []netip.Addr{scanner, nat} {
					tr.AddSample(anomaly.ISNSample{Host: target, Role: anomaly.RoleServer, Tuple: anomaly.Tuple{Local: ap(target, 7000), Remote: ap(remote, uint16(40000+i))},
						ISN: isn, Time: at.Add(time.Duration(k) * tc.copyDelay), PeerISN: uint32(1000 * i), HasPeerISN: true})
				}
			}
			if got := tr.Stats().Copies; got != tc.copies {
				t.Errorf("Copies = %d, want %d", got, tc.copies)
			}
			if fs := tr.Findings(); (len(fs) > 0) != tc.flagged {
				t.Errorf("Findings() = %+v, want flagged %v", fs, tc.flagged)
			}
		})
	}
	t.Run("constant ISN to other clients", func(t *testing.T) {
		var tr anomaly.ISNTracker
		for i := range 20 {
			for k, remote := range []netip.Addr{scanner, nat} {
				// The same ISN, within a second, but acknowledging another SYN.
				tr.AddSample(anomaly.ISNSample{Host: target, Role: anomaly.RoleServer, Tuple: anomaly.Tuple{Local: ap(target, 7000), Remote: ap(remote, uint16(40000+i))},
					ISN: 12345, Time: base.Add(time.Duration(i) * time.Millisecond), PeerISN: uint32(2*i + k), HasPeerISN: true})
			}
		}
		fs := tr.Findings()
		if tr.Stats().Copies != 0 || len(fs) != 1 || fs[0].Subtype != "constant" {
			t.Errorf("Copies = %d, Findings() = %+v; want no copies and one constant finding", tr.Stats().Copies, fs)
		}
	})
}
