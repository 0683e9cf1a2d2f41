//go:build !unix

package storage

import "errors"

// lockDir is not available here: conditional local writes need flock.
func lockDir(string) (func(), error) {
	return nil, errors.New("conditional writes to local files need a Unix system")
}
