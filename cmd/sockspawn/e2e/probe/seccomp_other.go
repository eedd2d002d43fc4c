//go:build linux && !amd64

package main

import "golang.org/x/sys/unix"

// archCalls: the x86-only calls do not exist here.
func archCalls(keep *[][]byte) []sysCall { return nil }

// compatCalls: the probe has a compat ABI table for x86-64 only.
func compatCalls() []sysCall { return nil }

func int80(nr uintptr, a [6]uintptr) (uintptr, unix.Errno) { return 0, unix.ENOSYS }
