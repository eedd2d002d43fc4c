package payload

import (
	"encoding/json"
	"strings"
	"testing"
)

const testPasswd = `root:x:0:0:root:/root:/bin/bash
# a comment
+nisuser::::::
alice:x:1000:1000:Alice Liddell,,,:/home/alice:/bin/zsh
bob:x:1001:100::/srv/bob:/bin/sh
broken:x:notanumber:1::/x:/bin/sh
`

func TestLookupPasswd(t *testing.T) {
	u, ok := LookupPasswd([]byte(testPasswd), "alice")
	if !ok || u != (HostUser{Name: "alice", UID: 1000, GID: 1000, RealName: "Alice Liddell", Home: "/home/alice", Shell: "/bin/zsh"}) {
		t.Errorf("alice: %+v, %v", u, ok)
	}
	for _, n := range []string{"carol", "broken", "+nisuser", ""} {
		if u, ok := LookupPasswd([]byte(testPasswd), n); ok {
			t.Errorf("%q found: %+v", n, u)
		}
	}
}

func FuzzLookupPasswd(f *testing.F) {
	f.Add([]byte(testPasswd), "alice")
	f.Add([]byte("a:b:c"), "a")
	f.Fuzz(func(t *testing.T, passwd []byte, name string) {
		u, ok := LookupPasswd(passwd, name)
		if ok && (u.Name != name || strings.Contains(u.Home, ":")) {
			t.Fatalf("LookupPasswd(%q) = %+v", name, u)
		}
	})
}

func TestPlanBoundUsers(t *testing.T) {
	alice := HostUser{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice"}
	bob := HostUser{Name: "bob", UID: 1001, GID: 100, Home: "/srv/bob"}
	r := &IDMap{Base: 1 << 20, Size: 65536}
	got, err := PlanBoundUsers([]HostUser{alice, bob}, r)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].UID != 60514 || got[1].GID != 60515 || got[1].OuterUID != 1<<20+60515 || got[0].Home() != "/run/host/home/alice" {
		t.Errorf("PlanBoundUsers = %+v", got)
	}
	for _, c := range []struct {
		name    string
		users   []HostUser
		r       *IDMap
		wantErr string
	}{
		{"no user namespace", []HostUser{alice}, nil, "needs a private user range (-U)"},
		{"small range", []HostUser{alice}, &IDMap{Base: 1 << 20, Size: 1000}, "has 1000 UIDs"},
		{"root", []HostUser{{Name: "toor", UID: 0, Home: "/root"}}, r, "refusing to bind root"},
		{"twice", []HostUser{alice, alice}, r, "given twice"},
		{"home is /", []HostUser{{Name: "x", UID: 5, Home: "/"}}, r, "not a directory of its own"},
	} {
		if _, err := PlanBoundUsers(c.users, c.r); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.wantErr)
		}
	}
	if got, err := PlanBoundUsers(nil, nil); got != nil || err != nil {
		t.Errorf("no users without -U: %v, %v", got, err)
	}
}

func TestUserDBFilesAndHomeMounts(t *testing.T) {
	bound, err := PlanBoundUsers([]HostUser{{Name: "alice", UID: 1000, GID: 1000, RealName: "Alice", Home: "/home/alice", Shell: "/bin/zsh"}}, &IDMap{Base: 1 << 20, Size: 65536})
	if err != nil {
		t.Fatal(err)
	}
	files, links := UserDBFiles(bound)
	if len(files) != 2 || files[0].Name != "alice.user" || files[1].Name != "alice.group" {
		t.Fatalf("files %+v", files)
	}
	var rec map[string]any
	if err := json.Unmarshal(files[0].Data, &rec); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"userName": "alice", "uid": 60514.0, "gid": 60514.0, "homeDirectory": "/run/host/home/alice", "shell": "/bin/zsh", "realName": "Alice"} {
		if rec[k] != v {
			t.Errorf("user record %s = %v, want %v", k, rec[k], v)
		}
	}
	if len(links) != 2 || links[0] != (Symlink{Path: "60514.user", Target: "alice.user"}) || links[1] != (Symlink{Path: "60514.group", Target: "alice.group"}) {
		t.Errorf("links %+v", links)
	}
	o := goodOptions()
	o.UserNS = &IDMap{Base: 1 << 20, Size: 65536}
	o.BindUsers = bound
	p, err := NewPlan(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.RunHost.UserDB) != 2 {
		t.Errorf("the plan's /run/host has %d userdb files, want 2", len(p.RunHost.UserDB))
	}
	var home *Mount
	for i, m := range p.Mounts {
		if m.Target == "/run/host/home/alice" {
			home = &p.Mounts[i]
		}
	}
	if home == nil || home.SourceIn != SourceUserHome || home.Source != "/home/alice" || home.HomeMap == nil ||
		*home.HomeMap != (HomeMap{HostUID: 1000, HostGID: 1000, UID: 1<<20 + 60514, GID: 1<<20 + 60514}) {
		t.Errorf("home mount %+v", home)
	}
}

func TestPrivilegedRecord(t *testing.T) {
	shadow := []byte("root:*:19000:0:99999:7:::\nalice:$y$j9T$abc$def:19000:0:99999:7:::\n")
	if got := LookupShadow(shadow, "alice"); got != "$y$j9T$abc$def" {
		t.Errorf("LookupShadow(alice) = %q", got)
	}
	if got := LookupShadow(shadow, "bob"); got != "" {
		t.Errorf("LookupShadow(bob) = %q", got)
	}
	bound, err := PlanBoundUsers([]HostUser{{Name: "alice", UID: 1000, GID: 1000, Home: "/home/alice", HashedPassword: "$y$j9T$abc$def"}}, &IDMap{Base: 1 << 20, Size: 65536})
	if err != nil {
		t.Fatal(err)
	}
	files, links := UserDBFiles(bound)
	var priv *File
	for i := range files {
		if files[i].Name == "alice.user-privileged" {
			priv = &files[i]
		}
		if files[i].Name == "alice.user" && strings.Contains(string(files[i].Data), "j9T") {
			t.Error("the public user record holds the password hash")
		}
	}
	if priv == nil || !strings.Contains(string(priv.Data), `"hashedPassword":["$y$j9T$abc$def"]`) {
		t.Fatalf("no privileged record with the hash: %+v", files)
	}
	found := false
	for _, l := range links {
		found = found || l == (Symlink{Path: "60514.user-privileged", Target: "alice.user-privileged"})
	}
	if !found {
		t.Errorf("no 60514.user-privileged link: %+v", links)
	}
}
