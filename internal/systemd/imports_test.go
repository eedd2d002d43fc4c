package systemd

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules checks the layout's import rules on the whole module:
// this package is a leaf; payload and activation never import each other;
// units imports neither; nothing imports cmd.
func TestImportRules(t *testing.T) {
	const mod = "github.com/sockspawn/sockspawn/"
	out, err := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}}`, mod+"...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	under := func(pkg, tree string) bool { return pkg == mod+tree || strings.HasPrefix(pkg, mod+tree+"/") }
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := f[0]
		n++
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			var broken string
			switch {
			case under(pkg, "internal/systemd"):
				broken = "internal/systemd imports nothing of sockspawn's"
			case under(pkg, "payload") && under(imp, "activation"), under(pkg, "activation") && under(imp, "payload"):
				broken = "payload and activation never import each other"
			case under(pkg, "units") && (under(imp, "payload") || under(imp, "activation")):
				broken = "units imports neither payload nor activation"
			case under(imp, "cmd") && !under(pkg, "cmd"):
				broken = "nothing outside cmd imports cmd"
			case imp == mod+"cmd/sockspawn":
				broken = "nothing imports the main package"
			}
			if broken != "" {
				t.Errorf("%s imports %s: %s", pkg, imp, broken)
			}
		}
	}
	if n < 5 {
		t.Errorf("go list saw %d packages:\n%s", n, out)
	}
}
