package report

import (
	"github.com/tcptrace/tcptrace/fsm"
	"github.com/tcptrace/tcptrace/reassembly"
)

// Snapshot lists the connections still open at a moment of a capture
// (-T jsonl with --snapshot-interval), so that long-lived connections are
// visible before they end.
type Snapshot struct {
	Time        string           `json:"time"` // capture time of the snapshot
	Open        int              `json:"open"` // number of connections held
	Connections []OpenConnection `json:"connections"`
}

// Address is an IP address and port.
type Address struct {
	IP   string `json:"ip"`
	Port uint16 `json:"port"`
}

// OpenConnection is a connection still in the flow table: who, since when,
// how far each endpoint got, and how much each side sent so far.
type OpenConnection struct {
	ID          uint64  `json:"id"`
	Client      Address `json:"client"`
	Server      Address `json:"server"`
	Incarnation int     `json:"incarnation"`
	Start       string  `json:"start"`
	Last        string  `json:"last"`
	State       States  `json:"state"`
	Packets     Pair    `json:"packets"`
	Bytes       Pair    `json:"bytes"`
}

// NewOpenConnection builds the snapshot record of a flow still held. The
// states are those inferred so far: a FIN or SYN whose processing the
// receiver has not yet shown is not applied.
func NewOpenConnection(f *reassembly.Flow) OpenConnection {
	return OpenConnection{
		ID:          f.ID,
		Client:      Address{IP: f.Client.Addr().Unmap().String(), Port: f.Client.Port()},
		Server:      Address{IP: f.Server.Addr().Unmap().String(), Port: f.Server.Port()},
		Incarnation: f.Incarnation,
		Start:       Time(f.First),
		Last:        Time(f.Last),
		State:       States{Client: f.Conn.Ep[fsm.DirClient].State.String(), Server: f.Conn.Ep[fsm.DirServer].State.String()},
		Packets:     Pair{f.Packets[0], f.Packets[1]},
		Bytes:       Pair{f.Bytes[0], f.Bytes[1]},
	}
}

type typedSnapshot struct {
	Type string `json:"type"`
	Snapshot
}

// Snapshot writes one snapshot line ("type": "snapshot").
func (j *JSONLines) Snapshot(s Snapshot) error {
	if s.Connections == nil {
		s.Connections = []OpenConnection{}
	}
	return j.enc.Encode(typedSnapshot{Type: "snapshot", Snapshot: s})
}
