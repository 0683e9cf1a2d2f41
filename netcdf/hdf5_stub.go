package netcdf

import (
	"fmt"
	"io"
)

// openHDF5 is replaced by the netCDF-4 backend.
func openHDF5(r io.ReaderAt, size int64, name string) (File, error) {
	return nil, fmt.Errorf("netcdf: %s: not a netCDF classic file and netCDF-4 is not supported yet: %w", name, ErrFormat)
}
