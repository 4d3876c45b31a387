//go:build !linux

package capture

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// Live is a live capture; on this system OpenLive always fails with
// ErrLiveUnsupported.
type Live struct{}

// OpenLive fails: live capture needs Linux's AF_PACKET sockets.
func OpenLive(name string, cfg LiveConfig) (*Live, error) {
	return nil, fmt.Errorf("capture on %s: %w", name, ErrLiveUnsupported)
}

// LinkType returns 0.
func (l *Live) LinkType() LinkType { return 0 }

// Snaplen returns 0.
func (l *Live) Snaplen() int { return 0 }

// Start fails.
func (l *Live) Start(prog []bpf.RawInstruction) error { return ErrLiveUnsupported }

// Stop does nothing.
func (l *Live) Stop() {}

// Next returns false.
func (l *Live) Next(p *Packet) bool { return false }

// Err returns ErrLiveUnsupported.
func (l *Live) Err() error { return ErrLiveUnsupported }

// Stats returns nothing.
func (l *Live) Stats() Stats { return Stats{} }

// Close does nothing.
func (l *Live) Close() error { return nil }
