// Package grib reads GRIB edition 2 messages in pure Go: their sections,
// the regular latitude-longitude and Gaussian grids (templates 3.0,
// 3.40), the product's parameter, level and times (templates 4.0, 4.1,
// 4.8, 4.11), bitmaps, and data packed simply (5.0), in groups (complex
// packing, 5.2, with spatial differencing, 5.3, and missing value
// management), as PNG (5.41) or with CCSDS adaptive entropy coding (5.42);
// JPEG 2000 (5.40) is refused by name. It knows nothing of Beam or of the
// other formats.
//
// Every length a message declares is checked against the bytes there
// are before it is used, and every count against the grid's size, so a
// damaged or hostile file is an error naming the message and the section,
// never a panic or an allocation it did not pay for.
package grib

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat is wrapped by the errors of bytes that are no GRIB2 message,
// or a damaged one.
var ErrFormat = errors.New("grib: not a valid GRIB2 message")

// ErrUnsupported is wrapped by the errors of messages using a template
// or an edition this package does not read; the error names it.
var ErrUnsupported = errors.New("grib: not supported")

// Field is one field of a message: its sections 1 to 7 (a message may
// hold several fields, sharing the sections before the ones that
// repeat).
type Field struct {
	Discipline int   // section 0: the WMO discipline (0: meteorological products)
	Ident      Ident // section 1
	Grid       Grid  // section 3
	Product    Product
	pack       packing   // section 5
	bitmap     []byte    // section 6: one bit a point, 1 where there is a value; nil: every point
	data       []byte    // section 7
	loc        *location // where Scan found it (nil: Messages returned it, with its data)
}

// Ident is section 1: who made the message, and its reference time.
type Ident struct {
	Centre, SubCentre                     int
	MasterTables, LocalTables             int
	RefTimeSignificance                   int
	Year, Month, Day, Hour, Minute, Sec   int
	ProductionStatus, TypeOfProcessedData int
}

// Messages splits data into its GRIB2 messages and returns their fields
// in order. Bytes between messages (padding, other records) are skipped up
// to the next "GRIB"; an edition-1 message is refused, naming its offset.
func Messages(data []byte) ([]Field, error) {
	var fields []Field
	for at := 0; ; {
		i := bytes.Index(data[at:], []byte("GRIB"))
		if i < 0 {
			break
		}
		at += i
		n, fs, err := message(data[at:])
		if err != nil {
			return nil, fmt.Errorf("message at byte %d: %w", at, err)
		}
		fields = append(fields, fs...)
		at += n
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no GRIB message", ErrFormat)
	}
	return fields, nil
}

// message reads the message at the start of b: its length and fields.
func message(b []byte) (int, []Field, error) {
	if len(b) < 16 {
		return 0, nil, fmt.Errorf("%w: %d bytes, shorter than section 0", ErrFormat, len(b))
	}
	if err := edition(b[7]); err != nil {
		return 0, nil, err
	}
	total := binary.BigEndian.Uint64(b[8:16])
	if total < 16+4 || total > uint64(len(b)) {
		return 0, nil, fmt.Errorf("%w: declares %d bytes, %d there", ErrFormat, total, len(b))
	}
	msg := b[:total]
	if !bytes.Equal(msg[total-4:], []byte("7777")) {
		return 0, nil, fmt.Errorf("%w: no 7777 at its end", ErrFormat)
	}
	read := func(off, n int64) ([]byte, error) { return msg[off : off+n], nil }
	fields, err := walk(int(b[6]), int64(total), read, true)
	return int(total), fields, err
}

// edition refuses editions other than 2.
func edition(e byte) error {
	switch e {
	case 2:
		return nil
	case 1:
		return fmt.Errorf("GRIB edition 1: %w (convert it with grib_set -s edition=2)", ErrUnsupported)
	}
	return fmt.Errorf("%w: edition %d", ErrFormat, e)
}

// walk reads the sections of a message of total bytes (from section 1 to
// the 7777), read(off, n) giving the n bytes at offset off of it, and
// returns its fields. Sections 6 and 7 are read whole when whole is set;
// else only the bitmap indicator is, and the fields hold no data (see
// Scan).
func walk(discipline int, total int64, read func(off, n int64) ([]byte, error), whole bool) ([]Field, error) {
	cur := Field{Discipline: discipline}
	var fields []Field
	for at := int64(16); at < total-4; {
		if total-4-at < 5 {
			return nil, fmt.Errorf("%w: %d bytes before 7777 hold no section", ErrFormat, total-4-at)
		}
		head, err := read(at, 5)
		if err != nil {
			return nil, err
		}
		n, num := int64(binary.BigEndian.Uint32(head)), int(head[4])
		if n < 5 || n > total-4-at {
			return nil, fmt.Errorf("%w: section %d declares %d bytes, %d there", ErrFormat, num, n, total-4-at)
		}
		if !whole && num >= 6 {
			n = min(n, 6)
		}
		sec, err := read(at, n)
		if err != nil {
			return nil, err
		}
		if err := cur.section(num, sec); err != nil {
			return nil, fmt.Errorf("section %d: %w", num, err)
		}
		if num == 7 {
			fields = append(fields, cur)
		}
		at += int64(binary.BigEndian.Uint32(head))
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no data section", ErrFormat)
	}
	return fields, nil
}

// section reads section num (its bytes sec, from its length on) into f.
func (f *Field) section(num int, sec []byte) error {
	switch num {
	case 1:
		return f.Ident.parse(sec)
	case 2: // local use: not read
		return nil
	case 3:
		return f.Grid.parse(sec)
	case 4:
		return f.Product.parse(sec)
	case 5:
		return f.pack.parse(sec)
	case 6:
		return f.parseBitmap(sec)
	case 7:
		f.data = sec[min(5, len(sec)):]
		return nil
	}
	return fmt.Errorf("%w: section number %d", ErrFormat, num)
}

func (id *Ident) parse(s []byte) error {
	if len(s) < 21 {
		return fmt.Errorf("%w: %d bytes", ErrFormat, len(s))
	}
	*id = Ident{
		Centre: int(be16(s[5:])), SubCentre: int(be16(s[7:])), MasterTables: int(s[9]), LocalTables: int(s[10]),
		RefTimeSignificance: int(s[11]), Year: int(be16(s[12:])), Month: int(s[14]), Day: int(s[15]),
		Hour: int(s[16]), Minute: int(s[17]), Sec: int(s[18]), ProductionStatus: int(s[19]), TypeOfProcessedData: int(s[20]),
	}
	return nil
}

// parseBitmap reads section 6: a bitmap (indicator 0), none (255), or the
// one an earlier field of the message defined (254).
func (f *Field) parseBitmap(s []byte) error {
	if len(s) < 6 {
		return fmt.Errorf("%w: %d bytes", ErrFormat, len(s))
	}
	switch s[5] {
	case 0:
		f.bitmap = s[6:]
	case 255:
		f.bitmap = nil
	case 254:
		if f.bitmap == nil {
			return fmt.Errorf("%w: refers to an earlier bitmap, and there is none", ErrFormat)
		}
	default:
		return fmt.Errorf("predefined bitmap %d: %w", s[5], ErrUnsupported)
	}
	return nil
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// signed16 and signed32 read GRIB's sign-and-magnitude integers.
func signed16(b []byte) int {
	v := be16(b)
	if v&0x8000 != 0 {
		return -int(v & 0x7fff)
	}
	return int(v)
}

func signed32(b []byte) int64 {
	v := be32(b)
	if v&0x80000000 != 0 {
		return -int64(v & 0x7fffffff)
	}
	return int64(v)
}
