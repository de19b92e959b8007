package convert

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

// MatchKind is how Istio compares a request path: exactly or by prefix.
type MatchKind int

const (
	// Exact matches one path, case-sensitively, ignoring the query.
	Exact MatchKind = iota
	// Prefix matches a path and everything below it, element by element.
	Prefix
)

func (k MatchKind) String() string {
	if k == Exact {
		return "Exact"
	}
	return "Prefix"
}

// Match is the meaning of an Ingress path (SPEC section 2). For Prefix, Path
// has no trailing slash unless it is "/", which matches everything.
type Match struct {
	Kind MatchKind
	Path string
}

// String renders the match as the pathType and path that express it.
func (m Match) String() string { return fmt.Sprintf("pathType: %s with path: %s", m.Kind, m.Path) }

// Length is the ordering length of SPEC section 2: the path without its
// trailing "/" ("/" counts as 0), so an Exact path sorts before a Prefix of
// the same path written with a trailing slash.
func (m Match) Length() int { return len(strings.TrimSuffix(m.Path, "/")) }

// pathTypeOf treats an unset pathType as ImplementationSpecific.
func pathTypeOf(pt *networkingv1.PathType) networkingv1.PathType {
	if pt == nil {
		return networkingv1.PathTypeImplementationSpecific
	}
	return *pt
}

// everything lists the ImplementationSpecific paths that match all requests.
var everything = map[string]bool{"": true, "*": true, ".*": true, "/*": true}

// legacyPrefix strips Istio's legacy "/*" or ".*" suffix of an
// ImplementationSpecific path, reporting whether there was one.
func legacyPrefix(path string) (string, bool) {
	for _, suffix := range []string{"/*", ".*"} {
		if strings.HasSuffix(path, suffix) {
			return strings.TrimSuffix(path, suffix), true
		}
	}
	return path, false
}

// prefixOf normalises a prefix path: no trailing slash, "/" for everything.
func prefixOf(path string) Match {
	p := strings.TrimRight(path, "/")
	if p == "" {
		p = "/"
	}
	return Match{Kind: Prefix, Path: p}
}

const regexChars = `^$()[]{}+?|\`

// Interpret returns the meaning of path under pathType (nil means unset), or
// a sentence that says why Istio cannot serve it and what to write instead.
func Interpret(path string, pathType *networkingv1.PathType) (Match, string) {
	pt := pathTypeOf(pathType)
	legacy := pt == networkingv1.PathTypeImplementationSpecific
	if legacy && everything[path] {
		return Match{Kind: Prefix, Path: "/"}, ""
	}
	if problem := checkSyntax(path, legacy); problem != "" {
		return Match{}, problem
	}
	switch {
	case pt == networkingv1.PathTypeExact:
		return Match{Kind: Exact, Path: path}, ""
	case pt == networkingv1.PathTypePrefix:
		return prefixOf(path), ""
	case legacy:
		if p, ok := legacyPrefix(path); ok {
			return prefixOf(p), ""
		}
		return Match{Kind: Exact, Path: path}, ""
	}
	return Match{}, fmt.Sprintf("unknown pathType %q; use Exact, Prefix or ImplementationSpecific", pt)
}

// checkSyntax finds regular-expression syntax and paths Envoy refuses.
func checkSyntax(path string, legacy bool) string {
	star := strings.Index(path, "*")
	if legacy {
		if p, ok := legacyPrefix(path); ok {
			star = strings.Index(p, "*")
		}
	}
	if i := strings.IndexAny(path, regexChars); i >= 0 || star >= 0 {
		c := "*"
		if i >= 0 && (star < 0 || i < star) {
			c = path[i : i+1]
		}
		if c == "?" && !strings.ContainsAny(path, strings.ReplaceAll(regexChars, "?", "")) && star < 0 {
			return `"?" starts the query string, and Envoy matches the path without its query, so this path can never match; remove the "?" and what follows it`
		}
		return regexProblem(path, c, legacy)
	}
	if !strings.HasPrefix(path, "/") {
		return `Envoy matches only paths that start with "/"; write it as "/` + path + `"`
	}
	for _, r := range path {
		if r < 0x20 || r == 0x7f {
			return "contains a control character, which Envoy refuses in a path; remove it"
		}
	}
	if strings.Contains(path, "#") {
		return `"#" starts a URL fragment, which clients never send, so this path can never match; remove the "#" and what follows it`
	}
	if strings.Contains(path, "//") {
		return `contains "//", which Envoy does not treat as a path a client sends; use single slashes`
	}
	return ""
}

func regexProblem(path, c string, legacy bool) string {
	msg := fmt.Sprintf("%q is regular-expression syntax: Istio matches paths only exactly or by prefix and would compare this path literally, so requests would never reach it", c)
	if c == "*" && !legacy {
		msg = `"*" is matched literally under pathType Exact or Prefix: Istio matches paths only exactly or by prefix, so requests would never reach it`
	}
	if m, ok := Suggest(path); ok {
		return msg + "; use " + m.String()
	}
	return msg + "; express it as one or more paths with pathType Exact or Prefix"
}

// regexTails are common ways to write "and anything below" in a regex.
var regexTails = []string{"(/|$)(.*)", "(/.*)?$", "(/.*)?", "(/.*)", "/(.*)$", "/(.*)", "(.*)$", "(.*)", "/.*$", "/.*", ".*$", ".*", "/.+", ".+", "/*", "*", "/?$", "/$"}

// Suggest finds the Exact or Prefix path that serves what a regex-looking
// path most likely means: "/api/.*" is Prefix "/api", "^/api$" is Exact "/api".
func Suggest(path string) (Match, bool) {
	p := strings.TrimPrefix(path, "^")
	plain := func(s string) bool {
		return strings.HasPrefix(s, "/") && !strings.ContainsAny(s, regexChars+"*#") && !strings.Contains(s, "//")
	}
	for _, tail := range regexTails {
		if rest, ok := strings.CutSuffix(p, tail); ok && (rest == "" || plain(rest)) {
			return prefixOf(rest), true
		}
	}
	if rest, ok := strings.CutSuffix(p, "$"); ok && plain(rest) {
		return Match{Kind: Exact, Path: rest}, true
	}
	if plain(p) {
		return Match{Kind: Exact, Path: p}, true
	}
	return Match{}, false
}

// Defaulting is SPEC section 4, the one home of the mutating webhook's
// rule: the pathType that a path without one, spec.rules[rule].http.paths[path],
// gets, and the warning that says so. The warning is nil when validation
// refuses the path anyway, where advice on its pathType would mislead.
// The default keeps the meaning that an unset pathType has.
func Defaulting(rule, path int, p string) (networkingv1.PathType, *Warning) {
	pt, why := networkingv1.PathTypeExact, fmt.Sprintf(
		"Istio treats a plain path as an exact match, so sub-paths such as %q are not routed; set pathType: Prefix to match them",
		strings.TrimSuffix(p, "/")+"/example")
	if _, ok := legacyPrefix(p); ok || everything[p] {
		m, _ := Interpret(p, nil)
		pt, why = networkingv1.PathTypeImplementationSpecific, fmt.Sprintf(
			"this keeps Istio's legacy prefix meaning, the same as pathType: Prefix with path: %s", m.Path)
	}
	if _, problem := Interpret(p, &pt); problem != "" {
		return pt, nil
	}
	return pt, &Warning{
		Field:   pathField(rule, path).Child("pathType").String(),
		Message: fmt.Sprintf("defaulted to %s for path %q: %s", pt, p, why),
	}
}
