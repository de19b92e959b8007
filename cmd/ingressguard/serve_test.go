package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeJobs: serve refuses to run neither job, needs a certificate only
// for the webhooks, and the reconcilers alone go on without one (here, to
// the kubeconfig, which does not exist).
func TestServeJobs(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "kubeconfig")
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{{
		name:   "neither job",
		args:   []string{"--webhook=false", "--reconcile=false", "--cert-dir", t.TempDir()},
		stderr: "ingressguard: --webhook=false and --reconcile=false leave nothing to run: keep one of them\n",
	}, {
		name:   "the webhooks without a certificate",
		args:   []string{"--reconcile=false"},
		stderr: "ingressguard: --cert-dir is required: the webhook server needs its certificate tls.crt and key tls.key (--webhook=false runs the reconcilers alone, without one)\n",
	}, {
		name:   "the reconcilers alone need no certificate",
		args:   []string{"--webhook=false", "--kubeconfig", missing},
		stderr: "ingressguard: loading kubeconfig: stat " + missing,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, "", append([]string{"serve"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tt.stderr) || strings.Contains(errOut, "panic") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, exitUsage, tt.stderr)
			}
		})
	}
}
