package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// expectedFile is the kernel ground truth for the fixtures: for every
// capture in pcaps/, each connection's per-endpoint state sequence as the
// Linux kernel's own sockets went through it (recorded with the
// sock:inet_sock_set_state tracepoint and ss while pcaps/make.sh made the
// capture; see pcaps/README.md).
const expectedFile = "../../pcaps/expected.json"

type expectedConn struct {
	Client       string   `json:"client"`
	Server       string   `json:"server"`
	Handshake    string   `json:"handshake"`
	Close        string   `json:"close"`
	ClientStates []string `json:"client_states"`
	ServerStates []string `json:"server_states"`
	FinalClient  string   `json:"final_client"`
	FinalServer  string   `json:"final_server"`
	// Deviation, when set, explains why tcptrace's observer view differs
	// from the kernel's here; ObserverClient/ObserverServer are then what
	// tcptrace must report instead.
	Deviation           string   `json:"deviation,omitempty"`
	ObserverClient      []string `json:"observer_client_states,omitempty"`
	ObserverServer      []string `json:"observer_server_states,omitempty"`
	ObserverFinalClient string   `json:"observer_final_client,omitempty"`
	ObserverFinalServer string   `json:"observer_final_server,omitempty"`
	// ObserverClose is how the close looks on the wire when a deleted
	// frame makes it differ from what the kernel did.
	ObserverClose string `json:"observer_close,omitempty"`
	HalfClose     bool   `json:"half_close,omitempty"`
}

type expectedCase struct {
	Name        string         `json:"name"`
	Pcap        string         `json:"pcap"`
	Connections []expectedConn `json:"connections"`
}

// path renders a timeline as the sequence of states it went through,
// starting with the initial state.
func path(initial string, tl []report.Transition) []string {
	if len(tl) == 0 {
		return []string{initial}
	}
	out := []string{tl[0].From}
	for _, t := range tl {
		out = append(out, t.To)
	}
	return out
}

func endpointString(e report.Endpoint) string { return ep(e.IP, e.Port) }

// TestKernelTruth checks every fixture against the kernel's own socket
// states: each endpoint's transition sequence, its final state, and how the
// connection opened and closed.
func TestKernelTruth(t *testing.T) {
	raw, err := os.ReadFile(expectedFile)
	if err != nil {
		t.Fatalf("read %s: %v", expectedFile, err)
	}
	var exp struct {
		Cases []expectedCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatalf("parse %s: %v", expectedFile, err)
	}
	if len(exp.Cases) == 0 {
		t.Fatal("no cases in expected.json")
	}
	for _, tc := range exp.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			r := analyze(t, "-r", filepath.Join("../../pcaps", tc.Pcap))
			for i, want := range tc.Connections {
				var matched []report.Connection
				for _, c := range r.Connections {
					if endpointString(c.Client) == want.Client && endpointString(c.Server) == want.Server {
						matched = append(matched, c)
					}
				}
				if len(matched) == 0 {
					t.Errorf("%s -> %s: no such connection; have %s", want.Client, want.Server, summary(r))
					continue
				}
				// Several incarnations of one 4-tuple are listed in order.
				c := matched[0]
				if n := incarnationIndex(tc.Connections, i); n < len(matched) {
					c = matched[n]
				}
				wc, ws := want.ClientStates, want.ServerStates
				fc, fsv := want.FinalClient, want.FinalServer
				if want.Deviation != "" {
					wc, ws = want.ObserverClient, want.ObserverServer
					fc, fsv = want.ObserverFinalClient, want.ObserverFinalServer
					if fc == "" && len(wc) > 0 {
						fc = wc[len(wc)-1]
					}
					if fsv == "" && len(ws) > 0 {
						fsv = ws[len(ws)-1]
					}
				}
				if got := path(c.Client.InitialState, c.Timeline.Client); strings.Join(got, " ") != strings.Join(wc, " ") {
					t.Errorf("%s client states = %v, kernel says %v", want.Client, got, wc)
				}
				if got := path(c.Server.InitialState, c.Timeline.Server); strings.Join(got, " ") != strings.Join(ws, " ") {
					t.Errorf("%s server states = %v, kernel says %v", want.Server, got, ws)
				}
				if c.FinalState.Client != fc || c.FinalState.Server != fsv {
					t.Errorf("%s final states = %s/%s, want %s/%s", want.Client, c.FinalState.Client, c.FinalState.Server, fc, fsv)
				}
				if c.HalfClose != want.HalfClose {
					t.Errorf("%s half_close = %v, want %v", want.Client, c.HalfClose, want.HalfClose)
				}
				if want.ObserverClose != "" {
					want.Close = want.ObserverClose
				}
				if want.Handshake != "" && c.Handshake != want.Handshake {
					t.Errorf("%s handshake = %s, want %s", want.Client, c.Handshake, want.Handshake)
				}
				if want.Close != "" && c.Close != want.Close {
					t.Errorf("%s close = %s, want %s", want.Client, c.Close, want.Close)
				}
			}
		})
	}
}

// incarnationIndex returns how many earlier expected connections share the
// 4-tuple of connection i: several incarnations are listed in order.
func incarnationIndex(all []expectedConn, i int) int {
	n := 0
	for _, c := range all[:i] {
		if c.Client == all[i].Client && c.Server == all[i].Server {
			n++
		}
	}
	return n
}

func summary(r *report.Report) string {
	var parts []string
	for _, c := range r.Connections {
		parts = append(parts, endpointString(c.Client)+"->"+endpointString(c.Server))
	}
	return strings.Join(parts, ", ")
}
