package capture

import (
	"errors"
	"time"
)

// Errors OpenLive and Live.Start return.
var (
	// ErrLiveUnsupported: live capture needs Linux's AF_PACKET sockets.
	ErrLiveUnsupported = errors.New("live capture is supported on Linux only")
	// ErrPermission: opening a packet socket needs CAP_NET_RAW.
	ErrPermission = errors.New("no permission to capture: run as root or grant cap_net_raw+ep")
	// ErrKernelFilter: the filter cannot run in the kernel on this socket
	// (see Live.Start); run it in user space instead.
	ErrKernelFilter = errors.New("filter cannot run in the kernel on a cooked socket")
)

// AnyInterface is the interface name that captures on every interface, in
// LINUX_SLL2 frames, as tcpdump -i any does.
const AnyInterface = "any"

// DefaultSnaplen is the snapshot length of a live capture when none is
// given: libpcap's MAXIMUM_SNAPLEN, which tcpdump uses for -s 0.
const DefaultSnaplen = maxCapLen

// LiveConfig configures OpenLive. The zero value captures whole frames
// without promiscuous mode.
type LiveConfig struct {
	// Snaplen is the number of bytes kept of each frame, link-layer header
	// included; 0 or more than DefaultSnaplen means DefaultSnaplen.
	Snaplen int
	// Promiscuous puts the interface in promiscuous mode while the socket
	// is open (not for AnyInterface, as libpcap).
	Promiscuous bool
	// BufferSize is the socket's receive buffer in bytes (libpcap's -B);
	// 0 means 4 MiB. The kernel counts what overflows it in KernelDropped.
	BufferSize int
	// Options are the decoding options; FrameBase numbers the frames and a
	// Frame hook sees every frame, as for a Source.
	Options Options
	// Tick, when set, is called every TickInterval of wall-clock time from
	// inside Next, in the reading goroutine, with the current time, even
	// while no packet arrives: the caller's chance to do periodic work
	// (finish ended connections, write snapshots) on a quiet interface.
	Tick         func(now time.Time)
	TickInterval time.Duration
}
