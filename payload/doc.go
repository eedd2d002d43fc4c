// Package payload builds the container: namespaces, the root file system,
// the API mounts, /dev, /run/host, the cgroup and the init stage that
// carries all of it out before it executes the container's init.
//
// It is split in two halves that share one value, the Plan:
//
//   - pure functions (plan.go, mounts.go, dev.go, runhost.go, env.go) decide
//     everything that can be decided without privileges and are unit-tested
//     with tables;
//   - the init stage (stage_linux.go), started by the supervisor from a
//     sealed sockspawn (exeseal_linux.go) inside fresh namespaces, walks the Plan
//     in order, names each step in its errors, reports failures over the
//     sync socket and finally executes the payload.
//
// payload knows nothing of systemd's host-side protocols: it receives plain
// data (the fds to pass, the environment block, where to bind the notify
// socket) and hands back the notify socket and the console.
package payload
