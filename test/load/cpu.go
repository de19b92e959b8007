package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// cpuUse is the CPU time, in seconds, that each process of the run used
// during a convergence measurement. With the machine's CPUs times the wall
// time it says which process the measurement waited on: on a small
// machine, the API server and etcd.
type cpuUse struct {
	APIServer, Etcd, Webhook, Controller, Load float64
}

// String is the table's form: "API server 4.1, etcd 1.0, ... (total 7.9)".
func (u cpuUse) String() string {
	return fmt.Sprintf("API server %.1f, etcd %.1f, webhook %.1f, controller %.1f, load program %.1f (total %.1f)",
		u.APIServer, u.Etcd, u.Webhook, u.Controller, u.Load, u.Total())
}

// Total is the CPU time of all of them.
func (u cpuUse) Total() float64 {
	return u.APIServer + u.Etcd + u.Webhook + u.Controller + u.Load
}

// cpuSampler reads the CPU time of the run's processes every 50 ms, so
// that a measurement whose end is known only afterwards (the last change
// that made the generated objects converge) can be charged up to then.
type cpuSampler struct {
	pids []int
	stop context.CancelFunc
	done chan struct{}

	mu      sync.Mutex
	samples []cpuSample
}

type cpuSample struct {
	at  time.Time
	cpu []time.Duration
}

// sampleCPU starts sampling the CPU time of the API server, etcd, both
// serve processes and the load program, every 50 ms, from now.
func (b *bench) sampleCPU(ctx context.Context) *cpuSampler {
	pid := func(p *proc) int {
		if p == nil || p.cmd == nil || p.cmd.Process == nil {
			return 0
		}
		return p.cmd.Process.Pid
	}
	s := &cpuSampler{pids: []int{b.apiPID, childNamed("etcd"), pid(b.webhook), pid(b.controller), os.Getpid()}, done: make(chan struct{})}
	ctx, s.stop = context.WithCancel(ctx)
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *cpuSampler) sample() {
	c := cpuSample{at: time.Now(), cpu: make([]time.Duration, len(s.pids))}
	for i, pid := range s.pids {
		if pid != 0 {
			c.cpu[i], _ = pidCPU(pid)
		}
	}
	s.mu.Lock()
	s.samples = append(s.samples, c)
	s.mu.Unlock()
}

// until stops sampling and returns the CPU used from the first sample to
// the last one taken at or before end.
func (s *cpuSampler) until(end time.Time) cpuUse {
	s.stop()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.samples[0]
	i, _ := slices.BinarySearchFunc(s.samples, end, func(c cpuSample, t time.Time) int { return c.at.Compare(t) })
	if i == len(s.samples) || s.samples[i].at.After(end) {
		i = max(0, i-1)
	}
	last := s.samples[i]
	d := func(k int) float64 { return (last.cpu[k] - first.cpu[k]).Seconds() }
	return cpuUse{APIServer: d(0), Etcd: d(1), Webhook: d(2), Controller: d(3), Load: d(4)}
}
