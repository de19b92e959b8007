package webhook_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/webhook"
)

// gateServer serves the validating handler over TLS with a gate of the
// given read timeout and the default byte limit.
func gateServer(t *testing.T, readTimeout time.Duration) (*httptest.Server, func() int64) {
	t.Helper()
	h, used := webhook.GatedValidator(cluster(), readTimeout)
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv, used
}

// rawRequest opens a connection to srv and sends a POST's headers with
// the given Content-Type and Content-Length, and no body yet.
func rawRequest(t *testing.T, srv *httptest.Server, contentType string, length int64) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the test's own server
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: webhook\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType, length)
	return conn
}

// answer reads the response to a request sent on conn.
func answer(t *testing.T, conn *tls.Conn) (*http.Response, string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute)) // a hang fails the test instead of blocking it
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestBodiesAreBoundedBeforeTheyAreRead is the HTTP part of the bad-input
// matrix: what is refused without reading the body is answered while the
// body has not been sent at all, and closes the connection.
func TestBodiesAreBoundedBeforeTheyAreRead(t *testing.T) {
	srv, _ := gateServer(t, webhook.ReadTimeout)
	for _, tc := range []struct {
		name        string
		contentType string
		length      int64
		status      int    // HTTP status
		code        string // the review's response.status.code
	}{
		{name: "body of 7 MiB + 1 byte", contentType: "application/json", length: webhook.MaxRequestBytes + 1, status: 200, code: `"code":413`},
		{name: "wrong Content-Type with a large body", contentType: "application/yaml", length: webhook.MaxRequestBytes, status: 200, code: `"code":400`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := rawRequest(t, srv, tc.contentType, tc.length)
			resp, body := answer(t, conn) // no byte of the body was sent
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.code) {
				t.Errorf("answered %d %s, want %d with %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if !resp.Close {
				t.Errorf("the connection stays open to an unread body")
			}
		})
	}
}

