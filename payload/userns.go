package payload

import (
	"bufio"
	"bytes"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// IDMap is the range of host UIDs and GIDs a container's user namespace
// maps: container ID 0 is host ID Base, up to Base+Size-1.
type IDMap struct {
	Base uint32
	Size uint32
}

// The range sockspawn picks user namespace ranges from, as systemd-nspawn:
// 0x00080000 up to 0x6FFF0000, in steps of 65536.
const (
	pickFirst = 0x00080000
	pickLast  = 0x6FFF0000
	pickSize  = 0x10000
)

// PickCandidates returns the ranges to try, in order, for machine: a
// start derived from the name (so a machine gets the same range on every
// boot while it is free), then the following ranges, wrapping around.
func PickCandidates(machine string, n int) []uint32 {
	h := fnv.New32a()
	h.Write([]byte(machine))
	slots := uint32((pickLast-pickFirst)/pickSize + 1)
	first := h.Sum32() % slots
	out := make([]uint32, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, pickFirst+((first+uint32(i))%slots)*pickSize)
	}
	return out
}

// RangeUsed reports whether any user or group in the passwd/group text
// (colon-separated, third field the ID) falls in [base, base+size).
func RangeUsed(base, size uint32, passwd, group []byte) bool {
	_, used := FirstHostID(IDMap{Base: base, Size: size}, passwd, group)
	return used
}

// End is one past the last ID of m (64 bits: a range may end at 2^32).
func (m IDMap) End() uint64 { return uint64(m.Base) + uint64(m.Size) }

// Overlaps reports whether m and o share an ID.
func (m IDMap) Overlaps(o IDMap) bool {
	return uint64(m.Base) < o.End() && uint64(o.Base) < m.End()
}

// String is m as --private-users= takes it: BASE:COUNT.
func (m IDMap) String() string {
	return strconv.FormatUint(uint64(m.Base), 10) + ":" + strconv.FormatUint(uint64(m.Size), 10)
}

// HeldRange is a range a running machine holds.
type HeldRange struct {
	IDMap
	Machine string
}

// RangeCollision returns the first of held that shares an ID with m.
func RangeCollision(m IDMap, held []HeldRange) (HeldRange, bool) {
	for _, h := range held {
		if m.Overlaps(h.IDMap) {
			return h, true
		}
	}
	return HeldRange{}, false
}

// formatReservation is the text of a reservation file: "BASE COUNT MACHINE".
func formatReservation(h HeldRange) string {
	return fmt.Sprintf("%d %d %s\n", h.Base, h.Size, h.Machine)
}

// parseReservation reads a reservation file named after its base. A file
// of an older sockspawn is empty: it holds a range of 65536 from base, of
// a machine it does not name.
func parseReservation(name string, text []byte) (HeldRange, bool) {
	base, err := strconv.ParseUint(name, 10, 32)
	if err != nil {
		return HeldRange{}, false
	}
	h := HeldRange{IDMap: IDMap{Base: uint32(base), Size: pickSize}, Machine: "(unnamed)"}
	f := strings.Fields(string(text))
	if len(f) == 3 {
		if b, err := strconv.ParseUint(f[0], 10, 32); err == nil && b == base {
			if n, err := strconv.ParseUint(f[1], 10, 32); err == nil && n > 0 {
				h.Size, h.Machine = uint32(n), f[2]
			}
		}
	}
	return h, true
}

// HostID is a user or group of the host's database.
type HostID struct {
	Kind string // "user" or "group"
	Name string
	ID   uint32
}

func (h HostID) String() string {
	k := "UID"
	if h.Kind == "group" {
		k = "GID"
	}
	return fmt.Sprintf("%s %s (%s %d)", h.Kind, h.Name, k, h.ID)
}

// FirstHostID returns the first user of passwd, then group of group
// (colon-separated, third field the ID), whose ID falls in m.
func FirstHostID(m IDMap, passwd, group []byte) (HostID, bool) {
	for i, db := range [][]byte{passwd, group} {
		kind := [...]string{"user", "group"}[i]
		sc := bufio.NewScanner(bytes.NewReader(db))
		for sc.Scan() {
			f := strings.Split(sc.Text(), ":")
			if len(f) < 3 || strings.HasPrefix(f[0], "#") {
				continue
			}
			id, err := strconv.ParseUint(f[2], 10, 32)
			if err == nil && id >= uint64(m.Base) && id < m.End() {
				return HostID{Kind: kind, Name: f[0], ID: uint32(id)}, true
			}
		}
	}
	return HostID{}, false
}

// Mappable reports whether every ID of m is mapped in the user namespace
// whose /proc/PID/uid_map (or gid_map) text is procMap: only those can be
// mapped into a child namespace. On the initial namespace that is all of
// 0..2^32-2; inside another container, its own range.
func Mappable(m IDMap, procMap []byte) bool {
	next := uint64(m.Base) // the first ID of m not yet found mapped
	for changed := true; changed && next < m.End(); {
		changed = false
		for _, l := range strings.Split(string(procMap), "\n") {
			f := strings.Fields(l)
			if len(f) != 3 {
				continue
			}
			inside, err1 := strconv.ParseUint(f[0], 10, 32)
			count, err2 := strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				continue
			}
			if inside <= next && next < inside+count {
				next, changed = inside+count, true
			}
		}
	}
	return next >= m.End()
}
