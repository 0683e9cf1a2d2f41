#!/usr/bin/python3
"""Writes GRIB2 files of several messages with ecCodes (python3-eccodes)
and what cfgrib (python3-cfgrib) opens of them, for zarrforge's grib
tests:

  make_cubes.py DIR
  make_cubes.py --series DIR    (three daily files for a recipe)

DIR/<file>.grib2 for each file below, and DIR/cases.json: for each case
(a file and a filter_by_keys) the dataset
xarray.open_dataset(path, engine="cfgrib", backend_kwargs={"filter_by_keys":
..., "indexpath": ""}) gives — dimensions, and per variable its
dimensions, dtype, attributes and values (NaN as null, times as seconds
since 1970, steps in hours) — or the error cfgrib raises, or the variables
it leaves out."""
import json
import os
import sys
import warnings

import eccodes
import numpy as np
import xarray as xr

SAMPLE = "/usr/share/eccodes/samples/regular_ll_sfc_grib2.tmpl"
GAUSSIAN = "/usr/share/eccodes/samples/regular_gg_sfc_grib2.tmpl"


def field(out, packing="grid_simple", bits=16, gaussian=False, bitmap=False, seed=0, **keys):
    """Appends one message to the open file out: keys set in order, a
    smooth field with some noise."""
    with open(GAUSSIAN if gaussian else SAMPLE, "rb") as f:
        h = eccodes.codes_grib_new_from_file(f)
    if not gaussian:
        for k, v in [("Ni", 24), ("Nj", 13), ("latitudeOfFirstGridPointInDegrees", 60), ("latitudeOfLastGridPointInDegrees", 0),
                     ("longitudeOfFirstGridPointInDegrees", 0), ("longitudeOfLastGridPointInDegrees", 69),
                     ("iDirectionIncrementInDegrees", 3), ("jDirectionIncrementInDegrees", 5)]:
            eccodes.codes_set(h, k, v)
    for k, v in keys.items():
        eccodes.codes_set(h, k, v)
    n = eccodes.codes_get(h, "Ni") * eccodes.codes_get(h, "Nj")
    rng = np.random.default_rng(seed)
    vals = 250 + 30 * np.sin(np.arange(n) / 17.0 + seed) + rng.normal(0, 0.5, n)
    if bitmap:
        eccodes.codes_set(h, "bitmapPresent", 1)
        eccodes.codes_set(h, "missingValue", 9999)
        vals[seed % 5::9] = 9999
    eccodes.codes_set_values(h, vals)
    eccodes.codes_set(h, "packingType", packing)
    eccodes.codes_set(h, "bitsPerValue", bits)
    eccodes.codes_set_values(h, vals)
    eccodes.codes_write(h, out)
    eccodes.codes_release(h)


def pressure_levels(out):
    """t and u on three pressure levels at three steps, plus 2 m
    temperature and mean sea level pressure: two level types."""
    seed = 0
    for step in (0, 6, 12):
        for name, packing in (("t", "grid_ccsds"), ("u", "grid_complex")):
            for level in (1000, 500, 850):
                seed += 1
                field(out, packing, 16, seed=seed, dataDate=20240115, dataTime=1200, typeOfLevel="isobaricInhPa",
                      level=level, shortName=name, forecastTime=step)
        field(out, "grid_simple", 12, seed=step, dataDate=20240115, dataTime=1200, shortName="2t", forecastTime=step)
        field(out, "grid_simple", 24, seed=step + 1, dataDate=20240115, dataTime=1200, typeOfLevel="meanSea",
              shortName="msl", forecastTime=step)


def ensemble(out):
    """2 m temperature of four ensemble members (4.1), two steps."""
    for member in range(4):
        for step in (0, 24):
            field(out, "grid_ccsds", 14, seed=member * 3 + step, productDefinitionTemplateNumber=1, dataDate=20240301,
                  dataTime=0, shortName="2t", forecastTime=step, typeOfEnsembleForecast=3, perturbationNumber=member,
                  numberOfForecastsInEnsemble=4)


def accumulations(out):
    """Total precipitation over 0-6 h and 6-12 h (4.8), with a bitmap,
    on two days: time and step both dimensions."""
    for date in (20240101, 20240102):
        for start in (0, 6):
            field(out, "grid_simple", 16, bitmap=True, seed=start + date % 7, productDefinitionTemplateNumber=8,
                  dataDate=date, dataTime=0, shortName="tp", forecastTime=start, lengthOfTimeRange=6)


def gaussian(out):
    """Mean sea level pressure on a regular Gaussian grid at two times."""
    for t in (0, 1200):
        field(out, "grid_complex_spatial_differencing", 16, gaussian=True, seed=t, dataDate=20240115, dataTime=t,
              typeOfLevel="meanSea", shortName="msl")


