// Reads a Zarr store with zarrita (a JavaScript Zarr implementation nobody
// on this project wrote) and prints what it reads as JSON, for zarrforge's
// interop tests: the root group's attributes, those of the groups below
// it (by path) and, per array (by path), its shape,
// data type, chunks, dimension names, attributes, fill value and every
// value (numbers as the base64 of their little-endian bytes, strings as a
// list). The store must hold consolidated metadata (v3: inline in the root
// zarr.json; v2: .zmetadata): zarrita opens it through that.
//
// usage: node dump.mjs STORE_DIR
import * as zarr from "zarrita";
import FileSystemStore from "@zarrita/storage/fs";

// typedArray returns the typed array class of a zarrita data type.
function typedArray(dtype) {
  const classes = {
    int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
    int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
    float32: Float32Array, float64: Float64Array,
  };
  if (!(dtype in classes)) throw new Error(`data type ${dtype} of a scalar array`);
  return classes[dtype];
}

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node dump.mjs STORE_DIR");
  process.exit(2);
}
const store = await zarr.withConsolidatedMetadata(new FileSystemStore(dir), { format: ["v3", "v2"] });
const root = zarr.root(store);
const group = await zarr.open(root, { kind: "group" });
const out = { attributes: group.attrs, groups: {}, arrays: {} };
for (const node of store.contents()) {
  if (node.kind === "group" && node.path !== "/") {
    const g = await zarr.open(root.resolve(node.path), { kind: "group" });
    out.groups[node.path.replace(/^\//, "")] = g.attrs;
  }
  if (node.kind !== "array") continue;
  const arr = await zarr.open(root.resolve(node.path), { kind: "array" });
  let values = await zarr.get(arr);
  if (arr.shape.length === 0) {
    // A scalar array reads as its value: make it a one-element array.
    const value = values;
    values = { data: typeof value === "string" ? [value] : new (typedArray(arr.dtype))(1) };
    if (typeof value !== "string") values.data[0] = value;
  }
  let data;
  if (Array.isArray(values.data)) {
    data = { strings: values.data };
  } else {
    const b = values.data;
    data = { base64: Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64") };
  }
  let fill = arr.fillValue;
  if (typeof fill === "bigint") fill = fill.toString();
  if (typeof fill === "number" && !Number.isFinite(fill)) fill = String(fill);
  out.arrays[node.path.replace(/^\//, "")] = {
    shape: arr.shape,
    data_type: arr.dtype,
    chunks: arr.chunks,
    dimension_names: arr.dimensionNames ?? null,
    attributes: arr.attrs,
    fill_value: fill,
    ...data,
  };
}
process.stdout.write(JSON.stringify(out));
