package store_test

import (
	"slices"
	"testing"

	"outpost/internal/store"
)

func TestStore_CheckClusterKeys(t *testing.T) {
	t.Parallel()
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		steps := []struct {
			name       string
			node       map[int]string
			mismatched []int
			missing    []int
			recorded   []int
		}{
			{"first node records its keys", map[int]string{1: "aa", 2: "bb"}, nil, nil, []int{1, 2}},
			{"same keys pass", map[int]string{1: "aa", 2: "bb"}, nil, nil, nil},
			{"other secret key", map[int]string{1: "zz", 2: "bb"}, []int{1}, nil, nil},
			{"other token key, one missing", map[int]string{1: "aa", 3: "cc"}, nil, []int{2}, []int{3}},
			{"a key added to the ring is recorded once", map[int]string{1: "aa", 2: "bb", 3: "cc"}, nil, nil, nil},
			{"a conflicting added key", map[int]string{1: "aa", 2: "bb", 3: "dd"}, []int{3}, nil, nil},
		}
		for _, st := range steps {
			c, err := s.CheckClusterKeys(ctx, st.node)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if !slices.Equal(c.Mismatched, st.mismatched) || !slices.Equal(c.Missing, st.missing) || !slices.Equal(c.Recorded, st.recorded) {
				t.Errorf("%s: got %+v, want mismatched %v missing %v recorded %v", st.name, c, st.mismatched, st.missing, st.recorded)
			}
		}
		if err := s.ForgetClusterKey(ctx, 2); err != nil {
			t.Fatal(err)
		}
		c, err := s.CheckClusterKeys(ctx, map[int]string{1: "aa", 3: "cc"})
		if err != nil || len(c.Missing)+len(c.Mismatched) != 0 {
			t.Errorf("after forgetting key 2: %+v, %v; want nothing missing or mismatched", c, err)
		}
	})
}
