package filter_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/tcptrace/tcptrace/filter"
	"golang.org/x/net/bpf"
)

func TestCompileEmpty(t *testing.T) {
	for _, expr := range []string{"", "  \t\n"} {
		prog, err := filter.Compile(expr, filter.LinkTypeEthernet, 65535)
		if err != nil {
			t.Fatalf("Compile(%q) = %v", expr, err)
		}
		want := []bpf.Instruction{bpf.RetConstant{Val: 65535}}
		if !reflect.DeepEqual(prog, want) {
			t.Errorf("Compile(%q) = %v, want %v", expr, prog, want)
		}
	}
}

// TestCompileProgram pins one program against tcpdump -d's output.
func TestCompileProgram(t *testing.T) {
	// tcpdump -d 'tcp[tcpflags] & (tcp-syn|tcp-ack) != 0'
	want := []bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x800, SkipFalse: 8},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6, SkipFalse: 6},
		bpf.LoadAbsolute{Off: 20, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff, SkipTrue: 4},
		bpf.LoadMemShift{Off: 14},
		bpf.LoadIndirect{Off: 27, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x12, SkipFalse: 1},
		bpf.RetConstant{Val: 262144},
		bpf.RetConstant{Val: 0},
	}
	got, err := filter.Compile("tcp[tcpflags] & (tcp-syn|tcp-ack) != 0", filter.LinkTypeEthernet, 262144)
	if err != nil {
		t.Fatal(err)
	}
	gotRaw, err := bpf.Assemble(got)
	if err != nil {
		t.Fatal(err)
	}
	wantRaw, _ := bpf.Assemble(want)
	if !reflect.DeepEqual(gotRaw, wantRaw) {
		t.Errorf("Compile = %v, want %v", got, want)
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		expr string
		pos  int
		msg  string
	}{
		{"port 80 andd x", 8, `unexpected "andd"`},
		{"tcp and", 7, "unexpected end of expression"},
		{"(tcp", 4, "unexpected end of expression"},
		{"tcp)", 3, `unexpected ")"`},
		{"1.2.3.4", 0, `unexpected "1.2.3.4"`},
		{"host", 4, "unexpected end of expression"},
		{"tcp[13] = ", 10, "unexpected end of expression"},
		{"tcp[13] = 2 = 3", 12, `unexpected "="`},
		{"port 80 $", 8, `illegal character '$'`},
		{"port 08", 5, "number 08 contains non-octal digit"},
		{"port 99999999999", 5, "number 99999999999 overflows 32 bits"},
		{"port 70000", 5, "illegal port number 70000 > 65535"},
		{"ip port 80", 8, "illegal qualifier of 'port'"},
		{"tcp or 80", 7, "syntax error in filter expression"},
		{"port 10.0.0.1", 5, "'port' modifier applied to ip host"},
		{"host 10.0.0.0/8", 5, "Mask syntax for networks only"},
		{"net 10.1.2.3/8", 4, `non-network bits set in "10.1.2.3/8"`},
		{"net 10.0.0.0/33", 4, "mask length must be <= 32"},
		{"net 10.1.0.0 mask 255.0.0.0", 4, `non-network bits set in "10.1.0.0 mask 255.0.0.0"`},
		{"net fe80::1/10", 4, `non-network bits set in "fe80::1/10"`},
		{"host fe80::/10", 5, "Mask syntax for networks only"},
		{"port ::1", 5, "invalid qualifier against IPv6 address"},
		{"ip6 host 10.0.0.1", 9, "'ip6' modifier applied to ip host"},
		{"ip host ::1", 8, "'ip' modifier applied to ip6 host"},
		{"tcp host 10.0.0.1", 9, "'tcp' modifier applied to host"},
		{"host 300.1.1.1", 5, "invalid IPv4 address '300.1.1.1'"},
		{"vlan 5000", 0, "VLAN tag 5000 greater than maximum 4095"},
		{"tcp[0:3] = 1", 0, "data size must be 1, 2, or 4"},
		{"tcp[13] / 0 = 1", 8, "division by zero"},
		{"tcp[13] % 0 = 1", 8, "modulus by zero"},
		{"tcp[13] << 32 = 1", 8, "shift by more than 31 bits"},
		{"tcp[13] / (1 - 1) = 1", 0, "division by zero"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := filter.Compile(tt.expr, filter.LinkTypeEthernet, 262144)
			var se *filter.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q) = %v, want a SyntaxError", tt.expr, err)
			}
			want := filter.SyntaxError{Expr: tt.expr, Pos: tt.pos, Msg: tt.msg}
			if *se != want {
				t.Errorf("Compile(%q) = %#v, want %#v", tt.expr, *se, want)
			}
		})
	}
	_, err := filter.Compile("port 80 andd x", filter.LinkTypeEthernet, 262144)
	if got, want := err.Error(), `filter "port 80 andd x": unexpected "andd" at 8`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestLinkTypeErrors(t *testing.T) {
	tests := []struct {
		expr string
		lt   uint16
		msg  string
	}{
		{"vlan", filter.LinkTypeLinuxSLL, "no VLAN support for Linux cooked v1"},
		{"vlan 10", filter.LinkTypeLinuxSLL2, "no VLAN support for Linux cooked v2"},
		{"vlan", filter.LinkTypeRaw, "no VLAN support for Raw IP"},
		{"vlan", filter.LinkTypeNull, "no VLAN support for BSD loopback"},
	}
	for _, tt := range tests {
		_, err := filter.Compile(tt.expr, tt.lt, 262144)
		var se *filter.SyntaxError
		if !errors.As(err, &se) || se.Msg != tt.msg {
			t.Errorf("Compile(%q, %d) = %v, want %q", tt.expr, tt.lt, err, tt.msg)
		}
	}
	var ue *filter.UnsupportedError
	if _, err := filter.Compile("tcp", 105, 262144); !errors.As(err, &ue) || ue.Construct != "link type 105" {
		t.Errorf("Compile(tcp, 105) = %v, want UnsupportedError for link type 105", err)
	}
	if _, err := filter.Compile("tcp", 1, 0); err == nil {
		t.Error("Compile(tcp, 1, 0) succeeded, want an error for snaplen 0")
	}
}

