package capture

import (
	"bytes"
	"testing"

	"github.com/tcptrace/tcptrace/fsm"
)

// FuzzOptions feeds arbitrary option bytes (up to the 40 a TCP header can
// carry) to parseOptions, seeded with the options of every TCP segment in
// pcaps/. Invariants: nothing panics; a capture cut inside the options never
// makes an option look more of a liar than the whole header would; each
// parsed field comes from an option of its kind and length in the input;
// and once every option is framed, bytes after an EOL change nothing.
func FuzzOptions(f *testing.F) {
	var d Decoder
	seen := make(map[string]bool)
	for _, fr := range SeedFrames(f) {
		var p Packet
		if d.Decode(fr.Data, fr.Link, &p) != ResultTCP || seen[string(d.tcp.Options)] {
			continue
		}
		seen[string(d.tcp.Options)] = true
		f.Add(append([]byte(nil), d.tcp.Options...), d.tcp.OptCut)
	}
	// Lying lengths: zero, one, past the end, and a known kind's wrong size.
	f.Add([]byte{2, 0, 5, 0xb4}, false)
	f.Add([]byte{1, 3, 1, 8, 10, 0, 0}, false)
	f.Add([]byte{2, 40, 5, 0xb4}, true)
	f.Add([]byte{5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0}, false)
	f.Fuzz(func(t *testing.T, opts []byte, cut bool) {
		if len(opts) > 40 {
			opts = opts[:40]
		}
		var s, whole fsm.Segment
		tfo, bad := parseOptions(opts, cut, &s)
		wtfo, wbad := parseOptions(opts, false, &whole)
		if s != whole || tfo != wtfo || bad && !wbad {
			t.Fatalf("parseOptions(%x, cut) = %+v %v %v, whole header %+v %v %v", opts, s, tfo, bad, whole, wtfo, wbad)
		}
		if s.HasMSS && !bytes.Contains(opts, []byte{optMSS, 4}) ||
			s.HasWScale && !bytes.Contains(opts, []byte{optWScale, 3}) ||
			s.SACKPerm && !bytes.Contains(opts, []byte{optSACKPerm, 2}) ||
			s.HasTS && !bytes.Contains(opts, []byte{optTimestamp, 10}) ||
			s.SACKCount > 0 && int(s.SACKCount)*8+2 > len(opts) || s.SACKCount > 4 {
			t.Fatalf("parseOptions(%x) = %+v: a field without its option", opts, s)
		}
		if !wbad {
			// Every option was framed within the bytes: an EOL and junk
			// after them change nothing.
			var again fsm.Segment
			more := append(append([]byte(nil), opts...), optEOL, optMSS, 4, 1, 2)
			if atfo, abad := parseOptions(more, false, &again); again != whole || atfo != wtfo || abad {
				t.Fatalf("parseOptions(%x) = %+v %v %v, want %+v %v false", more, again, atfo, abad, whole, wtfo)
			}
		}
	})
}
