package payload

import "fmt"

// TTYNames names the container's extra ttys as $container_ttys lists them
// ("pts/1"). The stage allocates them in the container's fresh devpts
// right after the console's pty, which is pts/0 (with ConsolePipe there is
// none and they start at pts/0): numbered in order, they are known before
// the stage runs, so the environment stays a value computed up front. The
// console's pty is never among them, as the Container Interface asks.
func TTYNames(console string, n int) []string {
	first := 0
	if console == ConsolePTY {
		first = 1
	}
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("pts/%d", first+i))
	}
	return names
}
