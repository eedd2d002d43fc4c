package payload

// Paths of the /run/host hierarchy inside the container.
const (
	RunHostDir     = "/run/host"
	IncomingDir    = RunHostDir + "/incoming"
	NotifySocket   = "/run/host/notify"
	CredentialsDir = "/run/host/credentials"
	ManagerName    = "sockspawn" // the value of $container and /run/host/container-manager
)

// RunHost is the content of the container's /run/host.
type RunHost struct {
	Files        []File    `json:"files"`                  // regular files, read-only to the container
	Inaccessible []string  `json:"inaccessible"`           // node types below inaccessible/
	Credentials  []File    `json:"credentials"`            // files in credentials/
	UserDB       []File    `json:"userdb,omitempty"`       // files in userdb/ (--bind-user)
	UserDBLinks  []Symlink `json:"userdb_links,omitempty"` // symlinks in userdb/, by UID and GID
}

// InaccessibleNodes are the six node types of /run/host/inaccessible/.
var InaccessibleNodes = []string{"reg", "dir", "fifo", "sock", "chr", "blk"}

// NewRunHost returns the /run/host content for a container with the given
// UUID, the host's os-release text and the credentials to pass.
func NewRunHost(uuid string, osRelease []byte, creds []File) RunHost {
	files := []File{
		{Name: "container-manager", Data: []byte(ManagerName + "\n")},
		{Name: "container-uuid", Data: []byte(uuid + "\n")},
	}
	if osRelease != nil {
		files = append(files, File{Name: "os-release", Data: osRelease})
	}
	return RunHost{Files: files, Inaccessible: append([]string(nil), InaccessibleNodes...), Credentials: creds}
}
