// Package procmem reads the process's memory figures from
// /proc/self/status, for the benchmarks that report what a run held in RAM
// besides the Go heap.
package procmem

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// Status returns the field of /proc/self/status named (VmRSS, VmHWM, …)
// in bytes; 0 where /proc is missing or the field is not in kB.
func Status(field string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(field+":"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
