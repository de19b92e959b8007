package webhook

import (
	"context"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ingressguard/ingressguard/convert"
)

// ingressGroupKind names Ingresses in rejections, as the API server's own
// validation does.
var ingressGroupKind = schema.GroupKind{Group: networkingv1.GroupName, Kind: "Ingress"}

// Validator is the validating admission handler (SPEC section 3): it
// rejects our Ingresses that convert.Settings.Validate finds errors in,
// with an Invalid status (HTTP 422) that has one cause per field, and
// returns Validate's warnings as admission warnings. Deletes, updates of
// an Ingress being deleted (its errors become warnings, so that its
// finalizers can be removed), and Ingresses that are not ours, are always
// allowed. Other updates are judged like
// creates, and dry-run requests like any other: the handler has no side
// effects.
type Validator struct{ h handler }

var _ admission.Handler = (*Validator)(nil)

// NewValidator returns the validating handler. If cluster implements
// Syncer, requests are refused until it is synced.
func NewValidator(settings convert.Settings, cluster convert.View) *Validator {
	return &Validator{handler{name: webhookValidate, settings: settings, cluster: cluster}}
}

// Handle implements admission.Handler.
func (v *Validator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation == admissionv1.Delete {
		return v.h.answer(ctx, admission.Allowed(""), resultAllowed, reasonDelete)
	}
	ing, early := v.h.ours(ctx, req)
	if early != nil {
		return *early
	}
	d := v.h.settings.Validate(ing, v.h.cluster)
	warnings := make([]string, len(d.Warnings))
	for i, w := range d.Warnings {
		warnings[i] = w.String()
	}
	if len(d.Errors) == 0 {
		resp := admission.Allowed("")
		resp.Warnings = warnings
		return v.h.answer(ctx, resp, resultAllowed, reasonValid)
	}
	if ing.DeletionTimestamp != nil {
		// Refusing would keep the Ingress, and a namespace around it, in
		// Terminating for good: its finalizers could never be removed.
		for _, e := range d.Errors {
			warnings = append(warnings, "not refused because the Ingress is being deleted: "+e.Error())
		}
		resp := admission.Allowed("")
		resp.Warnings = warnings
		return v.h.answer(ctx, resp, resultAllowed, reasonDeleting)
	}
	name := ing.Name
	if name == "" {
		name = req.Name
	}
	status := apierrors.NewInvalid(ingressGroupKind, name, d.Errors).ErrStatus
	resp := admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &status}}
	resp.Warnings = warnings
	return v.h.answer(ctx, resp, resultDenied, reasonInvalid)
}
