package transforms_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/storage"
	"github.com/zarrforge/zarrforge/storage/storagetest"
	"github.com/zarrforge/zarrforge/transforms"
)

// flakyServer serves the daily fixtures; the first GET of each file answers
// 503 and the second GET of daily_01.nc breaks off mid-body.
func flakyServer(t *testing.T) string {
	var mu sync.Mutex
	gets := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := filepath.Base(r.URL.Path)
		body, err := os.ReadFile(fixture("daily", name))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		if r.Method == http.MethodGet {
			gets[name]++
		}
		n := gets[name]
		mu.Unlock()
		switch {
		case r.Method == http.MethodGet && n == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		case r.Method == http.MethodGet && n == 2 && name == "daily_01.nc" && r.Header.Get("Range") == "":
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write(body[:len(body)/2])
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.(*net.TCPConn).SetLinger(0)
			conn.Close()
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func remoteDaily(base string) []plan.Input {
	var in []plan.Input
	for i := range 3 {
		u := base + "/daily_0" + strconv.Itoa(i) + ".nc"
		in = append(in, plan.Input{Index: plan.Index{Concat: []int{i}}, Source: u, URL: u})
	}
	return in
}

// storeFiles returns every object of a store but its run marker.
func storeFiles(t *testing.T, url string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	st, err := storage.NewStore(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, k := range keys {
		if k == ".zarrforge.json" {
			continue
		}
		if out[k], err = st.Get(ctx, k); err != nil {
			t.Fatal(err)
		}
		out[k] = beamtest.SameInputs(out[k])
	}
	return out
}

func sameStore(t *testing.T, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("store has %d objects, the reference %d", len(got), len(want))
	}
	for k, w := range want {
		if !bytes.Equal(got[k], w) {
			t.Fatalf("object %s differs from the reference store's", k)
		}
	}
}

// referenceStore writes the three daily inputs from local files.
func referenceStore(t *testing.T, runner string) map[string][]byte {
	target := dailyTarget(t)
	err := beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
		passert.True(s, pipeline(s, threeDaily(), "", target), dailySummaryOK)
	})
	if err != nil {
		t.Fatal(err)
	}
	return storeFiles(t, target.URL)
}

// TestRemoteInputs reads inputs from an HTTP server that fails now and
// then, through the cache and in place: the stores equal the one made from
// local files, the cached copies are whole, and a warm cache fetches
// nothing.
func TestRemoteInputs(t *testing.T) {
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		want := referenceStore(t, runner)
		for _, cached := range []bool{true, false} {
			base := flakyServer(t)
			cache := ""
			if cached {
				cache = t.TempDir()
			}
			target := dailyTarget(t)
			counters, err := beamtest.RunWithMetrics(t, runner, "zarrforge", func(t *testing.T, s beam.Scope) {
				passert.True(s, pipeline(s, remoteDaily(base), cache, target), dailySummaryOK)
			})
			if err != nil {
				t.Fatalf("cache %v: %v", cached, err)
			}
			sameStore(t, storeFiles(t, target.URL), want)
			if counters["input_retries"] < 3 {
				t.Errorf("cache %v: %d retries counted, want at least 3", cached, counters["input_retries"])
			}
			if !cached {
				continue
			}
			for _, in := range remoteDaily(base) {
				got, _ := os.ReadFile(filepath.Join(cache, transforms.CacheName(in.URL)))
				src, _ := os.ReadFile(fixture("daily", filepath.Base(in.Source)))
				if !bytes.Equal(got, src) {
					t.Errorf("cached copy of %s is not the file", in.Source)
				}
			}
			if counters["inputs_cached"] != 3 {
				t.Errorf("inputs_cached = %d, want 3", counters["inputs_cached"])
			}
			// Warm cache: nothing is fetched again.
			target = dailyTarget(t)
			counters, err = beamtest.RunWithMetrics(t, runner, "zarrforge", func(t *testing.T, s beam.Scope) {
				passert.True(s, pipeline(s, remoteDaily(base), cache, target), dailySummaryOK)
			})
			if err != nil {
				t.Fatal(err)
			}
			if counters["inputs_cached"] != 0 || counters["inputs_cache_hits"] != 3 || counters["input_bytes_cached"] != 0 {
				t.Errorf("warm cache: counters %v, want 0 copied and 3 hits", counters)
			}
			sameStore(t, storeFiles(t, target.URL), want)
		}
	})
}

