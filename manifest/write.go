package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Formats are the output formats Write accepts.
var Formats = []string{"yaml", "json"}

// Write writes objs to w in format "yaml" (documents separated by "---") or
// "json" (one indented v1 List). Every object must carry its apiVersion and
// kind. Objects go through JSON and a generic map, so that Istio's protobuf
// specs are written by their own JSON marshalling, keys come out sorted and
// the output is byte-identical for identical input; status and a null
// metadata.creationTimestamp are left out, as they mean nothing in a
// manifest.
func Write(w io.Writer, objs []runtime.Object, format string) error {
	if format != "yaml" && format != "json" {
		return fmt.Errorf("unknown output format %q: use yaml or json", format)
	}
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		m, err := clean(o)
		if err != nil {
			return err
		}
		items = append(items, m)
	}
	var out []byte
	if format == "json" {
		list := map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
		b, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return fmt.Errorf("writing JSON: %w", err)
		}
		out = append(b, '\n')
	} else {
		var buf bytes.Buffer
		for i, item := range items {
			b, err := yaml.Marshal(item)
			if err != nil {
				return fmt.Errorf("writing YAML: %w", err)
			}
			if i > 0 {
				buf.WriteString("---\n")
			}
			buf.Write(b)
		}
		out = buf.Bytes()
	}
	_, err := w.Write(out)
	return err
}

// clean turns an object into a generic map without status and without a
// null creationTimestamp.
func clean(o runtime.Object) (map[string]any, error) {
	gvk := o.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return nil, fmt.Errorf("cannot write a %T without apiVersion and kind", o)
	}
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", gvk.Kind, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("writing %s: %w", gvk.Kind, err)
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		if ts, ok := meta["creationTimestamp"]; ok && ts == nil {
			delete(meta, "creationTimestamp")
		}
	}
	return m, nil
}
