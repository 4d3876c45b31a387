package report_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/tcptrace/tcptrace/report"
)

// zeekTestReport has three connections: a normal close, one whose Zeek
// originator is tcptrace's server, seen over IPv6, and a lone RST (zero
// duration, so no duration or byte counts).
func zeekTestReport() *report.Report {
	return &report.Report{
		Capture: report.Capture{First: "2026-11-25T11:13:56.786047000Z", Last: "2026-11-25T11:14:01.000000000Z"},
		Connections: []report.Connection{
			{
				ID: 1, Client: report.Endpoint{IP: "10.99.0.1", Port: 40002}, Server: report.Endpoint{IP: "10.99.0.2", Port: 8002},
				Start: "2026-11-25T11:13:56.786047000Z", End: "2026-11-25T11:13:56.795427000Z", DurationUS: 9380,
				Handshake: "three_way", Close: "three_way", ClosedFirst: "client",
				FinalState: report.States{Client: "TIME-WAIT", Server: "CLOSED"}, EndReason: "end_of_capture",
				Packets: report.Pair{Client: 6, Server: 4}, Bytes: report.Pair{Client: 409, Server: 277},
				Zeek: report.Zeek{ConnState: "SF", History: "ShADadFf", OrigIsClient: true, Last: "2026-11-25T11:13:56.795406000Z",
					OrigBytes: 5, RespBytes: 5, OrigPkts: 6, OrigIPBytes: 325, RespPkts: 4, RespIPBytes: 221, Connections: 1},
			},
			{
				ID: 2, IPVersion: 6, Client: report.Endpoint{IP: "2001:db8::1", Port: 80}, Server: report.Endpoint{IP: "2001:4860::68", Port: 51000},
				Start: "2026-11-25T11:13:57.000000500Z", End: "2026-11-25T11:13:58.250000000Z", RolesGuessed: true,
				Violations: map[string]uint32{"rst_in_window": 2, "data_after_fin": 1},
				Zeek: report.Zeek{ConnState: "OTH", History: "^dA", OrigIsClient: false, Last: "2026-11-25T11:13:58.250000000Z",
					OrigBytes: 100, RespBytes: 2000, MissedBytes: 1448, OrigPkts: 3, OrigIPBytes: 360, RespPkts: 2, RespIPBytes: 2080, Connections: 2},
			},
			{
				ID: 3, Client: report.Endpoint{IP: "8.8.8.8", Port: 1}, Server: report.Endpoint{IP: "192.168.1.1", Port: 2},
				Start: "2026-11-25T11:14:01.000000000Z", End: "2026-11-25T11:14:01.000000000Z",
				Zeek: report.Zeek{ConnState: "OTH", History: "R", OrigIsClient: true, Last: "2026-11-25T11:14:01.000000000Z",
					OrigPkts: 1, OrigIPBytes: 40, Connections: 1},
			},
		},
		Findings: []report.Finding{
			{Kind: "rst_blind_in_window", Severity: "medium", Connection: 2},
			{Kind: "data_after_fin", Severity: "high", Connection: 2},
			{Kind: "isn_predictable", Severity: "critical", Host: "10.99.0.1"},
		},
	}
}

// writeZeekTest writes zeekTestReport with write, and returns the output
// and the uid of each connection.
func writeZeekTest(t *testing.T, write func(io.Writer, *report.Report) error) (string, func(int) string) {
	t.Helper()
	r := zeekTestReport()
	var b bytes.Buffer
	if err := write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String(), func(i int) string { return report.ZeekUID(&r.Connections[i]) }
}

func TestWriteZeek(t *testing.T) {
	got, uid := writeZeekTest(t, report.WriteZeek)
	want := "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n" +
		"#open\t2026-11-25-11-13-56\n" +
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n" +
		"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n" +
		"1795605236.786047\t" + uid(0) + "\t10.99.0.1\t40002\t10.99.0.2\t8002\ttcp\t-\t0.009359\t5\t5\tSF\tT\tT\t0\tShADadFf\t6\t325\t4\t221\t-\t6\n" +
		// Zeek reads captures to the microsecond: the 500 ns are dropped.
		"1795605237.000000\t" + uid(1) + "\t2001:4860::68\t51000\t2001:db8::1\t80\ttcp\t-\t1.250000\t100\t2000\tOTH\tF\tT\t1448\t^dA\t3\t360\t2\t2080\t-\t6\n" +
		"1795605241.000000\t" + uid(2) + "\t8.8.8.8\t1\t192.168.1.1\t2\ttcp\t-\t-\t-\t-\tOTH\tF\tT\t0\tR\t1\t40\t0\t0\t-\t6\n" +
		"#close\t2026-11-25-11-14-01\n"
	if got != want {
		t.Errorf("WriteZeek =\n%s\nwant\n%s", got, want)
	}
}

