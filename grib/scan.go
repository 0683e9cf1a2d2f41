package grib

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrTooLarge is wrapped by the errors of messages longer than the
// caller allows.
var ErrTooLarge = errors.New("grib: message larger than allowed")

// location is where a field Scan found lies: its message's offset and
// length in the file, and which field of the message it is.
type location struct {
	offset, length int64
	index          int
}

// Scan reads the sections of every message of the file behind r (size
// bytes) but their bitmaps and data, and returns the fields: their
// metadata, which Load decodes later. A message longer than maxMessage
// bytes is refused (ErrTooLarge) before it is read. Bytes between
// messages are skipped up to the next "GRIB"; an edition-1 message is
// refused.
func Scan(r io.ReaderAt, size, maxMessage int64) ([]Field, error) {
	var fields []Field
	for at := int64(0); at < size; {
		start, err := next(r, at, size)
		if err != nil || start < 0 {
			return fields, noFields(fields, err)
		}
		fs, n, err := scanMessage(r, start, size, maxMessage)
		if err != nil {
			return nil, fmt.Errorf("message at byte %d: %w", start, err)
		}
		fields = append(fields, fs...)
		at = start + n
	}
	return fields, noFields(fields, nil)
}

func noFields(fields []Field, err error) error {
	if err == nil && len(fields) == 0 {
		return fmt.Errorf("%w: no GRIB message", ErrFormat)
	}
	return err
}

// next returns the offset of the next "GRIB" at or after at (-1: none):
// at itself when messages follow one another, as they mostly do.
func next(r io.ReaderAt, at, size int64) (int64, error) {
	const window = 64 << 10
	for ; at < size; at += window - 3 {
		buf := make([]byte, min(window, size-at))
		if _, err := r.ReadAt(buf, at); err != nil && err != io.EOF {
			return -1, err
		}
		if i := bytes.Index(buf, []byte("GRIB")); i >= 0 {
			return at + int64(i), nil
		}
		if len(buf) < window {
			break
		}
	}
	return -1, nil
}

// scanMessage reads the message at start: its fields (without data) and
// its length. The first 4 KiB, where sections 0 to 5 mostly lie, are
// read at once.
func scanMessage(r io.ReaderAt, start, size, maxMessage int64) ([]Field, int64, error) {
	head := make([]byte, min(4096, size-start))
	if _, err := r.ReadAt(head, start); err != nil && err != io.EOF {
		return nil, 0, err
	}
	if len(head) < 16 {
		return nil, 0, fmt.Errorf("%w: %d bytes, shorter than section 0", ErrFormat, len(head))
	}
	if err := edition(head[7]); err != nil {
		return nil, 0, err
	}
	total := int64(binary.BigEndian.Uint64(head[8:16]))
	switch {
	case total < 20 || total > size-start:
		return nil, 0, fmt.Errorf("%w: declares %d bytes, %d there", ErrFormat, total, size-start)
	case total > maxMessage:
		return nil, 0, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, total, maxMessage)
	}
	read := func(off, n int64) ([]byte, error) {
		if off+n <= int64(len(head)) {
			return head[off : off+n], nil
		}
		b := make([]byte, n)
		_, err := r.ReadAt(b, start+off)
		return b, err
	}
	// The end marker is checked here when the head holds it, else when
	// the field is loaded: one ranged read a message, not two.
	if total <= int64(len(head)) && string(head[total-4:total]) != "7777" {
		return nil, 0, fmt.Errorf("%w: no 7777 at its end", ErrFormat)
	}
	fields, err := walk(int(head[6]), total, read, false)
	if err != nil {
		return nil, 0, err
	}
	for i := range fields {
		fields[i].data, fields[i].loc = nil, &location{offset: start, length: total, index: i}
	}
	return fields, total, nil
}

// Load decodes a field Scan found, reading its message from r again: its
// values as Values gives them.
func (f *Field) Load(r io.ReaderAt) ([]float32, error) {
	if f.loc == nil {
		return f.Values()
	}
	b := make([]byte, f.loc.length)
	if _, err := r.ReadAt(b, f.loc.offset); err != nil && err != io.EOF {
		return nil, fmt.Errorf("message at byte %d: %w", f.loc.offset, err)
	}
	_, fields, err := message(b)
	if err == nil && len(fields) <= f.loc.index {
		err = fmt.Errorf("%w: changed since it was scanned", ErrFormat)
	}
	if err != nil {
		return nil, fmt.Errorf("message at byte %d: %w", f.loc.offset, err)
	}
	v, err := fields[f.loc.index].Values()
	if err != nil {
		return nil, fmt.Errorf("message at byte %d: %w", f.loc.offset, err)
	}
	return v, nil
}

// Offset is the byte offset of the message f is a field of, in the file
// Scan read (-1 for fields Messages returned).
func (f *Field) Offset() int64 {
	if f.loc == nil {
		return -1
	}
	return f.loc.offset
}
