package systemd

// Volatile selects how much of the image is replaced by memory: the modes
// of systemd-nspawn's --volatile= and Volatile=.
type Volatile string

// The --volatile= modes, with systemd-nspawn's meanings.
const (
	VolatileNo    Volatile = "no"    // the image is used as it is
	VolatileYes   Volatile = "yes"   // tmpfs root, the image's /usr read-only
	VolatileState Volatile = "state" // the image read-only, a tmpfs on /var
)
