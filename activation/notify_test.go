package activation

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseNotify(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Message
		wantErr string
	}{
		{name: "ready", in: "READY=1", want: Message{Ready: true, Fields: []string{"READY=1"}}},
		{name: "trailing newline", in: "READY=1\n", want: Message{Ready: true, Fields: []string{"READY=1"}}},
		{name: "blank lines", in: "\n\nSTOPPING=1\n\n", want: Message{Stopping: true, Fields: []string{"STOPPING=1"}}},
		{name: "ready=0", in: "READY=0", want: Message{Fields: []string{"READY=0"}}},
		{name: "status", in: "READY=1\nSTATUS=Startup finished in 1.2s.",
			want: Message{Ready: true, Status: "Startup finished in 1.2s.", HasStatus: true,
				Fields: []string{"READY=1", "STATUS=Startup finished in 1.2s."}}},
		{name: "empty status", in: "STATUS=", want: Message{HasStatus: true, Fields: []string{"STATUS="}}},
		{name: "last status wins", in: "STATUS=a\nSTATUS=b=c", want: Message{Status: "b=c", HasStatus: true, Fields: []string{"STATUS=a", "STATUS=b=c"}}},
		{name: "utf-8 status", in: "STATUS=caf\u00e9", want: Message{Status: "caf\u00e9", HasStatus: true, Fields: []string{"STATUS=caf\u00e9"}}},
		{name: "reloading", in: "RELOADING=1\nMONOTONIC_USEC=123",
			want: Message{Reloading: true, Fields: []string{"RELOADING=1", "MONOTONIC_USEC=123"}}},
		{name: "errno", in: "ERRNO=2", want: Message{Errno: "2", Fields: []string{"ERRNO=2"}}},
		{name: "level 2", in: "X_SYSTEMD_SIGNALS_LEVEL=2", want: Message{SignalsLevel2: true, Fields: []string{"X_SYSTEMD_SIGNALS_LEVEL=2"}}},
		{name: "level 3", in: "X_SYSTEMD_SIGNALS_LEVEL=3", want: Message{SignalsLevel2: true, Fields: []string{"X_SYSTEMD_SIGNALS_LEVEL=3"}}},
		{name: "level 1", in: "X_SYSTEMD_SIGNALS_LEVEL=1", want: Message{Fields: []string{"X_SYSTEMD_SIGNALS_LEVEL=1"}}},
		{name: "level junk", in: "X_SYSTEMD_SIGNALS_LEVEL=2x", want: Message{Fields: []string{"X_SYSTEMD_SIGNALS_LEVEL=2x"}}},
		{name: "unknown keys kept", in: "MAINPID=7\nWATCHDOG=1\nX_FOO=bar",
			want: Message{Fields: []string{"MAINPID=7", "WATCHDOG=1", "X_FOO=bar"}}},
		{name: "max size", in: "STATUS=" + strings.Repeat("x", MaxNotifySize-7),
			want: Message{Status: strings.Repeat("x", MaxNotifySize-7), HasStatus: true, Fields: []string{"STATUS=" + strings.Repeat("x", MaxNotifySize-7)}}},
		{name: "too big", in: "STATUS=" + strings.Repeat("x", MaxNotifySize-6), wantErr: "more than"},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "only newlines", in: "\n\n", wantErr: "empty"},
		{name: "nul", in: "READY=1\x00", wantErr: "NUL"},
		{name: "bad utf-8", in: "STATUS=\xff", wantErr: "UTF-8"},
		{name: "no equals", in: "READY=1\nhello", wantErr: "no '='"},
		{name: "lower key", in: "ready=1", wantErr: "invalid key"},
		{name: "empty key", in: "=1", wantErr: "invalid key"},
		{name: "space in key", in: "READY =1", wantErr: "invalid key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNotify([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestForwardState(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		readySeen bool
		want      string
	}{
		{"ready", "READY=1", false, "READY=1"},
		{"ready again", "READY=1", true, "READY=1"},
		{"status", "STATUS=Booting", false, "STATUS=Booting"},
		{"empty status", "STATUS=", true, "STATUS="},
		{"ready and status", "STATUS=up\nREADY=1", false, "READY=1\nSTATUS=up"},
		{"stopping", "STOPPING=1\nSTATUS=Shutting down", true, "STOPPING=1\nSTATUS=Shutting down"},
		{"reload", "RELOADING=1\nMONOTONIC_USEC=42", true, "RELOADING=1\nMONOTONIC_USEC=42"},
		{"reload without time", "RELOADING=1", true, "RELOADING=1"},
		{"reload bad time", "RELOADING=1\nMONOTONIC_USEC=-1", true, "RELOADING=1"},
		{"reload before ready", "RELOADING=1\nMONOTONIC_USEC=42", false, ""},
		{"time alone", "MONOTONIC_USEC=42", true, ""},
		{"never forwarded", "MAINPID=1\nWATCHDOG=1\nWATCHDOG_USEC=5\nFDSTORE=1\nFDNAME=x\nBARRIER=1\nERRNO=5\nEXIT_STATUS=3", true, ""},
		{"level 2 is ours", "X_SYSTEMD_SIGNALS_LEVEL=2", false, ""},
		{"unknown", "X_FOO=1", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseNotify([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := ForwardState(m, tt.readySeen); got != tt.want {
				t.Errorf("ForwardState = %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzParseNotify checks ParseNotify's promises on arbitrary input, and that
// what ForwardState makes of an accepted message is itself a message that
// forwards to the same state.
func FuzzParseNotify(f *testing.F) {
	for _, s := range []string{"READY=1\n", "STATUS=x\nRELOADING=1\nMONOTONIC_USEC=1", "X_SYSTEMD_SIGNALS_LEVEL=2",
		"=", "a=b", "READY=1\x00", "\n", "STATUS=\xff"} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, readySeen bool) {
		m, err := ParseNotify(b)
		if err != nil {
			return
		}
		if len(b) > MaxNotifySize || len(m.Fields) == 0 {
			t.Fatalf("accepted %d bytes with %d fields", len(b), len(m.Fields))
		}
		for _, f := range m.Fields {
			k, _, ok := strings.Cut(f, "=")
			if !ok || !notifyKeyValid(k) || strings.ContainsAny(f, "\n\x00") {
				t.Fatalf("bad field %q", f)
			}
		}
		state := ForwardState(m, readySeen)
		if state == "" {
			return
		}
		m2, err := ParseNotify([]byte(state))
		if err != nil {
			t.Fatalf("forwarded state %q does not parse: %v", state, err)
		}
		if again := ForwardState(m2, true); again != state && readySeen {
			t.Fatalf("forwarding %q again gives %q", state, again)
		}
		if m2.Ready != m.Ready || m2.Stopping != m.Stopping || m2.HasStatus != m.HasStatus || m2.Status != m.Status {
			t.Fatalf("forwarded %+v as %+v", m, m2)
		}
	})
}
