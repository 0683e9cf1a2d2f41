package recipes

import (
	"regexp"
	"strings"
)

// The stages and the packages below them name a setting in their messages
// as a Go program sets it (TargetConfig.Chunks["time"]); a recipe's user
// set it as a key of the recipe file (target.chunks.time). This is the one
// place that knows both: what configs makes of the recipe's keys, read
// backwards.
var (
	// settingNames are the recipe keys of the config fields that messages
	// name, by their Go names.
	settingNames = map[string]string{
		"TargetConfig.URL":        "target.url",
		"TargetConfig.Mode":       "target.mode",
		"TargetConfig.Format":     "target.zarr_format",
		"TargetConfig.Chunks":     "target.chunks",
		"TargetConfig.Shards":     "target.shards",
		"TargetConfig.ChunkBytes": "target.chunk_bytes",
		"TargetConfig.Compressor": "target.compressor",
		"TargetConfig.MaxMem":     "target.max_mem",
		"ReferencesConfig.URL":    "target.url",
		"ReferencesConfig.Mode":   "target.mode",
		"ReferencesConfig.MaxMem": "target.max_mem",
		"SchemaConfig.Concat":     "pattern.concat_dim",
		"Preprocess.DropVars":     "preprocess.drop_vars",
		"Preprocess.KeepVars":     "preprocess.keep_vars",
		"Preprocess.Isel":         "preprocess.isel",
		"Preprocess.Rename":       "preprocess.rename",
		"Preprocess.Attrs":        "preprocess.attrs",
		"Preprocess.GlobalAttrs":  "preprocess.global_attrs",
	}
	// settingRef matches a Go name of a setting with its map keys
	// (TargetConfig.Chunks["time"], Preprocess.Attrs["sst"]["units"]).
	settingRef = regexp.MustCompile(`\b(?:TargetConfig|ReferencesConfig|SchemaConfig|Preprocess)\.[A-Za-z]+(?:\["(?:[^"\\]|\\.)*"\])*`)
	mapKey     = regexp.MustCompile(`\["((?:[^"\\]|\\.)*)"\]`)
)

// Explain rewrites a message of the stages (an error of a run, a check)
// for the user of a recipe file: each setting the message names as a Go
// program sets it (TargetConfig.Chunks["time"]) is named by the recipe key
// that sets it (target.chunks.time). Other text is left as it is.
func Explain(msg string) string {
	return settingRef.ReplaceAllStringFunc(msg, func(ref string) string {
		field, keys, _ := strings.Cut(ref, "[")
		key, ok := settingNames[field]
		if !ok {
			return ref
		}
		if keys == "" {
			return key
		}
		for _, m := range mapKey.FindAllStringSubmatch("["+keys, -1) {
			key += "." + m[1]
		}
		return key
	})
}
