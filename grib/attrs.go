package grib

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/zarrforge/zarrforge/source"
)

// The attributes cfgrib gives the coordinates (its COORD_ATTRS).
var coordAttrs = map[string][][2]string{
	"latitude":            {{"units", "degrees_north"}, {"standard_name", "latitude"}, {"long_name", "latitude"}},
	"longitude":           {{"units", "degrees_east"}, {"standard_name", "longitude"}, {"long_name", "longitude"}},
	"depthBelowLand":      {{"units", "m"}, {"positive", "down"}, {"long_name", "soil depth"}, {"standard_name", "depth"}},
	"depthBelowLandLayer": {{"units", "m"}, {"positive", "down"}, {"long_name", "soil depth"}, {"standard_name", "depth"}},
	"hybrid": {{"units", "1"}, {"positive", "down"}, {"long_name", "hybrid level"},
		{"standard_name", "atmosphere_hybrid_sigma_pressure_coordinate"}},
	"heightAboveGround": {{"units", "m"}, {"positive", "up"}, {"long_name", "height above the surface"}, {"standard_name", "height"}},
	"isobaricInhPa": {{"units", "hPa"}, {"positive", "down"}, {"stored_direction", "decreasing"},
		{"standard_name", "air_pressure"}, {"long_name", "pressure"}},
	"isobaricInPa": {{"units", "Pa"}, {"positive", "down"}, {"stored_direction", "decreasing"},
		{"standard_name", "air_pressure"}, {"long_name", "pressure"}},
	"isobaricLayer": {{"units", "Pa"}, {"positive", "down"}, {"standard_name", "air_pressure"}, {"long_name", "pressure"}},
	"number":        {{"units", "1"}, {"standard_name", "realization"}, {"long_name", "ensemble member numerical id"}},
	"step":          {{"units", "hours"}, {"standard_name", "forecast_period"}, {"long_name", "time since forecast_reference_time"}},
	"time": {{"units", epochUnits}, {"calendar", "proleptic_gregorian"}, {"standard_name", "forecast_reference_time"},
		{"long_name", "initial time of forecast"}},
	"valid_time": {{"units", epochUnits}, {"calendar", "proleptic_gregorian"}, {"standard_name", "time"}, {"long_name", "time"}},
}

// epochUnits are the units of cfgrib's times.
const epochUnits = "seconds since 1970-01-01T00:00:00"

func text(name, value string) source.Attr {
	return source.Attr{Name: name, Type: source.Char, Value: value}
}
func integer(name string, v int) source.Attr {
	return source.Attr{Name: name, Type: source.Int64, Value: []int64{int64(v)}}
}
func double(name string, v float64) source.Attr {
	return source.Attr{Name: name, Type: source.Double, Value: []float64{v}}
}

// attrsOf is cfgrib's attributes of coordinate name: its COORD_ATTRS,
// after the generic ones for a level type it has none for.
func attrsOf(name string) []source.Attr {
	pairs, ok := coordAttrs[name]
	if !ok {
		pairs = [][2]string{{"long_name", "original GRIB coordinate for key: level(" + name + ")"}, {"units", "1"}}
	}
	var out []source.Attr
	for _, p := range pairs {
		out = append(out, text(p[0], p[1]))
	}
	return out
}

// coords returns the coordinate variables of v in cfgrib's order (the
// header axes, latitude, longitude, valid_time), with their values, and
// their names for the data variable's "coordinates" attribute.
func (v *cubeVar) coords() ([]string, []source.Var, [][]byte) {
	var names []string
	var vars []source.Var
	var values [][]byte
	add := func(cv source.Var, b []byte) {
		names, vars, values = append(names, cv.Name), append(vars, cv), append(values, b)
	}
	var timeVals, stepVals []float64
	for _, a := range v.axes {
		cv := source.Var{Name: a.name, Type: source.Double, Attrs: attrsOf(a.name)}
		if len(a.values) > 1 {
			cv.Dims, cv.Shape = []string{a.name}, []int64{int64(len(a.values))}
		}
		b := float64s(a.values)
		if a.name == "number" || a.name == "time" {
			cv.Type, b = source.Int64, int64s(a.values)
		}
		switch a.name {
		case "time":
			timeVals = a.values
		case "step":
			stepVals = a.values
		}
		add(cv, b)
	}
	grid := v.first.f.Grid
	lat := source.Var{Name: "latitude", Type: source.Double, Dims: []string{"latitude"}, Shape: []int64{int64(grid.Nj)}, Attrs: attrsOf("latitude")}
	lats := grid.Lats()
	if len(lats) > 1 && lats[0] > lats[len(lats)-1] {
		lat.Attrs = append(lat.Attrs, text("stored_direction", "decreasing"))
	}
	add(lat, float64s(lats))
	add(source.Var{Name: "longitude", Type: source.Double, Dims: []string{"longitude"}, Shape: []int64{int64(grid.Ni)}, Attrs: attrsOf("longitude")},
		float64s(grid.Lons()))
	add(validTime(timeVals, stepVals))
	return names, vars, values
}

