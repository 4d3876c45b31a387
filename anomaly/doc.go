// Package anomaly holds tcptrace's findings that span connections. So far it
// owns the passive ISN-predictability detector (anomalies.md §3): an
// ISNTracker is fed every SYN and SYN-ACK ISN per (host, role), keeps each
// host's first sample of every distinct 4-tuple, predicts each ISN from the
// ones before it, and reports hosts whose next ISN an off-path attacker
// could guess (RFC 9293 §3.4.1 MUST-9, RFC 6528), plus informational
// same-tuple clock hints and a global check for spoofed SYN floods with a
// fixed sequence number. It also reproduces nmap's sequence and IP ID
// classifiers (NmapTSeq, NmapClass1, NmapIPIDClass) as familiar evidence
// and as a test oracle.
//
// anomaly does not decode packets (package capture), follow connections
// (fsm, reassembly) or render anything (package report): callers feed it
// scalars taken from the flow table and render its findings. It reads no
// clock (time arrives with each sample, from capture timestamps), logs
// nothing, and imports only the standard library and fsm.
package anomaly
