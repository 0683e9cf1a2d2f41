package source

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Format is a format's entry in the registry.
type Format struct {
	// Name names the format in messages ("netCDF").
	Name string
	// Signature says what Match looks for, in messages about inputs no
	// format matched ("netCDF-3 (CDF) or netCDF-4 (HDF5)").
	Signature string
	// FileTypes are the file types a recipe may name the format by
	// ("netcdf3", "netcdf4"): what Reader.FileType returns.
	FileTypes []string
	// Match reports whether the input behind r (size bytes) is of the
	// format, from its signature: a few small reads.
	Match func(r io.ReaderAt, size int64) bool
	// Open opens an input that Match accepted; name is for messages.
	Open func(r io.ReaderAt, size int64, name string, opts Options) (Reader, error)
	// Groups lists the paths of an input's groups, "/" first, each a path
	// Options.Group takes.
	Groups func(r io.ReaderAt, size int64, name string) ([]string, error)
	// FilterKeys are the keys Options.Filter may name for the format's
	// inputs (GRIB's "shortName", "typeOfLevel", ...); none for formats
	// that hold one dataset, which refuse a filter.
	FilterKeys []string
}

// registry holds the formats registered, written only by Register from
// format packages' init functions.
var registry struct {
	sync.RWMutex
	formats []Format
	stores  []StoreFormat
}

// Register makes a format known to Open. Format packages call it from an
// init function.
func Register(f Format) {
	registry.Lock()
	defer registry.Unlock()
	registry.formats = append(registry.formats, f)
}

// FileTypes returns the file types of every format registered, sorted.
func FileTypes() []string {
	registry.RLock()
	defer registry.RUnlock()
	var out []string
	for _, f := range registry.formats {
		out = append(out, f.FileTypes...)
	}
	for _, f := range registry.stores {
		out = append(out, f.FileTypes...)
	}
	slices.Sort(out)
	return out
}

// sniff returns the registered format of the input behind r.
func sniff(r io.ReaderAt, size int64, name string) (Format, error) {
	registry.RLock()
	formats := slices.Clone(registry.formats)
	registry.RUnlock()
	var sigs []string
	for _, f := range formats {
		if f.Match(r, size) {
			return f, nil
		}
		sigs = append(sigs, f.Signature)
	}
	// The first bytes in hex, and only 4: enough to tell a format by, too
	// few to quote a secret from a file that is not an input.
	var start [4]byte
	n, _ := r.ReadAt(start[:], 0)
	if len(sigs) == 0 {
		sigs = []string{"any format (none is registered: import a format package)"}
	}
	return Format{}, fmt.Errorf("%s: not an input zarrforge reads: it starts with the bytes % x, not the signature of %s (%w)",
		name, start[:n], strings.Join(sigs, " or "), ErrFormat)
}

// IsFile reports whether the input behind r is a file of a registered
// format.
func IsFile(r io.ReaderAt, size int64) bool {
	_, err := sniff(r, size, "")
	return err == nil
}

// Open sniffs the input behind r (size bytes long; name is used in messages
// only: a path or URL) and opens it with the registered format it is.
func Open(r io.ReaderAt, size int64, name string, opts Options) (Reader, error) {
	f, err := sniff(r, size, name)
	if err != nil {
		return nil, err
	}
	if err := checkFilter(opts.Filter, f.Name, f.FilterKeys); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f.Open(r, size, name, opts)
}

// CheckFilter checks the keys of a filter (Options.Filter) against those
// the registered formats know.
func CheckFilter(filter map[string]string) error {
	registry.RLock()
	var keys, names []string
	for _, f := range registry.formats {
		if len(f.FilterKeys) > 0 {
			keys, names = append(keys, f.FilterKeys...), append(names, f.Name)
		}
	}
	registry.RUnlock()
	return checkFilter(filter, strings.Join(names, " or "), keys)
}

// checkFilter checks filter's keys against keys, those of format.
func checkFilter(filter map[string]string, format string, keys []string) error {
	if len(filter) == 0 {
		return nil
	}
	if len(keys) == 0 {
		return fmt.Errorf("a filter of messages (filter_by_keys) is for GRIB files; %s inputs hold one dataset: %w", format, ErrUnsupported)
	}
	for _, k := range slices.Sorted(maps.Keys(filter)) {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("filter key %q: %s inputs are filtered by %s: %w", k, format, strings.Join(keys, ", "), ErrUnsupported)
		}
	}
	return nil
}

// Groups returns the paths of the groups of the input behind r: "/" for the
// root first, then the others depth first (see Options.Group).
func Groups(r io.ReaderAt, size int64, name string) ([]string, error) {
	f, err := sniff(r, size, name)
	if err != nil {
		return nil, err
	}
	return f.Groups(r, size, name)
}
