package storage_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/zarrforge/zarrforge/storage"
)

// A store is rooted at a URL (a path, file://, or gs://bucket/prefix);
// objects appear whole or not at all.
func ExampleNewStore() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := storage.NewStore(ctx, "file://"+filepath.Join(dir, "out.zarr"))
	if err != nil {
		log.Fatal(err)
	}
	if err := st.Put(ctx, "sst/.zarray", []byte(`{"zarr_format": 2}`)); err != nil {
		log.Fatal(err)
	}
	keys, err := st.List(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(keys)
	// Output: [sst/.zarray]
}
