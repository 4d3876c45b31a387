package report

import (
	"fmt"
	"io"
	"strconv"

	"github.com/tcptrace/tcptrace/anomaly"
)

// Finding is one element of the report's findings[] (docs/schema.md).
type Finding struct {
	Kind        string       `json:"kind"`
	Severity    string       `json:"severity"`
	Confidence  float64      `json:"confidence"`
	Connection  uint64       `json:"connection,omitempty"`
	Host        string       `json:"host,omitempty"`
	Role        string       `json:"role,omitempty"`
	Service     string       `json:"service,omitempty"`
	FirstFrame  uint64       `json:"first_frame,omitempty"`
	LastFrame   uint64       `json:"last_frame,omitempty"`
	First       string       `json:"first,omitempty"`
	Last        string       `json:"last,omitempty"`
	Count       uint64       `json:"count"`
	Explanation string       `json:"explanation"`
	RFC         string       `json:"rfc"`
	Zeek        string       `json:"zeek,omitempty"`
	Suricata    string       `json:"suricata,omitempty"`
	Wireshark   string       `json:"wireshark,omitempty"`
	ISN         *ISNDetails  `json:"isn,omitempty"`
	Scan        *ScanDetails `json:"scan,omitempty"`
}

// Where says what f is about, for people: the service, the scanner and its
// target, the source and the service, or the host (with its role). The text
// report and the HTML page print it.
func (f *Finding) Where() string {
	switch {
	case f.Scan != nil:
		return f.Host + " -> " + f.Scan.Target
	case f.Host != "" && f.Service != "":
		return f.Host + " -> " + f.Service
	case f.Host != "" && f.Role != "":
		return f.Host + " as " + f.Role
	case f.Host != "":
		return f.Host
	}
	return f.Service
}

// ScanDetails is the evidence of a port_scan finding: the host scanned, the
// scan types seen (nmap's names, most used first), the distinct ports
// probed and those that answered with SYN-ACK, and the connection attempts,
// of which how many carried data.
type ScanDetails struct {
	Target   string   `json:"target"`
	Types    []string `json:"types"`
	Ports    int      `json:"ports"`
	Open     int      `json:"open_ports"`
	Attempts uint64   `json:"attempts"`
	WithData uint64   `json:"with_data"`
}

// ISNDetails is the evidence of an ISN finding (anomalies.md §3).
type ISNDetails struct {
	Subtype       string    `json:"subtype,omitempty"`
	Tentative     bool      `json:"tentative,omitempty"`
	Scope         string    `json:"scope,omitempty"`
	Peer          string    `json:"peer,omitempty"`
	Samples       int       `json:"samples"`
	Predictions   int       `json:"predictions"`
	BitsToGuess   float64   `json:"bits_to_guess"`
	Bits          []float64 `json:"bits,omitempty"`
	Predictors    [4]int    `json:"predictors"`
	GCD           uint32    `json:"gcd"`
	RateHz        float64   `json:"rate_hz"`
	EvidenceLog10 float64   `json:"evidence_log10"`
	NmapGCD       uint32    `json:"nmap_gcd"`
	NmapISR       int       `json:"nmap_isr"`
	NmapSP        int       `json:"nmap_sp"`
	NmapLabel     string    `json:"nmap_label,omitempty"`
	Class1        string    `json:"nmap_class1,omitempty"`
}

