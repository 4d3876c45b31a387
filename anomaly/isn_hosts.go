package anomaly

import (
	"hash/maphash"
	"math/bits"
)

// hostTable holds an ISNTracker's hosts by value, in order of arrival, and
// finds them by hostID (issue 7). It replaces a map[hostKey]*host: the
// map's key held netip.Addr's zone pointer, so the GC scanned the map and
// its hash chased the pointer, each host was a heap object of its own,
// and the map took some 60 bytes an entry. Here the hosts sit in pages
// (no copy of the whole table when it grows, and no append slack past the
// last page) and an open-addressing table of host numbers + 1, linear
// probing at most half full, finds them: 8 bytes a host at the default
// MaxHosts. Hosts are never removed (MaxHosts drops new ones instead), so
// the table needs no deletion. Nothing here holds a pointer but the page
// list.
//
// The zero value is an empty table.
type hostTable struct {
	pages [][]host // hostPage hosts each but the last
	n     int
	slots []int32 // host number + 1; 0 is empty
	seed  maphash.Seed
}

// hostPage is the number of hosts in a full page (48 KB).
const hostPage = 1024

// at returns host number i.
func (t *hostTable) at(i int32) *host {
	return &t.pages[i/hostPage][i%hostPage]
}

func (t *hostTable) home(id hostID) int {
	return int(maphash.Comparable(t.seed, id)) & (len(t.slots) - 1)
}

// find returns the number of the host id, or -1.
func (t *hostTable) find(id hostID) int32 {
	if t.n == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	for i := t.home(id); t.slots[i] != 0; i = (i + 1) & mask {
		if p := t.slots[i] - 1; t.at(p).id == id {
			return p
		}
	}
	return -1
}

// add appends a host id, which t does not hold, and returns its number.
func (t *hostTable) add(id hostID) int32 {
	p := len(t.pages) - 1
	if p < 0 || len(t.pages[p]) == hostPage {
		t.pages = append(t.pages, nil)
		p++
	}
	pg := &t.pages[p]
	if len(*pg) == cap(*pg) {
		// The first page grows by doubling from 8, so that a tracker
		// with a few hosts holds a few hundred bytes; the next start
		// full size.
		c := hostPage
		if p == 0 {
			c = min(hostPage, max(8, 2*cap(*pg)))
		}
		*pg = append(make([]host, 0, c), *pg...)
	}
	*pg = append(*pg, host{id: id})
	i := int32(t.n)
	t.n++
	if 2*t.n > len(t.slots) {
		t.rehash()
	} else {
		t.insert(id, i)
	}
	return i
}

// rehash rebuilds the slots at twice the size (at least 8), every host
// included.
func (t *hostTable) rehash() {
	if t.slots == nil {
		t.seed = maphash.MakeSeed() // per tracker, so spoofed sources cannot be made to collide
	}
	t.slots = make([]int32, 1<<bits.Len(uint(max(8, 2*t.n)-1)))
	for i := range t.n {
		t.insert(t.at(int32(i)).id, int32(i))
	}
}

func (t *hostTable) insert(id hostID, i int32) {
	mask := len(t.slots) - 1
	j := t.home(id)
	for t.slots[j] != 0 {
		j = (j + 1) & mask
	}
	t.slots[j] = i + 1
}
