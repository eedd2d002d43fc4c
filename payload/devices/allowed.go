package devices

// Allowed reports whether rules allow access (a non-empty subset of "rwm") to
// the device devType ('c' or 'b') major:minor. It is the meaning of the device
// program Program builds, written in plain Go: an access is allowed if one
// rule matches the type (or is 'a'), the major and the minor (or has a
// wildcard) and grants every requested letter. Invalid rules and invalid
// requests allow nothing.
func Allowed(rules []Rule, devType byte, major, minor int64, access string) bool {
	want, err := accessBits(access)
	if err != nil || (devType != 'c' && devType != 'b') {
		return false
	}
	for _, r := range rules {
		if r.validate() != nil {
			continue
		}
		have, _ := accessBits(r.Access)
		if (r.Type == 'a' || r.Type == devType) &&
			(r.Major == Wildcard || r.Major == major) &&
			(r.Minor == Wildcard || r.Minor == minor) &&
			want&^have == 0 {
			return true
		}
	}
	return false
}
