// Command floor measures the codec floor of the OISST benchmark: the time
// to decode every input chunk (each variable of each input read whole with
// zarrforge's netCDF reader: inflate, unshuffle) and to encode every
// output chunk of {time: N} steps (zarrforge's zarr.ChunkEncoder), the
// chunks shared out over every core, with no pipeline, no store and no
// coordinates. A conversion with these libraries cannot be faster; the
// benchmark prints its time beside ours (bench/oisst/bench.py).
//
// usage: go run ./bench/oisst/floor [-chunk 30] [-compressor zstd -level 1] FILE...
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/zarrforge/zarrforge/internal/plan"
	"github.com/zarrforge/zarrforge/internal/zarrplan"
	"github.com/zarrforge/zarrforge/netcdf"
	"github.com/zarrforge/zarrforge/zarr"
)

func main() {
	chunk := flag.Int("chunk", 30, "output chunk length along time, in inputs")
	compressor := flag.String("compressor", "zstd", "numcodecs id of the output chunks' compressor")
	level := flag.Int("level", 1, "its level")
	flag.Parse()
	if err := run(flag.Args(), *chunk, *compressor, *level); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

// task is one output chunk: variable v of inputs files[lo:hi].
// codec is the compressor of the chunks, as a recipe names it.
type codec struct {
	id    string
	level int
}

// meta is v's metadata as PrepareTarget makes it.
func (c codec) meta(v *plan.Variable) (zarr.ArrayMeta, error) {
	t := zarrplan.Target{Format: 2, Schema: plan.Schema{Vars: []plan.Variable{*v}}}
	if err := zarrplan.Resolve(&t, c.id, c.level); err != nil {
		return zarr.ArrayMeta{}, err
	}
	return t.ArrayMeta(v)
}

type task struct {
	v      netcdf.Var
	lo, hi int
}

func run(files []string, chunk int, compressor string, level int) error {
	if len(files) == 0 || chunk < 1 {
		return errors.New("usage: floor [-chunk N] FILE...")
	}
	target := codec{compressor, level}
	first, c, err := open(files[0])
	if err != nil {
		return err
	}
	c.Close()
	var tasks []task
	for _, v := range first.Vars() {
		if len(v.Dims) > 1 && v.Dims[0] == "time" {
			for lo := 0; lo < len(files); lo += chunk {
				tasks = append(tasks, task{v, lo, min(lo+chunk, len(files))})
			}
		}
	}
	start := time.Now()
	work := make(chan task)
	errs := make(chan error, len(tasks))
	var in, out int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var enc zarr.ChunkEncoder
			for t := range work {
				n, raw, err := encodeChunk(files, t, chunk, target, &enc)
				if err != nil {
					errs <- err
					continue
				}
				mu.Lock()
				in, out = in+raw, out+n
				mu.Unlock()
			}
		}()
	}
	for _, t := range tasks {
		work <- t
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("codec floor: %.2f s for %d chunks (%d MB decoded, %d MB encoded) on %d cores\n",
		time.Since(start).Seconds(), len(tasks), in>>20, out>>20, runtime.GOMAXPROCS(0))
	return nil
}

// encodeChunk reads variable t.v of each input of t whole and encodes the
// chunk of chunk steps they make (padded with zeros past the last input),
// returning its encoded and decoded sizes.
func encodeChunk(files []string, t task, chunk int, target codec, enc *zarr.ChunkEncoder) (int64, int64, error) {
	step := int64(t.v.Type.Size())
	for _, s := range t.v.Shape[1:] {
		step *= s
	}
	shape := append([]int64{int64(chunk)}, t.v.Shape[1:]...)
	v := plan.Variable{Name: t.v.Name, Type: t.v.Type, Dims: t.v.Dims, Shape: shape, Chunks: shape, Attrs: t.v.Attrs}
	meta, err := target.meta(&v)
	if err != nil {
		return 0, 0, err
	}
	buf := make([]byte, int64(chunk)*step)
	for i := t.lo; i < t.hi; i++ {
		f, c, err := open(files[i])
		if err != nil {
			return 0, 0, err
		}
		start := make([]int64, len(t.v.Shape))
		count := append([]int64{1}, t.v.Shape[1:]...)
		off := int64(i-t.lo) * step
		err = f.Read(t.v.Name, start, count, buf[off:off+step])
		c.Close()
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", files[i], err)
		}
	}
	if err = enc.Begin(meta, io.Discard); err != nil {
		return 0, 0, err
	}
	_, _ = enc.Write(buf)
	n, err := enc.Finish()
	return n, int64(t.hi-t.lo) * step, err
}

func open(path string) (netcdf.File, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	nc, err := netcdf.Open(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return nc, f, nil
}
