package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses.
const (
	exitOK       = 0
	exitProblems = 1 // some Ingress of ours has an error
	exitUsage    = 2 // bad flags or unreadable input
)

// errProblems says that diagnostics with errors were printed; it sets the
// exit status and prints nothing more.
var errProblems = errors.New("some Ingresses have errors")

// execute runs the command line args and returns the exit status.
func execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errProblems):
		return exitProblems
	}
	fmt.Fprintf(stderr, "ingressguard: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	return exitUsage
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "ingressguard",
		Short: "Check Kubernetes Ingresses for Istio and convert them to Gateways and VirtualServices",
		Long: `ingressguard makes Kubernetes Ingresses work on Istio as the Kubernetes
specification says: it rejects what Istio would silently serve wrongly
(regular-expression paths, TLS Secrets in the wrong namespace, unresolvable
ports) and writes the Istio Gateways and VirtualServices that serve the rest.

Which Ingresses are ours: the kubernetes.io/ingress.class annotation equal to
--ingress-class; else an IngressClass whose controller is
istio.io/ingress-controller; else the default IngressClass decides; else, with
no class at all, only in --ingress-controller-mode=DEFAULT.

Exit status: 0 when all is well, 1 when an Ingress has errors, 2 for bad
flags or input that cannot be read.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, c.CommandPath())
	})
	root.AddCommand(newConvertCommand(), newCheckCommand(), newServeCommand(), newVersionCommand())
	return root
}

// noArgs rejects positional arguments, which are most likely files that
// should have come with -f.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q: name input files with -f (see %s --help)", args[0], cmd.CommandPath())
	}
	return nil
}
