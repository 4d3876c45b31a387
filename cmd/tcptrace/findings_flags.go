package main

import (
	"github.com/spf13/pflag"

	"github.com/tcptrace/tcptrace/anomaly"
)

// addFindingFlags binds the findings engine's thresholds to flags, with the
// defaults of anomalies.md, into cfg.
func addFindingFlags(fs *pflag.FlagSet, cfg *anomaly.Config) {
	*cfg = anomaly.DefaultConfig()
	fs.Var((*seconds)(&cfg.HalfCloseIdle), "half-close-idle", "findings: a half-closed side silent this long is stuck (T_hc, Linux tcp_fin_timeout)")
	fs.Var((*seconds)(&cfg.HalfCloseLong), "half-close-long", "findings: a stuck half-close this long is medium (T_hc_long)")
	fs.IntVar(&cfg.LeakPatternMin, "leak-pattern-min", cfg.LeakPatternMin, "findings: stuck half-closes on one service that make a CLOSE-WAIT leak pattern")
	fs.IntVar(&cfg.HalfCloseExhaustMin, "half-close-exhaust-min", cfg.HalfCloseExhaustMin, "findings: half-closed connections from one source to one service that make half-close exhaustion")
	fs.Var((*seconds)(&cfg.SYNFloodWindow), "syn-flood-window", "findings: window of the SYN flood check")
	fs.IntVar(&cfg.SYNFloodMin, "syn-flood-min", cfg.SYNFloodMin, "findings: connection attempts to one service within the window that can make a SYN flood")
	fs.Float64Var(&cfg.SYNFloodMaxRatio, "syn-flood-max-completed", cfg.SYNFloodMaxRatio, "findings: a SYN flood completes at most this share of its attempts")
	fs.IntVar(&cfg.ScanMinPorts, "scan-ports", cfg.ScanMinPorts, "findings: distinct ports of one host probed by one source within --scan-window that make a port scan")
	fs.Var((*seconds)(&cfg.ScanWindow), "scan-window", "findings: window of the port scan check")
	fs.Float64Var(&cfg.ScanMaxCompleted, "scan-max-data", cfg.ScanMaxCompleted, "findings: a port scan carries data on at most this share of its attempts")
	fs.IntVar(&cfg.FinRetransmits, "fin-retransmits", cfg.FinRetransmits, "findings: FIN retransmissions without an ACK that make fin_unacked")
	fs.Var((*seconds)(&cfg.FinUnackedAfter), "fin-unacked-after", "findings: ... once the FIN is unacknowledged this long")
	fs.Var((*seconds)(&cfg.ZeroWindowStall), "zero-window-stall", "findings: a zero window held this long is a stall (medium)")
	fs.Var((*seconds)(&cfg.ZeroWindowLong), "zero-window-long", "findings: a zero window held this long is a high stall")
	fs.IntVar(&cfg.ProbesUnanswered, "probes-unanswered", cfg.ProbesUnanswered, "findings: keep-alives or zero-window probes in a row without a reply that mean the peer is gone")
	fs.Var((*seconds)(&cfg.KeepAliveIdle), "keepalive-idle", "findings: no data for this long, kept open by answered keep-alives, is keepalive_only_idle")
	fs.Var((*seconds)(&cfg.KeepAliveIdleLong), "keepalive-idle-long", "findings: ... low from this long")
	fs.IntVar(&cfg.RSTStormMin, "rst-storm-min", cfg.RSTStormMin, "findings: RSTs from one side of one connection, each under 1 s after the last, that make a RST storm (Zeek tcp_storm_thresh)")
}
