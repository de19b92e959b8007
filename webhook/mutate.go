package webhook

import (
	"context"
	"fmt"

	"gomodules.xyz/jsonpatch/v2"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ingressguard/ingressguard/convert"
)

// Mutator is the mutating admission handler (SPEC section 4): on our
// Ingresses it sets every missing pathType to convert.Defaulting's with
// one JSON patch "add" operation and one warning per path. It never changes
// anything else, so a second run on its result changes nothing.
type Mutator struct{ h handler }

var _ admission.Handler = (*Mutator)(nil)

// NewMutator returns the mutating handler. cluster answers which Ingresses
// are ours; if it implements Syncer, requests are refused until it is synced.
func NewMutator(settings convert.Settings, cluster convert.View) *Mutator {
	return &Mutator{handler{name: webhookMutate, settings: settings, cluster: cluster}}
}

// Handle implements admission.Handler.
func (m *Mutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	ing, early := m.h.ours(ctx, req)
	if early != nil {
		return *early
	}
	ops, warnings := defaultPathTypes(ing)
	if len(ops) == 0 {
		return m.h.answer(ctx, admission.Allowed(""), resultAllowed, reasonUnchanged)
	}
	resp := admission.Patched("", ops...)
	resp.Warnings = warnings
	return m.h.answer(ctx, resp, resultPatched, reasonDefaulted)
}

// defaultPathTypes returns a JSON patch "add" operation for each path of ing
// that has no pathType, and convert.Defaulting's warning for each.
func defaultPathTypes(ing *networkingv1.Ingress) ([]jsonpatch.JsonPatchOperation, []string) {
	var ops []jsonpatch.JsonPatchOperation
	var warnings []string
	for ri, rule := range ing.Spec.Rules {
		if rule.HTTP == nil {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			if p.PathType != nil {
				continue
			}
			pt, w := convert.Defaulting(ri, pi, p.Path)
			ops = append(ops, jsonpatch.NewOperation("add", fmt.Sprintf("/spec/rules/%d/http/paths/%d/pathType", ri, pi), string(pt)))
			if w != nil {
				warnings = append(warnings, w.String())
			}
		}
	}
	return ops, warnings
}
