package store

import (
	"testing"
)

func testPluginKV(t *testing.T, s *Store) {
	value := []byte("v1")
	update(t, s, func(tx *Tx) error {
		if err := tx.PluginKVPut("quota", "acme", value); err != nil {
			return err
		}
		return tx.PluginKVPut("quota", "other", []byte("v2"))
	})
	value[0] = 'X' // the store keeps its own copy

	view(t, s, func(tx *Tx) error {
		got, err := tx.PluginKVGet("quota", "acme")
		if err != nil {
			return err
		}
		wantEqual(t, "value", string(got), "v1")

		all, err := tx.PluginKVList("quota")
		if err != nil {
			return err
		}
		want := map[string][]byte{"acme": []byte("v1"), "other": []byte("v2")}
		wantEqual(t, "list", all, want)
		return nil
	})

	update(t, s, func(tx *Tx) error { return tx.PluginKVDelete("quota", "acme") })
	view(t, s, func(tx *Tx) error {
		_, err := tx.PluginKVGet("quota", "acme")
		wantErrorIs(t, err, ErrNotFound)
		return nil
	})
}

// testPluginKVScoped checks that plugin "a" with key "b/c" and plugin "a/b"
// with key "c" are separate entries, and that a plugin lists only its own.
func testPluginKVScoped(t *testing.T, s *Store) {
	update(t, s, func(tx *Tx) error {
		if err := tx.PluginKVPut("a", "b/c", []byte("first")); err != nil {
			return err
		}
		return tx.PluginKVPut("a/b", "c", []byte("second"))
	})

	view(t, s, func(tx *Tx) error {
		got, err := tx.PluginKVGet("a", "b/c")
		if err != nil {
			return err
		}
		wantEqual(t, "value of a", string(got), "first")

		all, err := tx.PluginKVList("a")
		if err != nil {
			return err
		}
		wantEqual(t, "list of a", all, map[string][]byte{"b/c": []byte("first")})

		empty, err := tx.PluginKVList("none")
		if err != nil {
			return err
		}
		wantEqual(t, "list of unknown plugin", len(empty), 0)
		return nil
	})
}

func testPluginKVInvalid(t *testing.T, s *Store) {
	cases := []struct {
		name   string
		plugin string
		key    string
	}{
		{"empty plugin", "", "k"},
		{"empty key", "quota", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.Update(func(tx *Tx) error { return tx.PluginKVPut(c.plugin, c.key, nil) })
			wantErrorIs(t, err, ErrInvalid)
		})
	}
}
