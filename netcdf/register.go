package netcdf

import (
	"io"

	"github.com/zarrforge/zarrforge/hdf5"
	"github.com/zarrforge/zarrforge/source"
)

// The file types a recipe names netCDF files by.
const (
	fileTypeClassic = "netcdf3"
	fileTypeNC4     = "netcdf4"
)

func init() {
	source.Register(source.Format{
		Name:      "netCDF",
		Signature: "netCDF-3 (CDF) or netCDF-4 (HDF5)",
		FileTypes: []string{fileTypeClassic, fileTypeNC4},
		Match:     match,
		Open:      OpenWith,
		Groups:    Groups,
	})
}

// match reports whether the file behind r starts as a netCDF file does:
// "CDF" for the classic formats, the HDF5 signature at 0, 512, 1024, ...
// for netCDF-4.
func match(r io.ReaderAt, size int64) bool {
	if classic, err := isClassic(r, ""); err == nil && classic {
		return true
	}
	for off := int64(0); off+8 <= size; off = max(512, off*2) {
		var sig [8]byte
		if _, err := r.ReadAt(sig[:], off); err != nil {
			return false
		}
		if string(sig[:]) == hdf5.Signature {
			return true
		}
	}
	return false
}

func (f *classic) FileType() string { return fileTypeClassic }
func (f *nc4) FileType() string     { return fileTypeNC4 }
