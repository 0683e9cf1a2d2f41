// Package hdf5 reads the parts of the HDF5 file format that netCDF-4 files
// (and HDF5 files written for netCDF readers) use, in pure Go: superblocks
// version 0 to 3, object headers version 1 and 2, old- and new-style groups,
// attributes in compact and dense storage, numeric and string datatypes, and
// datasets stored compact, contiguous or chunked (every chunk index) with
// the deflate, shuffle, fletcher32 and zstd filters.
//
// It knows nothing of netCDF conventions: package netcdf maps dimension
// scales and attributes to netCDF's data model on top of it.
//
// Every structure is bounds-checked against the file size, and structures
// with checksums are verified, so corrupt or truncated files give errors
// wrapping ErrFormat, never a panic or an endless loop.
package hdf5

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// ErrFormat is wrapped by errors for input that is not HDF5, or is corrupt
// or truncated.
var ErrFormat = errors.New("not a valid HDF5 file")

// ErrNoSignature is returned by Open for data that does not hold the HDF5
// signature where HDF5 puts it: it is not HDF5 at all.
var ErrNoSignature = fmt.Errorf("no HDF5 signature: %w", ErrFormat)

// ErrUnsupported is wrapped by errors for valid HDF5 features this package
// does not implement.
var ErrUnsupported = errors.New("unsupported HDF5 feature")

// ErrNoValues is wrapped by the errors of reading a dataset with an empty
// (H5S_NULL) dataspace, which has no values to read (it may carry
// attributes); it wraps ErrUnsupported, as netCDF-C cannot read them
// either.
var ErrNoValues = fmt.Errorf("an empty (null) dataspace holds no values: %w", ErrUnsupported)

// ErrTooLarge is wrapped by errors for data larger than the memory the
// reader was given for it (Options.MaxChunk).
var ErrTooLarge = errors.New("larger than the memory budget")

// Signature is the 8-byte HDF5 format signature.
const Signature = "\x89HDF\r\n\x1a\n"

// maxMetadata caps the size of one metadata structure read into memory.
const maxMetadata = 64 << 20

// File is an open HDF5 file. It is safe for concurrent use: reads go
// through the io.ReaderAt, and its only mutable state is the count of bytes
// decoded (Decoded).
type File struct {
	r          io.ReaderAt
	size       int64
	base       uint64 // absolute address that file addresses are relative to
	version    int    // superblock version
	offsetSize int
	lengthSize int
	root       uint64 // object header address of the root group
	maxChunk   uint64 // decoded bytes of one chunk, at most
	decoded    atomic.Int64
}

// Decoded is how many bytes of dataset values the file's reads have
// produced so far: whole chunks for chunked datasets (a chunk is decoded
// whole however little of it a read wants), the bytes read otherwise. Set
// against the bytes the reads asked for, it shows how often a chunk was
// decoded again.
func (f *File) Decoded() int64 { return f.decoded.Load() }

// DefaultMaxChunk is the largest chunk Open's files decode (1 GiB).
const DefaultMaxChunk = 1 << 30

// Options tune OpenWith. The zero value gives Open's defaults.
type Options struct {
	// MaxChunk bounds the decoded size of one chunk, whatever the file
	// declares: a larger chunk is refused before anything is allocated
	// for it (a small file can declare a huge chunk of compressed zeros).
	// 0 means DefaultMaxChunk.
	MaxChunk int64
}

// Open reads the superblock of the HDF5 file behind r (size bytes long).
// The superblock may follow a user block, at offset 0, 512, 1024, 2048, ...
func Open(r io.ReaderAt, size int64) (*File, error) { return OpenWith(r, size, Options{}) }

// OpenWith is Open with options.
func OpenWith(r io.ReaderAt, size int64, opts Options) (*File, error) {
	maxChunk := uint64(DefaultMaxChunk)
	if opts.MaxChunk > 0 {
		maxChunk = uint64(opts.MaxChunk)
	}
	for off := int64(0); off+8 <= size; off = max(512, off*2) {
		var sig [8]byte
		if _, err := r.ReadAt(sig[:], off); err != nil {
			return nil, fmt.Errorf("reading signature at %d: %w (%w)", off, err, ErrFormat)
		}
		if string(sig[:]) == Signature {
			f := &File{r: r, size: size, maxChunk: maxChunk}
			if err := f.readSuperblock(off); err != nil {
				return nil, fmt.Errorf("superblock at %d: %w", off, wrapFormat(err))
			}
			return f, nil
		}
	}
	return nil, ErrNoSignature
}

// wrapFormat marks parse errors as ErrFormat unless they already say what
// they are.
func wrapFormat(err error) error {
	if err == nil || errors.Is(err, ErrFormat) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTooLarge) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, ErrFormat)
}

