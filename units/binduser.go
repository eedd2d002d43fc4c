package units

// ParseBindUser checks a --bind-user= (BindUser=) value: the name of a
// user of the host, never root. Whether the user exists is checked when
// the machine starts.
func ParseBindUser(s string) (string, error) {
	if s == "" || len(s) > 256 {
		return "", invalid("", s, "want a user name")
	}
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' ||
			i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '.')
		if !ok {
			return "", invalid("", s, "not a valid user name")
		}
	}
	if s == "root" {
		return "", invalid("", s, "refusing to bind root into a container")
	}
	return s, nil
}
