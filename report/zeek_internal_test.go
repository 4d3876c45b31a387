package report

import (
	"testing"
)

func TestAppendZeekJSONFloat(t *testing.T) {
	// rapidjson's Writer::Double output, which Zeek's JSON writer uses.
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{5, "5.0"},
		{1795605236.786047, "1795605236.786047"},
		{0.009359121322631836, "0.009359121322631836"},
		{0.000357, "0.000357"},
		{0.000001, "0.000001"},
		{1e-7, "1e-7"},
		{1.5e-9, "1.5e-9"},
		{123456789012345678901.0, "123456789012345680000.0"},
		{1e22, "1e22"},
		{-2.5, "-2.5"},
	}
	for _, tt := range tests {
		if got := string(appendZeekJSONFloat(nil, tt.f)); got != tt.want {
			t.Errorf("appendZeekJSONFloat(%v) = %s, want %s", tt.f, got, tt.want)
		}
	}
}

func TestZeekLocal(t *testing.T) {
	// Site::private_address_space, as the corpus baselines show it.
	tests := []struct {
		ip   string
		want bool
	}{
		{"192.168.2.16", true},
		{"10.0.0.18", true},
		{"127.0.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"75.126.130.163", false},
		{"2001:0:4137:9e50:8000:f12a:b9c8:2815", true}, // 2001::/23 (Teredo)
		{"2001:4860:0:2001::68", false},
		{"fe80::8000:f227:bec8:61af", true},
		{"ff02::2", false},
		{"not an address", false},
	}
	for _, tt := range tests {
		if got := zeekLocal(tt.ip); got != tt.want {
			t.Errorf("zeekLocal(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}
