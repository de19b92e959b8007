// Command floor is the baseline of the load program (test/load): the least
// an admission webhook for Ingresses must do on this machine. It serves
// HTTPS with the same TLS settings as `ingressguard serve` (TLS 1.2 or
// later, HTTP/1.1 only, tls.crt and tls.key from -cert-dir), and for every
// request, on any path, it decodes the AdmissionReview and the Ingress in
// it, then answers allowed. It reads no cluster state, keeps no metrics and
// writes no logs.
//
//	floor -addr 127.0.0.1:9444 -cert-dir DIR
//
// It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// maxBody matches controller-runtime's admission request limit.
const maxBody = 7 << 20

func main() {
	addr := flag.String("addr", "127.0.0.1:9444", "host:port to serve HTTPS on")
	certDir := flag.String("cert-dir", "", "folder holding tls.crt and tls.key")
	flag.Parse()
	if err := run(*addr, *certDir); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(addr, certDir string) error {
	if certDir == "" {
		return errors.New("-cert-dir is required")
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(certDir, "tls.crt"), filepath.Join(certDir, "tls.key"))
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              addr,
		Handler:           http.HandlerFunc(admit),
		ReadHeaderTimeout: 32 * time.Second,
		TLSConfig: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
			Certificates: []tls.Certificate{cert},
		},
		// An empty map turns HTTP/2 off, as NextProtos does for the client.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServeTLS("", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// admit decodes the review and its Ingress and allows it.
func admit(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil || review.Request == nil {
		http.Error(w, fmt.Sprintf("not an AdmissionReview: %v", err), http.StatusBadRequest)
		return
	}
	var ing networkingv1.Ingress
	if err := json.Unmarshal(review.Request.Object.Raw, &ing); err != nil {
		http.Error(w, fmt.Sprintf("not an Ingress: %v", err), http.StatusBadRequest)
		return
	}
	out := admissionv1.AdmissionReview{
		TypeMeta: review.TypeMeta,
		Response: &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true},
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&out)
}
