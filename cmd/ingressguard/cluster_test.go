package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

const twoClusters = `apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "https://a.example:6443"}
- name: b
  cluster: {server: "https://b.example:6443"}
users:
- name: u
  user: {token: t}
contexts:
- name: ca
  context: {cluster: a, user: u}
- name: cb
  context: {cluster: b, user: u}
current-context: ca
`

func TestRestConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(file, []byte(twoClusters), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  string // KUBECONFIG
		host string
		err  string
	}{
		{name: "--kubeconfig, its current context", args: []string{"--kubeconfig", file}, host: "https://a.example:6443"},
		{name: "--kubeconfig and --context", args: []string{"--kubeconfig", file, "--context", "cb"}, host: "https://b.example:6443"},
		{name: "KUBECONFIG", env: file, host: "https://a.example:6443"},
		{name: "KUBECONFIG and --context", args: []string{"--context", "cb"}, env: file, host: "https://b.example:6443"},
		{name: "unknown context", args: []string{"--kubeconfig", file, "--context", "nope"}, err: `loading kubeconfig: context "nope" does not exist`},
		{name: "missing file", args: []string{"--kubeconfig", file + ".missing"}, err: "loading kubeconfig: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tt.env)
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			kube := bindKubeconfig(fs, "", "")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := restConfig(kube)
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("error = %v, want one starting with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tt.host {
				t.Errorf("host = %s, want %s", cfg.Host, tt.host)
			}
		})
	}
}

// TestKubeconfigFlags: every command that reaches a cluster takes both
// --kubeconfig and --context.
func TestKubeconfigFlags(t *testing.T) {
	for _, cmd := range []*cobra.Command{newConvertCommand(), newCheckCommand(), newServeCommand()} {
		for _, name := range []string{"kubeconfig", "context"} {
			if cmd.Flags().Lookup(name) == nil {
				t.Errorf("%s has no --%s", cmd.Name(), name)
			}
		}
	}
}
