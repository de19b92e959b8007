package convert

import (
	"strings"
	"testing"
)

// TestHasObjectNameForm: every name ObjectName makes has its form, and the
// names of older versions (a 40-bit hash) and hand-made names do not, so
// the reconciler looks up which host owns a name only for names that a
// host can own.
func TestHasObjectNameForm(t *testing.T) {
	for _, host := range []string{"a.example.com", "*.example.com", "", "*", "myapp", strings.Repeat("long.", 60) + "example.com"} {
		if name := ObjectName(host); !HasObjectNameForm(name) {
			t.Errorf("ObjectName(%q) = %q has not the form", host, name)
		}
	}
	for _, name := range []string{"h1-example-com-150de168c8", "site-web-a4904cbf3e", "my-virtualservice", "a-0123456789ABCDEF", "0123456789abcdef", "-0123456789abcdef"} {
		if HasObjectNameForm(name) {
			t.Errorf("%q has the form", name)
		}
	}
}
