package capture_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/tcptrace/tcptrace/capture"
)

// threeFrames is a pcap of a non-TCP frame between two TCP ones.
func threeFrames() []byte {
	f := newPcap(binary.LittleEndian, true, capture.LinkTypeEthernet)
	f.add(ts0, ethIPv4SYN, 0)
	f.add(ts0.Add(time.Second), udpDNS, 0)
	f.add(ts0.Add(2*time.Second), ethIPv4SYN, 0)
	return f.buf
}

// TestFrameHook checks the Options.Frame actions: a skipped frame is not
// numbered and is counted as filtered; Stop ends before the frame and Last
// after it.
func TestFrameHook(t *testing.T) {
	tests := []struct {
		name     string
		actions  []capture.FrameAction // per frame seen by the hook
		frames   []uint64              // TCP frames delivered
		packets  uint64
		filtered uint64
		seen     int
	}{
		{"keep", []capture.FrameAction{0, 0, 0}, []uint64{1, 3}, 3, 0, 3},
		{"skip first", []capture.FrameAction{capture.FrameSkip, 0, 0}, []uint64{2}, 2, 1, 3},
		{"stop at second", []capture.FrameAction{0, capture.FrameStop}, []uint64{1}, 1, 0, 2},
		{"last at first", []capture.FrameAction{capture.FrameLast}, []uint64{1}, 1, 0, 1},
		{"last at non-TCP", []capture.FrameAction{0, capture.FrameLast}, []uint64{1}, 2, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := 0
			opt := capture.Options{Frame: func(link capture.LinkType, ts time.Time, data []byte, wire uint32) capture.FrameAction {
				seen++
				if link != capture.LinkTypeEthernet || wire != uint32(len(data)) || ts.Before(ts0) {
					t.Errorf("hook(%v, %v, %d bytes, %d)", link, ts, len(data), wire)
				}
				return tt.actions[seen-1]
			}}
			s, err := capture.NewSource(bytes.NewReader(threeFrames()), "mem", opt)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			var p capture.Packet
			for s.Next(&p) {
				got = append(got, p.Frame)
			}
			st := s.Stats()
			if s.Err() != nil || seen != tt.seen || !equalU64(got, tt.frames) || st.Packets != tt.packets || st.Filtered != tt.filtered {
				t.Errorf("hook saw %d, frames %v, packets %d, filtered %d, err %v; want %d, %v, %d, %d",
					seen, got, st.Packets, st.Filtered, s.Err(), tt.seen, tt.frames, tt.packets, tt.filtered)
			}
		})
	}
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWriterRoundTrip writes frames with Writer and reads them back: same
// bytes, lengths and timestamps, at either precision.
func TestWriterRoundTrip(t *testing.T) {
	for _, nsec := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := capture.NewWriter(&buf, capture.LinkTypeEthernet, 65535, nsec)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ts0, ethIPv4SYN[:40], uint32(len(ethIPv4SYN))); err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ts0, ethIPv4SYN, 10); err == nil {
			t.Error("Write of a frame longer than its wire length succeeded")
		}
		w.Write(ts0.Add(time.Millisecond), ethIPv4SYN, uint32(len(ethIPv4SYN)))
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		var seen []capture.Packet
		opt := capture.Options{Frame: func(link capture.LinkType, ts time.Time, data []byte, wire uint32) capture.FrameAction {
			seen = append(seen, capture.Packet{TS: ts, WireLen: wire, CapLen: uint32(len(data))})
			return capture.FrameKeep
		}}
		s, err := capture.NewSource(&buf, "mem", opt)
		if err != nil {
			t.Fatal(err)
		}
		var p capture.Packet
		for s.Next(&p) {
		}
		want := ts0
		if !nsec {
			want = ts0.Truncate(time.Microsecond)
		}
		if len(seen) != 2 || !seen[0].TS.Equal(want) || seen[0].CapLen != 40 || seen[0].WireLen != uint32(len(ethIPv4SYN)) ||
			!seen[1].TS.Equal(want.Add(time.Millisecond)) || s.Stats().Format != map[bool]string{false: "pcap", true: "pcap-nsec"}[nsec] {
			t.Errorf("nsec=%v: read back %+v (%s)", nsec, seen, s.Stats().Format)
		}
	}
}
