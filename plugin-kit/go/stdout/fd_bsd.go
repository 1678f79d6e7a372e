//go:build unix && !linux

package stdout

import "syscall"

func dupOnto(from, to int) error { return syscall.Dup2(from, to) }
