package zarr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
)

// Attr is one attribute of a group or array.
type Attr struct {
	Key   string
	Value any
}

// Attrs is an ordered attribute list; its JSON keeps the order. Values may
// be string, bool, any Go integer or float type, slices of those, or
// []string. Floats stay floats in JSON (1.0 is written "1.0") and NaN, ±Inf
// are written as the bare tokens NaN, Infinity, -Infinity, as Python's json
// module (and so zarr-python and xarray) writes and reads them.
type Attrs []Attr

// MarshalJSON renders the .zattrs document.
func (a Attrs) MarshalJSON() ([]byte, error) { return a.marshal(false) }

// marshal renders a as a JSON object; with strict, NaN and ±Inf become the
// strings "NaN", "Infinity", "-Infinity", as zarr-python 3 writes them in
// v3 metadata (which must be standard JSON).
func (a Attrs) marshal(strict bool) ([]byte, error) {
	b := jsonWriter{strict: strict}
	b.raw("{")
	for i, at := range a {
		if i > 0 {
			b.raw(",")
		}
		b.key(at.Key)
		b.value(at.Value)
	}
	b.raw("}")
	return b.bytes(), b.err
}

// ParseAttrs reads a .zattrs document. The tokens NaN, Infinity and
// -Infinity are read as float64 values.
func ParseAttrs(data []byte) (map[string]any, error) {
	var out map[string]any
	if err := json.Unmarshal(quoteSpecialFloats(data), &out); err != nil {
		return nil, fmt.Errorf("zarr: .zattrs: %w", err)
	}
	for k, v := range out {
		out[k] = unquoteSpecialFloats(v)
	}
	return out, nil
}

const specialPrefix = "\x00float:"