// Rollup is one service's summary (server ip:port), worst first.
type Rollup struct {
	Service          string  `json:"service"`
	Connections      uint64  `json:"connections"`
	Attempts         uint64  `json:"attempts"`
	Established      uint64  `json:"established"`
	HandshakeSuccess float64 `json:"handshake_success"`
	Resets           uint64  `json:"resets"`
	ResetRate        float64 `json:"reset_rate"`
	Refused          uint64  `json:"refused"`
	Unanswered       uint64  `json:"unanswered"`
	HalfCloseLeaks   uint64  `json:"half_close_leaks"`
	Findings         uint64  `json:"findings"`
	// RetransmissionRate is the share of data segments (both directions)
	// that repeated sequence space.
	RetransmissionRate float64 `json:"retransmission_rate"`
	// RTTSamples and the percentiles merge every connection's round trips
	// (both directions; omitted without samples).
	RTTSamples uint64 `json:"rtt_samples"`
	RTTP50     int64  `json:"rtt_p50_us,omitempty"`
	RTTP95     int64  `json:"rtt_p95_us,omitempty"`
	RTTP99     int64  `json:"rtt_p99_us,omitempty"`
	// Host is set on the per-host rows that follow the services: every
	// service of one server address summed (service then holds the bare
	// address). Services counts them; ISNVerdict is what the ISN detector
	// concluded about the host's SYN-ACK ISNs; IPIDClass is nmap's IP-ID
	// sequence class of the IPv4 IDs of its SYN-ACKs and RSTs.
	Host       string `json:"host,omitempty"`
	Services   int    `json:"services,omitempty"`
	ISNVerdict string `json:"isn_verdict,omitempty"`
	IPIDClass  string `json:"ipid_class,omitempty"`
}

// NewFindings converts the engine's findings.
func NewFindings(fs []anomaly.Finding) []Finding {
	out := make([]Finding, len(fs))
	for i, f := range fs {
		o := Finding{Kind: f.Kind, Severity: f.Severity.String(), Confidence: f.Confidence, Connection: f.Connection, Role: f.Role,
			FirstFrame: f.FirstFrame, LastFrame: f.LastFrame, First: Time(f.First), Last: Time(f.Last), Count: f.Count,
			Explanation: f.Explanation, RFC: f.RFC, Zeek: f.Zeek, Suricata: f.Suricata, Wireshark: f.Wireshark}
		if f.Host.IsValid() {
			o.Host = f.Host.String()
		}
		if f.Service.IsValid() {
			o.Service = f.Service.String()
		}
		if x := f.ISN; x != nil {
			d := &ISNDetails{Subtype: x.Subtype, Tentative: x.Tentative, Samples: x.N, Predictions: x.M, BitsToGuess: x.HEst, Bits: x.Bits,
				Predictors: x.Predictors, GCD: x.GCD, RateHz: x.RateHz, EvidenceLog10: x.EvidenceLog10,
				NmapGCD: x.Nmap.GCD, NmapISR: x.Nmap.ISR, NmapSP: x.Nmap.SP, NmapLabel: x.Nmap.Label, Class1: x.Class1}
			if x.Kind == anomaly.ISNPredictable {
				d.Scope = x.Scope.String()
			}
			if x.Peer.IsValid() {
				d.Peer = x.Peer.String()
			}
			o.ISN = d
		}
		if x := f.Scan; x != nil {
			o.Scan = &ScanDetails{Target: x.Target.String(), Types: x.Types, Ports: x.Ports, Open: x.Open, Attempts: x.Attempts, WithData: x.WithData}
		}
		out[i] = o
	}
	return out
}

// NewRollups converts the engine's rollups.
func NewRollups(rs []anomaly.Rollup) []Rollup {
	out := make([]Rollup, len(rs))
	for i, r := range rs {
		svc := r.Service.String()
		if r.Host.IsValid() {
			svc = r.Host.String()
		}
		out[i] = Rollup{Service: svc, Connections: r.Connections, Attempts: r.Attempts, Established: r.Established,
			HandshakeSuccess: r.HandshakeSuccess(), Resets: r.Resets, ResetRate: r.ResetRate(), Refused: r.Refused,
			Unanswered: r.Unanswered, HalfCloseLeaks: r.HalfCloseLeaks, Findings: r.Findings,
			RetransmissionRate: r.RetransmissionRate(), RTTSamples: r.RTT.Samples, Services: r.Services, ISNVerdict: r.ISN, IPIDClass: r.IPIDClass}
		if r.Host.IsValid() {
			out[i].Host = r.Host.String()
		}
		if r.RTT.Samples > 0 {
			out[i].RTTP50, out[i].RTTP95, out[i].RTTP99 = r.RTT.Quantile(0.5).Microseconds(), r.RTT.Quantile(0.95).Microseconds(), r.RTT.Quantile(0.99).Microseconds()
		}
	}
	return out
}