// TestMissingRemoteInput fails at once, naming the URL.
func TestMissingRemoteInput(t *testing.T) {
	base := flakyServer(t)
	in := remoteDaily(base)
	in[1].URL = base + "/nope.nc"
	in[1].Source = in[1].URL
	err := beamtest.RunOn(t, "direct", func(t *testing.T, s beam.Scope) {
		pipeline(s, in, t.TempDir(), dailyTarget(t))
	})
	if err == nil || !strings.Contains(err.Error(), base+"/nope.nc") || !strings.Contains(err.Error(), "404") {
		t.Fatalf("got %v, want a 404 naming the URL", err)
	}
}

// TestGCS puts the cache and the target in a (fake) Cloud Storage bucket,
// through the real client: the store equals the local one.
func TestGCS(t *testing.T) {
	inBucket(t, storagetest.FakeGCS(t, "zarrforge-pipeline"), threeDaily())
}

// TestS3 puts the inputs, the cache and the target in a bucket of an
// S3-compatible server (versitygw), through the AWS SDK: the store equals
// the local one.
func TestS3(t *testing.T) {
	bucket, _ := storagetest.S3(t, "zarrforge-pipeline")
	ctx := context.Background()
	st, err := storage.NewStore(ctx, bucket+"/inputs")
	if err != nil {
		t.Fatal(err)
	}
	in := threeDaily()
	for i := range in {
		b, err := os.ReadFile(in[i].URL)
		if err != nil {
			t.Fatal(err)
		}
		in[i].URL = bucket + "/inputs/" + filepath.Base(in[i].URL)
		if err := st.Put(ctx, filepath.Base(in[i].URL), b); err != nil {
			t.Fatal(err)
		}
	}
	inBucket(t, bucket, in)
}

// inBucket converts in through a cache and into a target in bucket, on
// both runners, and compares the store with the local one.
func inBucket(t *testing.T, bucket string, in []plan.Input) {
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		want := referenceStore(t, runner)
		target := dailyTarget(t)
		target.URL = bucket + "/" + runner + "/out.zarr"
		cache := bucket + "/" + runner + "/cache"
		err := beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) {
			passert.True(s, pipeline(s, in, cache, target), dailySummaryOK)
		})
		if err != nil {
			t.Fatal(err)
		}
		sameStore(t, storeFiles(t, target.URL), want)
		for i, in := range in {
			n, err := storage.Stat(context.Background(), storage.Join(cache, transforms.CacheName(in.URL)))
			st, _ := os.Stat(threeDaily()[i].URL)
			if err != nil || n != st.Size() {
				t.Errorf("cached %s: %d bytes, %v", in.Source, n, err)
			}
		}
	})
}

// BenchmarkSlowServer converts the eight daily fixtures from an HTTP server
// that answers every request after 50 ms, through the cache and in place,
// on the direct runner (one worker): the time is mostly waiting, and shows
// how many requests the stages keep going at once.
//
//	go test ./transforms -run XXX -bench SlowServer -benchtime 3x
func BenchmarkSlowServer(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(50 * time.Millisecond)
		http.ServeFile(w, r, fixture("daily", filepath.Base(r.URL.Path)))
	}))
	b.Cleanup(srv.Close)
	var in []plan.Input
	for i := range 8 {
		u := srv.URL + "/daily_0" + strconv.Itoa(i) + ".nc"
		in = append(in, plan.Input{Index: plan.Index{Concat: []int{i}}, Source: u, URL: u})
	}
	for _, cached := range []bool{true, false} {
		b.Run(map[bool]string{true: "cached", false: "in-place"}[cached], func(b *testing.B) {
			for b.Loop() {
				cache := ""
				if cached {
					cache = b.TempDir()
				}
				target := transforms.TargetConfig{URL: filepath.Join(b.TempDir(), "out.zarr"),
					Chunks: map[string]int64{"time": 2, "lat": 4}, Compressor: "zstd"}
				p, s := beam.NewPipelineWithRoot()
				pipeline(s, in, cache, target)
				if _, err := beam.Run(context.Background(), "direct", p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
