package payload

import (
	"strings"
	"testing"
)

func TestCheckLiveBindTarget(t *testing.T) {
	tests := []struct {
		target  string
		wantErr string
	}{
		{"/mnt/data", ""},
		{"/srv/site/", ""},
		{"/tmp/x", ""},
		{"/run/user/0/x", ""},
		{"/dev/null2", ""}, // below /dev is the user's business
		{"mnt", "not an absolute path"},
		{"", "not an absolute path"},
		{"/mnt/../../etc", `".."`},
		{"/..", `".."`},
		{"/", "container's root"},
		{"//", "container's root"},
		{"/proc", "over /proc"},
		{"/sys", "over /sys"},
		{"/dev/", "over /dev"},
		{"/run", "over /run/host"},
		{"/run/host", "container manager"},
		{"/run/host/unix-export", "container manager"},
	}
	for _, tt := range tests {
		err := CheckLiveBindTarget(tt.target)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckLiveBindTarget(%q) = %v, want nil", tt.target, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("CheckLiveBindTarget(%q) = %v, want an error with %q", tt.target, err, tt.wantErr)
		}
	}
}

func FuzzCheckLiveBindTarget(f *testing.F) {
	for _, s := range []string{"/mnt", "/", "/run/host/x", "a/..", "/proc/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckLiveBindTarget(s) != nil {
			return
		}
		if !strings.HasPrefix(s, "/") || strings.Contains("/"+s+"/", "/../") {
			t.Fatalf("accepted %q", s)
		}
	})
}