// maxTextRollups bounds the services listed on the text report's first
// screen; the JSON has them all.
const maxTextRollups = 20

// writeFindings renders the first screen of the text report: services and
// findings, worst first, so a person sees the problems before the details.
func writeFindings(w io.Writer, r *Report) {
	var services, hosts []Rollup
	for _, x := range r.Rollups {
		if x.Host != "" {
			hosts = append(hosts, x)
		} else {
			services = append(services, x)
		}
	}
	if len(services) > 0 {
		fmt.Fprintf(w, "\nservices (worst first)\n")
		fmt.Fprintf(w, "    %-28s %7s %9s %7s %7s %9s %6s %7s %17s %8s\n", "service", "conns", "handshake", "resets", "refused", "unanswer", "leaks", "rexmit", "rtt p50/p95/p99", "findings")
		for i, s := range services {
			if i == maxTextRollups {
				fmt.Fprintf(w, "    ... %d more services in the JSON report\n", len(services)-i)
				break
			}
			rtt := "-"
			if s.RTTSamples > 0 {
				rtt = fmt.Sprintf("%s/%s/%s", ms(s.RTTP50), ms(s.RTTP95), ms(s.RTTP99))
			}
			fmt.Fprintf(w, "    %-28s %7d %8.0f%% %7d %7d %9d %6d %6.1f%% %17s %8d\n", s.Service, s.Connections, 100*s.HandshakeSuccess, s.Resets, s.Refused, s.Unanswered, s.HalfCloseLeaks, 100*s.RetransmissionRate, rtt, s.Findings)
		}
	}
	if len(hosts) > 0 {
		fmt.Fprintf(w, "\nhosts (worst first)\n")
		fmt.Fprintf(w, "    %-28s %8s %7s %9s %7s %6s %8s %5s  %s\n", "host", "services", "conns", "handshake", "resets", "leaks", "findings", "ip-id", "ISN verdict")
		for i, h := range hosts {
			if i == maxTextRollups {
				fmt.Fprintf(w, "    ... %d more hosts in the JSON report\n", len(hosts)-i)
				break
			}
			ipid := h.IPIDClass
			if ipid == "" {
				ipid = "-"
			}
			fmt.Fprintf(w, "    %-28s %8d %7d %8.0f%% %7d %6d %8d %5s  %s\n", h.Host, h.Services, h.Connections, 100*h.HandshakeSuccess, h.Resets, h.HalfCloseLeaks, h.Findings, ipid, h.ISNVerdict)
		}
	}
	if len(r.Findings) == 0 {
		return
	}
	fmt.Fprintf(w, "\nfindings (worst first)\n")
	for _, f := range r.Findings {
		fmt.Fprintf(w, "    %-8s %-22s %s", f.Severity, f.Kind, f.Where())
		if f.Count > 1 {
			fmt.Fprintf(w, "  x%d", f.Count)
		}
		if f.Connection != 0 {
			fmt.Fprintf(w, "  (connection #%d, frames %d-%d)", f.Connection, f.FirstFrame, f.LastFrame)
		}
		fmt.Fprintf(w, "\n             %s [%s]\n", f.Explanation, f.RFC)
	}
}

// ms renders microseconds as milliseconds for the services table.
func ms(us int64) string {
	if us < 10000 {
		return strconv.FormatFloat(float64(us)/1000, 'f', 2, 64)
	}
	return strconv.FormatInt(us/1000, 10)
}

type typedFinding struct {
	Type string `json:"type"`
	Finding
}

type typedRollup struct {
	Type string `json:"type"`
	Rollup
}

// Finding writes one finding line ({"type":"finding",...}).
func (j *JSONLines) Finding(f Finding) error {
	return j.enc.Encode(typedFinding{Type: "finding", Finding: f})
}

// Rollup writes one service rollup line ({"type":"rollup",...}).
func (j *JSONLines) Rollup(r Rollup) error {
	return j.enc.Encode(typedRollup{Type: "rollup", Rollup: r})
}
