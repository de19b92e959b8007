package main

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ingressguard/ingressguard/lookup"
	"github.com/ingressguard/ingressguard/manifest"
)

// bindKubeconfig adds --kubeconfig and --context to fs, with the usage
// texts given, and returns the cli-runtime ConfigFlags they fill: the one
// way every command finds its cluster (restConfig).
func bindKubeconfig(fs *pflag.FlagSet, kubeconfigUsage, contextUsage string) *genericclioptions.ConfigFlags {
	kube := &genericclioptions.ConfigFlags{KubeConfig: new(string), Context: new(string)}
	fs.StringVar(kube.KubeConfig, "kubeconfig", "", kubeconfigUsage)
	fs.StringVar(kube.Context, "context", "", contextUsage)
	return kube
}

// restConfig loads the cluster's configuration by kubectl's rules: the
// kubeconfig file of --kubeconfig, else of KUBECONFIG, else
// ~/.kube/config, at its current context or --context; with no kubeconfig
// at all, the in-cluster service account of a pod.
func restConfig(kube *genericclioptions.ConfigFlags) (*rest.Config, error) {
	cfg, err := kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}

// readCluster reads once what conversion reads from the cluster
// (lookup.Read), as documents of clusterSource.
func readCluster(ctx context.Context, kube *genericclioptions.ConfigFlags, gatewayNamespace string) ([]manifest.Document, error) {
	cfg, err := restConfig(kube)
	if err != nil {
		return nil, err
	}
	// API deprecation warnings would only be noise for a read-only tool, and
	// controller-runtime would otherwise print a stack trace about its unset
	// logger on a slow cluster.
	cfg.WarningHandlerWithContext = rest.NoWarnings{}
	ctrllog.SetLogger(logr.Discard())
	objs, err := lookup.Read(ctx, cfg, gatewayNamespace)
	if err != nil {
		return nil, err
	}
	docs := make([]manifest.Document, len(objs))
	for i, o := range objs {
		docs[i] = manifest.Document{Source: clusterSource, Object: o}
	}
	return docs, nil
}
