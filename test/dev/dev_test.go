//go:build unix

// Package dev_test tries `make dev` as a newcomer would: it runs the
// hack/dev program, reads what it prints, runs the kubectl commands it
// prints with the real kubectl of the envtest assets, then stops it with
// SIGINT and checks that nothing it started is left behind.
package dev_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/ingressguard/ingressguard/test/envtest"
)

// Bounds that only keep a broken run from hanging; none is a speed target.
const (
	runTimeout  = 15 * time.Minute // the whole run, building ingressguard included
	stopTimeout = 2 * time.Minute  // from SIGINT to exit
	pollEvery   = 250 * time.Millisecond
)

// The commands the usage text must print, each run below as a user would.
const (
	applySeed    = "kubectl apply -f examples/ingress-annotation.yaml"
	getIstio     = "kubectl get gateways,virtualservices -n istio-system"
	applyRegex   = "kubectl apply -f examples/invalid/regex-prefix.yaml"
	applyNoPath  = "sed /pathType/d examples/ingress-annotation.yaml | kubectl apply -f -"
	usageEndLine = "Ctrl-C stops everything and removes "
)

var (
	kubeconfigRE = regexp.MustCompile(`(?m)^\s*export KUBECONFIG=(\S+)$`)
	pidRE        = regexp.MustCompile(`(?m)^dev: started ingressguard serve .*\(pid (\d+)\)$`)
	dirsRE       = regexp.MustCompile(`(?m)^` + usageEndLine + `(.+)\.$`)
	commandRE    = regexp.MustCompile(`(?m)^    (\S.*)$`)
	serverRE     = regexp.MustCompile(`(?m)^\s*server: (\S+)$`)
)

// output collects the program's stdout and stderr, in order.
type output struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

func TestMakeDev(t *testing.T) {
	assets := envtest.AssetsT(t)
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	root, err := envtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "dev")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./hack/dev")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./hack/dev: %v\n%s", err, out)
	}

	out := &output{}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			// Let it stop the control plane it started, as Ctrl-C would.
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(stopTimeout):
				_ = cmd.Process.Kill()
				<-exited
			}
		}
		if t.Failed() {
			t.Logf("make dev's output:\n%s", out)
		}
	})

	// Wait for the usage text, as a user watches the terminal.
	err = wait.PollUntilContextTimeout(ctx, pollEvery, runTimeout, true, func(context.Context) (bool, error) {
		select {
		case <-exited:
			return false, fmt.Errorf("make dev exited before it was ready (%v)", cmd.ProcessState)
		default:
			return strings.Contains(out.String(), usageEndLine), nil
		}
	})
	if wait.Interrupted(err) {
		t.Fatalf("make dev is not ready after %s", runTimeout)
	} else if err != nil {
		t.Fatal(err)
	}
	printed := out.String()
	start := strings.LastIndex(printed, "\ningressguard is the admission webhook")
	if start < 0 {
		t.Fatal("make dev printed no usage text")
	}
	usage := printed[start:]
	t.Logf("usage text:%s", usage)

	kubeconfig := match(t, kubeconfigRE, printed, "the export KUBECONFIG line")
	pid, err := strconv.Atoi(match(t, pidRE, printed, "ingressguard serve's pid"))
	if err != nil {
		t.Fatal(err)
	}
	dirs := strings.Split(match(t, dirsRE, printed, "the temporary folders"), " and ")
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("printed temporary folder: %v", err)
		}
	}
	var commands []string
	for _, m := range commandRE.FindAllStringSubmatch(usage, -1) {
		commands = append(commands, m[1])
	}
	for _, c := range []string{applySeed, getIstio, applyRegex, applyNoPath} {
		if !slices.Contains(commands, c) {
			t.Errorf("the usage text does not print %q; it prints %q", c, commands)
		}
	}
	kc, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	apiServer := match(t, serverRE, string(kc), "the kubeconfig's server")

	// A user's shell: KUBECONFIG exported, the assets' kubectl first on
	// PATH, at the repository root.
	shell := func(t *testing.T, command string) (stdout, stderr string, err error) {
		t.Helper()
		// JSON output is parsed, and too long for the log.
		logged := !strings.Contains(command, " -o json")
		c := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", command)
		c.Dir = root
		c.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+assets+string(os.PathListSeparator)+os.Getenv("PATH"))
		var o, e bytes.Buffer
		c.Stdout, c.Stderr = &o, &e
		err = c.Run()
		if logged {
			t.Logf("$ %s\n%s%s", command, e.String(), o.String())
		}
		return o.String(), e.String(), err
	}

	t.Run("the seed's Ingress is accepted and served by a Gateway and a VirtualService", func(t *testing.T) {
		stdout, stderr, err := shell(t, applySeed)
		if err != nil {
			t.Fatalf("%s: %v\n%s", applySeed, err, stderr)
		}
		mustContain(t, "kubectl's output", stdout, "ingress.networking.k8s.io/ingress created")
		envtest.Until(t, "a Gateway and a VirtualService in istio-system", func() bool {
			stdout, _, err := shell(t, getIstio)
			return err == nil && strings.Contains(stdout, "gateway.networking.istio.io/") && strings.Contains(stdout, "virtualservice.networking.istio.io/")
		})
		if err := checkRoute(t, shell); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a regex path is rejected with the field, the value and the fix", func(t *testing.T) {
		_, stderr, err := shell(t, applyRegex)
		if err == nil {
			t.Fatalf("%s succeeded", applyRegex)
		}
		mustContain(t, "kubectl's error", stderr,
			`The Ingress "api" is invalid: `,
			`spec.rules[0].http.paths[0].path: Invalid value: "/api/.*"`,
			"use pathType: Prefix with path: /api")
	})

	t.Run("without pathType the Ingress is accepted with a warning and stored as Exact", func(t *testing.T) {
		stdout, stderr, err := shell(t, applyNoPath)
		if err != nil {
			t.Fatalf("%s: %v\n%s", applyNoPath, err, stderr)
		}
		mustContain(t, "kubectl's output", stdout, "ingress.networking.k8s.io/ingress configured")
		mustContain(t, "kubectl's warnings", stderr, `Warning: spec.rules[0].http.paths[0].pathType: defaulted to Exact for path "/status"`)
		got, _, err := shell(t, "kubectl get ingress ingress -o jsonpath='{.spec.rules[0].http.paths[0].pathType}'")
		if err != nil || got != "Exact" {
			t.Errorf("stored pathType = %q (%v), want Exact", got, err)
		}
	})

	// Ctrl-C.
	stopped = true
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("make dev did not exit within %s of SIGINT", stopTimeout)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("make dev exited with %v after SIGINT, want 0", cmd.ProcessState)
	}
	mustContain(t, "make dev's output", out.String(), "dev: stopped; removed "+strings.Join(dirs, " and "))
	if running(pid) {
		t.Errorf("ingressguard serve (pid %d) is still running", pid)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("temporary folder %s is still there (%v)", d, err)
		}
	}
	if u, err := url.Parse(apiServer); err != nil {
		t.Error(err)
	} else if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		conn.Close()
		t.Errorf("the API server still answers on %s", u.Host)
	}
}

