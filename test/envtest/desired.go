package envtest

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ingressguard/ingressguard/convert"
)

// Desired is what `ingressguard convert` with s makes of the cluster as c
// reads it now: its Ingresses, IngressClasses, Services and the names of
// the Secrets of s's gateway namespace. It is what the reconcilers must
// converge to.
func Desired(ctx context.Context, c client.Reader, s convert.Settings) (*convert.Result, error) {
	var ings networkingv1.IngressList
	var classes networkingv1.IngressClassList
	var svcs corev1.ServiceList
	var secrets metav1.PartialObjectMetadataList
	secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
	for _, l := range []struct {
		list client.ObjectList
		opts []client.ListOption
	}{{&ings, nil}, {&classes, nil}, {&svcs, nil}, {&secrets, []client.ListOption{client.InNamespace(s.GatewayNamespace)}}} {
		if err := c.List(ctx, l.list, l.opts...); err != nil {
			return nil, err
		}
	}
	creds := convert.StaticCredentials{Secrets: map[string]bool{}}
	snap := convert.Snapshot{Credentials: creds}
	for i := range ings.Items {
		snap.Ingresses = append(snap.Ingresses, &ings.Items[i])
	}
	for i := range classes.Items {
		snap.IngressClasses = append(snap.IngressClasses, &classes.Items[i])
	}
	for i := range svcs.Items {
		snap.Services = append(snap.Services, &svcs.Items[i])
	}
	for _, sec := range secrets.Items {
		creds.Secrets[sec.Name] = true
	}
	return s.Convert(snap), nil
}