func TestRejectAll(t *testing.T) {
	for _, expr := range []string{"ip and ip6", "tcp and udp", "ip6 and tcp[13] = 2"} {
		_, err := filter.Compile(expr, filter.LinkTypeEthernet, 262144)
		if !errors.Is(err, filter.ErrRejectAll) {
			t.Errorf("Compile(%q) = %v, want ErrRejectAll", expr, err)
		}
	}
	if _, err := filter.Compile("ip6", filter.LinkTypeIPv4, 262144); !errors.Is(err, filter.ErrRejectAll) {
		t.Errorf("Compile(ip6, IPv4) = %v, want ErrRejectAll", err)
	}
}

func TestUnsupported(t *testing.T) {
	tests := []struct {
		expr      string
		construct string
		pos       int
	}{
		{"ether host 00:11:22:33:44:55", "ether host", 0},
		{"ether src host 00:11:22:33:44:55", "ether src host", 0},
		{"arp", "arp", 0},
		{"tcp or arp", "arp", 7},
		{"rarp host 10.0.0.1", "rarp host", 0},
		{"ip proto 47", "ip proto", 0},
		{"proto 47", "proto", 0},
		{"ip6 protochain 6", "ip6 protochain", 0},
		{"gateway foo", "gateway", 0},
		{"ether broadcast", "ether broadcast", 0},
		{"ip multicast", "ip multicast", 0},
		{"broadcast", "broadcast", 0},
		{"mpls 100", "mpls", 0},
		{"pppoes", "pppoes", 0},
		{"geneve", "geneve", 0},
		{"inbound", "inbound", 0},
		{"igmp", "igmp", 0},
		{"arp[6:2] = 1", "arp[]", 0},
		{"icmp6[0] = 128", "icmp6[]", 0},
		{"ether", "ether", 0},
		{"host example.com", `host name "example.com"`, 5},
		{"host 10.0.0.1 or localhost", `host name "localhost"`, 17},
		{"port http", `port name "http"`, 5},
		{"portrange ftp-ssh", `portrange name "ftp-ssh"`, 10},
		{"net loopback", `net name "loopback"`, 4},
		{"host 00:11:22:33:44:55", "MAC address", 5},
		{"wlan type mgt", "wlan type", 0},
		{"ip and byte 1 = 2", "byte", 7},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			_, err := filter.Compile(tt.expr, filter.LinkTypeEthernet, 262144)
			var ue *filter.UnsupportedError
			if !errors.As(err, &ue) {
				t.Fatalf("Compile(%q) = %v, want an UnsupportedError", tt.expr, err)
			}
			want := filter.UnsupportedError{Expr: tt.expr, Pos: tt.pos, Construct: tt.construct}
			if *ue != want {
				t.Errorf("Compile(%q) = %#v, want %#v", tt.expr, *ue, want)
			}
		})
	}
	_, err := filter.Compile("ether host 00:11:22:33:44:55", filter.LinkTypeEthernet, 262144)
	if got, want := err.Error(), `filter construct "ether host" is not supported`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// synFrame is an Ethernet/IPv4/TCP SYN from 10.0.0.1:1234 to 10.0.0.2:80.
