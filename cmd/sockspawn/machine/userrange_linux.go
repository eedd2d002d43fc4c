package machine

import (
	"errors"
	"fmt"
	"os"

	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// checkUserRange gathers rangeFacts for c's private user range and
// judges them before anything is created. The overlap with running
// machines is checked again, under a lock, when the range is reserved.
func checkUserRange(c units.Config, src units.Sources, d decision) error {
	r := d.Users
	if !r.Enabled {
		return nil
	}
	var f rangeFacts
	var err error
	read := func(p string) []byte {
		b, e := os.ReadFile(p)
		if e != nil && !errors.Is(e, os.ErrNotExist) && err == nil {
			err = e
		}
		return b
	}
	if r.Base != 0 {
		f.UIDMap, f.GIDMap = read("/proc/self/uid_map"), read("/proc/self/gid_map")
		f.Passwd, f.Group = read("/etc/passwd"), read("/etc/group")
		if err == nil {
			f.Held, err = payload.HeldRanges()
		}
	}
	f.Image = d.Image
	if err == nil {
		f.Owned, err = payload.ImageOwners(d.Image, payload.OwnerSample(c.Volatile))
	}
	name := optionName(src, "PrivateUsers", 0, "--private-users", "PrivateUsers")
	if err != nil {
		return fmt.Errorf("%s: check the range: %w", name, err)
	}
	refusal, warning := judgeUserRange(r, f)
	if refusal != "" {
		return fmt.Errorf("%s: %s", name, refusal)
	}
	if warning != "" {
		fmt.Fprintf(os.Stderr, "sockspawn: %s: %s\n", name, warning)
	}
	return nil
}
