//go:build unix

package stdout

import (
	"os"
	"syscall"
)

// takeStdout duplicates fd 1 for the protocol and points fd 1 at stderr.
func takeStdout() *os.File {
	fd, err := syscall.Dup(1)
	if err != nil {
		return os.Stdout
	}
	syscall.CloseOnExec(fd)
	if err := dupOnto(2, 1); err != nil {
		syscall.Close(fd)
		return os.Stdout
	}
	return os.NewFile(uintptr(fd), "protocol-stdout")
}
