package anomaly_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/fsm"
)

// probes returns a scan of ports first..first+n-1 of srv's host from one
// source: a SYN answered by RST (closed port), or, with data, a full
// connection that carries a request.
func probes(n int, data bool) []pkt {
	var ps []pkt
	for i := 0; i < n; i++ {
		c := netip.AddrPortFrom(cli.Addr(), uint16(50000+i))
		s := netip.AddrPortFrom(srv.Addr(), uint16(1+i))
		at := time.Duration(i) * time.Millisecond
		if !data {
			ps = append(ps, pkt{c, s, syn, 100, 0, 0, at}, pkt{s, c, rstack, 0, 101, 0, at + 10*time.Microsecond})
			continue
		}
		ps = append(ps, pkt{c, s, syn, 100, 0, 0, at}, pkt{s, c, synack, 300, 101, 0, at + 10*time.Microsecond},
			pkt{c, s, ack, 101, 301, 0, at + 20*time.Microsecond}, pkt{c, s, ack | fsm.FlagPSH, 101, 301, 10, at + 30*time.Microsecond},
			pkt{s, c, ack, 301, 111, 0, at + 40*time.Microsecond})
	}
	return ps
}

func TestPortScanThresholds(t *testing.T) {
	for _, tt := range []struct {
		name  string
		pkts  []pkt
		found bool
	}{
		{"14 ports: below Zeek's 15", probes(14, false), false},
		{"15 closed ports", probes(15, false), true},
		{"20 ports, every connection carries data", probes(20, true), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs, _ := run(t, tt.pkts, time.Second)
			f := find(fs, "port_scan")
			if (f != nil) != tt.found {
				t.Fatalf("port_scan = %+v, want found=%v", f, tt.found)
			}
			if f != nil && (f.Host != cli.Addr() || f.Scan.Target != srv.Addr() || len(f.Scan.Types) != 1 || f.Scan.Types[0] != "syn" || f.Scan.Ports != 15) {
				t.Errorf("port_scan = %+v %+v, want %s -> %s, syn, 15 ports", f, *f.Scan, cli.Addr(), srv.Addr())
			}
		})
	}
}
