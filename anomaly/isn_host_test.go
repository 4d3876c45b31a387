package anomaly

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// TestHostTupleIndex checks a host's tuple lookup (a scan of a short ring,
// an index past indexFrom, samples evicted from a full ring) against the
// plain model it replaced: a map from tuple to its latest attempt whose keys
// are exactly the ring's. Ports come from a small pool so that tuples are
// reused, retransmitted and evicted in every phase.
func TestHostTupleIndex(t *testing.T) {
	const perHost = 40 // > indexFrom, so the ring is scanned, indexed, then full
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		tr := NewISNTracker(ISNConfig{MaxSamplesPerHost: perHost})
		host := netip.MustParseAddr("192.0.2.1")
		peer := netip.MustParseAddr("198.51.100.7")
		type model struct {
			latest map[tupleKey]tupleState
			order  []tupleKey // ring order, oldest first
		}
		m := model{latest: map[tupleKey]tupleState{}}
		var want ISNStats
		ns := int64(1_700_000_000e9)
		for i := range 3000 {
			ns += rng.Int64N(int64(200 * time.Second))
			s := ISNSample{Host: host, Role: RoleServer, ISN: rng.Uint32(), Time: time.Unix(0, ns),
				Tuple: Tuple{Local: netip.AddrPortFrom(host, 80), Remote: netip.AddrPortFrom(peer, uint16(1024+rng.IntN(60)))}}
			if prev, ok := m.latest[keyOf(s.Tuple)]; ok && rng.IntN(3) == 0 {
				// A retransmission: the same ISN soon after.
				s.ISN = prev.isn
				s.Time = time.Unix(0, prev.ns+int64(time.Second))
			}
			tr.AddSample(s)
			// The model.
			want.Samples++
			k, sn := keyOf(s.Tuple), s.Time.UnixNano()
			if prev, ok := m.latest[k]; ok {
				if gap := sn - prev.ns; s.ISN == prev.isn && gap <= int64(retransWindow) && gap >= -int64(retransWindow) {
					want.Retransmissions++
				} else {
					want.Reincarnations++
					m.latest[k] = tupleState{s.ISN, sn}
				}
			} else {
				if len(m.order) == perHost {
					delete(m.latest, m.order[0])
					m.order = m.order[1:]
					want.Evicted++
				}
				m.order = append(m.order, k)
				m.latest[k] = tupleState{s.ISN, sn}
			}
			if got := tr.stats; got.Samples != want.Samples || got.Retransmissions != want.Retransmissions ||
				got.Reincarnations != want.Reincarnations || got.Evicted != want.Evicted {
				t.Fatalf("seed %d, sample %d: stats %+v, want %+v", seed, i, got, want)
			}
		}
		h := tr.host(host, RoleServer)
		ring, x := tr.ring(h), tr.tupleIndex(h)
		if len(ring) != len(m.order) || x == nil || x.n != len(m.order) {
			t.Fatalf("seed %d: ring %d, index %v, want %d tuples indexed", seed, len(ring), x, len(m.order))
		}
		for i, k := range m.order {
			p := (int(h.head) + i) % len(ring)
			got := ring[p]
			if got.key != k || got.last() != m.latest[k] || tr.find(h, ring, k) != p {
				t.Fatalf("seed %d: ring position %d holds %+v, want tuple %+v latest %+v", seed, i, got, k, m.latest[k])
			}
		}
	}
}
