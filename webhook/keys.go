package webhook

import "bytes"

// This file reads the keys of JSON objects without decoding them, so that
// the one-pass decodings (decodeIngress, decodeReview and
// decodeReviewAndIngress) can tell, at no allocation, whether their one
// case-sensitive pass reads a document as the API machinery's decoders do.
// Every function here expects valid JSON, which the pass it follows has
// checked, and answers false, the safe answer, if it meets anything else.

// plainKeys reports whether the JSON object doc has only plain keys (see
// plainKey), so that reading apiVersion and kind case-insensitively, as
// the API machinery's first pass does, finds the keys a case-sensitive
// pass finds.
func plainKeys(doc []byte) bool {
	return members(doc, func(key, _ []byte) bool { return plainKey(key) })
}

// oneObject reports whether the review doc has plain keys at its top
// level, in its request and in its request.object, and one request.object
// only. The last condition makes reading request.object into an Ingress
// the same as reading it as a RawExtension first: two values of one
// struct field are merged, but a RawExtension keeps only the last.
func oneObject(doc []byte) bool {
	objects := 0
	return members(doc, func(key, value []byte) bool {
		if !plainKey(key) {
			return false
		}
		if string(key) != "request" || !isObject(value) {
			return true
		}
		return members(value, func(key, value []byte) bool {
			if !plainKey(key) {
				return false
			}
			if string(key) != "object" {
				return true
			}
			objects++
			return objects == 1 && (!isObject(value) || plainKeys(value))
		})
	})
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

// members calls f with each key (between its quotes, escapes untouched)
// and value of the JSON object doc, in order, until f returns false. It
// reports whether doc is an object and f never returned false.
func members(doc []byte, f func(key, value []byte) bool) bool {
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return false
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return true
	}
	for i < len(doc) && doc[i] == '"' {
		end := valueEnd(doc, i)
		if end < 0 {
			return false
		}
		key := doc[i+1 : end-1]
		i = skipSpace(doc, end)
		if i >= len(doc) || doc[i] != ':' {
			return false
		}
		i = skipSpace(doc, i+1)
		end = valueEnd(doc, i)
		if end < 0 || !f(key, doc[i:end]) {
			return false
		}
		i = skipSpace(doc, end)
		if i >= len(doc) {
			return false
		}
		switch doc[i] {
		case '}':
			return true
		case ',':
			i = skipSpace(doc, i+1)
		default:
			return false
		}
	}
	return false
}

// isObject reports whether the JSON value v is an object.
func isObject(v []byte) bool { return len(v) > 0 && v[0] == '{' }

// valueEnd returns the index just after the JSON value that starts at
// doc[i], or -1 if doc ends first.
func valueEnd(doc []byte, i int) int {
	if i >= len(doc) {
		return -1
	}
	depth := 0
	for ; i < len(doc); i++ {
		switch doc[i] {
		case '"':
			for i++; i < len(doc) && doc[i] != '"'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
			if i >= len(doc) {
				return -1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // the end of the object or array around a number or a literal
			}
			depth--
		case ',', ':', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return i
			}
			continue
		default:
			continue // inside a number or a literal
		}
		if depth == 0 {
			return i + 1
		}
	}
	if depth == 0 {
		return i // a number or a literal at the end of doc
	}
	return -1
}

// skipSpace returns the index of the first byte of doc at or after i that
// is not JSON white space.
func skipSpace(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}
