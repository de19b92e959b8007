package lookup

import (
	"fmt"
	"strings"
	"testing"
)

// TestCredentialMemo: an answer is read from the cache once, until an
// event of a Secret or Certificate; an answer read while an event came is
// not remembered (it may predate the event), nor is a failed one or one
// for a name no Secret can have; and the names remembered are bounded,
// since admissions choose them.
func TestCredentialMemo(t *testing.T) {
	var m credentialMemo
	reads := 0
	answer := func(exists bool) func() credential {
		return func() credential {
			reads++
			return credential{exists: exists}
		}
	}
	steps := []struct {
		what      string
		before    func() // runs before get
		read      func() credential
		want      bool
		wantReads int
	}{
		{"first ask, before any event", nil, answer(true), true, 1},
		{"asked again", nil, answer(false), true, 1},
		{"after an event", m.changed, answer(false), false, 2},
		{"asked again after it", nil, answer(true), false, 2},
		{"an event while reading", m.changed, func() credential { m.changed(); return answer(true)() }, true, 3},
		{"not remembered", nil, answer(false), false, 4},
		{"remembered now", nil, answer(true), false, 4},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		if got := m.get("web-tls", s.read).exists; got != s.want || reads != s.wantReads {
			t.Errorf("%s: exists = %v after %d reads, want %v after %d", s.what, got, reads, s.want, s.wantReads)
		}
	}
	// A lookup that failed, and a name no Secret can have (only a review
	// sent around the API server carries one), are read every time.
	for _, tc := range []struct {
		what, name string
		read       func() credential
	}{
		{"a failed lookup", "web-tls-2", func() credential { reads++; return credential{failed: true} }},
		{"a name of 254 characters", strings.Repeat("a", 254), answer(true)},
	} {
		before := reads
		m.get(tc.name, tc.read)
		m.get(tc.name, tc.read)
		if reads-before != 2 {
			t.Errorf("%s: read %d times for two asks, want 2", tc.what, reads-before)
		}
	}
	for i := range 3 * maxRemembered {
		m.get(fmt.Sprintf("name-%d", i), answer(true))
		if len(m.answers) > maxRemembered {
			t.Fatalf("%d names remembered, want at most %d", len(m.answers), maxRemembered)
		}
	}
}
