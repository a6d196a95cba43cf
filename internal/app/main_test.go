package app_test

import (
	"os"
	"testing"

	"outpost/internal/testpg"
)

// pg is the throwaway PostgreSQL server of this package's scale-out tests;
// it starts on the first NewDatabase call.
var pg testpg.Server

func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }
