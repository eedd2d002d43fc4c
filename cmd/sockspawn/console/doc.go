// Package console carries a container's terminals to the user's: the
// supervisor's relay of /dev/console in each --console mode (Relay), the
// passive console's drain, and `sockspawn login`'s relay of an extra tty
// (RelayLogin), with the terminal put raw meanwhile and the ^] escape.
package console
