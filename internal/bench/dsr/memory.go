package dsrbench

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/bench/procmem"
)

const (
	metricAllocs      = "/gc/heap/allocs:bytes"
	metricHeapObjects = "/memory/classes/heap/objects:bytes"
	metricHeapUnused  = "/memory/classes/heap/unused:bytes"
	metricTotal       = "/memory/classes/total:bytes"
)

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// heapInUse is the heap in use (as runtime.MemStats.HeapInuse) after a collection.
func heapInUse() uint64 {
	runtime.GC()
	return readMetric(metricHeapObjects) + readMetric(metricHeapUnused)
}

// sampleMemory records the high-water marks of heap in use and of memory
// from the OS every millisecond until stopped. runtime/metrics is read
// without stopping the world, unlike runtime.ReadMemStats.
func sampleMemory() (stop func(), peak func() (heap, sys uint64)) {
	var (
		mu           sync.Mutex
		maxHeap, sys uint64
		done         = make(chan struct{})
		finished     = make(chan struct{})
	)
	s := []metrics.Sample{{Name: metricHeapObjects}, {Name: metricHeapUnused}, {Name: metricTotal}}
	read := func() {
		metrics.Read(s)
		mu.Lock()
		maxHeap = max(maxHeap, s[0].Value.Uint64()+s[1].Value.Uint64())
		sys = max(sys, s[2].Value.Uint64())
		mu.Unlock()
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() { close(done); <-finished; read() })
	}
	peak = func() (uint64, uint64) {
		mu.Lock()
		defer mu.Unlock()
		return maxHeap, sys
	}
	return stop, peak
}

// peakRSS is the process's peak resident set size (VmHWM in
// /proc/self/status): everything the process has held in RAM at once since
// it started or since resetPeakRSS, not only the Go heap. It is 0 where
// /proc is missing.
func peakRSS() uint64 { return procmem.Status("VmHWM") }

// resetPeakRSS sets the process's peak resident set size to its current
// one (Linux 4.0 and later), so that peakRSS then covers what follows only.
func resetPeakRSS() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS: %w", err)
	}
	return nil
}

func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
