package filter

import "golang.org/x/net/bpf"

// Run exposes the interpreter to the external tests. present and tci are the
// out-of-band VLAN tag a Linux socket would report.
func Run(prog []bpf.RawInstruction, data []byte, wireLen uint32, present bool, tci uint16) uint32 {
	return run(prog, data, wireLen, &vlanMeta{present: present, tci: tci})
}

// RunFile runs prog as libpcap's bpf_filter does for a capture file: without
// ancillary data.
func RunFile(prog []bpf.RawInstruction, data []byte, wireLen uint32) uint32 {
	return run(prog, data, wireLen, nil)
}
