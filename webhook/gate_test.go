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
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
