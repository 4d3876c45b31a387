package anomaly

// evictLook is how many entries roundCursor looks at.
const evictLook = 16

// roundCursor is how the engine's capped tables (the port-scan pairs, the
// half-close pairs) pick what a new pair replaces once they are full: the
// first of the next evictLook of n positions from *next on, cyclically, for
// which single holds (a pair that has counted a single connection), or -1.
// It moves *next past the positions it looked at. The tables keep their
// entries in an order that depends only on the capture, so every run
// replaces the same ones, and the findings with them.
func roundCursor(n int, next *int, single func(i int) bool) int {
	for range min(n, evictLook) {
		i := *next % n
		*next = i + 1
		if single(i) {
			return i
		}
	}
	return -1
}
