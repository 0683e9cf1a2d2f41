package recipes_test

import (
	"context"
	"fmt"

	"github.com/zarrforge/zarrforge/recipes"
)

func ExampleParse() {
	const recipe = `
pattern:
  template: "file:///data/{variable}/oisst.{time}.nc"
  concat_dim:
    name: time
    dates: {start: "1981-09-01", end: "1981-09-02", step: 1d, layout: "20060102"}
    nitems_per_file: 1
  merge_dims:
    - name: variable
      keys: [sst, ice]
target:
  url: /out/oisst.zarr
  chunks: {time: 30}
  compressor: "zstd:5"
`
	r, err := recipes.Parse([]byte(recipe), "oisst.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	inputs, err := r.Pattern.Inputs()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, in := range inputs {
		fmt.Println(in.Index, in.URL)
	}
	id, level := r.Target.CompressorAndLevel()
	fmt.Println(r.Target.Mode, id, level)

	// A typo in a placeholder is caught before anything runs.
	_, err = recipes.Parse([]byte(`
pattern:
  template: /data/{tme}.nc
  concat_dim: {name: time, keys: ["1"]}
target: {url: /out.zarr}
`), "typo.yaml")
	fmt.Println(err)
	// Output:
	// c0/m0 file:///data/sst/oisst.19810901.nc
	// c0/m1 file:///data/ice/oisst.19810901.nc
	// c1/m0 file:///data/sst/oisst.19810902.nc
	// c1/m1 file:///data/ice/oisst.19810902.nc
	// create zstd 5
	// recipe typo.yaml: pattern.template: placeholder {tme} is not a declared dimension (declared: time)
}

// Several concat dimensions, as xarray.combine_nested takes them: monthly
// files of each member of an ensemble. The files have no member
// dimension: it is added in front of their data variables, the members'
// keys its coordinate. Inputs are every combination of the keys, the first
// dimension varying slowest; Index.Concat has a position per dimension.
func ExampleParse_concatDims() {
	const recipe = `
pattern:
  template: "gs://bucket/cmip/{member}/tas_{time:%Y%m}.nc"
  concat_dims:
    - name: time
      dates: {start: "2000-01-01", end: "2000-02-01", step: 1mo}
    - name: member
      keys: [r1i1p1f1, r2i1p1f1]
      new: true
target:
  url: gs://bucket/out/ens.zarr
  chunks: {time: 12, member: 1}
`
	r, err := recipes.Parse([]byte(recipe), "ensemble.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	inputs, _ := r.Pattern.Inputs()
	for _, in := range inputs {
		fmt.Println(in.Index, in.URL)
	}
	// Output:
	// c0.0 gs://bucket/cmip/r1i1p1f1/tas_200001.nc
	// c0.1 gs://bucket/cmip/r2i1p1f1/tas_200001.nc
	// c1.0 gs://bucket/cmip/r1i1p1f1/tas_200002.nc
	// c1.1 gs://bucket/cmip/r2i1p1f1/tas_200002.nc
}

// Radar volumes, a file per scan, each with a group per sweep: every group
// (groups: all, listed from the first input by ResolveGroups) becomes a
// Zarr group of one store, concatenated along time where it has it.
func ExampleRecipe_ResolveGroups() {
	r, err := recipes.Parse([]byte(`
pattern:
  template: ../testdata/collections/grouped/grouped_{time}.nc
  concat_dim: {name: time, keys: ["00", "01", "02"]}
  groups: all
target: {url: /tmp/volumes.zarr, chunks: {time: 100}}
`), "volumes.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err = r.ResolveGroups(context.Background())
	fmt.Println(r.Pattern.Groups, err)
	// Output:
	// [/ meta sweep_0 sweep_1 sweep_1/extra] <nil>
}

// One input to rechunk — a template without placeholders, here a Zarr
// store would do as well as this netCDF file — stands along a dimension
// that Resolve reads from its header.
func ExampleRecipe_Resolve() {
	r, err := recipes.Parse([]byte(`
pattern: {template: ../testdata/collections/daily/daily_00.nc}
target: {url: /tmp/daily-series.zarr, chunks: {lat: 1, lon: 1}}
`), "series.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Pattern.OneInput())
	r, err = r.Resolve(context.Background())
	fmt.Println(r.Pattern.ConcatDim.Name, err)
	// Output:
	// true
	// time <nil>
}

// Check reads the first input's header and names the recipe field that
// does not fit the data.
func ExampleRecipe_Check() {
	r, err := recipes.Parse([]byte(`
pattern:
  template: ../testdata/collections/daily/daily_{time}.nc
  concat_dim: {name: time, keys: ["00", "01"]}
target: {url: /tmp/daily.zarr, chunks: {time: 2, depth: 5}}
`), "daily.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Check(context.Background()))
	// Output:
	// recipe daily.yaml: target.chunks.depth: the inputs have no dimension "depth" (dimensions of ../testdata/collections/daily/daily_00.nc: lat, lon, time)
}

// A preprocess section becomes the edits the schema stage applies to every
// input, in xarray's order, checked and with its maps sorted.
func ExamplePreprocess_Edits() {
	r, err := recipes.Parse([]byte(`
pattern:
  template: "/data/oisst.{time}.nc"
  concat_dim: {name: time, keys: ["20010101", "20010102"]}
target: {url: /out/oisst.zarr}
preprocess:
  drop_vars: [err]
  isel: {lat: {start: 0, stop: 360, step: 2}}
  rename: {sst: analysed_sst, lon: longitude}
  attrs: {analysed_sst: {long_name: "Analysed SST", comment: null}}
`), "oisst.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	edits, _ := r.Preprocess.Edits(r.Pattern.ConcatNames())
	fmt.Println("drop:", edits.DropVars)
	fmt.Printf("isel: %+v\n", edits.Isel)
	fmt.Printf("rename: %+v\n", edits.Rename)
	for _, a := range edits.Attrs {
		fmt.Printf("attrs: %s.%s delete=%v\n", a.Var, a.Name, a.Delete)
	}
	// Output:
	// drop: [err]
	// isel: [{Dim:lat Start:0 Stop:360 Step:2}]
	// rename: [{From:lon To:longitude} {From:sst To:analysed_sst}]
	// attrs: analysed_sst.comment delete=true
	// attrs: analysed_sst.long_name delete=false
}
