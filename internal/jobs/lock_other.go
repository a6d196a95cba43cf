//go:build !unix

package jobs

import (
	"errors"
	"os"
)

// canLock is false without flock: TakeNode then returns a new id each run.
const canLock = false

func lockFile(string) (*os.File, bool, error) {
	return nil, false, errors.New("file locks are not supported")
}
