package machine

import (
	"fmt"
	"strings"

	"github.com/sockspawn/sockspawn/internal/systemd"
	"github.com/sockspawn/sockspawn/units"
)

// Check checks machine c as Run would, without starting anything, and
// returns what `sockspawn check` prints when all is well. src says where
// c's values came from; conf and nspawn are the configuration file and
// the .nspawn file read ("" for none).
func Check(c units.Config, src units.Sources, conf, nspawn string) (string, error) {
	d, err := checkInput(c, src, false)
	if err != nil {
		return "", err
	}
	if _, err := lookupBindUsers(c.BindUsers, d.Users); err != nil {
		return "", err
	}
	return checkReport(c, d, conf, nspawn), nil
}

// checkReport is what `check` prints when all is well: each thing it
// checked, and what it found.
func checkReport(c units.Config, d decision, conf, nspawn string) string {
	var b strings.Builder
	if conf == "" {
		conf = "none (defaults; looked in " + strings.Join(units.SearchPath, ", ") + ")"
	}
	row := func(k, v string) { fmt.Fprintf(&b, "  %-14s %s\n", k, v) }
	fmt.Fprintf(&b, "machine %s can boot:\n", d.Machine)
	row("name", d.Machine+" (a valid machine name and hostname)")
	row("configuration", conf+" (parsed, every key known)")
	if nspawn != "" {
		row("nspawn file", nspawn+" (parsed, every key known)")
	}
	image := d.Image + " (a directory on the host)"
	switch c.Volatile {
	case systemd.VolatileYes:
		image += ", volatile: only its /usr is used, read-only"
	case systemd.VolatileState:
		image += ", volatile state: read-only, /var fresh"
	}
	row("image", image)
	if c.Boot {
		row("init", d.Argv[0]+" (an executable file in the image)")
	} else {
		row("command", strings.Join(d.Argv, " ")+" (found where the container looks for it)")
	}
	for _, bd := range c.Binds {
		row("bind source", bd.Source+" (on the host)")
	}
	return b.String()
}