def conflicting(out):
    """t at steps 0 and 6, u at step 0 only (cfgrib leaves u out), and t
    at step 0 twice with different packings (cfgrib keeps the first)."""
    field(out, seed=1, typeOfLevel="isobaricInhPa", level=500, shortName="t", forecastTime=0)
    field(out, seed=2, typeOfLevel="isobaricInhPa", level=500, shortName="t", forecastTime=6)
    field(out, seed=3, typeOfLevel="isobaricInhPa", level=500, shortName="u", forecastTime=0)
    field(out, "grid_ccsds", seed=4, typeOfLevel="isobaricInhPa", level=500, shortName="v", forecastTime=0)
    field(out, "grid_simple", seed=5, typeOfLevel="isobaricInhPa", level=500, shortName="v", forecastTime=0)


def two_levels(out):
    """Temperature on a pressure level and at a height above ground: one
    parameter, two level types (cfgrib refuses it unfiltered)."""
    field(out, seed=1, typeOfLevel="isobaricInhPa", level=500, shortName="t")
    field(out, seed=2, typeOfLevel="heightAboveGround", level=10, shortName="t")


FILES = {"pressure_levels": pressure_levels, "ensemble": ensemble, "accumulations": accumulations,
         "gaussian": gaussian, "conflicting": conflicting, "two_levels": two_levels}
CASES = [
    ("pressure_levels", {"typeOfLevel": "isobaricInhPa"}),
    ("pressure_levels", {"typeOfLevel": "isobaricInhPa", "shortName": "t"}),
    ("pressure_levels", {"typeOfLevel": "isobaricInhPa", "level": 500}),
    ("pressure_levels", {"typeOfLevel": "heightAboveGround"}),
    ("pressure_levels", {"shortName": "msl"}),
    ("pressure_levels", {}),
    ("ensemble", {}),
    ("accumulations", {}),
    ("gaussian", {}),
    ("conflicting", {"shortName": "t"}),
    ("conflicting", {}),
    ("conflicting", {"shortName": "v"}),
    ("two_levels", {}),
    ("two_levels", {"typeOfLevel": "heightAboveGround"}),
]


def values(var):
    v = var.values
    if v.dtype.kind == "M":
        return (v.astype("datetime64[s]").astype(np.int64)).tolist()
    if v.dtype.kind == "m":
        return (v.astype("timedelta64[s]").astype(np.int64) / 3600).tolist()
    v = np.asarray(v, dtype=np.float64)
    return np.where(np.isnan(v), None, v).tolist()


def plain(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x


def describe(path, fbk):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            import logging
            records = []

            class Keep(logging.Handler):
                def emit(self, r):
                    records.append(r.getMessage())
            logging.getLogger("cfgrib").addHandler(Keep())
            ds = xr.open_dataset(path, engine="cfgrib", backend_kwargs={"filter_by_keys": fbk, "indexpath": ""})
        except Exception as e:
            return {"error": str(e)}
    out = {"dims": {k: int(v) for k, v in ds.dims.items()}, "attrs": {k: plain(v) for k, v in ds.attrs.items()},
           "vars": {}, "skipped": [r for r in records if "skipping" in r]}
    for name, var in ds.variables.items():
        attrs = {k: plain(v) for k, v in var.attrs.items()}
        for k in ("units", "calendar"):
            if k in var.encoding and k not in attrs:
                attrs[k] = var.encoding[k]
        out["vars"][name] = {"dims": list(var.dims), "dtype": str(var.encoding.get("dtype", var.dtype)),
                             "attrs": attrs, "values": values(var)}
    return out


def series(out_dir):
    """Three days of forecasts, a file a day (fc_YYYYMMDD.grib2): t and u
    on two pressure levels at steps 0 and 6 (CCSDS, complex packing), and
    2 m temperature (simple packing) — for a recipe to concatenate; and
    the same split in two files a day, pl_ (t, u) and sfc_ (2 m
    temperature), for a recipe to merge."""
    for d, date in enumerate((20240101, 20240102, 20240103)):
        paths = [os.path.join(out_dir, "%s_%d.grib2" % (kind, date)) for kind in ("fc", "pl", "sfc")]
        with open(paths[0], "wb") as fc, open(paths[1], "wb") as pl, open(paths[2], "wb") as sfc:
            for step in (0, 6):
                for name, packing in (("t", "grid_ccsds"), ("u", "grid_complex")):
                    for level in (850, 500):
                        for out in (fc, pl):
                            field(out, packing, 16, seed=d * 100 + step + level, dataDate=date, dataTime=0,
                                  typeOfLevel="isobaricInhPa", level=level, shortName=name, forecastTime=step)
                for out in (fc, sfc):
                    field(out, "grid_simple", 16, seed=d * 7 + step, dataDate=date, dataTime=0, shortName="2t", forecastTime=step)


def main():
    if sys.argv[1] == "--series":
        os.makedirs(sys.argv[2], exist_ok=True)
        series(sys.argv[2])
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, make in FILES.items():
        with open(os.path.join(out, name + ".grib2"), "wb") as f:
            make(f)
    cases = []
    for name, fbk in CASES:
        got = describe(os.path.join(out, name + ".grib2"), fbk)
        cases.append({"file": name, "filter": fbk, **got})
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f)


if __name__ == "__main__":
    main()
