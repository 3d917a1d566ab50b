package oci

import (
	"context"
	"fmt"
	"os"

	"github.com/fsnotify/fsnotify"
)

// WatchExits calls onExit with a container ID each time conmon writes an
// exit file, until ctx is done. It first reports every exit file already
// present, so exits that happened while nobody watched are not lost; a
// container may therefore be reported more than once, and onExit must
// tolerate that.
func (r *Runtime) WatchExits(ctx context.Context, onExit func(id string)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch exit files: %w", err)
	}
	if err := w.Add(r.exitDir); err != nil {
		w.Close()
		return fmt.Errorf("watch exit files in %s: %w", r.exitDir, err)
	}
	entries, err := os.ReadDir(r.exitDir)
	if err != nil {
		w.Close()
		return fmt.Errorf("read exit files: %w", err)
	}
	for _, e := range entries {
		onExit(e.Name())
	}
	go func() {
		defer w.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Write) {
					onExit(baseName(ev.Name))
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				r.log.Error("exit file watch", "error", err)
			}
		}
	}()
	return nil
}

func baseName(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}
