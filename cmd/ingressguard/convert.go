package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ingressguard/ingressguard/manifest"
)

func newConvertCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "convert -f FILE|DIR|- [-f ...] [-o yaml|json]",
		Short: "Print the Istio Gateways and VirtualServices that serve the Ingresses",
		Long: `Convert reads Ingresses, IngressClasses, Services, Secrets and cert-manager
Certificates from manifests and/or the cluster, and prints to standard output
the Istio Gateways and VirtualServices (one each per host) that serve our
Ingresses as the Kubernetes specification says, and the DestinationRules and
AuthorizationPolicies that their ingress-nginx annotations ask for.

Notes (ignored kinds, Ingresses of other controllers) and the diagnostics of
every Ingress go to standard error, followed by a summary line. The parts of an
Ingress that have errors are left out of the output, and the exit status is 1.

` + diagnosticsHelp,
		Example: `  ingressguard convert -f examples/ingress-annotation.yaml
  ingressguard convert -f manifests/ -o json
  ingressguard convert --context prod > istio.yaml`,
		Args: noArgs,
	}
	conv := newConversion(cmd)
	cmd.Flags().StringVarP(&format, "output", "o", "yaml", "output format, `yaml|json`")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := formatFlag(format, manifest.Formats); err != nil {
			return err
		}
		cv, err := conv.run(cmd)
		if err != nil {
			return err
		}
		res := cv.res
		if err := manifest.Write(cmd.OutOrStdout(), res.Objects(), format); err != nil {
			return err
		}
		r := newRunReport(cv, conv.settings)
		if err := r.writeProblems(cmd.ErrOrStderr()); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(cmd.ErrOrStderr(), r.Summary.line("converted")); err != nil {
			return err
		}
		if r.Summary.Errors > 0 {
			return errProblems
		}
		return nil
	}
	return cmd
}
