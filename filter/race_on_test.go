//go:build race

package filter_test

// raceEnabled cuts the tcpdump cross-checks to their -short set under the
// race detector, which slows them tenfold and adds nothing to comparing
// programs with libpcap's; .ci/run runs the full set without -race.
const raceEnabled = true
