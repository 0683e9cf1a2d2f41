package recipes

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/zarrforge/zarrforge/internal/inputs"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/preflight"
	"github.com/zarrforge/zarrforge/source"
	"github.com/zarrforge/zarrforge/storage"
)

// Check looks at the target — in create mode, a store already there is
// refused before any input is read — then reads the header of the first
// input of each merge position and checks the recipe against it (with the
// preprocess edits applied): every dimension target.chunks names must be
// there or be a concat dimension (which the inputs may lack: a new one). It runs before a pipeline is built,
// so that such mistakes are reported with the recipe field, before anything
// runs or is submitted; the pipeline checks every input again. An input
// that cannot be read is an error naming it.
func (r Recipe) Check(ctx context.Context) error {
	if err := r.Validate(); err != nil {
		return err
	}
	// An existing store in create mode is refused before any input is read.
	_, _, target := r.configs()
	if !r.Target.References() {
		if err := target.Check(ctx); err != nil {
			return r.errorf("target.url", "%s", err)
		}
	}
	ctx, inputs, err := r.firstInputs(ctx)
	if err != nil {
		return err
	}
	edits, _ := r.Preprocess.Edits(r.Pattern.ConcatNames()) // validated above
	var first string
	var headers []plan.InputMeta
	for _, in := range inputs {
		metas, err := r.readHeaders(ctx, in)
		if err != nil {
			return err
		}
		if first == "" {
			first = in.Source
		}
		headers = append(headers, metas...)
	}
	// The dimensions the pipeline will see are those the edits leave.
	names, err := preflight.Check(headers, edits, r.Pattern.ConcatNames(), r.Target.Chunks, r.Target.Shards)
	if err != nil {
		return r.errorf("", "%s", err)
	}
	return r.checkNew(names, scalarNames(headers), first)
}

// scalarNames returns the names of the headers' scalar variables.
func scalarNames(headers []plan.InputMeta) []string {
	var out []string
	for _, h := range headers {
		for _, v := range h.Vars {
			if len(v.Dims) == 0 {
				out = append(out, v.Name)
			}
		}
	}
	return out
}

// checkNew checks that the concat dimensions the inputs lack (names are
// theirs, of the input first) are those the recipe says are new; one the
// inputs hold as a scalar (of scalars: cfgrib's time of a file of one
// forecast run) is concatenated as xarray.concat does, new or not.
// Groups written as nested groups are exempt: a group without a concat
// dimension is written once, from the first input.
func (r Recipe) checkNew(names, scalars []string, first string) error {
	if len(r.Pattern.Groups) > 0 {
		return nil
	}
	for k, c := range r.Pattern.Concats() {
		switch {
		case !slices.Contains(names, c.Name) && !slices.Contains(scalars, c.Name) && !c.New:
			return r.errorf(r.Pattern.concatField(k)+".name", "the inputs have no dimension %q (dimensions of %s: %s); "+
				"to concatenate along a dimension the inputs lack, say new: true", c.Name, first, strings.Join(names, ", "))
		case slices.Contains(names, c.Name) && c.New:
			return r.errorf(r.Pattern.concatField(k)+".new", "the inputs have the dimension %q already (dimensions of %s: %s)",
				c.Name, first, strings.Join(names, ", "))
		}
	}
	return nil
}

// firstInputs returns the inputs at the first position along every concat
// dimension (one per merge position), whose headers Check reads, and ctx
// with the pattern's HTTP retry and auth for reading them.
func (r Recipe) firstInputs(ctx context.Context) (context.Context, []plan.Input, error) {
	e, err := r.Pattern.expand()
	if err != nil {
		return ctx, nil, r.errorf("", "%s", err)
	}
	var inputs []plan.Input
	e.each(0, 1, func(in plan.Input) {
		if !slices.ContainsFunc(in.Index.Concat, func(c int) bool { return c != 0 }) {
			inputs = append(inputs, in)
		}
	})
	return storage.WithHTTPAuth(storage.WithRetry(ctx, r.Pattern.Retry()), r.Pattern.Auth()), inputs, nil
}

