// Command ingressguard checks Kubernetes Ingresses against what Istio can
// serve and converts them to the Istio Gateways and VirtualServices that
// serve them as the Kubernetes Ingress specification says.
package main

import (
	"context"
	"os"
	"os/signal"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
