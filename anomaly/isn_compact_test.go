package anomaly

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"
)

// TestISNCompact locks in the tracker's layout (issue 7): most hosts of a
// busy capture have one sample, and such a host costs its host entry, one
// 48-byte sample and a share of the host table, with no heap object of
// its own. The map[hostKey]*host with a ring slice per host it replaced
// took 207 bytes a single-sample host (256 with two samples), and two
// allocations per new host.
func TestISNCompact(t *testing.T) {
	if s := unsafe.Sizeof(isnSample{}); s > 48 {
		t.Errorf("isnSample is %d bytes, want ≤ 48", s)
	}
	if s := unsafe.Sizeof(host{}); s > 48 {
		t.Errorf("host is %d bytes, want ≤ 48", s)
	}
	if s := unsafe.Sizeof(craftedSYN{}); s > 32 {
		t.Errorf("craftedSYN is %d bytes, want ≤ 32", s)
	}
	server := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), 80)
	add := func(tr *ISNTracker, i, j int) {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		// Servers, so that the crafted-constant window (clients only)
		// is not counted.
		tr.Add(a, RoleServer, Tuple{netip.AddrPortFrom(a, uint16(1024+j)), server}, uint32(i*7+j), time.Unix(1_700_000_000, int64(i)))
	}
	for _, tt := range []struct{ per, max int }{{1, 128}, {2, 176}} {
		const hosts = defaultMaxHosts
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		tr := NewISNTracker(ISNConfig{})
		for i := range hosts {
			for j := range tt.per {
				add(tr, i, j)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := float64(after.HeapAlloc-before.HeapAlloc) / hosts
		t.Logf("%d samples a host: %.1f bytes a host", tt.per, per)
		if per > float64(tt.max) {
			t.Errorf("%d samples a host: %.1f bytes a host, want ≤ %d", tt.per, per, tt.max)
		}
		runtime.KeepAlive(tr)
	}
	// A new host allocates nothing of its own: pages and slabs are
	// shared, so AllocsPerRun's whole-number average is 0.
	tr := NewISNTracker(ISNConfig{})
	i := 0
	if n := testing.AllocsPerRun(5000, func() { add(tr, i, 0); i++ }); n != 0 {
		t.Errorf("AddSample of a new host: %v allocations, want 0", n)
	}
}

// TestISNArena checks many hosts' rings, which share the arena's slabs
// and move as they grow, against a plain model (a list of tuples per host,
// oldest first, and each tuple's latest attempt), under every limit: ring
// sizes below, at and past the small segments, a power of two or not,
// MaxHosts and MaxSamples. A ring written into another's segment, or a
// segment handed out twice, shows as a ring that differs from the model.
func TestISNArena(t *testing.T) {
	for _, perHost := range []int{1, 3, 8, 40, 64, 65, 100, 300} {
		for _, budget := range []int{0, 2000} {
			rng := rand.New(rand.NewPCG(uint64(perHost), uint64(budget)))
			cfg := ISNConfig{MaxHosts: 50, MaxSamplesPerHost: perHost, MaxSamples: budget}
			tr := NewISNTracker(cfg)
			c := tr.config()
			models := map[hostKey]*ringModel{}
			var want ISNStats
			total := 0
			ns := int64(1_700_000_000e9)
			peer := netip.MustParseAddr("2001:db8::7")
			for i := range 20000 {
				ns += rng.Int64N(int64(20 * time.Second))
				a := netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(60))})
				if rng.IntN(4) == 0 {
					// Hosts grow at different rates.
					a = netip.AddrFrom4([4]byte{10, 0, 1, byte(rng.IntN(4))})
				}
				s := ISNSample{Host: a, Role: Role(rng.IntN(2)), ISN: rng.Uint32(), Time: time.Unix(0, ns),
					Tuple: Tuple{Local: netip.AddrPortFrom(a, 80), Remote: netip.AddrPortFrom(peer, uint16(rng.IntN(2*perHost+8)))}}
				k, tk := hostKey{s.Host, s.Role}, keyOf(s.Tuple)
				m := models[k]
				if prev, ok := m.latestOf(tk); ok && rng.IntN(3) == 0 {
					s.ISN, s.Time = prev.isn, time.Unix(0, prev.ns+int64(time.Second))
				}
				tr.AddSample(s)
				sn := s.Time.UnixNano()
				want.Samples++
				switch {
				case m == nil && len(models) >= c.MaxHosts:
					want.DroppedHosts++
				default:
					if m == nil {
						m = &ringModel{latest: map[tupleKey]tupleState{}}
						models[k] = m
					}
					if prev, ok := m.latest[tk]; ok {
						if gap := sn - prev.ns; s.ISN == prev.isn && gap <= int64(retransWindow) && gap >= -int64(retransWindow) {
							want.Retransmissions++
						} else {
							want.Reincarnations++
							m.latest[tk] = tupleState{s.ISN, sn}
						}
						break
					}
					if len(m.order) == perHost {
						delete(m.latest, m.order[0])
						m.order = m.order[1:]
						want.Evicted++
					} else if total >= c.MaxSamples {
						want.DroppedBudget++
						break
					} else {
						total++
					}
					m.order = append(m.order, tk)
					m.latest[tk] = tupleState{s.ISN, sn}
				}
				got := tr.Stats()
				got.CraftedEvicted = 0
				if want.Hosts = len(models); got != want || tr.total != total {
					t.Fatalf("per host %d, budget %d, sample %d: stats %+v (%d held), want %+v (%d)", perHost, budget, i, got, tr.total, want, total)
				}
				if i%1000 == 999 {
					checkRings(t, fmt.Sprintf("per host %d, budget %d, sample %d", perHost, budget, i), tr, models)
				}
			}
			// The arena holds the samples and little else: power-of-two
			// rounding, freed segments, and the shared slabs, which
			// double up to slabMax.
			var slots int
			for _, s := range tr.arena.slabs {
				slots += len(s)
			}
			if slots > 2*total+2*slabMax {
				t.Errorf("per host %d, budget %d: arena of %d samples for %d", perHost, budget, slots, total)
			}
		}
	}
}