// quoteSpecialFloats turns the bare tokens NaN, Infinity, -Infinity outside
// strings into marked strings that encoding/json accepts.
func quoteSpecialFloats(data []byte) []byte {
	var out bytes.Buffer
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out.WriteByte(c)
			if c == '\\' && i+1 < len(data) {
				i++
				out.WriteByte(data[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out.WriteByte(c)
			continue
		}
		matched := false
		for _, tok := range []string{"NaN", "Infinity", "-Infinity"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out.WriteString(`"\u0000float:` + tok + `"`)
				i += len(tok) - 1
				matched = true
				break
			}
		}
		if !matched {
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

// unquoteSpecialFloats turns the marked strings quoteSpecialFloats made in
// a decoded JSON value, and any json.Number, into float64s.
func unquoteSpecialFloats(v any) any { return unquote(v, false) }

// unquote turns the marked strings quoteSpecialFloats made in a decoded
// JSON value into float64s and, unless keepNumbers, any json.Number too.
func unquote(v any, keepNumbers bool) any {
	switch x := v.(type) {
	case json.Number:
		if keepNumbers {
			return x
		}
		f, _ := x.Float64()
		return f
	case string:
		switch x {
		case specialPrefix + "NaN":
			return math.NaN()
		case specialPrefix + "Infinity":
			return math.Inf(1)
		case specialPrefix + "-Infinity":
			return math.Inf(-1)
		}
	case []any:
		for i := range x {
			x[i] = unquote(x[i], keepNumbers)
		}
	case map[string]any:
		for k := range x {
			x[k] = unquote(x[k], keepNumbers)
		}
	}
	return v
}

// jsonWriter builds JSON text; the first error sticks.
type jsonWriter struct {
	buf    bytes.Buffer
	err    error
	strict bool // standard JSON: special floats as strings
}

func (w *jsonWriter) raw(s string)  { w.buf.WriteString(s) }
func (w *jsonWriter) bytes() []byte { return w.buf.Bytes() }
func (w *jsonWriter) key(k string)  { w.str(k); w.buf.WriteByte(':') }

// str writes s as a JSON string in ASCII, as Python's json module (and so
// zarr-python) writes it: other characters as \uXXXX escapes (UTF-16
// surrogate pairs beyond the BMP), bytes that are not UTF-8 as U+FFFD.
// zarr-python 2 reads metadata as ASCII and fails on anything else.
func (w *jsonWriter) str(s string) {
	const hex = "0123456789abcdef"
	u := func(r rune) {
		w.buf.WriteString(`\u`)
		for shift := 12; shift >= 0; shift -= 4 {
			w.buf.WriteByte(hex[r>>shift&0xf])
		}
	}
	w.buf.WriteByte('"')
	for _, r := range s { // an invalid byte comes as utf8.RuneError, U+FFFD
		switch {
		case r == '"' || r == '\\':
			w.buf.WriteByte('\\')
			w.buf.WriteRune(r)
		case r == '\n':
			w.buf.WriteString(`\n`)
		case r == '\r':
			w.buf.WriteString(`\r`)
		case r == '\t':
			w.buf.WriteString(`\t`)
		case r < 0x20 || r > 0x7e && r < 0x10000:
			u(r)
		case r >= 0x10000:
			hi, lo := utf16.EncodeRune(r)
			u(hi)
			u(lo)
		default:
			w.buf.WriteRune(r)
		}
	}
	w.buf.WriteByte('"')
}
func (w *jsonWriter) int(v int64)   { w.buf.WriteString(strconv.FormatInt(v, 10)) }
func (w *jsonWriter) uint(v uint64) { w.buf.WriteString(strconv.FormatUint(v, 10)) }
func (w *jsonWriter) float(f float64) {
	var special string
	switch {
	case math.IsNaN(f):
		special = "NaN"
	case math.IsInf(f, 1):
		special = "Infinity"
	case math.IsInf(f, -1):
		special = "-Infinity"
	default:
		w.raw(formatFloat(f))
		return
	}
	if w.strict {
		w.str(special)
	} else {
		w.raw(special)
	}
}

// formatFloat writes the shortest text that reads back as f and that a JSON
// reader takes for a float (always with a '.' or an exponent).
func formatFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !bytes.ContainsAny([]byte(s), ".eE") {
		s += ".0"
	}
	return s
}

func list[T any](w *jsonWriter, xs []T, each func(T)) {
	w.raw("[")
	for i, x := range xs {
		if i > 0 {
			w.raw(",")
		}
		each(x)
	}
	w.raw("]")
}

// value writes an attribute value.
func (w *jsonWriter) value(v any) {
	switch x := v.(type) {
	case nil:
		w.raw("null")
	case string:
		w.str(x)
	case bool:
		w.raw(strconv.FormatBool(x))
	case int:
		w.int(int64(x))
	case int8:
		w.int(int64(x))
	case int16:
		w.int(int64(x))
	case int32:
		w.int(int64(x))
	case int64:
		w.int(x)
	case uint:
		w.uint(uint64(x))
	case uint8:
		w.uint(uint64(x))
	case uint16:
		w.uint(uint64(x))
	case uint32:
		w.uint(uint64(x))
	case uint64:
		w.uint(x)
	case float32:
		w.float(float64(x))
	case float64:
		w.float(x)
	case []string:
		list(w, x, w.str)
	case []bool:
		list(w, x, func(b bool) { w.value(b) })
	case []int:
		list(w, x, func(i int) { w.int(int64(i)) })
	case []int8:
		list(w, x, func(i int8) { w.int(int64(i)) })
	case []int16:
		list(w, x, func(i int16) { w.int(int64(i)) })
	case []int32:
		list(w, x, func(i int32) { w.int(int64(i)) })
	case []int64:
		list(w, x, w.int)
	case []uint8:
		list(w, x, func(i uint8) { w.uint(uint64(i)) })
	case []uint16:
		list(w, x, func(i uint16) { w.uint(uint64(i)) })
	case []uint32:
		list(w, x, func(i uint32) { w.uint(uint64(i)) })
	case []uint64:
		list(w, x, w.uint)
	case []float32:
		list(w, x, func(f float32) { w.float(float64(f)) })
	case []float64:
		list(w, x, w.float)
	default:
		if w.err == nil {
			w.err = fmt.Errorf("zarr: attribute value of Go type %T cannot be written", v)
		}
		w.raw("null")
	}
}

// fill writes a fill_value as the Zarr v2 spec says: null, an integer, a
// float with "NaN"/"Infinity"/"-Infinity" as strings, or base64 bytes for
// "|S" types.
func (w *jsonWriter) fill(v any, dt DType) error {
	switch x := v.(type) {
	case nil:
		w.raw("null")
	case int64:
		if dt.kind() == 'f' {
			w.raw(formatFloat(float64(x)))
		} else {
			w.int(x)
		}
	case uint64:
		w.uint(x)
	case float64:
		switch {
		case math.IsNaN(x):
			w.str("NaN")
		case math.IsInf(x, 1):
			w.str("Infinity")
		case math.IsInf(x, -1):
			w.str("-Infinity")
		case dt.kind() == 'f':
			w.raw(formatFloat(x))
		case x == math.Trunc(x):
			w.int(int64(x))
		default:
			return fmt.Errorf("zarr: fill value %v does not fit dtype %s", x, dt)
		}
	case string:
		b, _ := json.Marshal([]byte(x)) // base64
		w.buf.Write(b)
	default:
		return fmt.Errorf("zarr: fill value of Go type %T", v)
	}
	return nil
}

func parseFill(raw json.RawMessage, dt DType) (any, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return nil, nil
	}
	switch s {
	case `"NaN"`:
		return math.NaN(), nil
	case `"Infinity"`:
		return math.Inf(1), nil
	case `"-Infinity"`:
		return math.Inf(-1), nil
	}
	if dt.kind() == 'S' {
		var b []byte
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("zarr: fill_value %s: %w", s, err)
		}
		return string(b), nil
	}
	if dt.kind() == 'f' {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("zarr: fill_value %s: %w", s, err)
		}
		return f, nil
	}
	if dt.kind() == 'u' {
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("zarr: fill_value %s: %w", s, err)
		}
		return u, nil
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("zarr: fill_value %s: %w", s, err)
	}
	return i, nil
}
