package main

import (
	"encoding/binary"
	"math"
	"math/bits"
	"time"
)

// rng is wyrand: tiny, fast, and ours, so that the bytes written depend on
// the seed alone and not on the standard library's generators.
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// intn returns a number in [0, n), n <= 2^32.
func (r *rng) intn(n int) int { return int((r.next() >> 32) * uint64(n) >> 32) }

// between returns a number in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// exp returns an exponentially distributed number with the given mean.
func (r *rng) exp(mean float64) float64 { return -mean * math.Log(1-r.float()) }

// dur returns an exponentially distributed duration with the given mean,
// at most 60 times the mean.
func (r *rng) dur(mean time.Duration) int64 {
	return int64(min(r.exp(float64(mean)), 60*float64(mean)))
}

// step is one packet of a connection's script.
type step struct {
	at       int64 // nanoseconds since the connection's first packet
	dir      uint8 // 0: client to server, 1: server to client
	flags    uint8
	syn      bool // carries SYN options
	seq, ack uint32
	n        uint16
	win      uint16
}

// conn is a connection being written: its script and the next step.
type conn struct {
	id     uint64 // order of start: breaks ties between equal times
	ep     [2]endpoint
	v6     bool
	start  int64
	steps  []step
	i      int
	ipid   [2]uint16
	ttl    [2]uint8
	mss    [2]uint16
	wscale [2]uint8
	flow   uint32
}

func (c *conn) at() int64 { return c.start + c.steps[c.i].at }

// connHeap orders open connections by the time of their next packet.
type connHeap []*conn

func (h connHeap) less(i, j int) bool {
	a, b := h[i].at(), h[j].at()
	return a < b || a == b && h[i].id < h[j].id
}

func (h *connHeap) push(c *conn) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

