package transforms_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/zarrforge/zarrforge/beamtest"
	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/transforms"
)

// daily returns the daily fixture inputs from..to-1, positioned from 0.
func daily(from, to int) []plan.Input {
	var paths []string
	for i := from; i < to; i++ {
		paths = append(paths, fixture("daily", fmt.Sprintf("daily_%02d.nc", i)))
	}
	return inputs(paths...)
}

// TestAppend: appending days 3-5 to a store of days 0-2 (time chunks of 2,
// so one chunk straddles the old end) gives the store that days 0-5 give in
// one run, byte for byte; xarray agrees. Overlapping, non-monotonic and
// mismatched appends are refused and leave the store as it was.
func TestAppend(t *testing.T) {
	beamtest.ForEachRunner(t, func(t *testing.T, runner string) {
		run := func(target transforms.TargetConfig, in []plan.Input) error {
			return beamtest.RunOn(t, runner, func(t *testing.T, s beam.Scope) { pipeline(s, in, "", target) })
		}
		oneShot := dailyTarget(t)
		if err := run(oneShot, daily(0, 6)); err != nil {
			t.Fatal(err)
		}
		target := dailyTarget(t)
		target.Mode = transforms.ModeAppend // on an empty target: creates it
		if err := run(target, daily(0, 3)); err != nil {
			t.Fatal(err)
		}
		if err := run(target, daily(3, 6)); err != nil {
			t.Fatal(err)
		}
		want := storeFiles(t, oneShot.URL)
		sameStore(t, storeFiles(t, target.URL), want)
		var files []string
		for _, in := range daily(0, 6) {
			files = append(files, in.URL)
		}
		beamtest.CompareWithXarray(t, target.URL, fixture("daily", "collection.json"), files,
			map[string][]int64{"sst": {2, 4, 10}, "time": {6}})

		for _, c := range []struct {
			name string
			in   []plan.Input
			want string
		}{
			{"overlapping", daily(5, 7), "repeats the store's last value"},
			{"non-monotonic", inputs(fixture("daily", "daily_07.nc"), fixture("daily", "daily_06.nc")), "does not come after the value before it"},
			{"another grid", inputs(fixture("merge", "sst_200101.nc")), "appending"},
		} {
			err := run(target, c.in)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
			}
			t.Logf("%s: %s", c.name, lastLine(err))
			sameStore(t, storeFiles(t, target.URL), want)
		}
	})
}

func lastLine(err error) string {
	if err == nil {
		return "<nil>"
	}
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.Contains(l, "PrepareTarget:") {
			return strings.TrimSpace(l[strings.Index(l, "PrepareTarget:"):])
		}
	}
	return err.Error()
}
