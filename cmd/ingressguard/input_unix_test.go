//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestUntrustedFiles: what CI may be handed by an untrusted pull request is
// refused with exit 2, by name and before it is read, instead of hanging
// (a named pipe), reading for ever (a device) or filling memory (a large
// file or standard input).
func TestUntrustedFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop.yaml")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", 2000)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(mustAbs(t, example("ingress-annotation.yaml")), link); err != nil {
		t.Fatal(err)
	}
	pipes := filepath.Join(dir, "folder")
	if err := os.Mkdir(pipes, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(pipes, "in.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string // the start of stderr; "" for success
	}{
		{"named pipe", "", []string{"check", "-f", fifo}, fifo + ": not a regular file (a named pipe)"},
		{"named pipe in a folder", "", []string{"check", "-f", pipes}, filepath.Join(pipes, "in.yaml") + ": not a regular file (a named pipe)"},
		{"symbolic link to /dev/zero", "", []string{"check", "-f", zero}, zero + ": not a regular file (a character device)"},
		{"symbolic link loop", "", []string{"check", "-f", loop}, loop + ": too many levels of symbolic links"},
		{"file over the size limit", "", []string{"check", "--max-file-size", "1000", "-f", big}, big + ": larger than 1000 bytes; raise --max-file-size"},
		{"standard input over the size limit", strings.Repeat("#\n", 600), []string{"check", "--max-file-size", "1000", "-f", "-"}, "-: larger than 1000 bytes; raise --max-file-size"},
		{"symbolic link to a manifest", "", []string{"check", "-f", link}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := run(t, tc.stdin, tc.args...)
			if tc.want == "" {
				if code != 0 {
					t.Errorf("exit %d, want 0; stderr:\n%s", code, errOut)
				}
				return
			}
			if code != 2 || out != "" {
				t.Errorf("exit %d with stdout %q, want 2 and nothing", code, out)
			}
			if !strings.HasPrefix(errOut, "ingressguard: "+tc.want) {
				t.Errorf("stderr:\n%s\nwant it to start with:\ningressguard: %s", errOut, tc.want)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
