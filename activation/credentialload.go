package activation

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

// LoadCredential reads the credential id for --load-credential=ID:PATH. An
// absolute path is read as it is. A bare name is the credential of that name
// in credDir, the supervisor's own $CREDENTIALS_DIRECTORY, which must then
// be set. The file must be a regular file (sockets and FIFOs are refused)
// of at most MaxCredentialSize bytes.
func LoadCredential(id, path, credDir string) (Credential, error) {
	if !systemd.CredentialNameValid(id) {
		return Credential{}, fmt.Errorf("credential %q: invalid credential name", truncate(id))
	}
	if err := checkCredentialPath(path); err != nil {
		return Credential{}, fmt.Errorf("credential %q: %w", id, err)
	}
	if !filepath.IsAbs(path) {
		if credDir == "" {
			return Credential{}, fmt.Errorf("credential %q: %q is not an absolute path and $CREDENTIALS_DIRECTORY is not set", id, path)
		}
		path = filepath.Join(credDir, path)
	}
	data, err := readCredentialFile(path)
	if err != nil {
		return Credential{}, fmt.Errorf("credential %q: %w", id, err)
	}
	return Credential{ID: id, Data: data}, nil
}

// InheritedCredentials reads every credential the supervisor received from
// its own service manager: the regular files of credDir, its
// $CREDENTIALS_DIRECTORY, in name order. An empty credDir (the variable is
// unset) or an empty directory gives nil; a credDir that cannot be read is
// an error. Entries that are not regular files or not valid credential names
// are skipped.
func InheritedCredentials(credDir string) ([]Credential, error) {
	if credDir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(credDir)
	if err != nil {
		return nil, fmt.Errorf("inherited credentials: %w", err)
	}
	var creds []Credential
	for _, e := range entries {
		if !e.Type().IsRegular() || !systemd.CredentialNameValid(e.Name()) {
			continue
		}
		data, err := readCredentialFile(filepath.Join(credDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("inherited credential %q: %w", e.Name(), err)
		}
		creds = append(creds, Credential{ID: e.Name(), Data: data})
	}
	return creds, nil
}

// readCredentialFile reads a regular file of at most MaxCredentialSize
// bytes. It opens with O_NONBLOCK so that a FIFO cannot hang it before the
// type check refuses it.
func readCredentialFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxCredentialSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxCredentialSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxCredentialSize)
	}
	return data, nil
}
func checkCredentialPath(path string) error {
	switch {
	case strings.HasPrefix(path, "/"):
		if strings.IndexByte(path, 0) >= 0 {
			return fmt.Errorf("path %q contains a NUL byte", truncate(path))
		}
		return nil
	case systemd.CredentialNameValid(path):
		return nil
	}
	return fmt.Errorf("path %q is neither absolute nor the name of an inherited credential", truncate(path))
}
