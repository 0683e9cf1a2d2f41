// Package preflight checks a conversion against its first inputs' headers
// before a pipeline runs, without Beam: what the stages would refuse only
// once running (a chunk size for a dimension the inputs lack, a preprocess
// edit of a name no input has, a variable no store can hold). The recipe's
// Check and transforms.CheckInputs share it.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/source"
)

// ErrNoDimension is what the error for a chunk or shard size of a
// dimension the inputs lack is (errors.Is).
var ErrNoDimension = errors.New("no such dimension")

// noDimension is that error, saying which.
type noDimension struct{ msg string }

func (e *noDimension) Error() string        { return e.msg }
func (e *noDimension) Is(target error) bool { return target == ErrNoDimension }

// Header reads the header of input in (the group and messages opts
// select: see source.Options), located as l, as it is, before any edit.
func Header(ctx context.Context, l inputs.Located, in plan.Input, opts source.Options) (plan.InputMeta, error) {
	f, err := l.Open(ctx, opts)
	if err != nil {
		return plan.InputMeta{}, err
	}
	return plan.InputMeta{Input: in, Dims: f.Dims(), Vars: f.Vars(), Attrs: f.Attrs()}, nil
}

// Check checks headers (inputs' headers as read, before any edit) against
// the preprocess edits, the concat dimensions (which the inputs may lack: a
// new one) and the chunk and shard sizes per dimension. It returns the
// dimensions the edited inputs have, sorted.
func Check(headers []plan.InputMeta, edits plan.Preprocess, concat []string, chunks, shards map[string]int64) ([]string, error) {
	if err := edits.CheckNames(headers); err != nil {
		return nil, err
	}
	dims := map[string]bool{}
	for _, h := range headers {
		if err := edits.Apply(&h); err != nil {
			return nil, err
		}
		if err := h.CheckStorable(); err != nil {
			return nil, err
		}
		if err := zarrplan.CheckNames(&h); err != nil {
			return nil, err
		}
		for _, d := range h.Dims {
			dims[d.Name] = true
		}
	}
	names := slices.Sorted(maps.Keys(dims))
	first := ""
	if len(headers) > 0 {
		first = headers[0].Input.Source
	}
	for _, sizes := range []struct {
		field string
		m     map[string]int64
	}{{"TargetConfig.Chunks", chunks}, {"TargetConfig.Shards", shards}} {
		for _, d := range slices.Sorted(maps.Keys(sizes.m)) {
			if !dims[d] && !slices.Contains(concat, d) {
				return nil, &noDimension{fmt.Sprintf("%s[%q]: the inputs have no dimension %q (dimensions of %s: %s)",
					sizes.field, d, d, first, strings.Join(names, ", "))}
			}
		}
	}
	return names, nil
}
