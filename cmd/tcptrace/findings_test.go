package main

import (
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

// TestFindingsOnFixtures checks the anomaly engine end to end on the
// kernel-made fixtures: each capture raises exactly the finding kinds its
// scenario shows, and clean traffic raises nothing.
func TestFindingsOnFixtures(t *testing.T) {
	want := map[string][]string{
		"handshake_clean_4way.pcap":     nil,
		"close_3way.pcap":               nil,
		"half_close_data.pcap":          nil, // a legitimate half-close is not flagged
		"ipv6_clean.pcap":               nil,
		"midstream.pcap":                nil,
		"retransmit_fin.pcap":           nil,
		"refused.pcap":                  {"conn_refused"},
		"unanswered_syn.pcap":           {"syn_unanswered"},
		"simultaneous_open.pcap":        {"simultaneous_open"},
		"simultaneous_close.pcap":       {"simultaneous_close"},
		"rst_fin_wait2.pcap":            {"rst_after_close"},
		"rst_fin_wait2_timeout.pcap":    {"fin_wait2_timeout_rst"},
		"rst_last_ack.pcap":             {"time_wait_assassination"},
		"time_wait_reuse.pcap":          {"isn_generator_hint"}, // Linux's TIME-WAIT reuse ISN is recognised, not flagged
		"rst_syn_received_simopen.pcap": {"simultaneous_open"},
	}
	for file, kinds := range want {
		t.Run(file, func(t *testing.T) {
			r := analyze(t, "-r", filepath.Join("../../pcaps", file))
			seen := map[string]bool{}
			for _, f := range r.Findings {
				seen[f.Kind] = true
			}
			var got []string
			for k := range seen {
				got = append(got, k)
			}
			sort.Strings(got)
			sort.Strings(kinds)
			if !reflect.DeepEqual(got, kinds) && !(len(got) == 0 && len(kinds) == 0) {
				t.Errorf("finding kinds = %v, want %v", got, kinds)
			}
		})
	}
	r := analyze(t, "-r", "../../pcaps/unanswered_syn.pcap")
	if f := r.Findings[0]; f.Severity != "low" || f.Count != 1 || f.Service != "10.99.0.2:8007" || f.FirstFrame != 1 {
		t.Errorf("syn_unanswered = %+v, want low (retransmitted), count 1, service 10.99.0.2:8007, from frame 1", f)
	}
	if len(r.Rollups) != 1 || r.Rollups[0].Unanswered != 1 || r.Rollups[0].HandshakeSuccess != 0 {
		t.Errorf("rollups = %+v", r.Rollups)
	}
}