// readHeaders reads the header of input in: of the group the recipe
// converts, or of each of its groups.
func (r Recipe) readHeaders(ctx context.Context, in plan.Input) ([]plan.InputMeta, error) {
	f, err := inputs.Locate(ctx, in.URL, "", in.Source)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	groups := []string{r.Pattern.Group}
	if len(r.Pattern.Groups) > 0 {
		groups = r.Pattern.Groups
	}
	if slices.Equal(groups, []string{AllGroups}) {
		if groups, err = f.Groups(ctx); err != nil {
			return nil, err
		}
	}
	var out []plan.InputMeta
	for _, g := range groups {
		if len(r.Pattern.Groups) > 0 {
			g = groupRead(g)
		}
		h, err := preflight.Header(ctx, f, in, source.Options{Group: g, Filter: r.Pattern.Filter()})
		if errors.Is(err, source.ErrNestedGroups) {
			return nil, r.errorf("pattern", "%s; convert one group (pattern.group: a path), or every group as nested Zarr groups (pattern.groups: all)", err)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// Resolve returns the recipe with what it leaves to its inputs filled in,
// as Build needs it: pattern.groups "all" (see ResolveGroups) and, for a
// pattern of one input (Pattern.OneInput) that names no concat dimension,
// the dimension the input stands along — "time" when it has one, else the
// first dimension of its variable with the most. It reads the first
// input's header only when there is something to fill in.
func (r Recipe) Resolve(ctx context.Context) (Recipe, error) {
	r, err := r.ResolveGroups(ctx)
	if err != nil || !r.Pattern.OneInput() || r.Pattern.ConcatDim.Name != "" {
		return r, err
	}
	ctx, firsts, err := r.firstInputs(ctx)
	if err != nil {
		return r, err
	}
	f, err := inputs.Locate(ctx, firsts[0].URL, "", firsts[0].Source)
	if err != nil {
		return r, err
	}
	defer f.Close()
	group := r.Pattern.Group
	if len(r.Pattern.Groups) > 0 {
		group = groupRead(r.Pattern.Groups[0])
	}
	h, err := preflight.Header(ctx, f, firsts[0], source.Options{Group: group, Filter: r.Pattern.Filter()})
	if err != nil {
		return r, err
	}
	dim := alongDim(h.Dims, h.Vars)
	if dim == "" {
		return r, r.errorf("pattern.template", "%s has no dimension to rechunk along", firsts[0].Source)
	}
	r.Pattern.ConcatDim.Name = dim
	return r, nil
}

// alongDim is the dimension one input stands along: "time" when it has
// one, else the first dimension of the variable with the most.
func alongDim(dims []source.Dim, vars []source.Var) string {
	best := ""
	most := 0
	for _, d := range dims {
		if d.Name == "time" {
			return d.Name
		}
	}
	for _, v := range vars {
		if len(v.Dims) > most {
			best, most = v.Dims[0], len(v.Dims)
		}
	}
	return best
}

// ResolveGroups returns the recipe with pattern.groups "all" replaced by
// the paths of the first input's groups ("/" and every group below it), as
// Build needs them; other recipes are returned as they are. It reads the
// first input's header.
func (r Recipe) ResolveGroups(ctx context.Context) (Recipe, error) {
	if !slices.Equal(r.Pattern.Groups, []string{AllGroups}) {
		return r, nil
	}
	ctx, firsts, err := r.firstInputs(ctx)
	if err != nil {
		return r, err
	}
	first := firsts[0]
	f, err := inputs.Locate(ctx, first.URL, "", first.Source)
	if err != nil {
		return r, err
	}
	defer f.Close()
	groups, err := f.Groups(ctx)
	if err != nil {
		return r, err
	}
	r.Pattern.Groups = groups
	return r, nil
}
