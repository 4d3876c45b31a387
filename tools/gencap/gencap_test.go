package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gencap runs the command with args writing to a file in dir, and returns
// the file's path.
func gencap(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	var stderr bytes.Buffer
	if code := run(append(args, "-q", "-o", path), nil, &stderr); code != 0 {
		t.Fatalf("run(%q) = %d, want 0: %s", args, code, stderr.String())
	}
	return path
}

func hash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestDeterministic(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"mixed", []string{"-mode", "mixed", "-packets", "30000", "-conns", "1500", "-concurrent", "200"}},
		{"synflood", []string{"-mode", "synflood", "-packets", "20000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a := hash(t, gencap(t, dir, "a.pcap", append(tt.args, "-seed", "7")...))
			b := hash(t, gencap(t, dir, "b.pcap", append(tt.args, "-seed", "7")...))
			c := hash(t, gencap(t, dir, "c.pcap", append(tt.args, "-seed", "8")...))
			if a != b {
				t.Errorf("same flags, different bytes: %x, %x", a, b)
			}
			if a == c {
				t.Errorf("seeds 7 and 8 wrote the same bytes")
			}
		})
	}
}

// TestWire parses every record with code independent of the writer's and
// checks the framing, the IPv4 header checksums and the TCP checksums.
func TestWire(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-mode", "mixed", "-packets", "20000", "-conns", "1000", "-v6", "0.5"},
		{"-mode", "synflood", "-packets", "5000"},
	} {
		b, err := os.ReadFile(gencap(t, dir, "x.pcap", args...))
		if err != nil {
			t.Fatal(err)
		}
		if got := binary.LittleEndian.Uint32(b); got != 0xa1b2c3d4 {
			t.Fatalf("magic %x", got)
		}
		n := 0
		var last uint64
		for off := 24; off < len(b); n++ {
			ts := uint64(binary.LittleEndian.Uint32(b[off:]))*1e6 + uint64(binary.LittleEndian.Uint32(b[off+4:]))
			capLen := int(binary.LittleEndian.Uint32(b[off+8:]))
			wire := int(binary.LittleEndian.Uint32(b[off+12:]))
			frame := b[off+16 : off+16+capLen]
			off += 16 + capLen
			if capLen != wire || ts < last {
				t.Fatalf("%v: record %d: caplen %d wire %d ts %d after %d", args, n, capLen, wire, ts, last)
			}
			last = ts
			if err := checkFrame(frame); err != "" {
				t.Fatalf("%v: record %d: %s", args, n, err)
			}
		}
		want := 20000
		if args[1] == "synflood" {
			want = 5000 + 5*12 // the trickle's packets are planned at 12 per connection
		}
		if n != want {
			t.Errorf("%v: %d records, want %d", args, n, want)
		}
	}
}

// rfc1071 is the Internet checksum the slow, obvious way.
func rfc1071(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	var s uint32
	for i := 0; i < len(all); i += 2 {
		s += uint32(all[i])<<8 | uint32(all[i+1])
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}

func checkFrame(f []byte) string {
	var pseudo, seg []byte
	switch binary.BigEndian.Uint16(f[12:]) {
	case 0x0800:
		ip := f[14:]
		if rfc1071(ip[:20]) != 0 {
			return "bad IPv4 header checksum"
		}
		total := int(binary.BigEndian.Uint16(ip[2:]))
		if total != len(ip) || ip[9] != 6 {
			return "bad IPv4 length or protocol"
		}
		seg = ip[20:total]
		pseudo = append(append([]byte{}, ip[12:20]...), 0, 6, byte(len(seg)>>8), byte(len(seg)))
	case 0x86dd:
		ip := f[14:]
		if int(binary.BigEndian.Uint16(ip[4:])) != len(ip)-40 || ip[6] != 6 {
			return "bad IPv6 length or next header"
		}
		seg = ip[40:]
		pseudo = append(append([]byte{}, ip[8:40]...), 0, 0, byte(len(seg)>>8), byte(len(seg)), 0, 0, 0, 6)
	default:
		return "not IP"
	}
	if int(seg[12]>>4)*4 > len(seg) {
		return "bad TCP data offset"
	}
	if rfc1071(pseudo, seg) != 0 {
		return "bad TCP checksum"
	}
	return ""
}

// TestTcptraceReads reads a generated capture with tcptrace (and tshark, if
// installed) and expects every packet decoded and every connection found.
func TestTcptraceReads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs tcptrace")
	}
	const packets, conns = 40000, 2000
	path := gencap(t, t.TempDir(), "mixed.pcap", "-packets", "40000", "-conns", "2000", "-concurrent", "300")
	cmd := exec.Command("go", "run", "./cmd/tcptrace", "-T", "json", "--verify-checksums", "-r", path)
	cmd.Dir = "../.."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tcptrace: %v: %s", err, stderr.String())
	}
	var r struct {
		Capture struct {
			Packets      uint64 `json:"packets"`
			Skipped      uint64 `json:"skipped"`
			BadChecksums uint64 `json:"bad_checksums"`
			Flows        struct {
				Connections uint64 `json:"connections"`
			} `json:"flows"`
		} `json:"capture"`
		Connections []struct {
			Close string `json:"close"`
		} `json:"connections"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatal(err)
	}
	c := r.Capture
	if c.Packets != packets || c.Skipped != 0 || c.BadChecksums != 0 || c.Flows.Connections != conns || len(r.Connections) != conns {
		t.Errorf("tcptrace: packets %d, skipped %d, bad checksums %d, connections %d (%d in the list), want %d, 0, 0, %d",
			c.Packets, c.Skipped, c.BadChecksums, c.Flows.Connections, len(r.Connections), packets, conns)
	}
	closes := map[string]int{}
	for _, x := range r.Connections {
		closes[x.Close]++
	}
	for _, want := range []string{"four_way", "three_way", "reset", "refused", "unanswered"} {
		if closes[want] == 0 {
			t.Errorf("no connection closed %s: %v", want, closes)
		}
	}

	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not installed: not compared")
		return
	}
	out, err = exec.Command("tshark", "-q", "-z", "conv,tcp", "-r", path).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if got := strings.Count(string(out), "<->"); got != conns {
		t.Errorf("tshark -z conv,tcp: %d conversations, want %d", got, conns)
	}
}
