package main

import (
	"os"
	"testing"
)

// TestOtherPlatforms type-checks and vets every package, tests included,
// for platforms this machine cannot run: a 32-bit Linux (int is 32 bits,
// and x/sys/unix's Timespec fields are int32 there: the live source once
// passed them to time.Unix as int64 and did not build), and Windows, where
// neither the live capture nor the FIFO and signal tests exist. Building
// for them needs nothing from the network: the module cache has the
// dependencies' sources for every platform.
func TestOtherPlatforms(t *testing.T) {
	if testing.Short() {
		t.Skip("vets the module for two more platforms (a minute with a cold build cache)")
	}
	for _, p := range []struct{ goos, goarch string }{{"linux", "386"}, {"windows", "amd64"}} {
		t.Run(p.goos+"_"+p.goarch, func(t *testing.T) {
			cmd := goCommand("vet", "./...")
			cmd.Dir = "../.."
			cmd.Env = append(os.Environ(), "GOOS="+p.goos, "GOARCH="+p.goarch, "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s GOARCH=%s go vet ./...: %v\n%s", p.goos, p.goarch, err, out)
			}
		})
	}
}
