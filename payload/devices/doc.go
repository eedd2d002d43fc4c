// Package devices decides which device nodes a container may create and open,
// and enforces that decision on the container's cgroup.
//
// The Container Interface asks a container manager to keep CAP_MKNOD (so that
// systemd inside can build the private /dev of PrivateDevices= services) and
// to restrict instead which devices may be created and opened: with a
// BPF_PROG_TYPE_CGROUP_DEVICE program on cgroup2, with the devices controller
// on cgroup v1.
//
// The package has a pure half and a privileged half:
//
//   - devices.go and allowed.go describe the policy as a list of Rules
//     (DefaultAllow, ParseRule, Rule.String) and answer, in plain Go, whether a
//     list of rules allows an access (Allowed);
//   - program_linux.go turns the rules into the device program (Program) and
//     attaches it to a cgroup2 directory (Attach); v1_linux.go writes the same
//     rules to a cgroup v1 devices directory (AttachV1); node_linux.go makes
//     the rule for a host device node the user binds in (RuleForNode).
//
// The device program is attached with BPF_F_ALLOW_MULTI and never in the
// exclusive or override modes: systemd in the container attaches its own
// device programs to its child cgroups, and the kernel then runs ours and
// theirs, and an access succeeds only if every program allows it.
package devices