var synFrame = []byte{
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
	0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
	0x04, 0xd2, 0x00, 0x50, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
}

func TestMatch(t *testing.T) {
	tests := []struct {
		expr string
		data []byte
		wire int
		want bool
	}{
		{"", synFrame, len(synFrame), true},
		{"tcp", synFrame, len(synFrame), true},
		{"udp", synFrame, len(synFrame), false},
		{"src host 10.0.0.1 and dst port 80", synFrame, len(synFrame), true},
		{"tcp[tcpflags] == tcp-syn", synFrame, len(synFrame), true},
		{"tcp[tcpflags] & tcp-ack != 0", synFrame, len(synFrame), false},
		{"port 1234 or port 9", synFrame, len(synFrame), true},
		// Cut inside the TCP header: the source port is there, the destination
		// port is not. libpcap's optimizer tests both values of the source port
		// first, so "port 80 or 1234" keeps the packet and "port 80" drops it.
		{"port 80 or 1234", synFrame[:36], len(synFrame), true},
		{"port 80", synFrame[:36], len(synFrame), false},
		// len, greater and less test the wire length.
		{"greater 100", synFrame, 200, true},
		{"greater 100", synFrame, len(synFrame), false},
		{"less 60", synFrame[:20], len(synFrame), true},
	}
	for _, tt := range tests {
		f, err := filter.New(tt.expr, filter.LinkTypeEthernet)
		if err != nil {
			t.Fatalf("New(%q) = %v", tt.expr, err)
		}
		if got := f.MatchLen(tt.data, tt.wire); got != tt.want {
			t.Errorf("New(%q).MatchLen(%d bytes, %d) = %v, want %v", tt.expr, len(tt.data), tt.wire, got, tt.want)
		}
		if tt.wire == len(tt.data) {
			if got := f.Match(tt.data); got != tt.want {
				t.Errorf("New(%q).Match(%d bytes) = %v, want %v", tt.expr, len(tt.data), got, tt.want)
			}
		}
	}
}

// TestAgainstXNetVM runs every program on every synthetic frame, cut at every
// length, in x/net/bpf's VM and in Filter's interpreter.
func TestAgainstXNetVM(t *testing.T) {
	exprs := append(append([]string{}, captureExprs...), diffExprs...)
	for _, lt := range allLinkTypes {
		frames := framesFor(lt)
		for _, expr := range exprs {
			f, err := filter.New(expr, lt)
			if err != nil {
				continue
			}
			vm, err := bpf.NewVM(f.Program())
			if err != nil {
				if !usesUnsupportedInsn(f.Program()) {
					t.Errorf("NewVM(New(%q, %d)) = %v", expr, lt, err)
				}
				continue
			}
			if usesUnsupportedInsn(f.Program()) {
				continue
			}
			for _, fr := range frames {
				for n := 0; n <= len(fr); n++ {
					want, err := vm.Run(fr[:n])
					if err != nil {
						t.Fatalf("%q: VM.Run: %v", expr, err)
					}
					if got := f.Match(fr[:n]); got != (want != 0) {
						t.Fatalf("%d %q: Match(% x) = %v, x/net/bpf says %d", lt, expr, fr[:n], got, want)
					}
				}
			}
		}
	}
}

// usesUnsupportedInsn reports whether prog has an instruction x/net/bpf's VM
// cannot run: NegateA, or a load it decodes as an extension.
func usesUnsupportedInsn(prog []bpf.Instruction) bool {
	for _, ins := range prog {
		switch ins := ins.(type) {
		case bpf.NegateA, bpf.RawInstruction:
			return true
		case bpf.LoadExtension:
			if ins.Num != bpf.ExtLen {
				return true
			}
		}
	}
	return false
}

func TestMatchAllocs(t *testing.T) {
	f, err := filter.New("tcp[tcpflags] & (tcp-syn|tcp-ack) != 0 and (port 80 or 443) and not vlan", filter.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(1000, func() { f.Match(synFrame) }); n != 0 {
		t.Errorf("Match allocates %v times per call, want 0", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, expr := range []string{"tcp", "host 10.0.0.2 and (port 80 or 443)", "tcp[tcpflags] & (tcp-syn|tcp-ack) != 0"} {
		b.Run(expr, func(b *testing.B) {
			f, err := filter.New(expr, filter.LinkTypeEthernet)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				f.Match(synFrame)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filter.Compile("host 10.0.0.1 and (port 80 or 443) and tcp[13] & 2 != 0", filter.LinkTypeEthernet, 262144); err != nil {
			b.Fatal(err)
		}
	}
}
