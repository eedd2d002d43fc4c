package units

import (
	"reflect"
	"testing"

	"github.com/sockspawn/sockspawn/internal/systemd"
)

func TestParseCapabilities(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"CAP_NET_ADMIN", []string{"CAP_NET_ADMIN"}, false},
		{"net_admin,sys_time", []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}, false},
		{"cap_sys_time CAP_NET_ADMIN sys_time", []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"}, false},
		{"CAP_NOPE", nil, true},
		{"", nil, true},
		{",", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseCapabilities(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseCapabilities(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	all, err := ParseCapabilities("all")
	if err != nil || len(all) != len(systemd.Capabilities) {
		t.Errorf("ParseCapabilities(all) = %d names, %v; want %d", len(all), err, len(systemd.Capabilities))
	}
	if got := CapabilityNumbers([]string{"CAP_SYS_ADMIN", "CAP_MKNOD"}); !reflect.DeepEqual(got, []int{21, 27}) {
		t.Errorf("CapabilityNumbers = %v", got)
	}
}

func FuzzParseCapabilities(f *testing.F) {
	for _, s := range []string{"all", "net_admin,sys_time", "CAP_X", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseCapabilities(s)
		if err != nil {
			return
		}
		again, err := ParseCapabilities(joinComma(got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q: %v then %v, %v", s, got, again, err)
		}
	})
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
