package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
)

// serveProfiler serves Go's profiler for jwtapi dev itself (gateway,
// authorizers, Runtime API) on a loopback address, so its costs under load
// can be measured: go tool pprof http://ADDR/debug/pprof/profile?seconds=10.
func serveProfiler(addr string, out io.Writer) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof %q: want host:port, such as 127.0.0.1:6060", addr)
	}
	// The profiler shows memory and goroutine stacks: never beyond this machine.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--pprof %q: the profiler listens on a loopback address only, such as 127.0.0.1:6060", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof %q: %w (pick another port)", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Handler: mux}
	go srv.Serve(l)
	fmt.Fprintf(out, "jwtapi: profiler on http://%s/debug/pprof/ (go tool pprof http://%s/debug/pprof/profile?seconds=10)\n", l.Addr(), l.Addr())
	return func() { srv.Close() }, nil
}
