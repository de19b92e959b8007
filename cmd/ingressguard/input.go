package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/ingressguard/ingressguard/internal/scheme"
	"github.com/ingressguard/ingressguard/manifest"
)

// clusterSource is the Source of documents read from the API server.
const clusterSource = "cluster"

// inputOptions are the flags that say what to read.
type inputOptions struct {
	files   []string
	kube    *genericclioptions.ConfigFlags
	cluster bool
	maxSize int64 // bytes of one file or of standard input
}

// defaultMaxFileSize bounds what one input is read into memory: far above
// any real set of Ingresses, far below what a CI runner has.
const defaultMaxFileSize = 32 << 20

func (o *inputOptions) bind(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&o.files, "filename", "f", nil,
		"read manifests from `FILE`: a file, a directory (every *.yaml, *.yml and *.json file in it, recursively) or - for standard input; repeat to read several")
	fs.BoolVar(&o.cluster, "cluster", false,
		"read the cluster of the current kubeconfig context (KUBECONFIG or ~/.kube/config)")
	fs.Int64Var(&o.maxSize, "max-file-size", defaultMaxFileSize,
		"refuse a file, or standard input, larger than `BYTES`; the bound keeps an untrusted input from exhausting memory")
	o.kube = bindKubeconfig(fs, "read the cluster of the kubeconfig `FILE`", "read the cluster of the kubeconfig context `NAME`")
}

// readsCluster reports whether a flag asks to read the cluster.
func (o *inputOptions) readsCluster() bool {
	return o.cluster || *o.kube.KubeConfig != "" || *o.kube.Context != ""
}

// input is everything read, in order: the cluster's objects first, then
// those of the files in the order given.
type input struct {
	docs  []manifest.Document
	notes []string
}

// load reads the cluster and the files. An object of a file replaces the
// cluster's object of the same kind and name, so that a change can be
// checked before it is applied; two different objects of the same kind and
// name in the files are an error.
func (o *inputOptions) load(ctx context.Context, stdin io.Reader, gatewayNamespace string) (*input, error) {
	if len(o.files) == 0 && !o.readsCluster() {
		return nil, errors.New("nothing to read: name manifests with -f FILE|DIR|-, or read a cluster with --cluster, --kubeconfig or --context")
	}
	in := &input{}
	seen := map[objectKey]int{} // index in in.docs
	add := func(d manifest.Document) error {
		k := keyOf(d.Object)
		i, ok := seen[k]
		if !ok {
			seen[k] = len(in.docs)
			in.docs = append(in.docs, d)
			return nil
		}
		prev := in.docs[i]
		if prev.Source != clusterSource {
			if equality.Semantic.DeepEqual(prev.Object, d.Object) {
				return nil // the same object twice, as kubectl apply allows
			}
			return fmt.Errorf("%s %s is defined twice, in %s and in %s: give only one of them", k.kind, k.name, where(prev), where(d))
		}
		in.notes = append(in.notes, fmt.Sprintf("%s %s of %s replaces the one in the cluster", k.kind, k.name, where(d)))
		in.docs[i] = d
		return nil
	}
	if o.readsCluster() {
		docs, err := readCluster(ctx, o.kube, gatewayNamespace)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			if err := add(d); err != nil {
				return nil, err
			}
		}
	}
	paths, err := expand(o.files)
	if err != nil {
		return nil, err
	}
	for _, p := range paths {
		docs, notes, err := readFile(p, stdin, o.maxSize)
		if err != nil {
			return nil, err
		}
		in.notes = append(in.notes, notes...)
		for _, d := range docs {
			if err := add(d); err != nil {
				return nil, err
			}
		}
	}
	return in, nil
}

// where names the document an object comes from.
func where(d manifest.Document) string {
	if d.Source == clusterSource {
		return "the cluster"
	}
	return fmt.Sprintf("%s (document %d)", d.Source, d.Index)
}

// objectKey identifies an object across inputs.
type objectKey struct {
	kind string
	name string // namespace/name, or name when cluster-scoped
}

func keyOf(o runtime.Object) objectKey {
	k := objectKey{kind: fmt.Sprintf("%T", o)}
	if gvks, _, err := scheme.Scheme.ObjectKinds(o); err == nil {
		k.kind = gvks[0].Kind
	}
	if m, ok := o.(metav1.Object); ok {
		k.name = m.GetName()
		if ns := m.GetNamespace(); ns != "" {
			k.name = ns + "/" + k.name
		}
	}
	return k
}

// expand replaces directories by the manifest files in them, recursively,
// in lexical order.
func expand(args []string) ([]string, error) {
	var paths []string
	stdin := false
	for _, a := range args {
		if a == "-" {
			if stdin {
				return nil, errors.New("-f -: standard input can be read only once")
			}
			stdin = true
			paths = append(paths, a)
			continue
		}
		info, err := os.Stat(a)
		if err != nil {
			return nil, fileError(a, err)
		}
		if !info.IsDir() {
			paths = append(paths, a)
			continue
		}
		n := len(paths)
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return fileError(p, err)
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".yaml", ".yml", ".json":
				if !d.IsDir() {
					paths = append(paths, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(paths) == n {
			return nil, fmt.Errorf("%s: no *.yaml, *.yml or *.json file in this directory", a)
		}
	}
	return paths, nil
}

// readFile reads one manifest file, or standard input for "-", of at most
// max bytes. Only regular files are read (a symbolic link to one is
// followed): a named pipe could block for ever and a device such as
// /dev/zero never ends, so both are refused by name before they are
// opened.
func readFile(path string, stdin io.Reader, max int64) ([]manifest.Document, []string, error) {
	if path == "-" {
		return readBounded("-", stdin, max)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, fileError(path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file (%s); give a manifest file, a directory or - for standard input", path, fileKind(info.Mode()))
	}
	if info.Size() > max {
		return nil, nil, tooLarge(path, max)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fileError(path, err)
	}
	defer f.Close()
	return readBounded(path, f, max)
}

// readBounded is manifest.Read of at most max bytes of r: a larger input
// is refused as too large, whatever reading its first max bytes found.
func readBounded(source string, r io.Reader, max int64) ([]manifest.Document, []string, error) {
	lr := &io.LimitedReader{R: r, N: max + 1}
	docs, notes, err := manifest.Read(source, lr)
	if lr.N == 0 {
		return nil, nil, tooLarge(source, max)
	}
	return docs, notes, err
}

func tooLarge(source string, max int64) error {
	return fmt.Errorf("%s: larger than %d bytes; raise --max-file-size if this input is meant to be that large", source, max)
}

// fileKind names what a non-regular file is, for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.Type().String()
}

// fileError says what went wrong with a path without repeating the
// operation and path that os errors carry.
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}
