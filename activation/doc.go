// Package activation is the host-manager side of the supervisor: the
// listening sockets it inherits (sd_listen_fds) or opens itself (--listen),
// the sd_notify relay from the container's init to the host, what to do
// with the container's init when the supervisor is asked to stop, and the
// credentials handed to the container.
//
// It speaks systemd's protocols and knows nothing of mounts or namespaces.
// Everything that can be decided without a syscall (environment blocks,
// notify messages, addresses, credentials, the shutdown state machine) is a
// pure function in a file without a platform suffix; the code that touches
// file descriptors lives in the _linux.go files.
package activation
