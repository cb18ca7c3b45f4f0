package lambdarun

import (
	"context"
	"testing"
	"time"

	"github.com/jwtapi/jwtapi/internal/testutil"
)

// BenchmarkInvoke is one invocation through the Runtime API of a warm
// instance: event delivery on GET /next, the handler, POST /response.
func BenchmarkInvoke(b *testing.B) {
	rt := NewRuntime(Options{Logs: &testutil.SyncBuffer{}, BuildDir: b.TempDir(), MaxInstances: 8})
	defer rt.Close()
	dir, _ := moduleDirB()
	f, err := rt.Add(Spec{FunctionName: "GET /public", ModuleDir: dir, Package: "functions/public", Timeout: 10 * time.Second, MemoryMB: 256})
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Warm(context.Background()); err != nil {
		b.Fatal(err)
	}
	event := []byte(`{"version":"2.0","routeKey":"GET /public","rawPath":"/public","requestContext":{"requestId":"x","routeKey":"GET /public"}}`)
	b.Run("sequential", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.Invoke(context.Background(), "id", event); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := f.Invoke(context.Background(), "id", event); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
