// Package manifest reads and writes Kubernetes manifests: multi-document
// YAML and JSON files such as `kubectl apply -f` takes. It keeps the kinds
// that ingressguard reads (Ingress, IngressClass, Service, Secret and
// cert-manager Certificate), notes the others, and reports every problem with
// the file and document it comes from. It never talks to an API server.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/ingressguard/ingressguard/internal/scheme"
)

// Document is one object read from a manifest.
type Document struct {
	// Source names where the object was read from: a file path, "-" for
	// standard input.
	Source string
	// Index is the 1-based number of the document in Source; the items of a
	// List share the number of the List.
	Index int
	// Object is one of *networkingv1.Ingress, *networkingv1.IngressClass,
	// *corev1.Service, *corev1.Secret or *cmv1.Certificate.
	Object runtime.Object
}

// decoder decodes the kinds we keep, refusing unknown and duplicate fields
// as `kubectl apply` does by default.
var decoder = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// kept lists the kinds Read keeps, by group and kind, with the version it
// reads them as and whether they are namespaced.
var kept = map[schema.GroupKind]struct {
	readAs     schema.GroupVersion
	namespaced bool
}{
	{Group: networkingv1.GroupName, Kind: "Ingress"}:            {readAs: networkingv1.SchemeGroupVersion, namespaced: true},
	{Group: "extensions", Kind: "Ingress"}:                      {readAs: networkingv1.SchemeGroupVersion, namespaced: true},
	{Group: networkingv1.GroupName, Kind: "IngressClass"}:       {readAs: networkingv1.SchemeGroupVersion},
	{Group: corev1.GroupName, Kind: "Service"}:                  {readAs: corev1.SchemeGroupVersion, namespaced: true},
	{Group: corev1.GroupName, Kind: "Secret"}:                   {readAs: corev1.SchemeGroupVersion, namespaced: true},
	{Group: cmv1.SchemeGroupVersion.Group, Kind: "Certificate"}: {readAs: cmv1.SchemeGroupVersion, namespaced: true},
}

// MaxDocuments bounds the documents of one input, empty ones included.
// Each document costs a parser of its own and a place in memory whatever
// its size, so a file of nothing but "---" lines (a few bytes each) would
// otherwise take hundreds of times its size in memory and seconds of CPU.
// Real manifests, even dumps of large clusters, stay far below it.
const MaxDocuments = 100_000

// tooManyDocuments is the error of an input with more than MaxDocuments.
func tooManyDocuments(source string) error {
	return fmt.Errorf("%s: more than %d documents; ingressguard reads at most %d documents from one input: split it into several files", source, MaxDocuments, MaxDocuments)
}

// location names a document, or an item of a List document, in messages.
type location struct {
	source string
	index  int
	line   int
	item   int // index in the List's items, -1 for a document
}

func (l location) String() string {
	s := fmt.Sprintf("%s: document %d (line %d)", l.source, l.index, l.line)
	if l.item >= 0 {
		s += fmt.Sprintf(": items[%d]", l.item)
	}
	return s
}

func (l location) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", l, fmt.Sprintf(format, args...))
}

// Read reads the manifests in r, named source in messages: multi-document
// YAML separated by "---" lines, or JSON (one or more objects). A List, or
// any kind ending in "List" that has items, contributes its items. Read
// returns the objects of the kinds ingressguard reads, with namespace
// "default" where none is given (except for the cluster-scoped
// IngressClass), and one note per object of another kind. Empty documents
// are skipped. The error names the source, the document and its first line.
// An input of more than MaxDocuments documents is refused.
func Read(source string, r io.Reader) (docs []Document, notes []string, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", source, err)
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var chunks []chunk
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		chunks, err = splitJSON(source, data)
	} else {
		chunks, err = splitYAML(source, data)
	}
	if err != nil {
		return nil, nil, err
	}
	for _, c := range chunks {
		d, n, err := c.objects()
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, d...)
		notes = append(notes, n...)
	}
	return docs, notes, nil
}

// chunk is the JSON of one document.
type chunk struct {
	at   location
	json []byte
}

