// Command gencap writes large synthetic TCP captures for benchmarks and
// robustness checks: classic pcap, Ethernet, IPv4 and IPv6, with correct IP
// header and TCP checksums. The output is a function of the flags alone:
// the same flags give the same bytes.
//
//	gencap -mode mixed -packets 2000000 -conns 100000 -concurrent 2000 -seed 1 -o big.pcap
//	gencap -mode synflood -packets 5000000 -seed 1 -o flood.pcap
//
// mixed is a busy server link: connections open (three-way handshake, SYN
// options), exchange requests and responses with proper sequence and
// acknowledgment numbers, retransmit now and then, and close with FINs (four-
// or three-way, or a half-close with data after the client's FIN) or a RST;
// some SYNs are refused and some go unanswered. At most -concurrent
// connections are open at once, so the capture grows with -packets and
// -conns while the open set stays bounded.
//
// synflood is -packets bare SYNs from random IPv4 sources and ports to one
// server ip:port, with a trickle of -conns ordinary connections (by default
// one per thousand SYNs) to the same service.
//
// gencap writes the frames itself; it does not use gopacket (only package
// capture of tcptrace imports gopacket).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// config is every flag; the output is a function of it alone.
type config struct {
	mode       string
	packets    int
	conns      int
	concurrent int
	seed       uint64
	v6         float64
	clients    int
	start      time.Time
	nanos      bool
	snaplen    int
	rate       float64
	output     string
	quiet      bool
}

func run(args []string, stdout, stderr io.Writer) int {
	var c config
	var start string
	fs := flag.NewFlagSet("gencap", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.mode, "mode", "mixed", "traffic: mixed or synflood")
	fs.IntVar(&c.packets, "packets", 2000000, "packets to write (synflood: SYNs of the flood, besides the trickle)")
	fs.IntVar(&c.conns, "conns", -1, "connections (mixed: default 100000, at most -packets; synflood: ordinary connections besides the flood, default packets/1000)")
	fs.IntVar(&c.concurrent, "concurrent", 2000, "connections open at once at most")
	fs.Uint64Var(&c.seed, "seed", 1, "random seed")
	fs.Float64Var(&c.v6, "v6", 0.25, "fraction of connections over IPv6 (mixed)")
	fs.IntVar(&c.clients, "clients", 65536, "distinct client hosts per address family")
	fs.StringVar(&start, "start", "2026-01-05T09:00:00Z", "capture time of the first packet (RFC 3339)")
	fs.BoolVar(&c.nanos, "nanos", false, "write nanosecond timestamps (magic a1b23c4d) instead of microseconds")
	fs.IntVar(&c.snaplen, "snaplen", 262144, "cut each frame to this many bytes (the record keeps the wire length)")
	fs.Float64Var(&c.rate, "rate", 100000, "synflood: SYNs per second")
	fs.StringVar(&c.output, "o", "-", "output file (- for stdout)")
	fs.BoolVar(&c.quiet, "q", false, "print no summary on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gencap: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	t, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		fmt.Fprintf(stderr, "gencap: -start: %v\n", err)
		return 2
	}
	c.start = t
	switch c.mode {
	case "mixed":
		if c.conns < 0 {
			c.conns = 100000
		}
		if c.conns < 1 || c.packets < c.conns {
			fmt.Fprintln(stderr, "gencap: mixed needs 1 <= -conns <= -packets")
			return 2
		}
	case "synflood":
		if c.conns < 0 {
			c.conns = c.packets / 1000
		}
		if c.packets < 0 || c.rate <= 0 {
			fmt.Fprintln(stderr, "gencap: synflood needs -packets >= 0 and -rate > 0")
			return 2
		}
	default:
		fmt.Fprintf(stderr, "gencap: unknown -mode %q (want mixed or synflood)\n", c.mode)
		return 2
	}
	if c.concurrent < 1 || c.clients < 1 || c.clients > 1<<17 || c.v6 < 0 || c.v6 > 1 || c.snaplen < 64 {
		fmt.Fprintln(stderr, "gencap: need -concurrent >= 1, 1 <= -clients <= 131072, 0 <= -v6 <= 1, -snaplen >= 64")
		return 2
	}

	out := stdout
	var f *os.File
	if c.output != "-" {
		if f, err = os.Create(c.output); err != nil {
			fmt.Fprintf(stderr, "gencap: %v\n", err)
			return 1
		}
		out = f
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	sum, err := generate(&c, bw)
	if err == nil {
		err = bw.Flush()
	}
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "gencap: write %s: %v\n", c.output, err)
		return 1
	}
	if !c.quiet {
		fmt.Fprintf(stderr, "gencap: %s\n", sum)
	}
	return 0
}

// summary describes what was written.
type summary struct {
	packets, conns, v6, bytes uint64
	maxOpen                   int
	span                      time.Duration
}

func (s summary) String() string {
	return fmt.Sprintf("packets=%d connections=%d ipv6_connections=%d bytes=%d max_open=%d span=%s",
		s.packets, s.conns, s.v6, s.bytes, s.maxOpen, s.span)
}

// generate writes the capture c describes to w.
func generate(c *config, w io.Writer) (summary, error) {
	pw := newPcapWriter(w, c.snaplen, c.nanos)
	g := newGen(c, pw)
	if err := pw.header(); err != nil {
		return summary{}, err
	}
	if c.mode == "synflood" {
		g.synflood()
	} else {
		g.mixed()
	}
	if pw.err != nil {
		return summary{}, pw.err
	}
	g.sum.bytes = pw.n
	return g.sum, nil
}
