package webhook

import "bytes"

// This file reads the keys of JSON objects without decoding them, so that
// the one-pass decodings (decodeIngress, decodeReview and
// decodeReviewAndIngress) can tell, at no allocation, whether their one
// case-sensitive pass reads a document as the API machinery's decoders do.
// Every function here expects valid JSON, which the pass it follows has
// checked, and answers false or -1, the safe answers, if it meets anything
// else.

// plainKeys reports whether the JSON object doc has only plain keys (see
// plainKey), so that reading apiVersion and kind case-insensitively, as
// the API machinery's first pass does, finds the keys a case-sensitive
// pass finds.
func plainKeys(doc []byte) bool {
	return object(doc, 0, plainMember(doc)) >= 0
}

// plainMember is an object callback that skips the value of each plain key
// of doc and stops at any other.
func plainMember(doc []byte) func(key []byte, value int) int {
	return func(key []byte, value int) int {
		if !plainKey(key) {
			return -1
		}
		return valueEnd(doc, value)
	}
}

// oneObject reports whether the review doc has plain keys at its top
// level, in its request and in its request.object, and one request.object
// only. The last condition makes reading request.object into an Ingress
// the same as reading it as a RawExtension first: two values of one
// struct field are merged, but a RawExtension keeps only the last. It
// reads each byte of doc once.
func oneObject(doc []byte) bool {
	objects := 0
	inObject := plainMember(doc)
	inRequest := func(key []byte, value int) int {
		if !plainKey(key) {
			return -1
		}
		if string(key) != "object" {
			return valueEnd(doc, value)
		}
		if objects++; objects > 1 {
			return -1
		}
		if doc[value] != '{' {
			return valueEnd(doc, value)
		}
		return object(doc, value, inObject)
	}
	return object(doc, 0, func(key []byte, value int) int {
		if !plainKey(key) {
			return -1
		}
		if string(key) != "request" || doc[value] != '{' {
			return valueEnd(doc, value)
		}
		return object(doc, value, inRequest)
	}) >= 0
}

// plainKey reports whether key, as it stands between its quotes, has no
// escape, which could spell any key, and is not another spelling of
// apiVersion or kind under the case folding of encoding/json, which also
// matches the Kelvin sign to k and the long s to s.
func plainKey(key []byte) bool {
	if bytes.IndexByte(key, '\\') >= 0 {
		return false
	}
	for _, name := range []string{"apiVersion", "kind"} {
		if bytes.EqualFold(key, []byte(name)) && string(key) != name {
			return false
		}
	}
	return true
}

// object calls f with each key (between its quotes, escapes untouched) of
// the JSON object that starts at doc[i] (after white space), in order, and
// the index of the key's value; f returns the index just after the value,
// or -1 to stop. object returns the index just after the object, or -1 if
// f stopped or there is no object at doc[i].
func object(doc []byte, i int, f func(key []byte, value int) int) int {
	i = skipSpace(doc, i)
	if i >= len(doc) || doc[i] != '{' {
		return -1
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return i + 1
	}
	for i < len(doc) && doc[i] == '"' {
		end := stringEnd(doc, i)
		if end < 0 {
			return -1
		}
		key := doc[i+1 : end-1]
		i = skipSpace(doc, end)
		if i >= len(doc) || doc[i] != ':' {
			return -1
		}
		if i = skipSpace(doc, i+1); i >= len(doc) {
			return -1
		}
		if i = f(key, i); i < 0 {
			return -1
		}
		if i = skipSpace(doc, i); i >= len(doc) {
			return -1
		}
		switch doc[i] {
		case '}':
			return i + 1
		case ',':
			i = skipSpace(doc, i+1)
		default:
			return -1
		}
	}
	return -1
}

// valueEnd returns the index just after the JSON value that starts at
// doc[i], or -1 if doc ends first.
func valueEnd(doc []byte, i int) int {
	depth := 0
	for i < len(doc) {
		switch c := doc[i]; {
		case c == '"':
			if i = stringEnd(doc, i); i < 0 || depth == 0 {
				return i
			}
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return i // the end of the object or array around a number or a literal
			}
			if depth--; depth == 0 {
				return i + 1
			}
		case depth == 0 && (c == ',' || c == ':' || c <= ' '):
			return i // the end of a number or a literal
		}
		i++
	}
	if depth == 0 {
		return i // a number or a literal at the end of doc
	}
	return -1
}

// stringEnd returns the index just after the JSON string that starts at
// doc[i], or -1 if doc ends first. It finds quotes with bytes.IndexByte,
// which is fast on the long strings of annotations and managedFields.
func stringEnd(doc []byte, i int) int {
	for i++; ; i++ {
		q := bytes.IndexByte(doc[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		escapes := 0
		for k := i - 1; doc[k] == '\\'; k-- {
			escapes++
		}
		if escapes%2 == 0 {
			return i + 1
		}
	}
}

// skipSpace returns the index of the first byte of doc at or after i that
// is not JSON white space.
func skipSpace(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}
