package storage

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadMigrations(t *testing.T) {
	t.Parallel()
	t.Run("OKOrdered", func(t *testing.T) {
		fsys := fstest.MapFS{
			"m/0010_later.sql": {Data: []byte("B")},
			"m/0002_next.sql":  {Data: []byte("A")},
		}
		got, err := ReadMigrations(fsys, "m")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Version != 2 || got[1].Version != 10 || got[0].SQL != "A" || got[1].Name != "0010_later.sql" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("ErrUnnumbered", func(t *testing.T) {
		_, err := ReadMigrations(fstest.MapFS{"m/init.sql": {Data: []byte("x")}}, "m")
		if err == nil || !strings.Contains(err.Error(), "must start with a number") {
			t.Errorf("err = %v", err)
		}
	})
}
