package units

import (
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

func quote(s string) string { return strconv.Quote(s) }