// checkRoute checks, with kubectl, that a VirtualService in istio-system
// routes httpbin.example.com's /status prefix to the httpbin Service, and
// that a Gateway it names exists there.
func checkRoute(t *testing.T, shell func(*testing.T, string) (string, string, error)) error {
	stdout, _, err := shell(t, "kubectl get virtualservices -n istio-system -o json")
	if err != nil {
		return err
	}
	var list struct {
		Items []struct {
			Spec struct {
				Hosts    []string `json:"hosts"`
				Gateways []string `json:"gateways"`
				HTTP     []struct {
					Match []struct {
						URI map[string]string `json:"uri"`
					} `json:"match"`
					Route []struct {
						Destination struct {
							Host string `json:"host"`
							Port struct {
								Number int `json:"number"`
							} `json:"port"`
						} `json:"destination"`
					} `json:"route"`
				} `json:"http"`
			} `json:"spec"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		return err
	}
	for _, vs := range list.Items {
		if !slices.Contains(vs.Spec.Hosts, "httpbin.example.com") {
			continue
		}
		for _, h := range vs.Spec.HTTP {
			prefix := false
			for _, m := range h.Match {
				prefix = prefix || m.URI["prefix"] == "/status/"
			}
			if !prefix || len(h.Route) != 1 {
				continue
			}
			if d := h.Route[0].Destination; d.Host != "httpbin.default.svc.cluster.local" || d.Port.Number != 8000 {
				return fmt.Errorf("/status routes to %s:%d, want httpbin.default.svc.cluster.local:8000", d.Host, d.Port.Number)
			}
			for _, gw := range vs.Spec.Gateways {
				if _, _, err := shell(t, "kubectl get gateway -n istio-system "+gw); err != nil {
					return fmt.Errorf("the VirtualService names Gateway %s: %w", gw, err)
				}
			}
			if len(vs.Spec.Gateways) == 0 {
				return errors.New("the VirtualService names no Gateway")
			}
			return nil
		}
	}
	return fmt.Errorf("no VirtualService in istio-system routes the /status prefix of httpbin.example.com:\n%s", stdout)
}

// running reports whether pid is a live ingressguard process.
func running(pid int) bool {
	if runtime.GOOS == "linux" {
		// Reading the command line also rules out a reused pid.
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return err == nil && bytes.Contains(cmdline, []byte("ingressguard"))
	}
	return syscall.Kill(pid, 0) == nil
}

// match returns re's first submatch in s, failing the test without one.
// A single-quoted value (shell quoting) is unquoted.
func match(t *testing.T, re *regexp.Regexp, s, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("make dev does not print %s (%s)", what, re)
	}
	v := m[1]
	if len(v) >= 2 && strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") {
		v = strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
	}
	return v
}

// mustContain fails the test unless s contains every one of want.
func mustContain(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, s)
		}
	}
}
