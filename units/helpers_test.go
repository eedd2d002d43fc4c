package units

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// checkErr fails t unless err is nil when want is "", or holds want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Errorf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Errorf("error %q does not contain %q", err, want)
	}
}

// wantConfig fails t unless a parsed Config and its Sources are the
// expected ones.
func wantConfig(t *testing.T, got Config, src Sources, want Config, wantSrc Sources) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config:\n got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(src, wantSrc) {
		t.Errorf("Sources:\n got %v\nwant %v", src, wantSrc)
	}
}

func quote(s string) string { return strconv.Quote(s) }