// splitYAML cuts data into documents with apimachinery's YAMLReader, which
// splits at lines that are "---" (optionally followed by a comment) as
// kubectl does, and converts each document to JSON. It follows the lines
// of data to name each document's first line: the reader returns every
// line of a document, ending in "\n", and skips only the separators.
func splitYAML(source string, data []byte) ([]chunk, error) {
	var chunks []chunk
	if len(data) > 0 && data[len(data)-1] != '\n' {
		// YAMLReader drops a last line without "\n" whose length is a
		// multiple of its buffer's 4096 bytes: its LineReader returns it
		// with io.EOF, which YAMLReader takes as the end before keeping
		// the line. Ended by "\n", every line is returned without error.
		data = append(data, '\n')
	}
	rd := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	pos, line := 0, 1 // the first line not yet read: its offset in data, its number
	next := func() {
		if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
			pos += i + 1
		} else {
			pos = len(data)
		}
		line++
	}
	for {
		doc, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return chunks, nil
		}
		if err != nil {
			// The only error of a reader of bytes: a separator followed by
			// something else than a comment, ending the document that
			// starts at line.
			return nil, fmt.Errorf("%s: document %d (line %d): %s: \"---\" must be alone on its line", source, len(chunks)+1, line, yamlError(err, 1))
		}
		if len(chunks) == MaxDocuments {
			return nil, tooManyDocuments(source)
		}
		for bytes.HasPrefix(data[pos:], []byte("---")) {
			next()
		}
		at := location{source: source, index: len(chunks) + 1, line: line, item: -1}
		for range bytes.Count(doc, []byte("\n")) {
			next()
		}
		j, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, at.errorf("invalid YAML: %s", yamlError(err, at.line))
		}
		chunks = append(chunks, chunk{at: at, json: j})
	}
}

// yamlLine finds the line numbers in YAML parser messages.
var yamlLine = regexp.MustCompile(`\bline (\d+)\b`)

// yamlError renders a YAML parser error on one line, with line numbers
// counted from the start of the file rather than of the document.
func yamlError(err error, start int) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = yamlLine.ReplaceAllStringFunc(msg, func(m string) string {
		var n int
		if _, err := fmt.Sscanf(m, "line %d", &n); err != nil {
			return m
		}
		return fmt.Sprintf("line %d", n+start-1)
	})
	return strings.Join(strings.Fields(msg), " ")
}

// splitJSON reads a stream of JSON values.
func splitJSON(source string, data []byte) ([]chunk, error) {
	var chunks []chunk
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		off := int(dec.InputOffset())
		skipped := len(data[off:]) - len(bytes.TrimLeft(data[off:], " \t\r\n"))
		at := location{source: source, index: len(chunks) + 1, line: 1 + bytes.Count(data[:off+skipped], []byte("\n")), item: -1}
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return chunks, nil
		} else if err != nil {
			return nil, at.errorf("invalid JSON: %s", jsonError(err, data))
		}
		if len(chunks) == MaxDocuments {
			return nil, tooManyDocuments(source)
		}
		chunks = append(chunks, chunk{at: at, json: raw})
	}
}

