package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	rpprof "runtime/pprof"
	"sync"

	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ingressguard/ingressguard/convert"
	"github.com/ingressguard/ingressguard/server"
)

// memStats is the Go memory of serve after a garbage collection.
type memStats struct {
	// HeapAlloc is the live heap: bytes of reachable objects.
	HeapAlloc uint64
	// HeapInuse counts the heap spans in use, fragmentation included.
	HeapInuse uint64
	// Sys is all the memory the Go runtime obtained from the OS.
	Sys   uint64
	NumGC uint32
}

// serveMain is `load serve`: the serve process of the load program. It
// builds the manager exactly as `ingressguard serve` run in a cluster does
// (server.New with the default settings and the reconcilers on, JSON logs
// at info level, the cluster from KUBECONFIG with client-go's rate limiter
// off as in-cluster) and adds, on a separate loopback address, Go's
// profiling endpoints and /debug/memstats.
func serveMain(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	certDir := fs.String("cert-dir", "", "folder of tls.crt and tls.key")
	port := fs.Int("webhook-port", 0, "HTTPS port of the webhooks on 127.0.0.1")
	metricsAddr := fs.String("metrics-addr", "0", "address of /metrics")
	healthAddr := fs.String("health-addr", "0", "address of /readyz")
	debugAddr := fs.String("debug-addr", "", "loopback address of /debug/pprof and /debug/memstats")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := zap.New()
	ctrllog.SetLogger(log)
	klog.SetLogger(log.WithName("client-go"))
	cfg, err := config.GetConfig()
	if err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	mgr, err := server.New(ctx, cfg, server.Options{
		Settings:    convert.DefaultSettings(),
		Host:        "127.0.0.1",
		Port:        *port,
		CertDir:     *certDir,
		MetricsAddr: *metricsAddr,
		HealthAddr:  *healthAddr,
		Reconcile:   true,
	})
	if err != nil {
		return err
	}
	if *debugAddr != "" {
		srv := &http.Server{Addr: *debugAddr, Handler: debugMux()}
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error(err, "debug server")
			}
		}()
		defer srv.Close()
	}
	return mgr.Start(ctx)
}

// debugMux serves pprof, /debug/memstats, and /debug/cpu/start?file=F,
// /debug/cpu/stop and /debug/heap?file=F, which write profiles to files so
// that a profile covers exactly one measurement.
func debugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/memstats", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		_ = json.NewEncoder(w).Encode(memStats{HeapAlloc: m.HeapAlloc, HeapInuse: m.HeapInuse, Sys: m.Sys, NumGC: m.NumGC})
	})
	var mu sync.Mutex
	var cpuFile *os.File
	mux.HandleFunc("/debug/cpu/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.Create(r.URL.Query().Get("file"))
		if err == nil {
			if err = rpprof.StartCPUProfile(f); err != nil {
				f.Close()
			}
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		cpuFile = f
	})
	mux.HandleFunc("/debug/cpu/stop", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if cpuFile == nil {
			http.Error(w, "no CPU profile running", http.StatusConflict)
			return
		}
		rpprof.StopCPUProfile()
		if err := cpuFile.Close(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		cpuFile = nil
	})
	mux.HandleFunc("/debug/heap", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		f, err := os.Create(r.URL.Query().Get("file"))
		if err == nil {
			err = rpprof.Lookup("heap").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			http.Error(w, fmt.Sprint(err), http.StatusInternalServerError)
		}
	})
	return mux
}
