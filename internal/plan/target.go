package plan

import (
	"strings"
)

// GroupURL is where the group at path group ("" the root) of the store at
// url is.
func GroupURL(url, group string) string {
	if group == "" {
		return url
	}
	return strings.TrimSuffix(url, "/") + "/" + group
}

// WriteResult reports one chunk object written.
type WriteResult struct {
	Key   ChunkKey
	Bytes int64 // encoded size
}

// Totals sums the write results of a run.
type Totals struct {
	Chunks int64
	Bytes  int64
}

// Add folds one result into t.
func (t Totals) Add(r WriteResult) Totals {
	return Totals{Chunks: t.Chunks + 1, Bytes: t.Bytes + r.Bytes}
}

// Merge sums two totals.
func (t Totals) Merge(o Totals) Totals {
	return Totals{Chunks: t.Chunks + o.Chunks, Bytes: t.Bytes + o.Bytes}
}

// Summary is what a finished recipe reports.
type Summary struct {
	URL    string
	Arrays int
	Chunks int64
	Bytes  int64
}
