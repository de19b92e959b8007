package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteCertificates(t *testing.T) {
	dir := t.TempDir()
	caPEM, err := writeCertificates(dir, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, certFile), filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatalf("serving certificate and key: %v", err)
	}
	if key, ok := pair.PrivateKey.(*ecdsa.PrivateKey); !ok || key.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", pair.PrivateKey)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the CA bundle holds no certificate")
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, caFile))
	if err != nil || string(onDisk) != string(caPEM) {
		t.Errorf("%s differs from the returned CA bundle (%v)", caFile, err)
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost"} {
		opts := x509.VerifyOptions{DNSName: name, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if _, err := leaf.Verify(opts); err != nil {
			t.Errorf("not valid for %s: %v", name, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: roots}); err == nil {
		t.Error("valid for example.com")
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > time.Hour+2*time.Minute {
		t.Errorf("valid for %s, want about an hour", d)
	}
	fi, err := os.Stat(filepath.Join(dir, keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("%s has mode %v, want 0600", keyFile, m)
	}
	if _, err := writeCertificates(dir, time.Hour); err == nil {
		t.Error("overwrote existing files")
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/ingressguard-dev-1/kubeconfig": "/tmp/ingressguard-dev-1/kubeconfig",
		"/Users/a b/kubeconfig":              "'/Users/a b/kubeconfig'",
		"it's":                               `'it'\''s'`,
		"--leader-elect=false":               "--leader-elect=false",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
