package payload

import (
	"path"
	"sort"
	"strings"
)

// mountPointsUnder lists the mount points of mountinfo at or below dir (an
// absolute, clean path), deepest first, each once: the order in which
// they can be detached one by one.
func mountPointsUnder(mountinfo []byte, dir string) []string {
	seen := map[string]bool{}
	var out []string
	for _, line := range procLines(mountinfo) {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		p := path.Clean(unescapeMountPath(f[4]))
		if p != dir && !strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/") {
			continue
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		di, dj := strings.Count(out[i], "/"), strings.Count(out[j], "/")
		if di != dj {
			return di > dj
		}
		return out[i] < out[j]
	})
	return out
}
