package recipes

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// strftime formats t as the C library's strftime does with format, for
// the directives pangeo-forge's templates use: %Y %y %m %d %H %M %S %j and
// %%. Text between directives is copied as it is (digits included: a
// template's literal text is never rewritten).
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case '%':
			b.WriteByte('%')
		}
	}
	return b.String()
}

// checkStrftime refuses a format with a directive strftime does not do.
func checkStrftime(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		if i+1 == len(format) || !strings.ContainsRune("YymdHMSj%", rune(format[i+1])) {
			return fmt.Errorf("%q: unsupported strftime directive %q (use %%Y %%y %%m %%d %%H %%M %%S %%j or %%%%)", format, format[i:min(i+2, len(format))])
		}
		i++
	}
	return nil
}
