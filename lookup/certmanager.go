package lookup

import (
	"fmt"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// CertManagerServed asks the API server (discovery, once, at start-up)
// whether it serves cert-manager's Certificate API, for Options.CertManager.
func CertManagerServed(cfg *rest.Config) (bool, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return false, fmt.Errorf("connecting to the API server at %s: %w", cfg.Host, err)
	}
	gv := cmv1.SchemeGroupVersion.String()
	resources, err := dc.ServerResourcesForGroupVersion(gv)
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("asking the API server at %s whether it serves %s: %w", cfg.Host, gv, err)
	}
	for _, r := range resources.APIResources {
		if r.Name == "certificates" {
			return true, nil
		}
	}
	return false, nil
}
