package payload

import (
	"bufio"
	"bytes"
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
func RangeUsed(base, size uint32, dbs ...[]byte) bool {
	for _, db := range dbs {
		sc := bufio.NewScanner(bytes.NewReader(db))
		for sc.Scan() {
			f := strings.Split(sc.Text(), ":")
			if len(f) < 3 {
				continue
			}
			id, err := strconv.ParseUint(f[2], 10, 32)
			if err == nil && uint64(id) >= uint64(base) && uint64(id) < uint64(base)+uint64(size) {
				return true
			}
		}
	}
	return false
}
