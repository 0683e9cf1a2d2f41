package grib

import (
	"fmt"
	"math"
	"slices"
)

// MaxPoints bounds the points of a grid: no field is larger (a message
// declaring more is refused before anything is allocated for it).
const MaxPoints = 1 << 28

// Grid is section 3 for the regular latitude-longitude grid (template
// 3.0) and the regular Gaussian grid (3.40): Ni points along a parallel,
// Nj along a meridian, the first and last points and the increments in
// degrees (for 3.40, N: the parallels between a pole and the equator,
// instead of DLat), and the scanning mode (flag table 3.4).
type Grid struct {
	Template     int
	Points       int
	Ni, Nj       int
	Lat1, Lon1   float64
	Lat2, Lon2   float64
	DLat, DLon   float64
	N            int
	ScanningMode int
	ShapeOfEarth int
}

// MaxGaussianN is the largest Gaussian grid read (ECMWF's finest
// operational grids are N = 1280 and 2560).
const MaxGaussianN = 8192

func (g *Grid) parse(s []byte) error {
	if len(s) < 14 {
		return fmt.Errorf("%w: %d bytes", ErrFormat, len(s))
	}
	g.Template = int(be16(s[12:]))
	g.Points = int(be32(s[6:]))
	if s[5] != 0 || s[10] != 0 {
		return fmt.Errorf("a grid not given by a template, or with a list of points per row: %w", ErrUnsupported)
	}
	if g.Template != 0 && g.Template != 40 {
		return fmt.Errorf("grid definition template 3.%d: %w (regular latitude-longitude, 3.0, and regular Gaussian, 3.40, are read)", g.Template, ErrUnsupported)
	}
	if len(s) < 72 {
		return fmt.Errorf("%w: template 3.0 in %d bytes", ErrFormat, len(s))
	}
	g.ShapeOfEarth = int(s[14])
	g.Ni, g.Nj = int(be32(s[30:])), int(be32(s[34:]))
	if basic, sub := be32(s[38:]), be32(s[42:]); basic != 0 && basic != 0xffffffff || sub != 0 && sub != 0xffffffff {
		return fmt.Errorf("a basic angle of %d/%d: %w", basic, sub, ErrUnsupported)
	}
	const perDegree = 1e6 // micro-degrees, divided as ecCodes divides them
	g.Lat1, g.Lon1 = float64(signed32(s[46:]))/perDegree, float64(signed32(s[50:]))/perDegree
	g.Lat2, g.Lon2 = float64(signed32(s[55:]))/perDegree, float64(signed32(s[59:]))/perDegree
	g.DLon = float64(be32(s[63:])) / perDegree
	if g.Template == 40 {
		g.N = int(be32(s[67:]))
	} else {
		g.DLat = float64(be32(s[67:])) / perDegree
	}
	g.ScanningMode = int(s[71])
	switch {
	case g.Ni <= 0 || g.Nj <= 0 || int64(g.Ni)*int64(g.Nj) != int64(g.Points):
		return fmt.Errorf("%w: %d x %d points for %d", ErrFormat, g.Ni, g.Nj, g.Points)
	case g.Points > MaxPoints:
		return fmt.Errorf("%w: %d points, more than %d", ErrFormat, g.Points, MaxPoints)
	case g.Template == 40 && (g.N <= 0 || g.Nj > 2*g.N):
		return fmt.Errorf("%w: a Gaussian grid of %d rows for N = %d", ErrFormat, g.Nj, g.N)
	case g.Template == 40 && g.N > MaxGaussianN: // its latitudes take N^2 steps to find
		return fmt.Errorf("a Gaussian grid of N = %d: %w (at most %d)", g.N, ErrUnsupported, MaxGaussianN)
	case g.ScanningMode&0xf0 != 0 && g.ScanningMode&0xf0 != 0x40:
		return fmt.Errorf("scanning mode %#x: %w (+i, -j or +j, rows along i)", g.ScanningMode, ErrUnsupported)
	}
	return nil
}

// Lats returns the latitudes of the grid's rows, in the order the values
// come (north to south when j scans negatively): evenly spaced, or for a
// Gaussian grid the Gaussian latitudes of N between its first and last
// row.
func (g Grid) Lats() []float64 {
	if g.Template != 40 {
		return axis(g.Lat1, g.Lat2, g.Nj)
	}
	all := gaussianLats(g.N) // north to south
	lo, hi := min(g.Lat1, g.Lat2), max(g.Lat1, g.Lat2)
	var out []float64
	for _, l := range all {
		if l >= lo-1e-6 && l <= hi+1e-6 && len(out) < g.Nj {
			out = append(out, l)
		}
	}
	if g.Lat1 < g.Lat2 { // south to north
		slices.Reverse(out)
	}
	return out
}

// gaussianLats returns the 2n Gaussian latitudes, north to south: the
// arcsines of the roots of the Legendre polynomial of degree 2n, found by
// Newton's method from the usual first guesses.
func gaussianLats(n int) []float64 {
	deg := 2 * n
	out := make([]float64, deg)
	for i := range n {
		x := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(deg) + 0.5))
		for range 100 {
			p0, p1 := 1.0, x // P_0, P_1, carried up to P_deg
			for k := 2; k <= deg; k++ {
				p0, p1 = p1, (float64(2*k-1)*x*p1-float64(k-1)*p0)/float64(k)
			}
			dx := p1 / (float64(deg) * (x*p1 - p0) / (x*x - 1))
			x -= dx
			if math.Abs(dx) < 1e-15 {
				break
			}
		}
		lat := math.Asin(x) * 180 / math.Pi
		out[i], out[deg-1-i] = lat, -lat
	}
	return out
}

// Lons returns the longitudes of the grid's columns.
func (g Grid) Lons() []float64 {
	last := g.Lon2
	if last < g.Lon1 { // across the meridian the grid starts from
		last += 360
	}
	return axis(g.Lon1, last, g.Ni)
}

// axis returns n points from first to last, evenly spaced, each rounded
// to the file's micro-degrees.
func axis(first, last float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		v := first
		if n > 1 {
			v = first + (last-first)*float64(i)/float64(n-1)
		}
		out[i] = float64(int64(v*1e6+copysign(0.5, v))) / 1e6
	}
	return out
}

func copysign(x, sign float64) float64 {
	if sign < 0 {
		return -x
	}
	return x
}
