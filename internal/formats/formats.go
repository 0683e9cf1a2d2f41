// Package formats registers every input format zarrforge reads with the
// source package: importing it (for its side effects) is what makes
// source.Open know them. It is the one place that lists the readers.
package formats

import (
	// netCDF-3 and netCDF-4 files.
	_ "github.com/zarrforge/zarrforge/netcdf"
	// Zarr v2 and v3 stores.
	_ "github.com/zarrforge/zarrforge/zarr"
	// kerchunk reference sets (version 1 JSON), read as the stores they describe.
	_ "github.com/zarrforge/zarrforge/kerchunk"
	// GRIB2 files, read as cfgrib reads them.
	_ "github.com/zarrforge/zarrforge/grib"
)
