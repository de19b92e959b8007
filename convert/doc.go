// Package convert holds the rules that decide which Ingresses are Istio's,
// what their paths mean, what is wrong with them, and which Istio Gateway
// and VirtualService objects serve them. It is pure: it never talks to an
// API server, and reads the cluster only through a View. The webhook, the
// reconcilers and the CLI all call it, so they can never disagree.
//
// Conversion is a pipeline, one file a stage:
//
//  1. class.go: which Ingresses are ours (Settings.Ours).
//  2. path.go and ingress.go: what each path of one of ours means
//     (Interpret), the pathType a path without one gets (Defaulting), and
//     the Analysis of the Ingress: its routes, its backends resolved to
//     destinations, its defaultBackend, and the problems that need no
//     other Ingress (Settings.Analyze). tenancy.go is part of this stage:
//     what one namespace may not serve because another owns the host or
//     the certificate is not declared for it, refused and left out.
//  3. host.go: the HostTable of each rule host, computed once from the
//     analyses of every Ingress on it: the order of its routes, its
//     conflicts and its fallback; and the VirtualHost of each host key:
//     the tables its Gateway and VirtualService serve (a wildcard's own
//     table, then the rules without host for deeper names; the "*" host's
//     single-label hosts, then the rules without host) and its certificate.
//  4. emit.go and names.go: the Istio objects, without side effects: the
//     Gateway and the VirtualService of each virtual host, and their
//     names, labels and annotations.
//
// Two entry points run the pipeline: Validate (validate.go) for one
// Ingress under admission, Convert (convert.go) for a whole Snapshot.
// view.go says what they read from the cluster; settings.go holds the
// cluster-level choices.
package convert
