package machine

import (
	"fmt"
	"os"
	"strings"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// gatherCredentials reads the credentials to pass: those of sockspawn's
// own service, then the explicit ones, which win.
func gatherCredentials(explicit []units.Credential) ([]payload.File, error) {
	credDir := os.Getenv("CREDENTIALS_DIRECTORY")
	inherited, err := activation.InheritedCredentials(credDir)
	if err != nil {
		return nil, err
	}
	var given []activation.Credential
	for _, c := range explicit {
		if c.Path == "" {
			given = append(given, activation.Credential{ID: c.ID, Data: c.Data})
			continue
		}
		cr, err := activation.LoadCredential(c.ID, c.Path, credDir)
		if err != nil {
			return nil, fmt.Errorf("--load-credential: %w", err)
		}
		given = append(given, cr)
	}
	var out []payload.File
	for _, c := range activation.MergeCredentials(inherited, given) {
		out = append(out, payload.File{Name: c.ID, Data: c.Data})
	}
	return out, nil
}

// osReleasePaths are where the os-release specification says to look,
// in order.
var osReleasePaths = []string{"/etc/os-release", "/usr/lib/os-release"}

// hostOSRelease reads the host's os-release.
func hostOSRelease() []byte {
	for _, p := range osReleasePaths {
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
	}
	return nil
}

// localtime is the host's time zone link.
var localtime = "/etc/localtime"

// hostTimezone names the host's time zone from its /etc/localtime symlink
// ("Europe/Berlin"), or "" if it is not a link into a zoneinfo directory.
func hostTimezone() string {
	l, err := os.Readlink(localtime)
	if err != nil {
		return ""
	}
	_, zone, ok := strings.Cut(l, "zoneinfo/")
	if !ok || zone == "" || strings.Contains(zone, "..") {
		return ""
	}
	return zone
}
