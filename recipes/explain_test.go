package recipes_test

import (
	"fmt"
	"testing"

	"github.com/zarrforge/zarrforge/recipes"
)

// The stages name settings as a Go program sets them; Explain names them
// by the keys of the recipe file.
func ExampleExplain() {
	fmt.Println(recipes.Explain(`PrepareTarget: target /out.zarr: appending: TargetConfig.Chunks["time"]: the store's "sst" has chunks of 2 along time, not 5`))
	// Output: PrepareTarget: target /out.zarr: appending: target.chunks.time: the store's "sst" has chunks of 2 along time, not 5
}

func TestExplain(t *testing.T) {
	for msg, want := range map[string]string{
		"a store already exists there (3 objects); set TargetConfig.Mode to overwrite to replace it":                                          "a store already exists there (3 objects); set target.mode to overwrite to replace it",
		"the file exists; set ReferencesConfig.Mode to overwrite to replace it":                                                               "the file exists; set target.mode to overwrite to replace it",
		`Preprocess.Attrs["sst"]["units"]: no variable "sst" (after renames)`:                                                                 `preprocess.attrs.sst.units: no variable "sst" (after renames)`,
		`Preprocess.Isel["lat"]: the slice 0:9 is past the end`:                                                                               `preprocess.isel.lat: the slice 0:9 is past the end`,
		"more than the memory budget of 9 bytes (TargetConfig.MaxMem); set TargetConfig.Chunks (e.g. {time: 1}) or raise TargetConfig.MaxMem": "more than the memory budget of 9 bytes (target.max_mem); set target.chunks (e.g. {time: 1}) or raise target.max_mem",
		"a dimension inputs are concatenated along (SchemaConfig.Concat)":                                                                     "a dimension inputs are concatenated along (pattern.concat_dim)",
		"TargetConfig.Unknown and Other.Mode stay as they are":                                                                                "TargetConfig.Unknown and Other.Mode stay as they are",
	} {
		if got := recipes.Explain(msg); got != want {
			t.Errorf("Explain(%q) = %q, want %q", msg, got, want)
		}
	}
}
