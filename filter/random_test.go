package filter_test

import (
	"errors"
	"math/rand"
	"reflect"
	"testing"

	"github.com/tcptrace/tcptrace/filter"
	"golang.org/x/net/bpf"
)

// TestRandomExpressions compares acceptance and programs with tcpdump -dd on
// expressions generated at random (with a fixed seed) from the supported
// grammar: nesting, not, qualifier inheritance, arithmetic precedence.
func TestRandomExpressions(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	r := rand.New(rand.NewSource(2))
	prims := []string{"tcp", "udp", "ip", "ip6", "icmp", "sctp", "icmp6", "vlan", "vlan 10", "greater 60", "less 100",
		"host 10.0.0.1", "src host 10.0.0.2", "dst net 10.0.0.0/8", "net 192.168", "port 80", "tcp port 443", "udp dst port 53",
		"src or dst port 22", "portrange 1-1024", "ip6 host fe80::1", "net 2001:db8::/32", "src and dst net 10.0.0.0 mask 255.0.0.0",
		"ip src 10.0.0.1", "ip6 dst fe80::2", "tcp src portrange 80-90"}
	ids := []string{"10.0.0.9", "443", "8080", "fe80::3", "(80 or 22)", "not 25", "10.1", "(10.0.0.7 and not 10.0.0.8)"}
	var arith func(d int) string
	arith = func(d int) string {
		if d > 2 || r.Intn(3) == 0 {
			return []string{"1", "2", "13", "len", "tcp-syn", "0x12", "tcp[13]", "ip[0]", "udp[0:2]", "ip6[6]", "icmp[0]", "ether[12:2]", "tcp[tcpflags]"}[r.Intn(13)]
		}
		switch r.Intn(6) {
		case 0:
			return "(" + arith(d+1) + ")"
		case 1:
			return "-" + arith(d+1)
		case 2:
			return []string{"tcp", "ip", "udp"}[r.Intn(3)] + "[" + arith(d+1) + "]"
		}
		ops := []string{"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"}
		return arith(d+1) + " " + ops[r.Intn(len(ops))] + " " + arith(d+1)
	}
	var expr func(d int) string
	expr = func(d int) string {
		var s string
		switch k := r.Intn(10); {
		case k < 5 || d > 3:
			s = prims[r.Intn(len(prims))]
		case k < 7:
			s = arith(0) + " " + []string{"=", "!=", "<", ">", "<=", ">="}[r.Intn(6)] + " " + arith(0)
		default:
			s = "(" + expr(d+1) + ")"
		}
		if r.Intn(5) == 0 {
			s = "not " + s
		}
		for r.Intn(3) == 0 && d < 4 {
			op := []string{"and", "or", "&&", "||"}[r.Intn(4)]
			if r.Intn(3) == 0 {
				s += " " + op + " " + ids[r.Intn(len(ids))]
			} else {
				s += " " + op + " " + expr(d+1)
			}
		}
		return s
	}
	n := 400
	if testing.Short() || raceEnabled {
		n = 100
	}
	same := 0
	for i := range n {
		e := expr(0)
		lt := allLinkTypes[i%len(allLinkTypes)]
		prog, err := filter.Compile(e, lt, 262144)
		var ue *filter.UnsupportedError
		if errors.As(err, &ue) {
			t.Errorf("Compile(%q, %d) = %v", e, lt, err)
			continue
		}
		lib, msg := libpcapProgram(t, tcpdump, e, lt, "")
		switch {
		case err == nil && msg != "":
			t.Errorf("Compile(%q, %d) succeeded; tcpdump says %s", e, lt, msg)
		case err != nil && msg == "":
			t.Errorf("Compile(%q, %d) = %v; tcpdump compiles it", e, lt, err)
		case err == nil:
			raw, err := bpf.Assemble(prog)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(raw, lib) {
				t.Errorf("%s %q: program differs from libpcap's\nours:\n%s\nlibpcap:\n%s", linkNames[lt], e, disasm(raw), disasm(lib))
				continue
			}
			same++
		}
	}
	t.Logf("%d identical programs", same)
}
