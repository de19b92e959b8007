package main

import (
	"github.com/spf13/cobra"
)

// checkFormats are the output formats of check.
var checkFormats = []string{"text", "json"}

func newCheckCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "check -f FILE|DIR|- [-f ...] | --cluster [--as-class NAME] [-o text|json]",
		Short: "Print every problem of the Ingresses that Istio serves",
		Long: `Check reads Ingresses, IngressClasses, Services, Secrets and cert-manager
Certificates from manifests and/or the cluster, and prints every error and
warning of our Ingresses to standard output, then a summary line:

  N Ingresses checked, E errors, W warnings

` + diagnosticsHelp + `

With --as-class, the Ingresses of another controller's class are checked as
if they were already Istio's: a migration report that says, before the
switch, what Istio will translate, refuse and ignore, and which of their
routes conflict with those of the Ingresses Istio serves. NAME is the name
of a class (the kubernetes.io/ingress.class annotation, spec.ingressClassName,
or the default IngressClass of an Ingress without class), or the controller
of IngressClasses, such as k8s.io/ingress-nginx for all of ingress-nginx's.
(--as-class istio reports on the Ingresses Istio already serves.) Each
Ingress with annotations of another ingress controller (such as
nginx.ingress.kubernetes.io/) then gets a line per answer before its
problems (these lines are neither errors nor warnings), and a table
counting the Ingresses of each such annotation comes before the summary
line:

  FILE: Ingress NAMESPACE/NAME: annotations translated|refused|ignored: KEY, ...

  ANNOTATION  ANSWER  INGRESSES

With -o json the same report is one JSON document (README, "Migration
report"); notes still go to standard error.

With --cluster, --kubeconfig or --context the cluster is read too: Ingresses,
IngressClasses and Services in all namespaces, Secret names and cert-manager
Certificates in the gateway namespace. An object given with -f replaces the
cluster's object of the same kind and name, so a change can be checked before
it is applied.

Notes (ignored kinds, Ingresses of other controllers) go to standard error.
The exit status is 1 when there is an error, 0 otherwise.`,
		Example: `  ingressguard check -f examples/invalid/
  ingressguard check --cluster
  ingressguard check --context prod -f my-change.yaml
  ingressguard check --cluster --as-class nginx
  ingressguard check --cluster --as-class k8s.io/ingress-nginx -o json`,
		Args: noArgs,
	}
	conv := newConversion(cmd)
	cmd.Flags().StringSliceVar(&conv.settings.AsClasses, "as-class", nil,
		"check the Ingresses of class `NAME` (or of the IngressClasses of controller NAME) as if Istio served them, a migration report; repeat or separate by commas")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format, `text|json`")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if err := formatFlag(format, checkFormats); err != nil {
			return err
		}
		cv, err := conv.run(cmd)
		if err != nil {
			return err
		}
		r := newRunReport(cv, conv.settings)
		if format == "json" {
			err = r.writeJSON(cmd.OutOrStdout())
		} else {
			err = r.writeText(cmd.OutOrStdout(), len(conv.settings.AsClasses) > 0)
		}
		if err != nil {
			return err
		}
		if r.Summary.Errors > 0 {
			return errProblems
		}
		return nil
	}
	return cmd
}
