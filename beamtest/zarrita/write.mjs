// Writes a small Zarr v3 store with zarrita (a JavaScript Zarr
// implementation nobody on this project wrote), for zarrforge's tests of
// v3 stores as inputs: a group with attributes; sst (float32, time x lat x
// lon, NaN fill, values holding NaN), ice (int16, chunks cutting every
// axis, a fill of -32768, big-endian), and the coordinates time (int64,
// with CF units), lat and lon (float64), each with its dimension_names.
// zarrita 0.7 encodes no compressor (gzip, zlib and crc32c are decode
// only), so the chunks are the bytes codec's alone. Prints, as JSON, every
// array's values as it wrote them (NaN as null), which the tests compare
// with what zarrforge makes of the store.
//
// usage: node write.mjs STORE_DIR
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node write.mjs STORE_DIR");
  process.exit(2);
}
const [T, Y, X] = [6, 4, 10];
const root = zarr.root(new FileSystemStore(dir));
await zarr.create(root, { attributes: { title: "written by zarrita", history: "write.mjs" } });
const bytes = { name: "bytes", configuration: { endian: "little" } };
const out = {};

async function array(name, dtype, shape, chunkShape, codecs, dims, attrs, data, fillValue) {
  const arr = await zarr.create(root.resolve(name), {
    shape, chunkShape, dtype, codecs, fillValue, dimensionNames: dims, attributes: attrs,
  });
  await zarr.set(arr, null, { data, shape, stride: strides(shape) });
  out[name] = Array.from(data, (v) => (typeof v === "bigint" ? Number(v) : Number.isNaN(v) ? null : v));
  return arr;
}

function strides(shape) {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

await array("time", "int64", [T], [T], [bytes], ["time"],
  { units: "days since 2000-01-01", calendar: "standard", standard_name: "time" },
  BigInt64Array.from({ length: T }, (_, i) => BigInt(i * 2)), 0);
await array("lat", "float64", [Y], [Y], [bytes], ["lat"], { units: "degrees_north" },
  Float64Array.from({ length: Y }, (_, i) => -45 + 30 * i), 0);
await array("lon", "float64", [X], [X], [bytes], ["lon"], { units: "degrees_east" },
  Float64Array.from({ length: X }, (_, i) => 18 * i), 0);
const sst = Float32Array.from({ length: T * Y * X }, (_, i) => (i % 7 === 3 ? NaN : i * 0.25 - 10));
await array("sst", "float32", [T, Y, X], [2, 2, 5], [bytes],
  ["time", "lat", "lon"], { units: "degC", long_name: "sea surface temperature" }, sst, NaN);
const ice = Int16Array.from({ length: T * Y * X }, (_, i) => (i * 37) % 1000 - 500);
await array("ice", "int16", [T, Y, X], [4, 3, 4], [{ name: "bytes", configuration: { endian: "big" } }],
  ["time", "lat", "lon"], { units: "1", scale_factor: 0.01 }, ice, -32768);
console.log(JSON.stringify(out));
