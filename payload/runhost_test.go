package payload

import (
	"reflect"
	"testing"
)

func TestNewRunHost(t *testing.T) {
	creds := []File{{Name: "password", Data: []byte("s3cret")}, {Name: "bin", Data: []byte{0, 1}}}
	tests := []struct {
		name      string
		osRelease []byte
		creds     []File
		wantFiles []File
	}{
		{
			name:      "with os-release",
			osRelease: []byte("ID=fedora\n"),
			creds:     creds,
			wantFiles: []File{
				{Name: "container-manager", Data: []byte("sockspawn\n")},
				{Name: "container-uuid", Data: []byte("0123abcd-0000-4000-8000-000000000001\n")},
				{Name: "os-release", Data: []byte("ID=fedora\n")},
			},
		},
		{
			name: "without os-release",
			wantFiles: []File{
				{Name: "container-manager", Data: []byte("sockspawn\n")},
				{Name: "container-uuid", Data: []byte("0123abcd-0000-4000-8000-000000000001\n")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rh := NewRunHost("0123abcd-0000-4000-8000-000000000001", tt.osRelease, tt.creds)
			if !reflect.DeepEqual(rh.Files, tt.wantFiles) {
				t.Errorf("Files = %q, want %q", rh.Files, tt.wantFiles)
			}
			if want := []string{"reg", "dir", "fifo", "sock", "chr", "blk"}; !reflect.DeepEqual(rh.Inaccessible, want) {
				t.Errorf("Inaccessible = %q, want %q", rh.Inaccessible, want)
			}
			if !reflect.DeepEqual(rh.Credentials, tt.creds) {
				t.Errorf("Credentials = %+v, want %+v", rh.Credentials, tt.creds)
			}
		})
	}
}

func TestRunHostPaths(t *testing.T) {
	if NotifySocket != RunHostDir+"/notify" || CredentialsDir != RunHostDir+"/credentials" {
		t.Errorf("notify socket %s and credentials %s are not in %s", NotifySocket, CredentialsDir, RunHostDir)
	}
	if ManagerName != "sockspawn" {
		t.Errorf("ManagerName = %q", ManagerName)
	}
}
