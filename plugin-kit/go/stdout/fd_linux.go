//go:build linux

package stdout

import "syscall"

// dupOnto: Dup3 exists on every Linux architecture (Dup2 not on arm64).
func dupOnto(from, to int) error { return syscall.Dup3(from, to, 0) }
