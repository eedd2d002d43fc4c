package units

import "testing"

func TestParsePort(t *testing.T) {
	tests := []struct {
		in      string
		want    Port
		wantErr string
	}{
		{"80", Port{"tcp", 80, 80}, ""},
		{"8080:80", Port{"tcp", 8080, 80}, ""},
		{"tcp:443", Port{"tcp", 443, 443}, ""},
		{"udp:53:5353", Port{"udp", 53, 5353}, ""},
		{"65535", Port{"tcp", 65535, 65535}, ""},
		{"0", Port{}, "host port"},
		{"65536", Port{}, "host port"},
		{"sctp:80", Port{}, "host port"},
		{"tcp:80:0", Port{}, "container port"},
		{"tcp:", Port{}, "host port"},
		{"+80", Port{}, "host port"},
		{"80:81:82", Port{}, "container port"},
		{"", Port{}, "host port"},
	}
	for _, tt := range tests {
		got, err := ParsePort(tt.in)
		checkErr(t, err, tt.wantErr)
		if got != tt.want {
			t.Errorf("ParsePort(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if err == nil {
			if again, err := ParsePort(FormatPort(got)); err != nil || again != got {
				t.Errorf("FormatPort(%+v) = %q reads back as %+v, %v", got, FormatPort(got), again, err)
			}
		}
	}
}

func TestParseZoneAndBridge(t *testing.T) {
	for in, wantErr := range map[string]string{"web": "", "abcdefghijkl": "", "abcdefghijklm": "at most 12", "": "at most 12", "a/b": "at most 12", "a b": "at most 12"} {
		_, err := ParseZone(in)
		checkErr(t, err, wantErr)
	}
	for in, wantErr := range map[string]string{"br0": "", "abcdefghijklmno": "", "abcdefghijklmnop": "1 to 15", "..": "reserved", "a:b": "contains", "": "1 to 15"} {
		_, err := ParseBridge(in)
		checkErr(t, err, wantErr)
	}
}

func TestParseSettings(t *testing.T) {
	for in, want := range map[string]string{"yes": SettingsYes, "on": SettingsYes, "no": SettingsNo, "0": SettingsNo, "trusted": SettingsTrusted, "TRUSTED": SettingsTrusted} {
		if got, err := ParseSettings(in); err != nil || got != want {
			t.Errorf("ParseSettings(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, wantErr := range map[string]string{"override": "override is not supported", "maybe": "want yes, no or trusted"} {
		_, err := ParseSettings(in)
		checkErr(t, err, wantErr)
	}
}

func TestCheckNetwork(t *testing.T) {
	p := []Port{{"tcp", 80, 80}}
	tests := []struct {
		name    string
		c       Config
		wantErr string
	}{
		{"none", Config{}, ""},
		{"port with veth", Config{NetworkVeth: true, Ports: p}, ""},
		{"port with bridge", Config{NetworkBridge: "br0", Ports: p}, ""},
		{"port with zone", Config{NetworkZone: "z", Ports: p}, ""},
		{"port without veth", Config{Ports: p}, "--port needs a veth"},
		{"port with private network only", Config{PrivateNetwork: true, Ports: p}, "--port needs a veth"},
		{"bridge and zone", Config{NetworkBridge: "br0", NetworkZone: "z"}, "cannot be combined"},
		{"netns and veth", Config{NetworkNamespacePath: "/run/netns/x", NetworkVeth: true}, "cannot be combined"},
		{"netns and private", Config{NetworkNamespacePath: "/run/netns/x", PrivateNetwork: true}, "cannot be combined"},
		{"same port twice", Config{NetworkVeth: true, Ports: []Port{{"tcp", 80, 80}, {"tcp", 80, 81}}}, "tcp/80 is given twice"},
		{"same number, two protocols", Config{NetworkVeth: true, Ports: []Port{{"tcp", 53, 53}, {"udp", 53, 53}}}, ""},
	}
	for _, tt := range tests {
		err := CheckNetwork(tt.c)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && err == nil {
			t.Errorf("%s: CheckNetwork = %v, want %q", tt.name, err, tt.wantErr)
			continue
		}
		checkErr(t, err, tt.wantErr)
	}
}