// fix restores the order after the top's next time grew.
func (h connHeap) fix() {
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < len(h) && h.less(l, m) {
			m = l
		}
		if r := l + 1; r < len(h) && h.less(r, m) {
			m = r
		}
		if m == i {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

func (h *connHeap) pop() {
	s := *h
	s[0] = s[len(s)-1]
	*h = s[:len(s)-1]
	h.fix()
}

// Traffic mix of -mode mixed.
const (
	pUnanswered = 0.04  // SYN (and its retransmissions) never answered
	pRefused    = 0.03  // SYN answered by RST
	pRetransmit = 0.015 // a data segment is sent again after a timeout
	nServers    = 16    // server hosts per address family
)

var serverPorts = [...]struct {
	port   uint16
	weight int
}{{443, 60}, {80, 25}, {22, 5}, {8080, 5}, {5432, 5}}

// gen holds the generator's state.
type gen struct {
	c       *config
	r       rng
	w       *pcapWriter
	sum     summary
	h       connHeap
	remP    int // packets left to plan (mixed) or planned for the trickle
	remC    int // connections left to start
	started uint64
	port    [2][]uint16 // next ephemeral port per client host, per family
	f       frame
	t0      int64
	last    int64
}

func newGen(c *config, w *pcapWriter) *gen {
	g := &gen{c: c, r: rng{s: c.seed*0x9e3779b97f4a7c15 + 1}, w: w, t0: c.start.UnixNano()}
	g.port[0] = make([]uint16, c.clients)
	g.port[1] = make([]uint16, c.clients)
	return g
}

// mixed writes -packets packets in -conns connections, at most -concurrent
// open at once: each slot starts its next connection shortly after its
// previous one ended.
func (g *gen) mixed() {
	g.remP, g.remC = g.c.packets, g.c.conns
	slots := min(g.c.concurrent, g.c.conns)
	// Open the first connections over the first second.
	for range slots {
		c := &conn{}
		g.plan(c, g.t0+int64(g.r.float()*float64(time.Second)), false)
		g.h.push(c)
	}
	for len(g.h) > 0 {
		g.sum.maxOpen = max(g.sum.maxOpen, len(g.h))
		c := g.h[0]
		g.write(c)
		if c.i < len(c.steps) {
			g.h.fix()
			continue
		}
		if g.remC == 0 {
			g.h.pop()
			continue
		}
		g.plan(c, g.last+g.r.dur(5*time.Millisecond), false)
		g.h.fix()
	}
	g.sum.span = time.Duration(g.last - g.t0)
}

// synflood writes -packets SYNs from random sources to one server, at
// -rate per second, and -conns ordinary connections to the same server
// spread over the same time.
func (g *gen) synflood() {
	const perConn = 12 // packets per trickle connection, on average
	g.remP, g.remC = g.c.conns*perConn, g.c.conns
	span := float64(g.c.packets) / g.c.rate * float64(time.Second)
	server := endpoint{port: 80}
	server.a = v4(192, 0, 2, 10)
	nextSYN := g.t0
	flood := 0
	k := 0
	nextConn := func() int64 {
		if k >= g.c.conns {
			return math.MaxInt64
		}
		return g.t0 + int64((float64(k)+g.r.float())*span/float64(g.c.conns))
	}
	connAt := nextConn()
	var free []*conn
	for flood < g.c.packets || len(g.h) > 0 || connAt != math.MaxInt64 {
		synAt := int64(math.MaxInt64)
		if flood < g.c.packets {
			synAt = nextSYN
		}
		heapAt := int64(math.MaxInt64)
		if len(g.h) > 0 {
			heapAt = g.h[0].at()
		}
		switch {
		case connAt <= synAt && connAt <= heapAt:
			var c *conn
			if n := len(free); n > 0 {
				c, free = free[n-1], free[:n-1]
			} else {
				c = &conn{}
			}
			g.plan(c, connAt, true)
			c.ep[1] = server
			g.h.push(c)
			k++
			connAt = nextConn()
		case synAt <= heapAt:
			g.floodSYN(synAt, server)
			flood++
			nextSYN += max(1000, int64(g.r.exp(float64(time.Second)/g.c.rate)))
		default:
			c := g.h[0]
			g.write(c)
			if c.i < len(c.steps) {
				g.h.fix()
			} else {
				g.h.pop()
				free = append(free, c)
			}
		}
		g.sum.maxOpen = max(g.sum.maxOpen, len(g.h))
	}
	g.sum.conns += uint64(flood)
	g.sum.span = time.Duration(g.last - g.t0)
}

// floodSYN writes one spoofed SYN: a random routable IPv4 source and port,
// a random ISN, and the window and options of one of a few flooding tools.
func (g *gen) floodSYN(ts int64, server endpoint) {
	r := &g.r
	var src endpoint
	for {
		x := uint32(r.next())
		a := byte(x >> 24)
		if a != 0 && a != 10 && a != 127 && a < 224 {
			src.a = v4(a, byte(x>>16), byte(x>>8), byte(x))
			break
		}
	}
	src.port = uint16(r.between(1024, 65535))
	f := &g.f
	*f = frame{ts: ts, src: src, dst: server, seq: uint32(r.next()), flags: flagSYN, ipid: uint16(r.next()), ttl: uint8(r.between(40, 64))}
	switch r.intn(3) {
	case 0:
		f.win = 512 // hping3's default
	case 1:
		f.win, f.mss, f.wscale = 64240, 1460, 7
	default:
		f.win = uint16(r.between(1024, 65535))
	}
	g.w.packet(f)
	g.sum.packets++
	g.last = ts
}

// write writes c's next packet and advances it.
func (g *gen) write(c *conn) {
	s := &c.steps[c.i]
	d := s.dir
	ts := c.start + s.at
	f := &g.f
	*f = frame{ts: ts, v6: c.v6, src: c.ep[d], dst: c.ep[1-d], seq: s.seq, ack: s.ack, flags: s.flags, win: s.win, n: int(s.n), ipid: c.ipid[d], ttl: c.ttl[d], flow: c.flow}
	if s.syn {
		f.mss, f.wscale = c.mss[d], c.wscale[d]
	}
	c.ipid[d]++
	g.w.packet(f)
	g.sum.packets++
	g.last = ts
	c.i++
}

func v4(a, b, c, d byte) [16]byte {
	var x [16]byte
	x[10], x[11] = 0xff, 0xff
	x[12], x[13], x[14], x[15] = a, b, c, d
	return x
}

// plan picks c's endpoints and size and writes its script, starting at
// start. trickle plans an IPv4 connection whose server the caller sets.
func (g *gen) plan(c *conn, start int64, trickle bool) {
	r := &g.r
	g.started++
	g.sum.conns++
	*c = conn{id: g.started, start: start, steps: c.steps[:0]}

	// Size: the packets left spread over the connections left, with some
	// attempts that never connect and a long tail of larger exchanges.
	var n int
	kind := r.float()
	switch {
	case g.remC == 1:
		n = g.remP
	case kind < pUnanswered:
		n = r.between(1, 3)
	case kind < pUnanswered+pRefused:
		n = 2
	default:
		avg := float64(g.remP) / float64(g.remC)
		mean := (avg - 2*(pUnanswered+pRefused)) / (1 - pUnanswered - pRefused)
		n = 4
		if mean > 4 {
			n += int(r.exp(mean - 4))
		}
	}
	n = max(1, min(n, g.remP-(g.remC-1)))
	g.remP -= n
	g.remC--

	// Endpoints.
	fam := 0
	if !trickle && r.chance(g.c.v6) {
		fam = 1
	}
	c.v6 = fam == 1
	if c.v6 {
		g.sum.v6++
	}
	cl := r.intn(g.c.clients)
	srv := r.intn(nServers)
	w := r.intn(100)
	var sport uint16
	for _, p := range serverPorts {
		if w < p.weight {
			sport = p.port
			break
		}
		w -= p.weight
	}
	// Ephemeral ports count up per client host from a random start, as
	// Linux's do, so a 4-tuple is reused only after the whole range.
	p := g.port[fam][cl]
	if p == 0 {
		p = uint16(r.between(32768, 60999))
	}
	c.ep[0].port = p
	if p++; p > 60999 {
		p = 32768
	}
	g.port[fam][cl] = p
	c.ep[1].port = sport
	if c.v6 {
		c.ep[0].a = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0x00, 0xcc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
		binary.BigEndian.PutUint32(c.ep[0].a[8:], uint32(cl))
		c.ep[1].a = [16]byte{0x20, 0x01, 0x0d, 0xb8}
		c.ep[1].a[15] = byte(1 + srv)
		c.mss = [2]uint16{1440, 1440}
		c.flow = uint32(r.next()) & 0xfffff
	} else {
		c.ep[0].a = v4(198, 18+byte(cl>>16), byte(cl>>8), byte(cl))
		c.ep[1].a = v4(192, 0, 2, byte(1+srv))
		c.mss = [2]uint16{1460, 1460}
	}
	c.wscale = [2]uint8{7, uint8(r.between(7, 9))}
	c.ttl = [2]uint8{uint8(r.between(44, 60)), 64}
	c.ipid = [2]uint16{uint16(r.next()), uint16(r.next())}

	b := builder{r: r, c: c}
	b.script(n)
}

// builder writes a connection's script: packet times as seen by a capture
// point next to the server, with the client one round trip away.
type builder struct {
	r    *rng
	c    *conn
	t    int64 // time of the last packet
	last int   // sender of the last packet, -1 before the first
	nxt  [2]uint32
	win  [2]uint16
	rtt  int64
	srv  int64 // the server's usual response time
	seg  int   // full-sized segment payload
}

func (b *builder) script(n int) {
	r := b.r
	b.last = -1
	// Round trips: a quarter on the LAN, the rest across the Internet.
	if r.chance(0.25) {
		b.rtt = int64(r.between(100, 2000)) * int64(time.Microsecond)
	} else {
		b.rtt = int64(r.between(8, 160)) * int64(time.Millisecond)
	}
	b.srv = int64(r.between(20, 400)) * int64(time.Microsecond)
	b.seg = int(b.c.mss[0])
	b.win = [2]uint16{uint16(r.between(500, 2048)), uint16(r.between(500, 4096))}
	isn := [2]uint32{uint32(r.next()), uint32(r.next())}

	switch {
	case n <= 3 && (n != 2 || r.chance(0.5)):
		// Unanswered: the SYN and its retransmissions, 1 s then 2 s apart.
		for i := range n {
			b.at(int64(i*(i+1)/2) * int64(time.Second))
			b.emit(0, flagSYN, isn[0], 0, 0, true, 64240)
		}
		return
	case n == 2:
		// Refused: RST|ACK for the SYN (RFC 9293 §3.10.7.1).
		b.emit(0, flagSYN, isn[0], 0, 0, true, 64240)
		b.delay(1)
		b.emit(1, flagRST|flagACK, 0, isn[0]+1, 0, false, 0)
		return
	}
	// Three-way handshake.
	b.emit(0, flagSYN, isn[0], 0, 0, true, 64240)
	b.nxt[0] = isn[0] + 1
	b.delay(1)
	b.emit(1, flagSYN|flagACK, isn[1], b.nxt[0], 0, true, 65160)
	b.nxt[1] = isn[1] + 1
	b.delay(0)
	b.ack(0)
	n -= 3

	// Closing: which, by whom, and how many packets it takes.
	closer := 0
	if r.chance(0.4) {
		closer = 1
	}
	var closeLen int
	var how byte
	switch x := r.float(); {
	case n <= 2:
		how, closeLen = 'R', 1
	case n == 3 || x < 0.2:
		how, closeLen = '3', 3
	case n >= 8 && x < 0.35:
		how, closeLen = 'H', 5+r.intn(min(n-8, 12)+1)
	case x < 0.45:
		how, closeLen = 'R', 1
	default:
		how, closeLen = '4', 4
	}
	b.body(n - closeLen)
	switch how {
	case 'R':
		b.delay(closer)
		b.emit(closer, flagRST|flagACK, b.nxt[closer], b.nxt[1-closer], 0, false, 0)
	case '3':
		b.fin(closer)
		b.delay(1 - closer)
		b.fin(1 - closer)
		b.delay(closer)
		b.ack(closer)
	case '4':
		b.fin(closer)
		b.delay(1 - closer)
		b.ack(1 - closer)
		b.at(b.t + r.dur(time.Millisecond))
		b.fin(1 - closer)
		b.delay(closer)
		b.ack(closer)
	case 'H':
		// Half-close: the client sends its request and shuts down its
		// side; the server still answers, then closes.
		b.delay(0)
		b.data(0, r.between(60, 600))
		b.at(b.t + r.dur(100*time.Microsecond))
		b.fin(0)
		b.exchange(1, closeLen-4)
		b.delay(1)
		b.fin(1)
		b.delay(0)
		b.ack(0)
	}
}

// body writes n packets of requests and responses.
func (b *builder) body(n int) {
	r := b.r
	for n > 0 {
		// A request: one segment, sometimes two, after a think time.
		if b.last == 1 {
			b.delay(0)
		}
		if r.chance(0.05) {
			b.at(b.t + r.dur(2*time.Second))
		} else {
			b.at(b.t + r.dur(5*time.Millisecond))
		}
		segs := 1
		if r.chance(0.1) {
			segs = 2
		}
		for i := 0; i < segs && n > 0; i++ {
			if i > 0 {
				b.delay(0)
			}
			n -= b.send(0, r.between(60, 1200), n)
		}
		if n == 0 {
			return
		}
		// The response: full segments with an ACK every second one.
		k := min(n, 1+int(r.exp(4)))
		b.exchange(1, k)
		n -= k
	}
}

// exchange writes n packets of d sending full segments (the last one
// possibly partial) and the peer acknowledging every second one.
func (b *builder) exchange(d, n int) {
	sent := 0
	for n > 0 {
		if sent == 2 {
			b.delay(1 - d)
			b.ack(1 - d)
			n--
			sent = 0
			continue
		}
		size := b.seg
		if n == 1 || b.r.chance(0.2) {
			size = b.r.between(1, b.seg)
		}
		b.delay(d)
		n -= b.send(d, size, n)
		sent++
	}
}

// send writes a data segment from d, and, now and then when room is left,
// its retransmission after a timeout. It returns the packets written.
func (b *builder) send(d, size, room int) int {
	seq := b.nxt[d]
	b.data(d, size)
	if room < 2 || !b.r.chance(pRetransmit) {
		return 1
	}
	// RFC 6298: the RTO is at least 1 s; Linux uses 200 ms plus the RTT.
	b.at(b.t + 200*int64(time.Millisecond) + b.rtt + b.r.dur(10*time.Millisecond))
	b.emit(d, flagACK|flagPSH, seq, b.nxt[1-d], size, false, b.win[d])
	return 2
}

func (b *builder) data(d, size int) {
	b.emit(d, flagACK|flagPSH, b.nxt[d], b.nxt[1-d], size, false, b.win[d])
	b.nxt[d] += uint32(size)
}

func (b *builder) ack(d int) {
	b.emit(d, flagACK, b.nxt[d], b.nxt[1-d], 0, false, b.win[d])
}

func (b *builder) fin(d int) {
	b.emit(d, flagFIN|flagACK, b.nxt[d], b.nxt[1-d], 0, false, b.win[d])
	b.nxt[d]++
}

// delay moves the clock to when d sends next: a round trip after the
// server's packet for the client, the server's response time after the
// client's, or a segment's serialization time after d's own packet.
func (b *builder) delay(d int) {
	r := b.r
	switch {
	case b.last < 0:
	case b.last == d:
		b.t += int64(r.between(15, 150)) * int64(time.Microsecond)
	case d == 0:
		b.t += b.rtt + b.rtt/16*int64(r.between(-1, 1)) + int64(r.between(0, 50))*int64(time.Microsecond)
	default:
		b.t += b.srv/2 + r.dur(time.Duration(b.srv/2))
	}
}

func (b *builder) at(t int64) { b.t = t }

func (b *builder) emit(d int, flags uint8, seq, ack uint32, n int, syn bool, win uint16) {
	if b.last == d && len(b.c.steps) > 0 && b.c.steps[len(b.c.steps)-1].at == b.t {
		b.t += int64(time.Microsecond) // keep one sender's packets apart
	}
	b.c.steps = append(b.c.steps, step{at: b.t, dir: uint8(d), flags: flags, syn: syn, seq: seq, ack: ack, n: uint16(n), win: win})
	b.last = d
}
