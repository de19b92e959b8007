package convert_test

import (
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/ingressguard/ingressguard/convert"
)

var (
	exact    = ptr(networkingv1.PathTypeExact)
	prefix   = ptr(networkingv1.PathTypePrefix)
	implSpec = ptr(networkingv1.PathTypeImplementationSpecific)
)

// TestInterpret covers every row of the SPEC section 2 table.
func TestInterpret(t *testing.T) {
	for _, tc := range []struct {
		path string
		pt   *networkingv1.PathType
		want convert.Match
	}{
		{"/a/b", exact, convert.Match{Kind: convert.Exact, Path: "/a/b"}},
		{"/a/b/", exact, convert.Match{Kind: convert.Exact, Path: "/a/b/"}},
		{"/", prefix, convert.Match{Kind: convert.Prefix, Path: "/"}},
		{"/a/b", prefix, convert.Match{Kind: convert.Prefix, Path: "/a/b"}},
		{"/a/b/", prefix, convert.Match{Kind: convert.Prefix, Path: "/a/b"}},
		{"/a/*", implSpec, convert.Match{Kind: convert.Prefix, Path: "/a"}},
		{"/a.*", implSpec, convert.Match{Kind: convert.Prefix, Path: "/a"}},
		{"/a/*", nil, convert.Match{Kind: convert.Prefix, Path: "/a"}},
		{"/a/.*", nil, convert.Match{Kind: convert.Prefix, Path: "/a"}},
		{"", implSpec, convert.Match{Kind: convert.Prefix, Path: "/"}},
		{"/*", implSpec, convert.Match{Kind: convert.Prefix, Path: "/"}},
		{".*", nil, convert.Match{Kind: convert.Prefix, Path: "/"}},
		{"*", nil, convert.Match{Kind: convert.Prefix, Path: "/"}},
		{"", nil, convert.Match{Kind: convert.Prefix, Path: "/"}},
		{"/a/b", implSpec, convert.Match{Kind: convert.Exact, Path: "/a/b"}},
		{"/a/b/", nil, convert.Match{Kind: convert.Exact, Path: "/a/b/"}},
		{"/a.b", nil, convert.Match{Kind: convert.Exact, Path: "/a.b"}},
	} {
		got, problem := convert.Interpret(tc.path, tc.pt)
		if problem != "" || got != tc.want {
			t.Errorf("Interpret(%q, %s) = %v, %q; want %v", tc.path, ptString(tc.pt), got, problem, tc.want)
		}
	}
}

// TestInterpretRejects covers the path rules of SPEC section 3: each problem
// names why Istio cannot serve the path and, where one exists, the fix.
func TestInterpretRejects(t *testing.T) {
	for _, tc := range []struct {
		path string
		pt   *networkingv1.PathType
		want []string // substrings of the message
	}{
		{"/api/.*", prefix, []string{`"*" is matched literally`, "use pathType: Prefix with path: /api"}},
		{"/api/*", exact, []string{`"*"`, "use pathType: Prefix with path: /api"}},
		{"/api/(.*)", nil, []string{`"(" is regular-expression syntax`, "use pathType: Prefix with path: /api"}},
		{"/api(/|$)(.*)", implSpec, []string{`"("`, "use pathType: Prefix with path: /api"}},
		{"^/v1/users$", prefix, []string{`"^"`, "use pathType: Exact with path: /v1/users"}},
		{"/v[0-9]+/users", prefix, []string{`"["`, "express it as one or more paths with pathType Exact or Prefix"}},
		{"/a{2}", exact, []string{`"{"`}},
		{"/a+", exact, []string{`"+"`}},
		{"/a|b", exact, []string{`"|"`}},
		{`/a\d`, exact, []string{`"\\"`}},
		{"/a)", exact, []string{`")"`}},
		{"/a]", exact, []string{`"]"`}},
		{"/a}", exact, []string{`"}"`}},
		{"/a$", exact, []string{`"$"`, "use pathType: Exact with path: /a"}},
		{"/a/*/b", nil, []string{`"*"`, "regular-expression syntax"}},
		{"/search?q=1", exact, []string{"query string", `remove the "?"`}},
		{"/a#frag", prefix, []string{"fragment"}},
		{"/a//b", prefix, []string{`"//"`, "single slashes"}},
		{"/a\x01b", exact, []string{"control character"}},
		{"/a\x7fb", exact, []string{"control character"}},
		{"api", nil, []string{`start with "/"`, `"/api"`}},
	} {
		_, problem := convert.Interpret(tc.path, tc.pt)
		if problem == "" {
			t.Errorf("Interpret(%q, %s) accepted the path", tc.path, ptString(tc.pt))
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(problem, w) {
				t.Errorf("Interpret(%q, %s) = %q; want it to contain %q", tc.path, ptString(tc.pt), problem, w)
			}
		}
	}
}

// TestDefaulting covers SPEC section 4.
func TestDefaulting(t *testing.T) {
	for _, tc := range []struct {
		path string
		want networkingv1.PathType
		why  string // "" for no warning: validation refuses the path
	}{
		{"/status", networkingv1.PathTypeExact, "set pathType: Prefix"},
		{"/status/", networkingv1.PathTypeExact, `"/status/example"`},
		{"", networkingv1.PathTypeImplementationSpecific, "path: /"},
		{"/a/*", networkingv1.PathTypeImplementationSpecific, "pathType: Prefix with path: /a"},
		{"/a.*", networkingv1.PathTypeImplementationSpecific, "legacy prefix"},
		{"/*", networkingv1.PathTypeImplementationSpecific, "path: /"},
		{"*", networkingv1.PathTypeImplementationSpecific, "path: /"},
		{"/api/(.*)", networkingv1.PathTypeExact, ""},
		{"/a*b", networkingv1.PathTypeExact, ""},
		{"status", networkingv1.PathTypeExact, ""},
	} {
		got, w := convert.Defaulting(2, 3, tc.path)
		switch {
		case got != tc.want:
			t.Errorf("Defaulting(%q) = %s, want %s", tc.path, got, tc.want)
		case tc.why == "" && w != nil:
			t.Errorf("Defaulting(%q) warns %q for a path that validation refuses", tc.path, w)
		case tc.why != "" && (w == nil || !strings.Contains(w.Message, tc.why) || w.Field != "spec.rules[2].http.paths[3].pathType"):
			t.Errorf("Defaulting(%q) warns %v; want spec.rules[2].http.paths[3].pathType and a reason containing %q", tc.path, w, tc.why)
		}
		// The default keeps the meaning an unset pathType had.
		before, problemBefore := convert.Interpret(tc.path, nil)
		after, problemAfter := convert.Interpret(tc.path, &got)
		if before != after || (problemBefore == "") != (problemAfter == "") {
			t.Errorf("defaulting %q changes its meaning from %v to %v", tc.path, before, after)
		}
	}
}

func ptString(pt *networkingv1.PathType) string {
	if pt == nil {
		return "unset"
	}
	return string(*pt)
}
