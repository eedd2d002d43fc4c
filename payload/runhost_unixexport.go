package payload

import "path"

// UnixExportDir is where the container's payload binds AF_UNIX sockets it
// exports to the host (Container Interface, /run/host point 8); systemd's
// ssh generator binds "ssh" there. It is writable inside.
const UnixExportDir = RunHostDir + "/unix-export"

// UnixExportBase holds, on the host, each running machine's unix-export
// directory, read-only: a host process connects to
// UnixExportBase/NAME/SOCKET.
var UnixExportBase = "/run/sockspawn/unix-export"

// UnixExportPath is where the host sees machine's unix-export directory.
func UnixExportPath(machine string) string { return path.Join(UnixExportBase, machine) }

// unixExportMounts binds the host's unix-export directory of the machine
// (o.UnixExport, a tmpfs read-only on the host) at /run/host/unix-export,
// writable, beneath the read-only /run/host. It stays a slave of the
// host's mount: nothing mounted inside goes back out.
func unixExportMounts(o Options) []Mount {
	if o.UnixExport == "" {
		return nil
	}
	src := SourceHost
	if o.UserNS != nil {
		src = SourceTree // a stage in a user namespace may not open it
	}
	return []Mount{{Target: UnixExportDir, Source: o.UnixExport, SourceIn: src, Writable: true, Slave: true}}
}
