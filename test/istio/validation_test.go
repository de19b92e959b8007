package istio

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/ingressguard/ingressguard/convert"
)

// This file checks that every Gateway and VirtualService convert emits
// passes istiod's validating webhook: over the golden cases of package
// convert and over many random Ingress sets.

// goldenDir holds the golden cases of package convert, one folder each
// with an input.yaml.
const goldenDir = "../../convert/testdata/golden"

// goldenScheme decodes the kinds golden inputs hold.
var goldenScheme = func() *kruntime.Scheme {
	s := kruntime.NewScheme()
	for _, add := range []func(*kruntime.Scheme) error{corev1.AddToScheme, networkingv1.AddToScheme, cmv1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// goldenSnapshot reads one golden case's input.yaml, and the settings it
// runs with: as convert's golden test does, a case whose name ends in
// "-default-mode" runs with mode DEFAULT.
func goldenSnapshot(t *testing.T, dir string) (convert.Settings, convert.Snapshot) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "input.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	decoder := serializer.NewCodecFactory(goldenScheme).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []kruntime.Object
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if j, err := yaml.YAMLToJSON(doc); err != nil || string(bytes.TrimSpace(j)) == "null" {
			continue // only comments
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		// A namespaced object without namespace goes to "default", as
		// kubectl and ingressguard's CLI put it.
		if m, ok := obj.(metav1.Object); ok && m.GetNamespace() == "" {
			if _, clusterScoped := obj.(*networkingv1.IngressClass); !clusterScoped {
				m.SetNamespace("default")
			}
		}
		objs = append(objs, obj)
	}
	s := convert.DefaultSettings()
	if strings.HasSuffix(dir, "-default-mode") {
		s.Mode = convert.ModeDefault
	}
	return s, convert.NewSnapshot(objs, s.GatewayNamespace)
}

// toYAML renders obj for a failure message.
func toYAML(obj any) string {
	out, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(out)
}

// TestGoldenObjectsPassIstioValidation sends every object convert emits
// for a golden case to istiod's validating webhook. An Ingress convert
// reports errors for is refused at admission, so it is left out (and
// logged) before converting.
func TestGoldenObjectsPassIstioValidation(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases in %s: %v", goldenDir, err)
	}
	wh := newWebhook(t)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s, snap := goldenSnapshot(t, dir)
			res, refused := admitted(s, snap)
			if len(refused) > 0 {
				t.Logf("left out, refused by ingressguard at admission: %v", refused)
			}
			for _, obj := range res.Objects() {
				warnings, err := wh.admit(obj)
				for _, w := range warnings {
					t.Logf("%s: istiod's validation warns: %s", describe(obj), w)
				}
				if err != nil {
					t.Errorf("%s: istiod's validation refuses it: %v\n%s", describe(obj), err, toYAML(obj))
				}
			}
		})
	}
}

// randomSets is how many random Ingress sets
// TestRandomObjectsPassIstioValidation converts.
const randomSets = 10000

// randomSeed seeds the random sets; set i is made from (randomSeed, i),
// so that a failure names the one set to look at.
const randomSeed = 20261201

// finding is one distinct problem istiod's validation reports over the
// random sets: how often, and the lowest-numbered set it came from.
type finding struct {
	count int
	set   int
	obj   string // the object, as YAML
	ings  string // the set's Ingresses, as YAML
}

