package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestConcurrentSameAsSerial runs every report format over every capture in
// pcaps/ (one run reading them all in turn, so that 4-tuples recur across
// files and the busy capture takes -T json past streamAfter) twice: as
// shipped, with files decoded ahead on their own goroutine (prefetch.go),
// the report side on another (pipeline.go) and finished flows recycled into
// new ones (reassembly.Table.Recycle), and with --serial, which does all of
// it on one goroutine and allocates every flow anew. The reports must be byte for byte the same; with
// --max-flows 16, flows are evicted and recycled on nearly every new one.
func TestConcurrentSameAsSerial(t *testing.T) {
	var files []string
	for _, g := range []string{"../../pcaps/*.pcap", "../../pcaps/*.pcapng", "../../pcaps/*/*.pcap", "../../pcaps/*/*.pcap.gz"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	if len(files) < 40 {
		t.Fatalf("found %d captures in pcaps/", len(files))
	}
	var inputs []string
	for _, f := range files {
		inputs = append(inputs, "-r", f)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"text", []string{"-T", "text"}},
		{"text-ladder", []string{"-T", "text", "--ladder"}},
		{"json", []string{"-T", "json"}},
		{"jsonl", []string{"-T", "jsonl", "--snapshot-interval", "5"}},
		{"csv", []string{"-T", "csv"}},
		{"zeek", []string{"-T", "zeek"}},
		{"zeek-json", []string{"-T", "zeek-json"}},
		{"packets", []string{"-T", "packets"}},
		{"html", []string{"-T", "html"}},
		{"json-evicting", []string{"-T", "json", "--max-flows", "16"}},
		{"jsonl-evicting", []string{"-T", "jsonl", "--max-flows", "16"}},
		{"text-evicting", []string{"-T", "text", "--max-flows", "16", "--ladder=3,40,41"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var outs [2][]byte
			for i, extra := range [][]string{nil, {"--serial"}} {
				var stdout, stderr bytes.Buffer
				args := append(append(append([]string{"-q"}, c.args...), extra...), inputs...)
				if c.name == "html" {
					out := filepath.Join(dir, c.name+string(rune('0'+i))+".html")
					args = append(args, "-o", out)
					if code := run(context.Background(), args, nil, &stdout, &stderr); code != exitOK {
						t.Fatalf("%v: exit %d: %s", extra, code, stderr.String())
					}
					b, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					outs[i] = b
					continue
				}
				if code := run(context.Background(), args, nil, &stdout, &stderr); code != exitOK {
					t.Fatalf("%v: exit %d: %s", extra, code, stderr.String())
				}
				outs[i] = stdout.Bytes()
			}
			if len(outs[0]) < 1000 {
				t.Fatalf("report of %d bytes", len(outs[0]))
			}
			if !bytes.Equal(outs[0], outs[1]) {
				a, b := outs[0], outs[1]
				i := 0
				for i < len(a) && i < len(b) && a[i] == b[i] {
					i++
				}
				lo := max(0, i-200)
				t.Fatalf("reports differ at byte %d of %d/%d:\nconcurrent: %q\nserial:     %q", i, len(a), len(b), a[lo:min(len(a), i+200)], b[lo:min(len(b), i+200)])
			}
		})
	}
}
