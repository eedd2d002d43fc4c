// Package templates holds, embedded in the binary, the unit templates
// sockspawn installs and the skeletons `sockspawn new` fills in. Text
// between '@' signs (@BINDIR@, @MACHINE@) is a placeholder that
// units.RenderUnit replaces.
package templates

import (
	"embed"
	"fmt"
	"io/fs"
)

// The templates, by name.
const (
	Service       = "container@.service" // the machine's service unit; @BINDIR@
	Socket        = "container@.socket"  // the machine's socket unit
	MachineConfig = "machine.conf.in"    // /etc/sockspawn/NAME.conf; @MACHINE@, @DIRECTORY@, @EXAMPLES@
	ListenDropIn  = "listen.conf.in"     // container@NAME.socket.d/listen.conf; @MACHINE@, @LISTEN_STREAMS@
)

// FS holds every template, at the top level, under the names above.
//
//go:embed container@.service container@.socket machine.conf.in listen.conf.in
var FS embed.FS

// Units returns the names of the unit templates that are installed into
// systemd's unit directory, in the order they should be written.
func Units() []string {
	return []string{Service, Socket}
}

// Names returns the names of all templates.
func Names() []string {
	return []string{Service, Socket, MachineConfig, ListenDropIn}
}

// Read returns the text of the named template.
func Read(name string) ([]byte, error) {
	b, err := fs.ReadFile(FS, name)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return b, nil
}
