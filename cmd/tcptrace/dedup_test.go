package main

import (
	"testing"
)

// TestDedup reads pcaps/findings/any_forwarded.pcap, tcpdump -i any on a
// Linux router: each of the 20 connections' 10 packets is there twice,
// once per link. Without --dedup the copies are retransmissions and
// duplicates, as in tshark and Ostermann's tcptrace; with it each
// connection is what one link saw, but for the server's SYN-ACK, whose
// IPv4 ID 0 (Linux) tells no copy from a retransmission and is kept.
func TestDedup(t *testing.T) {
	const file = "../../pcaps/findings/any_forwarded.pcap"
	plain := analyze(t, "-r", file)
	dedup := analyze(t, "--dedup", "-r", file)
	if len(plain.Connections) != 20 || len(dedup.Connections) != 20 {
		t.Fatalf("%d and %d connections, want 20 each", len(plain.Connections), len(dedup.Connections))
	}
	if got := dedup.Capture.Duplicates; got != 180 {
		t.Errorf("duplicates_dropped = %d, want 180 (200 copies but the 20 SYN-ACKs')", got)
	}
	if plain.Capture.Duplicates != 0 || dedup.Capture.TCPPackets != plain.Capture.TCPPackets {
		t.Errorf("without --dedup duplicates_dropped = %d; tcp_packets %d and %d, want equal", plain.Capture.Duplicates, plain.Capture.TCPPackets, dedup.Capture.TCPPackets)
	}
	for i, c := range dedup.Connections {
		p := plain.Connections[i]
		if p.Stats.Client.RetransPackets == 0 || p.Stats.Client.Duplicates == 0 {
			t.Errorf("#%d without --dedup: %d client retransmissions, %d duplicates; want the copies counted", c.ID, p.Stats.Client.RetransPackets, p.Stats.Client.Duplicates)
		}
		if c.Packets.Client != p.Packets.Client/2 || c.Packets.Server != p.Packets.Server/2+1 {
			t.Errorf("#%d with --dedup: %d+%d packets, want %d+%d (one link's, and the SYN-ACK's copy)", c.ID, c.Packets.Client, c.Packets.Server, p.Packets.Client/2, p.Packets.Server/2+1)
		}
		if c.Stats.Client.RetransPackets != 0 || c.Stats.Client.Duplicates != 0 || c.Stats.Server.RetransPackets != 1 {
			t.Errorf("#%d with --dedup: client %d retransmissions, %d duplicates, server %d; want 0, 0, 1 (the SYN-ACK)", c.ID, c.Stats.Client.RetransPackets, c.Stats.Client.Duplicates, c.Stats.Server.RetransPackets)
		}
		if c.Handshake != "three_way" || c.Close != "four_way" || c.FinalState.Client != "TIME-WAIT" || c.FinalState.Server != "CLOSED" {
			t.Errorf("#%d with --dedup: %s, %s, %s/%s", c.ID, c.Handshake, c.Close, c.FinalState.Client, c.FinalState.Server)
		}
	}
}
