package machine

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// releaseStartupMemory gives back what starting the container needed and
// the idle supervisor does not: the mappings of sockspawn's own code and
// read-only data, most of which only the start ran. The few pages the
// event loop uses are mapped again from the page cache when it next runs.
//
// MADV_DONTNEED, not MADV_PAGEOUT: it only drops this process's page
// table entries, where MADV_PAGEOUT also evicts the binary from the page
// cache, so that the next start would read it from disk again (measured:
// about 1,500 pages read back on every start).
//
// The mappings are read and parsed first and dropped last, back to back:
// every page of code that runs after the drop is mapped again, with the
// kernel's fault-around 16 pages at a time, so parsing between the drops
// kept about a dozen such windows of code that the idle loop never runs.
//
// The heap is left to the runtime and its background scavenger: a forced
// collection here (debug.FreeOSMemory) left more resident memory behind
// (its metadata, its workers' pages, the code and tables it ran) than it
// returned, on a single idle supervisor and in the density bench alike.
func releaseStartupMemory() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, s := range readOnlyMappings(maps, exe) {
		// Raw: no scheduler bookkeeping (and its code) around a call
		// that only edits page tables.
		_, _, _ = unix.RawSyscall(unix.SYS_MADVISE, s.start, s.end-s.start, unix.MADV_DONTNEED)
	}
}

// span is an address range [start, end).
type span struct{ start, end uintptr }

// readOnlyMappings returns the read-only mappings of file in maps (the
// text of /proc/PID/maps), adjacent ones merged. Writable ones are left
// out: dropping a private writable mapping would lose its changes.
func readOnlyMappings(maps []byte, file string) []span {
	var out []span
	for len(maps) > 0 {
		var line []byte
		line, maps, _ = bytes.Cut(maps, []byte("\n"))
		// 00400000-0067e000 r-xp 00000000 fe:00 9978097   /path/to/exe
		f := bytes.Fields(line)
		if len(f) < 6 || string(bytes.Join(f[5:], []byte(" "))) != file || len(f[1]) < 2 || f[1][1] != '-' {
			continue
		}
		lo, hi, ok := bytes.Cut(f[0], []byte("-"))
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(string(lo), 16, 64)
		end, err2 := strconv.ParseUint(string(hi), 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		if n := len(out); n > 0 && out[n-1].end == uintptr(start) {
			out[n-1].end = uintptr(end)
			continue
		}
		out = append(out, span{uintptr(start), uintptr(end)})
	}
	return out
}
