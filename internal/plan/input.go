// Package plan holds the values that flow between the stages of a recipe —
// the inputs, the merged dataset schema, chunk keys and write results — and
// the index arithmetic between them (which inputs a target chunk needs).
// It knows nothing of Beam, nor of any format: inputs are described in the
// source package's terms, and what a Zarr store makes of the dataset (the
// prepared target, array metadata) is package zarrplan's.
package plan

import "fmt"

// Index locates one input of a file pattern: its position along each
// concat dimension and along each merge dimension (each in the order the
// dimensions were declared).
type Index struct {
	Concat []int
	Merge  []int
}

// String renders the index without dimension names: "c3", "c3.0" (two
// concat dimensions) or "c3/m1.0" (two merge dimensions).
func (ix Index) String() string {
	s := "c"
	for i, c := range ix.Concat {
		if i > 0 {
			s += "."
		}
		s += fmt.Sprint(c)
	}
	for i, m := range ix.Merge {
		if i == 0 {
			s += "/m"
		} else {
			s += "."
		}
		s += fmt.Sprint(m)
	}
	return s
}

// Input is one file of a recipe: where it sits in the pattern and where its
// bytes are. URL is where the stages read it from (after CacheInputs, the
// cached copy); Source is the URL the pattern named, kept for messages.
// Version, set by the schema stage, is the version of URL it read (see
// storage.Reader.Version): the chunk stage reads that version or fails, so
// a source replaced mid-run cannot mix its old coordinate with new data.
type Input struct {
	Index   Index
	Source  string
	URL     string
	Version string
}
