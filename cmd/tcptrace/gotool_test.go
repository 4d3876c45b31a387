package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// goCommand is the go command of the toolchain running the tests, the one
// in GOROOT: the first go on PATH may be another version, or missing (CI
// runs the tests as root with a PATH of its own).
func goCommand(args ...string) *exec.Cmd {
	return exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), args...)
}

// goBuild builds the package pkg (relative to this one) into dir/name and
// returns the binary's path.
func goBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	if out, err := goCommand("build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// buildTcptrace builds the command into dir, for tests that run it as a
// process: under ip netns exec, or to send it a real signal.
func buildTcptrace(t *testing.T, dir string) string {
	return goBuild(t, dir, "tcptrace", ".")
}
