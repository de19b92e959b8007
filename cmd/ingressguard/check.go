package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newCheckCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check -f FILE|DIR|- [-f ...] | --cluster",
		Short: "Print every problem of the Ingresses that Istio serves",
		Long: `Check reads Ingresses, IngressClasses, Services, Secrets and cert-manager
Certificates from manifests and/or the cluster, and prints every error and
warning of our Ingresses to standard output, then a summary line:

  N Ingresses checked, E errors, W warnings

` + diagnosticsHelp + `

With --cluster, --kubeconfig or --context the cluster is read too: Ingresses,
IngressClasses and Services in all namespaces, Secret names and cert-manager
Certificates in the gateway namespace. An object given with -f replaces the
cluster's object of the same kind and name, so a change can be checked before
it is applied.

Notes (ignored kinds, Ingresses of other controllers) go to standard error.
The exit status is 1 when there is an error, 0 otherwise.`,
		Example: `  ingressguard check -f examples/invalid/
  ingressguard check --cluster
  ingressguard check --context prod -f my-change.yaml`,
		Args: noArgs,
	}
	conv := newConversion(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		in, res, err := conv.run(cmd)
		if err != nil {
			return err
		}
		c, err := writeDiagnostics(cmd.OutOrStdout(), res, in)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(cmd.OutOrStdout(), c.summary("checked")); err != nil {
			return err
		}
		if c.errors > 0 {
			return errProblems
		}
		return nil
	}
	return cmd
}
