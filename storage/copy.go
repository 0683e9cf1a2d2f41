package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
)

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Copy copies the object at src to dst atomically (dst appears whole or not
// at all) and returns the number of bytes copied. It fails, leaving nothing
// at dst, if fewer than the source's size were read.
func Copy(ctx context.Context, src, dst string) (int64, error) {
	r, err := OpenReader(ctx, src)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	dp, err := Path(dst)
	if err != nil {
		return 0, err
	}
	st, err := NewStore(ctx, filepath.Dir(dp))
	if err != nil {
		return 0, err
	}
	var n int64
	err = st.PutFrom(ctx, filepath.Base(dp), func(w io.Writer) error {
		n, err = io.Copy(w, io.NewSectionReader(r, 0, r.Size()))
		if err != nil {
			return err
		}
		if n != r.Size() {
			return fmt.Errorf("copied %d of %d bytes", n, r.Size())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storage: copy %s to %s: %w", src, dst, err)
	}
	return n, nil
}
