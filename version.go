// Package zarrforge is the module's root: its version. The library is in
// its packages: transforms (the Beam stages), recipes (recipe files and the
// composite that wires the stages), and the format packages netcdf, hdf5,
// zarr and kerchunk. See the README.
package zarrforge

// Version is the version of this module, as the CHANGELOG names it.
const Version = "0.6.0"
