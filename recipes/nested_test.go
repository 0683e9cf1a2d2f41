package recipes_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/recipes"
)

// TestNestedGroups writes the groups of grouped files as nested Zarr
// groups of one store (pattern.groups), each compared with
// xarray.open_mfdataset(files, group=...): groups with the time dimension
// concatenated along it (sweep_1/extra on its parent's), the root and meta
// without it written once. In v3 (sharded) through zarrita, a list of
// groups whose parent is not listed.
func TestNestedGroups(t *testing.T) {
	for _, tc := range []struct {
		name, runner string
		groups       []string
		format       int
	}{
		{"all", "direct", []string{recipes.AllGroups}, 2},
		{"v3 list", "prism", []string{"/", "sweep_1/extra", "sweep_0"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, manifest := collectionRecipe(t, "grouped")
			r.Pattern.Group = ""
			r.Pattern.Groups = tc.groups
			r.Target.Chunks = map[string]int64{"time": 4}
			if tc.format == 3 {
				r.Target.ZarrFormat, r.Target.Shards = 3, map[string]int64{"time": 8}
			}
			r, err := r.ResolveGroups(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
			runRecipe(t, tc.runner, r)
			for _, g := range r.Pattern.Groups {
				c := beamtest.CompareGroupWithXarray(t, r.Target.URL, manifest, g)
				t.Logf("group %s: %v", g, c.Checked["variables"])
			}
			if tc.format == 3 {
				if _, err := os.Stat(filepath.Join(r.Target.URL, "sweep_1", "zarr.json")); err != nil {
					t.Errorf("the unlisted parent of a listed group: %v", err)
				}
			}
		})
	}
}

// TestNestedGroupsH5py converts a file h5py wrote, with nested groups
// whose datasets use dimensions their ancestors define and phony
// dimensions, as nested Zarr groups, each compared with xarray.
func TestNestedGroupsH5py(t *testing.T) {
	if n, groups, _ := convertGroups(t, []string{beamtest.Testdata("formats", "h5py_groups.nc")}); n != 1 || groups != 4 {
		t.Errorf("converted %d files, %d groups; want 1, 4", n, groups)
	}
}

// TestNestedGroupsRefused: recipes of nested groups that cannot work are
// refused before anything runs, naming the field.
func TestNestedGroupsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*recipes.Recipe)
		want string
	}{
		{"with group", func(r *recipes.Recipe) { r.Pattern.Group = "sweep_0" }, "pattern.groups: give one of group"},
		{"all among others", func(r *recipes.Recipe) { r.Pattern.Groups = append(r.Pattern.Groups, "all") }, `"all" stands for every group`},
		{"twice", func(r *recipes.Recipe) { r.Pattern.Groups = append(r.Pattern.Groups, "/sweep_0/") }, `"/sweep_0/" is given twice`},
		{"empty part", func(r *recipes.Recipe) { r.Pattern.Groups = []string{"a//b"} }, "names groups between slashes"},
		{"append", func(r *recipes.Recipe) { r.Target.Mode = "append" }, "target.mode: append: appending to a store of nested groups"},
		{"references", func(r *recipes.Recipe) {
			r.Target.Format, r.Target.URL = recipes.FormatReferences, r.Target.URL+".json"
		},
			"pattern.groups: references of nested groups"},
	} {
		r, _ := collectionRecipe(t, "grouped")
		r.Pattern.Group = ""
		r.Pattern.Groups = []string{"sweep_0", "meta"}
		tc.edit(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A group the inputs lack is found by Check, and "all" must be listed
	// before Build.
	r, _ := collectionRecipe(t, "grouped")
	r.Pattern.Group, r.Pattern.Groups = "", []string{"sweep_0", "sweep_9"}
	if err := r.Check(context.Background()); err == nil || !strings.Contains(err.Error(), `no group "sweep_9"`) {
		t.Errorf("a missing group: Check = %v", err)
	}
	r.Pattern.Groups = []string{recipes.AllGroups}
	if _, err := recipes.Build(beam.NewPipeline().Root(), r); err == nil || !strings.Contains(err.Error(), "Recipe.ResolveGroups") {
		t.Errorf("unresolved all: Build = %v", err)
	}
}

// TestNestedGroupsFailed: a run that fails in one group leaves a store
// that neither xarray nor zarr-python opens as complete, nor any group in
// it, though another group's arrays may be written.
func TestNestedGroupsFailed(t *testing.T) {
	py := beamtest.RequirePython(t)
	r, _ := collectionRecipe(t, "grouped")
	r.Pattern.Group, r.Pattern.Groups = "", []string{"sweep_0", "sweep_9"} // Check would refuse sweep_9
	err := beamtest.RunOn(t, "prism", func(t *testing.T, s beam.Scope) {
		if _, err := recipes.Build(s, r); err != nil {
			t.Fatal(err)
		}
	})
	if err == nil || !strings.Contains(err.Error(), "sweep_9") {
		t.Fatalf("run: %v, want a failure naming sweep_9", err)
	}
	for _, key := range []string{".zmetadata", ".zgroup", "sweep_0/.zgroup"} {
		if _, err := os.Stat(filepath.Join(r.Target.URL, key)); err == nil {
			t.Errorf("a failed run wrote %s", key)
		}
	}
	script := "import sys, xarray\ntry:\n    xarray.open_zarr(sys.argv[1], group='sweep_0')\nexcept Exception as e:\n    print('refused:', type(e).__name__)\n"
	out, err := exec.Command(py, "-c", script, r.Target.URL).Output()
	if err != nil || !strings.HasPrefix(string(out), "refused:") {
		t.Errorf("xarray on the failed store's group: %q, %v", out, err)
	}
}