// ringModel is a host's ring as TestISNArena expects it.
type ringModel struct {
	order  []tupleKey // oldest first
	latest map[tupleKey]tupleState
}

func (m *ringModel) latestOf(k tupleKey) (tupleState, bool) {
	if m == nil {
		return tupleState{}, false
	}
	s, ok := m.latest[k]
	return s, ok
}

// checkRings compares every host's ring, and its tuple lookup, with models.
func checkRings(t *testing.T, at string, tr *ISNTracker, models map[hostKey]*ringModel) {
	t.Helper()
	for k, m := range models {
		h := tr.host(k.addr, k.role)
		if h == nil {
			t.Fatalf("%s: host %v missing", at, k)
		}
		ring := tr.ring(h)
		if len(ring) != len(m.order) || tr.Samples(k.addr, k.role) != len(m.order) {
			t.Fatalf("%s: host %v holds %d samples, want %d", at, k, len(ring), len(m.order))
		}
		for i, tk := range m.order {
			p := (int(h.head) + i) % len(ring)
			if e := ring[p]; e.key != tk || e.last() != m.latest[tk] || tr.find(h, ring, tk) != p {
				t.Fatalf("%s: host %v ring position %d holds %+v, want tuple %+v latest %+v", at, k, i, e, tk, m.latest[tk])
			}
		}
	}
}

// TestISNZones: hosts are told apart as netip.Addr values are, zone
// included, though the table holds them packed; and Findings reports each
// with the address it was given. The crafted-constant check counts
// sources the same way.
func TestISNZones(t *testing.T) {
	hosts := []netip.Addr{
		{}, // invalid: not ::
		netip.MustParseAddr("::"),
		netip.MustParseAddr("10.0.0.1"),
		netip.MustParseAddr("::ffff:10.0.0.1"), // not 10.0.0.1
		netip.MustParseAddr("fe80::1"),
		netip.MustParseAddr("fe80::1%eth0"),
		netip.MustParseAddr("fe80::1%eth1"),
	}
	var tr ISNTracker
	peer := netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), 80)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 10 {
		for j, h := range hosts {
			// ISN 0 from new ports: hping3 -M 0, an ISNPredictable
			// "zero" finding per host, and a crafted-constant flood
			// over all of them.
			tr.Add(h, RoleClient, Tuple{netip.AddrPortFrom(h, uint16(1000+i)), peer}, 0, t0.Add(time.Duration(i*len(hosts)+j)*time.Millisecond))
		}
	}
	if s := tr.Stats(); s.Hosts != len(hosts) {
		t.Errorf("Stats().Hosts = %d, want %d", s.Hosts, len(hosts))
	}
	for _, h := range hosts {
		if n := tr.Samples(h, RoleClient); n != 10 {
			t.Errorf("Samples(%v) = %d, want 10", h, n)
		}
	}
	if n := tr.Samples(netip.MustParseAddr("fe80::1%eth2"), RoleClient); n != 0 {
		t.Errorf("Samples(fe80::1%%eth2) = %d, want 0", n)
	}
	want := slices.Clone(hosts)
	slices.SortFunc(want, netip.Addr.Compare)
	var got []netip.Addr
	var crafted *ISNFinding
	for _, f := range tr.Findings() {
		switch f.Kind {
		case ISNPredictable:
			got = append(got, f.Host)
		case CraftedConstantISN:
			crafted = &f
		}
	}
	if !slices.Equal(got, want) { // == on netip.Addr compares zones
		t.Errorf("Findings() for hosts %v, want %v", got, want)
	}
	if crafted == nil || crafted.Sources != len(hosts) || crafted.N != 10*len(hosts) {
		t.Errorf("crafted_constant_isn = %+v, want %d SYNs from %d sources", crafted, 10*len(hosts), len(hosts))
	}
}

// TestCraftedZonesBounded: the zones of the SYNs in the crafted-constant
// window leave with their SYNs.
func TestCraftedZonesBounded(t *testing.T) {
	var tr ISNTracker
	a := netip.MustParseAddr("fe80::1%eth0")
	peer := netip.AddrPortFrom(netip.MustParseAddr("fe80::2%eth0"), 80)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 300 {
		tr.Add(a, RoleClient, Tuple{netip.AddrPortFrom(a, uint16(1000+i)), peer}, uint32(i)*2654435761, t0.Add(time.Duration(i)*time.Second))
	}
	if c := &tr.crafted; len(c.zones) != c.n || c.n > 61 {
		t.Errorf("%d zones held for %d SYNs in the window, want as many, ≤ 61", len(c.zones), c.n)
	}
}
