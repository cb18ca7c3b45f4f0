package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jwtapi/jwtapi/internal/gobuild"
)

// watchEvery is how often the app's inputs are checked for changes.
const watchEvery = time.Second

// watchApp synthesizes the app again when its stack code or cdk.json
// changes, and serves the new routes without a restart. A failed synth
// keeps the routes served and is printed once, until the inputs change
// again. Handler edits need nothing of this: handlers are rebuilt on the
// next request.
func (s *server) watchApp(ctx context.Context) {
	tick := time.NewTicker(watchEvery)
	defer tick.Stop()
	lastFailed := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		st, ok := s.p.readStamp()
		if !ok {
			continue
		}
		what := st.changed()
		fp := gobuild.Fingerprint(st.Inputs)
		if what == "" || fp == lastFailed {
			continue
		}
		fmt.Fprintf(s.logs, "jwtapi: %s changed; synthesizing again...\n", what)
		if err := s.p.synth(ctx, s.logs); err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(s.logs, "jwtapi: %v\njwtapi: still serving the routes of the last good synth; fix the app and save again\n", err)
			}
			lastFailed = fp
			continue
		}
		lastFailed = ""
		apis, err := loadAPIs(s.p, s.f.stacks, s.f.stage)
		var changes []string
		if err == nil {
			changes, err = s.reload(apis)
		}
		switch {
		case err != nil:
			fmt.Fprintf(s.logs, "jwtapi: the new synth cannot be served: %v\njwtapi: still serving the routes of the last good synth\n", err)
		case len(changes) == 0:
			fmt.Fprintln(s.logs, "jwtapi: reloaded; no route changed")
		default:
			fmt.Fprintf(s.logs, "jwtapi: reloaded: %s\n", strings.Join(changes, "; "))
		}
	}
}
