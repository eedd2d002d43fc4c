// Package systemd is systemd's vocabulary, typed once for both sides of
// sockspawn: the socket addresses of ListenStream=, the names of
// $LISTEN_FDNAMES and of credentials, and SIGRTMIN+3. It is a leaf: it
// imports nothing of sockspawn's, so activation, payload and units may all
// import it without importing each other.
package systemd
