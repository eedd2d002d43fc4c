// Package supervisor is sockspawn's event loop while a container's init
// runs: it relays the init's notify messages to the host's service
// manager, turns stop requests into the signals activation.Shutdown
// decides on (SIGRTMIN+3 as soon as the init takes it, SIGTERM, SIGKILL),
// carries out the idle watcher's poweroff and the operators' freeze and
// thaw, and returns the exit status of the init.
//
// What it acts on sits behind small interfaces (Init, Host, Clock,
// IdleWatcher) and channels, so that its stop paths are tested with fakes,
// without root; package main wires the real ones in.
package supervisor
