package source

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Objects is an input that is a set of objects under one root — a Zarr
// store — rather than one file: keys are slash-separated paths below the
// root. storage.Store satisfies it.
type Objects interface {
	// Get returns the whole object at key; a missing one gives an error
	// wrapping fs.ErrNotExist.
	Get(ctx context.Context, key string) ([]byte, error)
	// Open streams the whole object at key, to copy it as it is; a
	// missing one gives an error wrapping fs.ErrNotExist.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns every key under prefix, sorted; locations that cannot
	// be listed (HTTP) give an error.
	List(ctx context.Context, prefix string) ([]string, error)
}

// StoreFormat is a format of inputs that are sets of objects, registered
// beside the file formats (see Register).
type StoreFormat struct {
	// Name, Signature and FileTypes are as Format's.
	Name      string
	Signature string
	FileTypes []string
	// Match reports whether the objects are a store of the format: a few
	// small reads of well-known keys.
	Match func(ctx context.Context, o Objects) bool
	// Open opens a store that Match accepted; its reads use ctx.
	Open func(ctx context.Context, o Objects, name string, opts Options) (Reader, error)
	// Groups lists the paths of a store's groups, "/" first.
	Groups func(ctx context.Context, o Objects, name string) ([]string, error)
}

// RegisterStore makes a store format known to OpenStore. Format packages
// call it from an init function.
func RegisterStore(f StoreFormat) {
	registry.Lock()
	defer registry.Unlock()
	registry.stores = append(registry.stores, f)
}

// sniffStore returns the registered store format of o.
func sniffStore(ctx context.Context, o Objects, name string) (StoreFormat, error) {
	registry.RLock()
	formats := slices.Clone(registry.stores)
	registry.RUnlock()
	var sigs []string
	for _, f := range formats {
		if f.Match(ctx, o) {
			return f, nil
		}
		sigs = append(sigs, f.Signature)
	}
	if len(sigs) == 0 {
		sigs = []string{"any store format (none is registered: import a format package)"}
	}
	return StoreFormat{}, fmt.Errorf("%s: not an input zarrforge reads: neither a file nor a store with the metadata of %s (%w)",
		name, strings.Join(sigs, " or "), ErrFormat)
}

// IsStore reports whether o holds a store of a registered format.
func IsStore(ctx context.Context, o Objects) bool {
	_, err := sniffStore(ctx, o, "")
	return err == nil
}

// OpenStore sniffs the store o (name is for messages: its URL) and opens
// it with the registered format it is; its reads use ctx.
func OpenStore(ctx context.Context, o Objects, name string, opts Options) (Reader, error) {
	f, err := sniffStore(ctx, o, name)
	if err != nil {
		return nil, err
	}
	if err := checkFilter(opts.Filter, f.Name, nil); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f.Open(ctx, o, name, opts)
}

// StoreGroups returns the paths of the groups of the store o: "/" first.
func StoreGroups(ctx context.Context, o Objects, name string) ([]string, error) {
	f, err := sniffStore(ctx, o, name)
	if err != nil {
		return nil, err
	}
	return f.Groups(ctx, o, name)
}