// validTime is cfgrib's valid_time: time + step, over the dimensions of
// the two that have more than one value.
func validTime(times, steps []float64) (source.Var, []byte) {
	cv := source.Var{Name: "valid_time", Type: source.Double, Attrs: attrsOf("valid_time")}
	var vals []float64
	for _, t := range times {
		for _, s := range steps {
			vals = append(vals, t+s*3600)
		}
	}
	if len(times) > 1 {
		cv.Dims, cv.Shape = append(cv.Dims, "time"), append(cv.Shape, int64(len(times)))
	}
	if len(steps) > 1 {
		cv.Dims, cv.Shape = append(cv.Dims, "step"), append(cv.Shape, int64(len(steps)))
	}
	return cv, float64s(vals)
}

func float64s(v []float64) []byte {
	out := make([]byte, 0, 8*len(v))
	for _, x := range v {
		out = binary.LittleEndian.AppendUint64(out, math.Float64bits(x))
	}
	return out
}

func int64s(v []float64) []byte {
	out := make([]byte, 0, 8*len(v))
	for _, x := range v {
		out = binary.LittleEndian.AppendUint64(out, uint64(int64(x)))
	}
	return out
}

// missingValue is the GRIB_missingValue cfgrib gives: float32's largest.
const missingValue = math.MaxFloat32

// dataAttrs are cfgrib's attributes of r's variable: the GRIB_ keys it
// reads (those this package has), then long_name, units and
// standard_name, and the coordinates.
func dataAttrs(r *record, coords []string) []source.Attr {
	f := r.f
	out := []source.Attr{
		integer("GRIB_paramId", r.param.ID), text("GRIB_dataType", r.dataType), integer("GRIB_numberOfPoints", f.Grid.Points),
		text("GRIB_typeOfLevel", r.level), integer("GRIB_stepUnits", 1), text("GRIB_stepType", r.stepType),
		text("GRIB_gridType", r.gridType), integer("GRIB_NV", 0),
	}
	out = append(out, gridAttrs(f.Grid)...)
	desc := "Latitude/longitude"
	if f.Grid.Template == 40 {
		desc = "Gaussian latitude/longitude"
	}
	p := r.param
	out = append(out, text("GRIB_cfName", p.CFName), text("GRIB_cfVarName", p.CFVarName),
		text("GRIB_gridDefinitionDescription", desc), double("GRIB_missingValue", missingValue),
		text("GRIB_name", p.Name), text("GRIB_shortName", p.ShortName), text("GRIB_units", p.Units))
	if r.ensemble {
		out = append(out, integer("GRIB_totalNumber", f.Product.EnsembleSize))
	}
	out = append(out, text("long_name", p.Name), text("units", p.Units), text("standard_name", p.CFName))
	return append(out, text("coordinates", strings.Join(coords, " ")))
}

// gridAttrs are the GRIB_ keys cfgrib reads of a regular lat-lon or
// Gaussian grid.
func gridAttrs(g Grid) []source.Attr {
	scan := func(bit int) int { return g.ScanningMode >> (7 - bit) & 1 }
	common := []source.Attr{
		double("GRIB_iDirectionIncrementInDegrees", g.DLon), integer("GRIB_iScansNegatively", scan(0)),
		integer("GRIB_jPointsAreConsecutive", scan(2)), integer("GRIB_jScansPositively", scan(1)),
		double("GRIB_latitudeOfFirstGridPointInDegrees", g.Lat1), double("GRIB_latitudeOfLastGridPointInDegrees", g.Lat2),
		double("GRIB_longitudeOfFirstGridPointInDegrees", g.Lon1), double("GRIB_longitudeOfLastGridPointInDegrees", g.Lon2),
	}
	if g.Template == 40 {
		return append([]source.Attr{integer("GRIB_N", g.N), integer("GRIB_Ni", g.Ni), integer("GRIB_Nj", g.Nj)}, common...)
	}
	return append([]source.Attr{integer("GRIB_Nx", g.Ni), integer("GRIB_Ny", g.Nj), double("GRIB_jDirectionIncrementInDegrees", g.DLat)}, common...)
}

// globalAttrs are cfgrib's global attributes (but its history, which
// names the time it ran).
func globalAttrs(r *record) []source.Attr {
	return []source.Attr{
		integer("GRIB_edition", 2), text("GRIB_centre", r.centre), text("GRIB_centreDescription", r.centreDes),
		integer("GRIB_subCentre", r.f.Ident.SubCentre), text("Conventions", "CF-1.7"), text("institution", r.centreDes),
	}
}
