package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/manifest"
)

// conversion is what convert and check share: the flags, reading the
// input and converting it.
type conversion struct {
	settings    convert.Settings
	input       inputOptions
	assumeClass bool
}

func newConversion(cmd *cobra.Command) *conversion {
	c := &conversion{settings: convert.DefaultSettings()}
	c.input.bind(cmd.Flags())
	bindSettings(cmd.Flags(), &c.settings)
	cmd.Flags().BoolVar(&c.assumeClass, "assume-ingress-class", true,
		"when reading files only, assume the IngressClass named --ingress-class (controller "+convert.ControllerName+
			") that ingressguard's install creates, unless the files define an IngressClass of that name")
	return c
}

// assumeInstalledClass adds, for file-only input, the IngressClass that the
// install creates, so that "ingressClassName: istio" is checked offline as
// it would be in the cluster. It returns a note when an Ingress relies on it.
func (c *conversion) assumeInstalledClass(snap *convert.Snapshot) string {
	name := c.settings.IngressClass
	if !c.assumeClass || c.input.readsCluster() || slices.ContainsFunc(snap.IngressClasses, func(ic *networkingv1.IngressClass) bool { return ic.Name == name }) {
		return ""
	}
	snap.IngressClasses = append(snap.IngressClasses, &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       networkingv1.IngressClassSpec{Controller: convert.ControllerName},
	})
	for _, ing := range snap.Ingresses {
		if n := ing.Spec.IngressClassName; n != nil && *n == name {
			return fmt.Sprintf("assuming IngressClass %s with controller %s, as ingressguard installs it (--assume-ingress-class=false to turn off)", name, convert.ControllerName)
		}
	}
	return ""
}

// converted is what conversion.run returns: the input, the classes of
// its snapshot and its conversion.
type converted struct {
	in      *input
	classes convert.Classes
	res     *convert.Result
}

// run reads the input, prints the notes to stderr and converts.
func (c *conversion) run(cmd *cobra.Command) (converted, error) {
	if err := c.settings.Check(); err != nil {
		return converted{}, err
	}
	in, err := c.input.load(cmd.Context(), cmd.InOrStdin(), c.settings.GatewayNamespace)
	if err != nil {
		return converted{}, err
	}
	snap := convert.NewSnapshot(manifest.Objects(in.docs), c.settings.GatewayNamespace)
	notes := slices.Clone(in.notes)
	if n := c.assumeInstalledClass(&snap); n != "" {
		notes = append(notes, n)
	}
	res := c.settings.Convert(snap)
	classes := convert.NewIndex(snap)
	notes = append(notes, treatedAs(c.settings, snap.Ingresses, classes)...)
	notes = append(notes, notOurs(c.settings, in, classes, res.Ignored, c.input.readsCluster())...)
	for _, n := range notes {
		if _, err := fmt.Fprintln(cmd.ErrOrStderr(), "note: "+n); err != nil {
			return converted{}, err
		}
	}
	return converted{in: in, classes: classes, res: res}, nil
}

// formatFlag validates an output format, one of formats, before any
// input is read.
func formatFlag(format string, formats []string) error {
	if !slices.Contains(formats, format) {
		return fmt.Errorf("unknown output format %q: use %s", format, strings.Join(formats, " or "))
	}
	return nil
}
