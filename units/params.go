package units

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// SplitParameters splits a Parameters= value into arguments the way
// systemd's extract_first_word() does with EXTRACT_UNQUOTE and
// EXTRACT_CUNESCAPE: words are separated by spaces, tabs and newlines;
// single or double quotes group a word (and may start or stop anywhere in
// it: a"b c"d is one word); C escapes (\n, \", \\, \xNN, ...) are decoded
// inside and outside quotes. An unterminated quote is an error.
func SplitParameters(s string) ([]string, error) {
	args := []string{}
	var word []byte
	inWord := false
	var quote byte // 0, '\'' or '"'
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b, n, err := cunescapeOne(s[i+1:])
			if err != nil {
				return nil, &ValueError{Option: "Parameters=", Value: s, Err: fmt.Errorf("position %d: %w", i+1, err)}
			}
			word = append(word, b...)
			inWord = true
			i += n
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				word = append(word, c)
			}
		case c == '\'' || c == '"':
			quote = c
			inWord = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				args = append(args, string(word))
				word, inWord = word[:0], false
			}
		default:
			word = append(word, c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, &ValueError{Option: "Parameters=", Value: s, Err: errors.New("unterminated quote")}
	}
	if inWord {
		args = append(args, string(word))
	}
	return args, nil
}

// JoinParameters writes args as one Parameters= value that SplitParameters
// turns back into args. Words made only of letters, digits and -_./=:,+@%
// are written as they are; others are double-quoted, with '"', '\' and
// bytes that are not printable (or not UTF-8) escaped.
func JoinParameters(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && strings.IndexFunc(a, needsQuote) < 0 {
			b.WriteString(a)
			continue
		}
		b.WriteByte('"')
		for j := 0; j < len(a); {
			r, n := utf8.DecodeRuneInString(a[j:])
			switch {
			case r == '"' || r == '\\':
				b.WriteByte('\\')
				b.WriteRune(r)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\t':
				b.WriteString(`\t`)
			case r == utf8.RuneError && n == 1, isControl(r):
				b.WriteString(`\x`)
				b.WriteByte(hexDigits[a[j]>>4])
				b.WriteByte(hexDigits[a[j]&0xf])
			default:
				b.WriteString(a[j : j+n])
			}
			j += n
		}
		b.WriteByte('"')
	}
	return b.String()
}

func needsQuote(r rune) bool {
	return !(r < utf8.RuneSelf && (isLetterOrDigit(byte(r)) || strings.ContainsRune("-_./=:,+@%", r)))
}
