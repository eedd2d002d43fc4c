package units

import (
	"reflect"
	"testing"
)

func TestSplitParameters(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", []string{}, ""},
		{"   ", []string{}, ""},
		{"a b  c", []string{"a", "b", "c"}, ""},
		{`"a b" 'c d'`, []string{"a b", "c d"}, ""},
		{`a"b c"d`, []string{"ab cd"}, ""},
		{`"" ''`, []string{"", ""}, ""},
		{`a\sb`, []string{"a b"}, ""},
		{`a\ b`, nil, `unknown escape \ `}, // as in systemd: use \s or quotes
		{`"say \"hi\""`, []string{`say "hi"`}, ""},
		{`'it"s'`, []string{`it"s`}, ""},
		{`"tab\there" \x41`, []string{"tab\there", "A"}, ""},
		{"systemd.unit=rescue.target", []string{"systemd.unit=rescue.target"}, ""},
		{`"open`, nil, `invalid Parameters= "\"open": unterminated quote`},
		{`bad\q`, nil, `unknown escape \q`},
		{`end\`, nil, "lone backslash"},
	}
	for _, tt := range tests {
		got, err := SplitParameters(tt.in)
		checkErr(t, err, tt.wantErr)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("SplitParameters(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJoinParameters(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"a", "b=c", "/x/y"}, "a b=c /x/y"},
		{[]string{"", "a b", `q"\`}, `"" "a b" "q\"\\"`},
		{[]string{"nl\n\x01é"}, `"nl\n\x01é"`},
		{[]string{"\xff"}, `"\xff"`},
	}
	for _, tt := range tests {
		if got := JoinParameters(tt.args); got != tt.want {
			t.Errorf("JoinParameters(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func FuzzSplitParameters(f *testing.F) {
	for _, s := range []string{"a b", `"a b" 'c'`, `\x00 \n`, `"`, "é\u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args, err := SplitParameters(s)
		if err != nil {
			return
		}
		j := JoinParameters(args)
		back, err := SplitParameters(j)
		if err != nil || !reflect.DeepEqual(back, args) {
			t.Fatalf("SplitParameters(%q) = %q; joined %q; split again %q, %v", s, args, j, back, err)
		}
	})
}
