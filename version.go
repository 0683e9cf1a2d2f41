// Package zarrforge is the module's root: its version. The library is in
// its packages: transforms (the Beam stages), recipes (recipe files and the
// composite that wires the stages), source (the seam every input format
// reads through) and the format packages netcdf, hdf5, zarr and kerchunk.
// See the README.
package zarrforge

// Version is the version of this module, as the CHANGELOG names it: the
// heading of its newest section (a "-dev" version while that section is
// unreleased). Stores record it in their provenance attributes.
const Version = "0.7.0-dev"