// TestTrickledBodyIsCutOff: a body sent slower than the read deadline
// allows loses its connection, and its bytes are released.
func TestTrickledBodyIsCutOff(t *testing.T) {
	srv, used := gateServer(t, 200*time.Millisecond)
	conn := rawRequest(t, srv, "application/json", webhook.MaxRequestBytes)
	go func() {
		for range 50 { // 1 KiB every 100 ms, far below what 7 MiB in time needs
			if _, err := conn.Write(make([]byte, 1024)); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	resp, body := answer(t, conn)
	if !strings.Contains(body, `"code":400`) || !strings.Contains(body, "timeout") {
		t.Errorf("a trickled body was answered %d %s, want a 400 review that says the read timed out", resp.StatusCode, body)
	}
	if !resp.Close {
		t.Errorf("the connection of a timed-out body stays open")
	}
	waitFor(t, "the body's bytes released", func() bool { return used() == 0 })
}

// TestFloodOfLargeBodiesIsShed: 64 stalled 7 MiB bodies at once take what
// large bodies may hold, the rest get 429 with Retry-After, and an
// ordinary review is still answered.
func TestFloodOfLargeBodiesIsShed(t *testing.T) {
	srv, _ := gateServer(t, time.Minute)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	var held []*tls.Conn
	for range 64 {
		conn := rawRequest(t, srv, "application/json", webhook.MaxRequestBytes)
		held = append(held, conn)
		wg.Go(func() {
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				statuses[0]++ // still held: no answer until its body comes
				return
			}
			statuses[resp.StatusCode]++
			if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
				t.Errorf("a 429 without Retry-After")
			}
		})
	}
	wg.Wait()
	largeMax := int(webhook.MaxBytesInFlight / 4 * 3 / webhook.MaxRequestBytes)
	if statuses[0] != largeMax || statuses[http.StatusTooManyRequests] != 64-largeMax {
		t.Errorf("answers by status %v, want %d held and %d shed with 429", statuses, largeMax, 64-largeMax)
	}

	req := request(t, admissionv1.Create, ingress(t, seed))
	review, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: &req.AdmissionRequest})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(review))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"allowed":true`) {
		t.Errorf("an ordinary review during the flood got %d %s", resp.StatusCode, body)
	}
	for _, c := range held {
		c.Close()
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for range 500 {
		if ok() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("waited 5s for %s", what)
}

// gatedView is a cluster whose host lookups report the host on entered
// and, but for the host free, wait until release is closed: a review
// stays in its judging for as long as the test wants.
type gatedView struct {
	*convert.Index
	free    string
	entered chan string
	release chan struct{}
}

func (v gatedView) HostIngresses(host string) []*networkingv1.Ingress {
	v.entered <- host
	if host != v.free {
		<-v.release
	}
	return v.Index.HostIngresses(host)
}

// TestLargeReviewsAreJudgedOneAtATime: while a review of over 1 MiB is
// decoded and judged, a second one waits for its turn, and an ordinary
// review is judged at once.
func TestLargeReviewsAreJudgedOneAtATime(t *testing.T) {
	v := gatedView{Index: cluster(), free: "small.example.com", entered: make(chan string, 1024), release: make(chan struct{})}
	h, used := webhook.GatedValidator(v, webhook.ReadTimeout)
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	var released sync.Once
	release := func() { released.Do(func() { close(v.release) }) }
	t.Cleanup(release) // before srv.Close, which waits for the held reviews
	body := func(host string, paths int) []byte {
		ing := ingress(t, seed, func(ing *networkingv1.Ingress) {
			ing.Spec.Rules[0].Host = host
			p := ing.Spec.Rules[0].HTTP.Paths[0]
			for i := 1; i < paths; i++ {
				p.Path = fmt.Sprintf("/status/%06d", i)
				ing.Spec.Rules[0].HTTP.Paths = append(ing.Spec.Rules[0].HTTP.Paths, p)
			}
		})
		req := request(t, admissionv1.Create, ing)
		b, err := json.Marshal(admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}, Request: &req.AdmissionRequest})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	large := map[string][]byte{"a.example.com": body("a.example.com", 12000), "b.example.com": body("b.example.com", 12000)}
	for host, b := range large {
		if len(b) < 1<<20 {
			t.Fatalf("the review for %s has %d bytes; the test needs over 1 MiB", host, len(b))
		}
	}
	answered := make(chan string, 3)
	post := func(host string, b []byte) {
		resp, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Error(err)
			answered <- host
			return
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), `"uid"`) {
			t.Errorf("%s: answered %d %s", host, resp.StatusCode, out)
		}
		answered <- host
	}
	// enters waits until the review for want is judged; a review judges
	// its host more than once, and notYet must not be judged before it.
	enters := func(want string, notYet ...string) {
		t.Helper()
		for {
			select {
			case got := <-v.entered:
				if slices.Contains(notYet, got) {
					t.Fatalf("the review for %s is judged before the one for %s", got, want)
				}
				if got == want {
					return
				}
			case <-time.After(time.Minute): // a hang fails the test instead of blocking it
				t.Fatalf("the review for %s is never judged", want)
			}
		}
	}

	go post("a.example.com", large["a.example.com"])
	enters("a.example.com")
	go post("b.example.com", large["b.example.com"])
	// b's bytes are held once its request has been admitted to reading.
	waitFor(t, "the second large review to be read", func() bool { return used() >= int64(len(large["a.example.com"])+len(large["b.example.com"])) })
	go post("small.example.com", body("small.example.com", 1))
	enters("small.example.com", "b.example.com") // judged while a holds the turn
	if got := <-answered; got != "small.example.com" {
		t.Fatalf("%s was answered first; want the ordinary review", got)
	}
	// Without turns, b would be judged moments after it was read.
	for wait := time.After(2 * time.Second); ; {
		select {
		case got := <-v.entered:
			if got == "b.example.com" {
				t.Fatal("the second large review is judged while the first holds its turn")
			}
			continue
		case <-wait:
		}
		break
	}
	release()
	enters("b.example.com") // only now: after a's turn ended
	for range 2 {
		<-answered
	}
}