func TestWriteZeekJSON(t *testing.T) {
	got, uid := writeZeekTest(t, report.WriteZeekJSON)
	want := `{"ts":1795605236.786047,"uid":"` + uid(0) + `","id.orig_h":"10.99.0.1","id.orig_p":40002,"id.resp_h":"10.99.0.2","id.resp_p":8002,"proto":"tcp","duration":0.009359121322631836,"orig_bytes":5,"resp_bytes":5,"conn_state":"SF","local_orig":true,"local_resp":true,"missed_bytes":0,"history":"ShADadFf","orig_pkts":6,"orig_ip_bytes":325,"resp_pkts":4,"resp_ip_bytes":221,"ip_proto":6}` + "\n" +
		`{"ts":1795605237.0,"uid":"` + uid(1) + `","id.orig_h":"2001:4860::68","id.orig_p":51000,"id.resp_h":"2001:db8::1","id.resp_p":80,"proto":"tcp","duration":1.25,"orig_bytes":100,"resp_bytes":2000,"conn_state":"OTH","local_orig":false,"local_resp":true,"missed_bytes":1448,"history":"^dA","orig_pkts":3,"orig_ip_bytes":360,"resp_pkts":2,"resp_ip_bytes":2080,"ip_proto":6}` + "\n" +
		`{"ts":1795605241.0,"uid":"` + uid(2) + `","id.orig_h":"8.8.8.8","id.orig_p":1,"id.resp_h":"192.168.1.1","id.resp_p":2,"proto":"tcp","conn_state":"OTH","local_orig":false,"local_resp":true,"missed_bytes":0,"history":"R","orig_pkts":1,"orig_ip_bytes":40,"resp_pkts":0,"resp_ip_bytes":0,"ip_proto":6}` + "\n"
	if got != want {
		t.Errorf("WriteZeekJSON =\n%s\nwant\n%s", got, want)
	}
}

func TestZeekUID(t *testing.T) {
	r := zeekTestReport()
	seen := map[string]bool{}
	for i := range r.Connections {
		u := report.ZeekUID(&r.Connections[i])
		if len(u) < 13 || u[0] != 'C' || strings.Trim(u[1:], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
			t.Errorf("ZeekUID(#%d) = %q, want C and base 62 digits", i+1, u)
		}
		if seen[u] {
			t.Errorf("ZeekUID(#%d) = %q, a duplicate", i+1, u)
		}
		seen[u] = true
		if again := report.ZeekUID(&r.Connections[i]); again != u {
			t.Errorf("ZeekUID(#%d) = %q, then %q", i+1, u, again)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	r := zeekTestReport()
	r.Connections[0].Client.IP = `10.99.0.1"quoted",` // RFC 4180 quoting, whatever the value
	var b bytes.Buffer
	if err := report.WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v", err)
	}
	if len(recs) != 4 {
		t.Fatalf("%d records, want a header and 3 rows", len(recs))
	}
	if !reflect.DeepEqual(recs[0], report.CSVColumns) {
		t.Errorf("header = %v, want %v", recs[0], report.CSVColumns)
	}
	row := func(i int) map[string]string {
		m := map[string]string{}
		for j, c := range recs[0] {
			m[c] = recs[i][j]
		}
		return m
	}
	tests := []struct {
		row          int
		column, want string
	}{
		{1, "client_ip", `10.99.0.1"quoted",`},
		{1, "duration_us", "9380"},
		{1, "close", "three_way"},
		{1, "closed_first", "client"},
		{1, "client_final_state", "TIME-WAIT"},
		{1, "client_bytes", "409"},
		{1, "zeek_history", "ShADadFf"},
		{1, "findings", "0"},
		{1, "worst_severity", ""},
		{2, "roles_guessed", "true"},
		{2, "ip_version", "6"},
		{2, "violations", "data_after_fin=1;rst_in_window=2"},
		{2, "findings", "2"},
		{2, "worst_severity", "high"},
		{2, "finding_kinds", "rst_blind_in_window;data_after_fin"},
		{2, "zeek_uid", report.ZeekUID(&r.Connections[1])},
		{3, "handshake_rtt_us", ""},
	}
	for _, tt := range tests {
		if got := row(tt.row)[tt.column]; got != tt.want {
			t.Errorf("row %d %s = %q, want %q", tt.row, tt.column, got, tt.want)
		}
	}
}
