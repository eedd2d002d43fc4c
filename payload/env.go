package payload

import (
	"bufio"
	"bytes"
	"strings"
)

// DefaultPath is $PATH for the container's init, as systemd-nspawn sets it.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// EnvInput is what the environment of the container's PID 1 is made from.
type EnvInput struct {
	UUID        string   // $container_uuid
	OSRelease   []byte   // the host's os-release, for $container_host_*
	Term        string   // $TERM; empty means "vt220"
	TTYs        []string // extra ptys for $container_ttys, as "pts/N"
	Credentials bool     // whether $CREDENTIALS_DIRECTORY is set
	Listen      []string // LISTEN_FDS=, LISTEN_PID=, LISTEN_FDNAMES= entries
	User        []string // --setenv entries, KEY=VALUE; they win over ours
}

// hostIDFields are the os-release fields passed as $container_host_<key>.
var hostIDFields = []string{"ID", "VERSION_ID", "BUILD_ID", "VARIANT_ID", "IMAGE_ID", "IMAGE_VERSION"}

// Environment returns the whole environment block of the container's PID 1
// as the Container Interface describes it. Later entries with the same key
// replace earlier ones, so the user's --setenv wins.
func Environment(in EnvInput) []string {
	term := in.Term
	if term == "" {
		term = "vt220"
	}
	env := []string{
		"PATH=" + DefaultPath,
		"container=" + ManagerName,
		"container_uuid=" + in.UUID,
		"TERM=" + term,
		"HOME=/root",
		"USER=root",
		"LOGNAME=root",
		"NOTIFY_SOCKET=" + NotifySocket,
	}
	host := ParseOSRelease(in.OSRelease)
	for _, k := range hostIDFields {
		if v, ok := host[k]; ok && v != "" {
			env = append(env, "container_host_"+strings.ToLower(k)+"="+v)
		}
	}
	if len(in.TTYs) > 0 {
		env = append(env, "container_ttys="+strings.Join(in.TTYs, " "))
	}
	if in.Credentials {
		env = append(env, "CREDENTIALS_DIRECTORY="+CredentialsDir)
	}
	env = append(env, in.Listen...)
	return mergeEnv(env, in.User)
}

// mergeEnv appends extra to base; an entry whose key is already in base
// replaces it in place.
func mergeEnv(base, extra []string) []string {
	out := append([]string(nil), base...)
	idx := make(map[string]int, len(out))
	for i, kv := range out {
		idx[envKey(kv)] = i
	}
	for _, kv := range extra {
		k := envKey(kv)
		if i, ok := idx[k]; ok {
			out[i] = kv
			continue
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	return out
}

func envKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}

// ParseOSRelease parses os-release text (KEY=VALUE lines, values optionally
// quoted with shell-style escapes) into a map. Malformed lines are skipped,
// as the os-release specification asks.
func ParseOSRelease(b []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !validOSReleaseKey(k) {
			continue
		}
		m[k] = unquote(v)
	}
	return m
}

func validOSReleaseKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// unquote reads an os-release value as the shell would: single quotes
// keep everything, double quotes let a backslash escape only " \ ` and $,
// and outside quotes a backslash escapes any character. A value with an
// unterminated quote is returned as written.
func unquote(v string) string {
	var b strings.Builder
	var quote byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
				continue
			}
		case quote == '"':
			if c == '"' {
				quote = 0
				continue
			}
			if c == '\\' && i+1 < len(v) && strings.IndexByte("\"\\`$", v[i+1]) >= 0 {
				i++
				c = v[i]
			}
		case c == '\'' || c == '"':
			quote = c
			continue
		case c == '\\' && i+1 < len(v):
			i++
			c = v[i]
		}
		b.WriteByte(c)
	}
	if quote != 0 {
		return v // an unterminated quote: malformed, kept as written
	}
	return b.String()
}
