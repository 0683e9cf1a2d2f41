package transforms

import (
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/fileio"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/zarrforge/zarrforge/storage"
)

func init() {
	register.DoFn1x2[fileio.FileMetadata, int, string](&fileKeyFn{})
	register.DoFn3x0[int, func(*string) bool, func(Input)](&sortedInputsFn{})
	register.Iter1[string]()
	register.Emitter1[Input]()
}

// InputsFromURLs returns the inputs at urls (paths, file://, gs:// or
// http(s):// URLs), in that order along one concat dimension: what
// CacheInputs and DetermineSchema take. A URL's secrets (a query token)
// stay out of the name the stages report it by (Input.Source).
func InputsFromURLs(s beam.Scope, urls []string) beam.PCollection {
	s = s.Scope("transforms.InputsFromURLs")
	ins := make([]Input, len(urls))
	for i, u := range urls {
		ins[i] = Input{Index: Index{Concat: []int{i}}, Source: storage.Redact(u), URL: u}
	}
	return beam.CreateList(s, ins)
}

// InputsFromFiles turns what Beam's fileio.MatchFiles found (a PCollection
// of fileio.FileMetadata) into inputs along one concat dimension, in the
// order of their paths (daily files named by date concatenate in time).
func InputsFromFiles(s beam.Scope, files beam.PCollection) beam.PCollection {
	s = s.Scope("transforms.InputsFromFiles")
	keyed := beam.ParDo(s, &fileKeyFn{}, files)
	return beam.ParDo(s, &sortedInputsFn{}, beam.GroupByKey(s, keyed))
}

// fileKeyFn keys every file's path alike, so that one element sees them
// all to order them.
type fileKeyFn struct{}

func (fileKeyFn) ProcessElement(f fileio.FileMetadata) (int, string) { return 0, f.Path }

// sortedInputsFn emits the paths as inputs, sorted.
type sortedInputsFn struct{}

func (sortedInputsFn) ProcessElement(_ int, paths func(*string) bool, emit func(Input)) {
	var all []string
	var p string
	for paths(&p) {
		all = append(all, p)
	}
	slices.Sort(all)
	for i, p := range slices.Compact(all) {
		emit(Input{Index: Index{Concat: []int{i}}, Source: storage.Redact(p), URL: p})
	}
}
