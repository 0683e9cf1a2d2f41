package transforms_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/transforms"
)

// failing is a step that fails every chunk: a run that dies in StoreChunks,
// after PrepareTarget claimed the store.
type failing struct{}

func (failing) EditChunk(*transforms.Block) error { return errors.New("this step fails") }

func init() { beam.RegisterType(reflect.TypeOf(failing{})) }

// A program that launches a job and waits for it releases the store a
// failed run left, once the runner says the job is over, so that the next
// run takes it at once instead of after the lease.
func ExampleReleaseTarget() {
	ctx := context.Background()
	target := transforms.TargetConfig{URL: "gs://bucket/sst.zarr", Chunks: map[string]int64{"time": 30}, RunID: "sst-2026-12-06"}
	p, s := beam.NewPipelineWithRoot()
	_ = s // CacheInputs, DetermineSchema, PrepareTarget(s, target, ...), StoreChunks, FinalizeTarget
	if err := beamx.Run(ctx, p); err != nil {
		if _, rerr := transforms.ReleaseTarget(ctx, target.URL, target.RunID); rerr != nil {
			fmt.Println("not released (the next run waits out the lease):", rerr)
		}
		fmt.Println(err)
	}
}

// TestReleaseTarget: on both runners, a store a failed run left is busy to
// the next run while the process that launched it lives, until released;
// releasing another run's store, a released one or a complete one does
// nothing.
func TestReleaseTarget(t *testing.T) {
	ctx := context.Background()
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		url := filepath.Join(t.TempDir(), "out.zarr")
		run := func(id string, steps ...transforms.ChunkEditor) error {
			return beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
				in := beam.CreateList(s, threeDaily())
				schema := transforms.DetermineSchema(s, transforms.SchemaConfig{Concat: []transforms.ConcatDim{{Name: "time"}}}, in)
				prepared := transforms.PrepareTarget(s, transforms.TargetConfig{URL: url, RunID: id}, schema)
				transforms.FinalizeTarget(s, prepared, transforms.StoreChunks(s, transforms.ChunksConfig{Editors: steps}, prepared))
			})
		}
		if err := run("a", failing{}); err == nil {
			t.Fatal("the failing step did not fail the run")
		}
		if err := run("b"); err == nil || !strings.Contains(err.Error(), "busy") {
			t.Fatalf("the next run while the first's launcher lives: %v, want busy", err)
		}
		for _, tc := range []struct {
			run  string
			want bool
		}{{"b", false}, {"a", true}, {"a", false}} {
			if released, err := transforms.ReleaseTarget(ctx, url, tc.run); err != nil || released != tc.want {
				t.Errorf("release of run %s: %v %v, want %v", tc.run, released, err, tc.want)
			}
		}
		if err := run("c"); err != nil {
			t.Fatalf("the next run after the release: %v", err)
		}
		if released, err := transforms.ReleaseTarget(ctx, url, "c"); released || err != nil {
			t.Errorf("a complete store was released: %v %v", released, err)
		}
	})
}