// jsonError adds the line to JSON syntax errors.
func jsonError(err error, data []byte) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) && syntax.Offset <= int64(len(data)) {
		return fmt.Sprintf("line %d: %s", 1+bytes.Count(data[:syntax.Offset], []byte("\n")), err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return err.Error()
}

// header is the type and name of an object.
type header struct {
	apiVersion, kind, name string
}

// parseHeader reads apiVersion, kind and metadata.name of a JSON object.
func parseHeader(fields map[string]json.RawMessage) (header, error) {
	var h header
	for _, f := range []struct {
		key string
		to  *string
	}{{"apiVersion", &h.apiVersion}, {"kind", &h.kind}} {
		if raw, ok := fields[f.key]; ok && json.Unmarshal(raw, f.to) != nil {
			return h, fmt.Errorf("%s must be a string", f.key)
		}
	}
	raw, ok := fields["metadata"]
	if !ok || string(raw) == "null" {
		return h, nil
	}
	var meta map[string]json.RawMessage
	if err := json.Unmarshal(raw, &meta); err != nil {
		return h, errors.New("metadata must be a mapping")
	}
	if raw, ok := meta["name"]; ok && json.Unmarshal(raw, &h.name) != nil {
		return h, errors.New("metadata.name must be a string")
	}
	return h, nil
}

// objects decodes one document: nothing for an empty one, the items of a
// List, or the object.
func (c chunk) objects() ([]Document, []string, error) {
	if string(bytes.TrimSpace(c.json)) == "null" {
		return nil, nil, nil
	}
	fields, h, err := fieldsOf(c.json)
	if err != nil {
		return nil, nil, c.at.errorf("%s", err)
	}
	rawItems, isList := fields["items"]
	if !isList || !strings.HasSuffix(h.kind, "List") {
		return object(c.at, c.json, fields, h)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(rawItems, &items); err != nil {
		return nil, nil, c.at.errorf("%s: items must be a sequence of objects", h.kind)
	}
	var docs []Document
	var notes []string
	for i, item := range items {
		at := c.at
		at.item = i
		fields, ih, err := fieldsOf(item)
		if err != nil {
			return nil, nil, at.errorf("%s", err)
		}
		if h.kind != "List" && ih.apiVersion == "" && ih.kind == "" {
			// Items of a typed list such as IngressList carry no type.
			ih.apiVersion, ih.kind = h.apiVersion, strings.TrimSuffix(h.kind, "List")
			fields["apiVersion"], _ = json.Marshal(ih.apiVersion)
			fields["kind"], _ = json.Marshal(ih.kind)
			if item, err = json.Marshal(fields); err != nil {
				return nil, nil, at.errorf("%s", err)
			}
		}
		d, n, err := object(at, item, fields, ih)
		if err != nil {
			return nil, nil, err
		}
		docs = append(docs, d...)
		notes = append(notes, n...)
	}
	return docs, notes, nil
}

// fieldsOf splits a JSON object into its fields and reads its header.
func fieldsOf(data []byte) (map[string]json.RawMessage, header, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil || fields == nil {
		return nil, header{}, errors.New("not a Kubernetes object: expected a mapping with apiVersion, kind and metadata")
	}
	h, err := parseHeader(fields)
	return fields, h, err
}

// object decodes one object of a kind we keep, or notes that it is ignored.
func object(at location, data []byte, fields map[string]json.RawMessage, h header) ([]Document, []string, error) {
	switch {
	case h.kind == "" && h.apiVersion == "":
		return nil, nil, at.errorf("not a Kubernetes object: apiVersion and kind are missing")
	case h.kind == "":
		return nil, nil, at.errorf("object has no kind")
	case h.apiVersion == "":
		return nil, nil, at.errorf("%s has no apiVersion", h.kind)
	}
	gv, err := schema.ParseGroupVersion(h.apiVersion)
	if err != nil {
		return nil, nil, at.errorf("%s: invalid apiVersion %q", h.kind, h.apiVersion)
	}
	want, ok := kept[schema.GroupKind{Group: gv.Group, Kind: h.kind}]
	if !ok {
		name := h.name
		if name == "" {
			name = "(no name)"
		}
		return nil, []string{fmt.Sprintf("%s: ignoring %s %s (not read by ingressguard)", at, h.kind, name)}, nil
	}
	if gv != want.readAs {
		return nil, nil, at.errorf("unknown apiVersion %q for kind %s: ingressguard reads %s as %s",
			h.apiVersion, h.kind, h.kind, want.readAs)
	}
	if h.name == "" {
		return nil, nil, at.errorf("%s has no metadata.name", h.kind)
	}
	obj, _, err := decoder.Decode(data, nil, nil)
	if err != nil {
		return nil, nil, at.errorf("%s %s: %s", h.kind, h.name, decodeError(err))
	}
	if m, ok := obj.(metav1.Object); ok && want.namespaced && m.GetNamespace() == "" {
		m.SetNamespace(metav1.NamespaceDefault)
	}
	return []Document{{Source: at.source, Index: at.index, Object: obj}}, nil, nil
}

// decodeError shortens the decoder's messages to one line.
func decodeError(err error) string {
	msg := err.Error()
	if runtime.IsStrictDecodingError(err) {
		msg = strings.TrimPrefix(msg, "strict decoding error: ")
	}
	return strings.Join(strings.Fields(msg), " ")
}

// Objects returns the objects of docs, in order.
func Objects(docs []Document) []runtime.Object {
	objs := make([]runtime.Object, len(docs))
	for i, d := range docs {
		objs[i] = d.Object
	}
	return objs
}
