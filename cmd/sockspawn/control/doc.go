// Package control is a running machine's control socket: how `sockspawn
// login` gets one of the machine's extra ttys, and how `sockspawn bind`
// hands the supervisor a mount to put into the container.
//
// The supervisor listens on Dir/NAME (a SOCK_SEQPACKET socket, mode 0600
// in a 0700 directory, and only peers with UID 0 are served) for the
// machine's life. Each connection carries one Request, JSON, with at most
// one fd (SCM_RIGHTS), and gets one Reply, with at most one fd. A tty
// stays the client's while its connection is open.
package control
