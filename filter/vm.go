package filter

import "golang.org/x/net/bpf"

// vlanMeta is the VLAN tag a Linux socket reports out of band, for running
// CompileKernel programs in tests.
type vlanMeta struct {
	present bool
	tci     uint16
}

// run interprets a classic BPF program over a packet, with the semantics of
// libpcap's bpf_filter (which tcpdump -r uses) and of the kernel: a load outside
// data or a division by zero ends the program with 0, "len" is the wire length,
// and unsigned 32-bit arithmetic throughout. It returns the program's result.
// Ancillary loads other than the VLAN ones in meta return 0.
func run(prog []bpf.RawInstruction, data []byte, wireLen uint32, meta *vlanMeta) uint32 {
	var a, x uint32
	var mem [16]uint32
	n := uint64(len(data))
	for pc := 0; pc < len(prog); pc++ {
		ins := &prog[pc]
		k := ins.K
		switch ins.Op & 0x07 {
		case bpfLD:
			switch ins.Op & 0xe0 {
			case bpfIMM:
				a = k
			case bpfLEN:
				a = wireLen
			case bpfMEM:
				a = mem[k&15]
			case bpfABS:
				if k >= skfAdOff && meta != nil {
					a = ancillary(k, meta)
					continue
				}
				v, ok := load(data, n, uint64(k), ins.Op&0x18)
				if !ok {
					return 0
				}
				a = v
			case bpfIND:
				v, ok := load(data, n, uint64(x)+uint64(k), ins.Op&0x18)
				if !ok {
					return 0
				}
				a = v
			default:
				return 0
			}
		case bpfLDX:
			switch ins.Op & 0xe0 {
			case bpfIMM:
				x = k
			case bpfLEN:
				x = wireLen
			case bpfMEM:
				x = mem[k&15]
			case bpfMSH:
				if uint64(k) >= n {
					return 0
				}
				x = uint32(data[k]&0xf) << 2
			default:
				return 0
			}
		case bpfST:
			mem[k&15] = a
		case bpfSTX:
			mem[k&15] = x
		case bpfALU:
			v := k
			if ins.Op&bpfX != 0 {
				v = x
			}
			switch ins.Op & 0xf0 {
			case 0x00:
				a += v
			case 0x10:
				a -= v
			case 0x20:
				a *= v
			case 0x30:
				if v == 0 {
					return 0
				}
				a /= v
			case 0x40:
				a |= v
			case 0x50:
				a &= v
			case 0x60:
				if v >= 32 {
					a = 0
				} else {
					a <<= v
				}
			case 0x70:
				if v >= 32 {
					a = 0
				} else {
					a >>= v
				}
			case 0x80:
				a = -a
			case 0x90:
				if v == 0 {
					return 0
				}
				a %= v
			case 0xa0:
				a ^= v
			default:
				return 0
			}
		case bpfJMP:
			op := ins.Op & 0xf0
			if op == 0x00 { // ja
				pc += int(k)
				continue
			}
			v := k
			if ins.Op&bpfX != 0 {
				v = x
			}
			var t bool
			switch op {
			case 0x10:
				t = a == v
			case 0x20:
				t = a > v
			case 0x30:
				t = a >= v
			case 0x40:
				t = a&v != 0
			default:
				return 0
			}
			if t {
				pc += int(ins.Jt)
			} else {
				pc += int(ins.Jf)
			}
		case bpfRET:
			switch ins.Op & 0x18 {
			case 0x00:
				return k
			case 0x10:
				return a
			}
			return 0
		case bpfMISC:
			if ins.Op&0xf8 == 0x80 {
				a = x // txa
			} else {
				x = a // tax
			}
		}
	}
	return 0
}

// load reads a big-endian word, half-word or byte at off, if it lies within data.
func load(data []byte, n, off uint64, size uint16) (uint32, bool) {
	switch size {
	case bpfW:
		if off+4 > n {
			return 0, false
		}
		return uint32(data[off])<<24 | uint32(data[off+1])<<16 | uint32(data[off+2])<<8 | uint32(data[off+3]), true
	case bpfH:
		if off+2 > n {
			return 0, false
		}
		return uint32(data[off])<<8 | uint32(data[off+1]), true
	case bpfB:
		if off+1 > n {
			return 0, false
		}
		return uint32(data[off]), true
	}
	return 0, false
}

func ancillary(k uint32, meta *vlanMeta) uint32 {
	if meta == nil {
		return 0
	}
	switch k - skfAdOff {
	case skfAdVLANTag:
		return uint32(meta.tci)
	case skfAdVLANTagPresent:
		if meta.present {
			return 1
		}
	}
	return 0
}