// TestRandomObjectsPassIstioValidation converts random Ingress sets
// (randomIngresses) and sends every object to istiod's validating webhook.
// Ingresses that ingressguard refuses are left out and counted. Each
// distinct refusal fails the test once, with its count and the first set
// that shows it; each distinct warning is logged once.
func TestRandomObjectsPassIstioValidation(t *testing.T) {
	wh := newWebhook(t)
	var (
		mu                                      sync.Mutex
		errs                                    = map[string]*finding{}
		warns                                   = map[string]*finding{}
		ingresses, refusedIngs, objects, failed int
		wg                                      sync.WaitGroup
		tally                                   = map[string]int{}
	)
	note := func(m map[string]*finding, key string, set int, obj kruntime.Object, rs *randomSet) {
		f := m[key]
		if f == nil {
			f = &finding{set: set + 1}
			m[key] = f
		}
		if set < f.set { // the lowest set, whichever worker met it first
			f.set, f.obj, f.ings = set, toYAML(obj), dumpIngresses(rs.ings)
		}
		f.count++
	}
	workers := runtime.GOMAXPROCS(0)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < randomSets; i += workers {
				rs := randomIngresses(rand.New(rand.NewPCG(randomSeed, uint64(i))))
				for _, ing := range rs.ings {
					if errs := apiValid(ing); len(errs) > 0 {
						t.Errorf("set %d: the generator made an Ingress the API server refuses: %v\n%s", i, errs, toYAML(ing))
					}
				}
				res, refused := admitted(convert.DefaultSettings(), rs.snapshot())
				type answer struct {
					obj      kruntime.Object
					warnings []string
					err      error
				}
				var answers []answer
				for _, obj := range res.Objects() {
					warnings, err := wh.admit(obj)
					answers = append(answers, answer{obj, warnings, err})
				}
				left := map[string]bool{}
				for _, n := range refused {
					left[n.String()] = true
				}
				mu.Lock()
				for _, ing := range rs.ings {
					if left[ing.Namespace+"/"+ing.Name] {
						continue
					}
					seen := map[string]bool{}
					for _, f := range features(ing) {
						if !seen[f] {
							seen[f] = true
							tally[f]++
						}
					}
				}
				ingresses += len(rs.ings)
				refusedIngs += len(refused)
				for _, a := range answers {
					objects++
					for _, w := range a.warnings {
						note(warns, a.obj.GetObjectKind().GroupVersionKind().Kind+": "+w, i, a.obj, rs)
					}
					if a.err != nil {
						failed++
						seen := map[string]bool{}
						for _, e := range each(a.err.Error()) {
							key := a.obj.GetObjectKind().GroupVersionKind().Kind + ": " + shape(e)
							if !seen[key] {
								seen[key] = true
								note(errs, key, i, a.obj, rs)
							}
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d random sets: %d Ingresses, %d refused by ingressguard and left out; %d objects sent to istiod's validation, %d refused",
		randomSets, ingresses, refusedIngs, objects, failed)
	kinds := make([]string, 0, len(tally))
	for k := range tally {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		t.Logf("Ingresses validated with %s: %d", k, tally[k])
		if tally[k] < 100 {
			t.Errorf("only %d validated Ingresses have %s: the generator should make more", tally[k], k)
		}
	}
	for _, key := range sortedKeys(warns) {
		f := warns[key]
		t.Logf("istiod's validation warns %d times: %s (first in set %d)", f.count, key, f.set)
	}
	for _, key := range sortedKeys(errs) {
		f := errs[key]
		t.Errorf("istiod's validation refuses %d objects: %s\nfirst in set %d (rand.NewPCG(%d, %d)), object:\n%s\nIngresses of the set:\n%s",
			f.count, key, f.set, randomSeed, f.set, f.obj, f.ings)
	}
}

// each splits the message of istiod's webhook into its errors: "configuration
// is invalid: " and one error, or "N errors occurred:" and a "* " line per
// error.
func each(msg string) []string {
	msg = strings.TrimPrefix(msg, "configuration is invalid: ")
	lines := strings.Split(msg, "\n")
	if len(lines) == 1 || !strings.HasSuffix(lines[0], "errors occurred:") {
		return []string{msg}
	}
	var out []string
	for _, l := range lines[1:] {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, strings.TrimPrefix(l, "* "))
		}
	}
	return out
}

// shape makes an Istio error message independent of the names in it, so
// that the same refusal over many sets counts as one: quoted values
// become "…" and long runs of one character are shortened.
func shape(msg string) string {
	var b strings.Builder
	quoted := false
	for _, r := range msg {
		switch {
		case r == '"':
			quoted = !quoted
			if quoted {
				b.WriteString(`"…`)
			} else {
				b.WriteRune(r)
			}
		case !quoted:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func sortedKeys(m map[string]*finding) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func dumpIngresses(ings []*networkingv1.Ingress) string {
	var b strings.Builder
	for _, ing := range ings {
		b.WriteString("---\n")
		b.WriteString(toYAML(ing))
	}
	return b.String()
}