// SuperblockVersion returns the version of the file's superblock (0 to 3).
func (f *File) SuperblockVersion() int { return f.version }

func (f *File) readSuperblock(off int64) error {
	head := make([]byte, min(f.size-off, 256))
	if _, err := f.r.ReadAt(head, off); err != nil && err != io.EOF {
		return err
	}
	c := &cursor{b: head}
	c.skip(8)
	f.version = int(c.u8())
	switch f.version {
	case 0, 1:
		c.skip(4) // free-space, root symbol table entry and shared header versions, reserved
		f.offsetSize, f.lengthSize = int(c.u8()), int(c.u8())
		c.skip(1 + 2 + 2 + 4) // reserved, group K values, consistency flags
		if f.version == 1 {
			c.skip(4) // indexed storage K, reserved
		}
	case 2, 3:
		f.offsetSize, f.lengthSize = int(c.u8()), int(c.u8())
		c.skip(1) // consistency flags
	default:
		return fmt.Errorf("superblock version %d: %w", f.version, ErrUnsupported)
	}
	if c.err != nil {
		return c.err
	}
	if !validSize(f.offsetSize) || !validSize(f.lengthSize) {
		return fmt.Errorf("size of offsets %d, lengths %d", f.offsetSize, f.lengthSize)
	}
	c.offsetSize, c.lengthSize = f.offsetSize, f.lengthSize
	c.addr() // base address
	if f.version < 2 {
		c.addr() // free-space info
		c.addr() // end of file
		c.addr() // driver info
		c.addr() // root entry: link name offset
		f.root = c.addr()
		c.skip(4 + 4 + 16)
	} else {
		c.addr() // superblock extension
		c.addr() // end of file
		f.root = c.addr()
		end := c.off
		sum := c.u32()
		if c.err == nil && lookup3(head[:end]) != sum {
			return errors.New("checksum mismatch")
		}
	}
	if c.err != nil {
		return c.err
	}
	// Addresses are relative to the superblock, whatever its base address
	// field says (HDF5 does the same for files moved behind a user block).
	f.base = uint64(off)
	return nil
}

func validSize(n int) bool { return n == 2 || n == 4 || n == 8 }

// read returns n bytes at file address addr.
func (f *File) read(addr uint64, n int) ([]byte, error) {
	if f.undefined(addr) {
		return nil, errors.New("undefined address")
	}
	abs := f.base + addr
	if n < 0 || n > maxMetadata || abs < f.base || abs > uint64(f.size) || uint64(n) > uint64(f.size)-abs {
		return nil, fmt.Errorf("%d bytes at address %d: beyond the end of the file (%d bytes): %w", n, addr, f.size, errShort)
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, int64(abs)); err != nil && !(err == io.EOF && n > 0) {
		return nil, fmt.Errorf("reading %d bytes at address %d: %w", n, addr, err)
	}
	return b, nil
}

// readData is read for raw data (no metadata cap; the caller has checked
// that n is sane).
func (f *File) readData(addr uint64, dst []byte) error {
	if f.undefined(addr) {
		return errors.New("undefined address")
	}
	abs := f.base + addr
	if abs < f.base || abs > uint64(f.size) || uint64(len(dst)) > uint64(f.size)-abs {
		return fmt.Errorf("%d bytes at address %d: beyond the end of the file (%d bytes): %w", len(dst), addr, f.size, errShort)
	}
	if _, err := f.r.ReadAt(dst, int64(abs)); err != nil && err != io.EOF {
		return fmt.Errorf("reading %d bytes at address %d: %w", len(dst), addr, err)
	}
	return nil
}

// checked reads a structure of n bytes at addr that starts with signature
// sig and ends with a lookup3 checksum of everything before it.
func (f *File) checked(addr uint64, n int, sig string) ([]byte, error) {
	b, err := f.read(addr, n)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(b, []byte(sig)) {
		return nil, fmt.Errorf("%s at address %d: bad signature %q", sig, addr, b[:min(4, len(b))])
	}
	if err := verify(b); err != nil {
		return nil, fmt.Errorf("%s at address %d: %w", sig, addr, err)
	}
	return b, nil
}

// verify checks the lookup3 checksum in the last 4 bytes of b.
func verify(b []byte) error {
	if len(b) < 4 {
		return errShort
	}
	n := len(b) - 4
	want := uint32(b[n]) | uint32(b[n+1])<<8 | uint32(b[n+2])<<16 | uint32(b[n+3])<<24
	if lookup3(b[:n]) != want {
		return errors.New("checksum mismatch")
	}
	return nil
}
