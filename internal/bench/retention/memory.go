package retentionbench

import (
	"runtime/metrics"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/bench/procmem"
)

// Memory is the process's memory while something ran.
type Memory struct {
	// Before is the resident set when it began; Peak the largest resident
	// set sampled while it ran (VmRSS every 50 ms: VmHWM, the kernel's own
	// high-water mark, cannot be reset between variants on every kernel).
	Before, Peak uint64
	// PeakHeap is the largest Go heap in use sampled meanwhile.
	PeakHeap uint64
}

// sampleInterval is how often the resident set is read.
const sampleInterval = 50 * time.Millisecond

type sampler struct {
	mu       sync.Mutex
	m        Memory
	done     chan struct{}
	finished chan struct{}
}

// sampleMemory samples the resident set and the heap until Stop.
func sampleMemory() *sampler {
	s := &sampler{done: make(chan struct{}), finished: make(chan struct{})}
	s.m.Before = rss()
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	read := func() {
		r := rss()
		metrics.Read(heap)
		h := heap[0].Value.Uint64() + heap[1].Value.Uint64()
		s.mu.Lock()
		s.m.Peak = max(s.m.Peak, r)
		s.m.PeakHeap = max(s.m.PeakHeap, h)
		s.mu.Unlock()
	}
	go func() {
		defer close(s.finished)
		t := time.NewTicker(sampleInterval)
		defer t.Stop()
		for {
			read()
			select {
			case <-s.done:
				read()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns what it saw.
func (s *sampler) Stop() Memory {
	close(s.done)
	<-s.finished
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m
}

// rss is the process's resident set now (VmRSS), 0 where /proc is missing.
func rss() uint64 { return procmem.Status("VmRSS") }
