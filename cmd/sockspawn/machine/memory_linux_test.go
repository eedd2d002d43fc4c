package machine

import (
	"reflect"
	"testing"
)

func TestReadOnlyMappings(t *testing.T) {
	const exe = "/usr/bin/sockspawn"
	maps := `00400000-00722000 r-xp 00000000 fe:00 9978165                            /usr/bin/sockspawn
00722000-00a8c000 r--p 00322000 fe:00 9978165                            /usr/bin/sockspawn
00a8c000-00ab6000 rw-p 0068c000 fe:00 9978165                            /usr/bin/sockspawn
00ab6000-02aee000 rw-p 00000000 00:00 0 
c000000000-c000400000 rw-p 00000000 00:00 0 
7f0000000000-7f0000001000 r--p 00000000 fe:00 1234                       /usr/bin/sockspawn-other
7f0000002000-7f0000003000 r--p 00001000 fe:00 9978165                    /usr/bin/sockspawn
7ffc78284000-7ffc782a5000 rw-p 00000000 00:00 0                          [stack]
7ffc782a5000-7ffc782a7000 r-xp 00000000 00:00 0                          [vdso]
garbage line
zz-00400000 r-xp 00000000 fe:00 1 /usr/bin/sockspawn
`
	for _, tc := range []struct {
		name, maps, file string
		want             []span
	}{
		{"text and rodata merged, writable and others' left out", maps, exe,
			[]span{{0x400000, 0xa8c000}, {0x7f0000002000, 0x7f0000003000}}},
		{"a binary replaced since it started",
			"00400000-00500000 r-xp 00000000 fe:00 1   /usr/bin/sockspawn (deleted)\n", "/usr/bin/sockspawn (deleted)",
			[]span{{0x400000, 0x500000}}},
		{"a path with a space",
			"00001000-00002000 r-xp 00000000 fe:00 1   /opt/my tools/sockspawn\n00002000-00003000 rw-p 00000000 fe:00 1   /opt/my tools/sockspawn\n",
			"/opt/my tools/sockspawn", []span{{0x1000, 0x2000}}},
		{"not mapped", maps, "/usr/bin/other", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := readOnlyMappings([]byte(tc.maps), tc.file); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("readOnlyMappings() = %x, want %x", got, tc.want)
			}
		})
	}
}
