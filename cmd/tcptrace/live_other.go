//go:build !linux

package main

import "errors"

// dropPrivileges is supported on Linux only, like live capture.
func dropPrivileges(name string) error {
	return errors.New("-Z is supported on Linux only")
}
