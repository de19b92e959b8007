package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"
)

// installedEnv returns the environment variables that the install
// manifests' Deployment at deploymentPath (relative to the repository root)
// gives serve's container: plain values, and resourceFieldRef values
// resolved against the container's resources as the kubelet resolves them
// (rounded up, in units of the divisor). Values from a fieldRef (the pod's
// namespace) are left out: serve gets what they configure as flags here.
func installedEnv(root, deploymentPath string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(root, deploymentPath))
	if err != nil {
		return nil, err
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", deploymentPath, err)
	}
	var c *corev1.Container
	for i := range d.Spec.Template.Spec.Containers {
		if d.Spec.Template.Spec.Containers[i].Name == "ingressguard" {
			c = &d.Spec.Template.Spec.Containers[i]
		}
	}
	if c == nil {
		return nil, fmt.Errorf("%s has no container named ingressguard", deploymentPath)
	}
	var env []string
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.ResourceFieldRef != nil:
			v, err := resourceValue(c.Resources, e.ValueFrom.ResourceFieldRef)
			if err != nil {
				return nil, fmt.Errorf("%s: env %s: %w", deploymentPath, e.Name, err)
			}
			env = append(env, e.Name+"="+v)
		}
	}
	return env, nil
}

// resourceValue resolves a resourceFieldRef such as requests.memory.
func resourceValue(r corev1.ResourceRequirements, ref *corev1.ResourceFieldSelector) (string, error) {
	var list corev1.ResourceList
	var name corev1.ResourceName
	switch ref.Resource {
	case "requests.memory", "requests.cpu":
		list, name = r.Requests, corev1.ResourceName(ref.Resource[len("requests."):])
	case "limits.memory", "limits.cpu":
		list, name = r.Limits, corev1.ResourceName(ref.Resource[len("limits."):])
	default:
		return "", fmt.Errorf("resource %q is not supported here", ref.Resource)
	}
	q, ok := list[name]
	if !ok {
		return "", fmt.Errorf("the container sets no %s", ref.Resource)
	}
	divisor := resource.MustParse("1")
	if !ref.Divisor.IsZero() {
		divisor = ref.Divisor
	}
	return fmt.Sprint(int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))), nil
}
