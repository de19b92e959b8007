package webhook

import (
	"bytes"
	"encoding/json"
	"testing"
)

// objectCases are JSON documents for object, valid or not.
var objectCases = []string{
	`{}`,
	` { } `,
	`{"a":1}`,
	`{"a":1,"b":-2.5e+3,"c":true,"d":false,"e":null}`,
	"{ \"a\" :\t[1, {\"x\":[]}, \"}\"] ,\n\"b\":{\"c\":{\"d\":\"]\\\"\"}}\r}",
	`{"k\"ey":"v\\","":""}`,
	`{"\u006bind":"Ingress","kind":"x"}`,
	`{"a":[[[]]],"b":[{},{}]}`,
	`{"a":"\u00e9\ud83d\ude00"}`,
	`[1,2]`,
	`"a"`,
	`7`,
	`null`,
	``,
	`{`,
	`{"a"`,
	`{"a":`,
	`{"a":1`,
	`{"a":1,`,
	`{"a":1}}`,
	`{"a" 1}`,
	`{"a":"unterminated}`,
	`{1:2}`,
	`{"a":1 "b":2}`,
}

// membersFromDecoder returns the keys and values of the top-level object
// of doc as encoding/json reads them, or ok false if doc is not a valid
// JSON object.
func membersFromDecoder(doc []byte) (keys []string, values [][]byte, ok bool) {
	if !json.Valid(doc) {
		return nil, nil, false
	}
	d := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys, values = append(keys, tok.(string)), append(values, v)
	}
	return keys, values, true
}

// sameMembers checks that object, with valueEnd, finds in doc the keys and
// values that encoding/json finds, and refuses what encoding/json does not
// read as an object.
func sameMembers(t *testing.T, doc []byte) {
	t.Helper()
	wantKeys, wantValues, wantOK := membersFromDecoder(doc)
	if !wantOK {
		if object(doc, 0, func(_ []byte, v int) int { return valueEnd(doc, v) }) >= 0 && json.Valid(doc) {
			t.Errorf("%q: object read as an object what is not one", doc)
		}
		return // on what is not JSON, object need only not panic
	}
	var keys []string
	var values [][]byte
	ok := object(doc, 0, func(key []byte, v int) int {
		var k string
		if err := json.Unmarshal([]byte(`"`+string(key)+`"`), &k); err != nil {
			t.Fatalf("%q: key %q is not a JSON string's contents: %v", doc, key, err)
		}
		end := valueEnd(doc, v)
		if end < 0 {
			t.Fatalf("%q: no end to the value of %q", doc, key)
		}
		keys, values = append(keys, k), append(values, doc[v:end])
		return end
	}) >= 0
	if !ok || len(keys) != len(wantKeys) {
		t.Fatalf("%q: object found %q (%v), want %q", doc, keys, ok, wantKeys)
	}
	for i := range keys {
		if keys[i] != wantKeys[i] || !bytes.Equal(values[i], wantValues[i]) {
			t.Errorf("%q: member %d is %q: %s, want %q: %s", doc, i, keys[i], values[i], wantKeys[i], wantValues[i])
		}
	}
}

// FuzzObject: object and valueEnd read the members of any valid JSON
// object as encoding/json does, and never panic. `go test` runs the seeds,
// objectCases and the review and object cases; -fuzz looks for more.
func FuzzObject(f *testing.F) {
	for _, c := range objectCases {
		f.Add([]byte(c))
	}
	for _, c := range reviewsOfObjects() {
		f.Add([]byte(c))
	}
	f.Fuzz(sameMembers)
}

// TestObjectStops: object stops at the first member f refuses.
func TestObjectStops(t *testing.T) {
	doc := []byte(`{"a":1,"b":2,"c":3}`)
	var seen []string
	end := object(doc, 0, func(key []byte, v int) int {
		seen = append(seen, string(key))
		if string(key) == "b" {
			return -1
		}
		return valueEnd(doc, v)
	})
	if end >= 0 || len(seen) != 2 {
		t.Errorf("object went on after a refusal: %d, saw %q", end, seen)
	}
}

// TestPlainKey: only keys whose every spelling is read alike by
// case-sensitive and case-insensitive matching are plain.
func TestPlainKey(t *testing.T) {
	for key, want := range map[string]bool{
		"apiVersion":      true,
		"kind":            true,
		"metadata":        true,
		"Metadata":        true, // read by neither pass
		"ApiVersion":      false,
		"APIVERSION":      false,
		"Kind":            false,
		"KIND":            false,
		"\u212aind":       false, // Kelvin sign
		"apiVer\u017fion": false, // long s
		`\u006bind`:       false, // an escape could spell anything
		`a\"b`:            false,
		"kinds":           true,
		"":                true,
	} {
		if got := plainKey([]byte(key)); got != want {
			t.Errorf("plainKey(%q) = %v, want %v", key, got, want)
		}
	}
}

// TestOneObject: reviews with one request.object and plain keys where the
// API machinery reads them are read in one pass; others are not.
func TestOneObject(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Ingress"},"object":{"apiVersion":"networking.k8s.io/v1","kind":"Ingress","metadata":{"labels":{"Kind":"x","\u006b":"y"}}},"oldObject":{"kind":"Ingress"}}}`, true},
		{`{"request":{"uid":"no-object"}}`, true},
		{`{"request":null,"request":{"object":{}}}`, true},
		{`{"Kind":"AdmissionReview"}`, false},
		{`{"request":{"object":{"KIND":"Ingress"}}}`, false},
		{`{"request":{"object":{},"object":{}}}`, false},
		{`{"request":{"object":{}},"request":{"object":{}}}`, false},
		{`{"request":{"\u006fbject":{}}}`, false},
		{`[{"request":{}}]`, false},
	} {
		if got := oneObject([]byte(tc.doc)); got != tc.want {
			t.Errorf("oneObject(%s) = %v, want %v", tc.doc, got, tc.want)
		}
	}
}
