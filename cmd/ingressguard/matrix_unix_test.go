//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBadInputMatrix is the CLI part of the bad-input matrix: hostile files
// given to `ingressguard check -f` end with exit status 2 and a message
// naming the file, and the heap never grows by more than heapBound while
// they are read. A named pipe, a symbolic link to /dev/zero and a symbolic
// link loop are rows of TestUntrustedFiles.
func TestBadInputMatrix(t *testing.T) {
	const heapBound = 256 << 20
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	// Nine aliases of nine aliases, nine levels deep: 9^9 strings expanded.
	laughs := `a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n"
	for i := 1; i < 10; i++ {
		prev := fmt.Sprintf("*a%d", i-1)
		laughs += fmt.Sprintf("a%d: &a%d [%s%s]\n", i, i, strings.Repeat(prev+",", 8), prev)
	}
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(0x80 + (i*131)%128) // no valid UTF-8 sequence
	}
	big := filepath.Join(dir, "big.yaml")
	if f, err := os.Create(big); err != nil {
		t.Fatal(err)
	} else if err := f.Truncate(200 << 20); err != nil { // sparse: no block is written
		t.Fatal(err)
	} else if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		path string
		want string // what stderr says after "ingressguard: PATH: "
	}{
		{"billion laughs", write("laughs.yaml", []byte(laughs)), "document 1 (line 1): invalid YAML: document contains excessive aliasing"},
		{"100,000-deep YAML flow nesting", write("deep-flow.yaml", []byte("a: "+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+"\n")), "document 1 (line 1): invalid YAML: exceeded max depth of 10000"},
		{"100,000-deep YAML block nesting", write("deep-block.yaml", []byte(strings.Repeat("- ", 100_000)+"x\n")), "document 1 (line 1): invalid YAML: exceeded max depth of 10000"},
		{"20,000-deep JSON nesting", write("deep.json", []byte(`{"a":`+strings.Repeat("[", 20_000)+strings.Repeat("]", 20_000)+"}\n")), "document 1 (line 1): invalid JSON: line 1: invalid character '[' exceeded max depth"},
		{"binary garbage", write("garbage.yaml", garbage), "document 1 (line 1): invalid YAML: "},
		{"NUL bytes", write("nul.yaml", []byte("apiVersion: v1\x00\x00\nkind: Service\n"+strings.Repeat("\x00", 1000))), "document 1 (line 1): invalid YAML: control characters are not allowed"},
		{"200 MiB file, over the default --max-file-size", big, "larger than 33554432 bytes; raise --max-file-size"},
		{"2 million document separators", write("separators.yaml", []byte(strings.Repeat("---\n", 2_000_000))), "more than 100000 documents"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut string
			var code int
			grew := heapGrowth(func() { out, errOut, code = run(t, "", "check", "-f", tc.path) })
			if code != 2 || out != "" {
				t.Errorf("exit %d with stdout %q, want 2 and nothing", code, out)
			}
			if want := "ingressguard: " + tc.path + ": " + tc.want; !strings.HasPrefix(errOut, want) {
				t.Errorf("stderr:\n%s\nwant it to start with:\n%s", errOut, want)
			}
			if grew > heapBound {
				t.Errorf("the heap grew by %d MiB, want at most %d MiB", grew>>20, heapBound>>20)
			}
		})
	}
}

// heapGrowth runs f and returns by how many bytes the heap grew over what
// it held before, at the highest of samples taken every millisecond.
func heapGrowth(f func()) uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var s runtime.MemStats
		for {
			runtime.ReadMemStats(&s)
			peak = max(peak, s.HeapAlloc)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	runtime.ReadMemStats(&m)
	return max(peak, m.HeapAlloc) - base
}
