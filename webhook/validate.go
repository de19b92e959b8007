package webhook

import (
	"context"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
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
// allowed. Other updates are refused only for errors that the stored
// Ingress does not have (grandfathered); dry-run requests are judged like
// any other: the handler has no side effects.
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
	view := v.h.view()
	d := v.h.settings.Validate(ing, view)
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
	stored, fresh := v.grandfathered(req, view, d.Errors)
	for _, e := range stored {
		warnings = append(warnings, "not refused because the stored Ingress has it too: "+e.Error())
	}
	if len(fresh) == 0 {
		resp := admission.Allowed("")
		resp.Warnings = warnings
		return v.h.answer(ctx, resp, resultAllowed, reasonGrandfathered)
	}
	name := ing.Name
	if name == "" {
		name = req.Name
	}
	status := apierrors.NewInvalid(ingressGroupKind, name, fresh).ErrStatus
	resp := admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &status}}
	resp.Warnings = warnings
	return v.h.answer(ctx, resp, resultDenied, reasonInvalid)
}

// grandfathered splits the errors of an update into those the stored
// Ingress (request.oldObject), judged against today's cluster, has too,
// and the new ones. An update is refused only for new errors, so that a
// change elsewhere (a Secret deleted, a limit other Ingresses reached)
// never freezes an Ingress: its labels, annotations, finalizers and
// unrelated paths can still change, and the old errors come back as
// warnings. A create, or an update whose stored version cannot be read,
// has only new errors.
func (v *Validator) grandfathered(req admission.Request, view convert.View, errs field.ErrorList) (stored, fresh field.ErrorList) {
	if req.Operation != admissionv1.Update || len(req.OldObject.Raw) == 0 {
		return nil, errs
	}
	prev, _, err := decodeIngress(req.OldObject.Raw)
	if err != nil || !v.h.settings.Ours(prev, view) {
		return nil, errs
	}
	// An error is the stored one when its field, type and value are; a
	// count (the routes of a host over a limit) may also have gone down.
	key := func(e *field.Error) string { return fmt.Sprintf("%s|%s", e.Field, e.Type) }
	had := map[string][]any{}
	for _, e := range v.h.settings.Validate(prev, view).Errors {
		had[key(e)] = append(had[key(e)], e.BadValue)
	}
	kept := func(e *field.Error) bool {
		for _, old := range had[key(e)] {
			n, isCount := e.BadValue.(int)
			if was, wasCount := old.(int); isCount && wasCount && n <= was || fmt.Sprint(old) == fmt.Sprint(e.BadValue) {
				return true
			}
		}
		return false
	}
	for _, e := range errs {
		if kept(e) {
			stored = append(stored, e)
		} else {
			fresh = append(fresh, e)
		}
	}
	return stored, fresh
}
