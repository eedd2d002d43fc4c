package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestReadmeFlagTable keeps README.md's flag reference the same as the
// option table --help is made from (`make readme` regenerates it).
func TestReadmeFlagTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "<!-- flags:begin")
	j := strings.Index(s, "<!-- flags:end -->")
	if i < 0 || j < i {
		t.Fatal("README.md has no flags:begin/flags:end markers")
	}
	got := s[strings.Index(s[i:], "\n")+i+1 : j]
	var want bytes.Buffer
	writeFlagTable(&want)
	if got != want.String() {
		t.Errorf("README.md's flag table is out of date: run make readme\n got:\n%s\nwant:\n%s", got, want.String())
	}
}
