package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tcptrace/tcptrace/capture"
)

// TestPrefetchSamePackets reads every capture in pcaps/ directly and
// through prefetch: the same packets in the same order, and the same
// statistics and error at the end (a damaged file included, if any).
func TestPrefetchSamePackets(t *testing.T) {
	files, _ := filepath.Glob("../../pcaps/*.pcap*")
	more, _ := filepath.Glob("../../pcaps/*/*.pcap*")
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found %d captures in pcaps/", len(files))
	}
	// And one cut in the middle of a record: the error must come through.
	b, err := os.ReadFile("../../pcaps/handshake_clean_4way.pcap")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cut, b[:len(b)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	files = append(files, cut)
	for _, name := range files {
		direct, err := capture.Open(name, capture.Options{ICMPErrors: true})
		if err != nil {
			t.Fatal(err)
		}
		var want []capture.Packet
		var p capture.Packet
		for direct.Next(&p) {
			want = append(want, p)
		}
		src, err := capture.Open(name, capture.Options{ICMPErrors: true})
		if err != nil {
			t.Fatal(err)
		}
		pf := startPrefetch(context.Background(), src)
		i := 0
		for pf.Next(&p) {
			if i >= len(want) || p != want[i] {
				t.Fatalf("%s: packet %d differs through prefetch", name, i+1)
			}
			i++
		}
		pf.wait()
		if i != len(want) {
			t.Errorf("%s: %d packets through prefetch, %d directly", name, i, len(want))
		}
		if !reflect.DeepEqual(src.Stats(), direct.Stats()) || (src.Err() == nil) != (direct.Err() == nil) {
			t.Errorf("%s: stats %+v err %v through prefetch, %+v %v directly", name, src.Stats(), src.Err(), direct.Stats(), direct.Err())
		}
		if name == cut && src.Err() == nil {
			t.Errorf("%s: no error for a cut record", name)
		}
		direct.Close()
		src.Close()
	}
}
