package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podplug/podplug/engine/model"
)

// LogEntry is one line a container wrote, as conmon recorded it.
type LogEntry struct {
	Time      time.Time `json:"time"`
	Stream    string    `json:"stream"` // stdout or stderr
	Container string    `json:"container"`
	Line      string    `json:"line"`
}

// LogOptions tune Logs.
type LogOptions struct {
	// Follow keeps reading until every selected container has stopped.
	Follow bool `json:"follow,omitempty"`
	// Container limits pod logs to one container, by name or ID.
	Container string `json:"container,omitempty"`
}

// logPollInterval is how often a followed log file is checked for growth.
const logPollInterval = 100 * time.Millisecond

// ContainerLogs sends a container's log to fn.
func (e *Engine) ContainerLogs(ctx context.Context, tenant, ref string, opts LogOptions,
	fn func(LogEntry) error) error {
	c, err := e.LookupContainer(tenant, ref)
	if err != nil {
		return err
	}
	return e.streamLogs(ctx, []*model.Container{c}, opts.Follow, fn)
}

// PodLogs sends the logs of a pod's containers to fn, merged by time; the
// infra container writes none and is skipped.
func (e *Engine) PodLogs(ctx context.Context, tenant, ref string, opts LogOptions,
	fn func(LogEntry) error) error {
	pod, err := e.LookupPod(tenant, ref)
	if err != nil {
		return err
	}
	_, ctrs, err := e.podAndContainers(pod.ID)
	if err != nil {
		return err
	}
	selected, err := selectLogContainers(pod, ctrs, opts.Container)
	if err != nil {
		return err
	}
	return e.streamLogs(ctx, selected, opts.Follow, fn)
}

// selectLogContainers returns the pod's containers other than infra, or
// only the one that ref names. An exact name wins over an ID prefix,
// because a short name such as "a" is also the prefix of some IDs.
func selectLogContainers(pod *model.Pod, ctrs []*model.Container, ref string) ([]*model.Container, error) {
	var all, byName, byID []*model.Container
	for _, c := range ctrs {
		if c.Infra {
			continue
		}
		all = append(all, c)
		if ref != "" && c.Name == ref {
			byName = append(byName, c)
		}
		if ref != "" && strings.HasPrefix(c.ID, ref) {
			byID = append(byID, c)
		}
	}
	switch {
	case ref == "":
		return all, nil
	case len(byName) > 0:
		return byName, nil
	case len(byID) == 1:
		return byID, nil
	case len(byID) > 1:
		return nil, fmt.Errorf("container %s in pod %s: %d container IDs start with it: give "+
			"more of the ID: %w",
			ref, pod.Name, len(byID), ErrInvalid)
	}
	return nil, fmt.Errorf("container %s is not in pod %s: %w", ref, pod.Name, ErrInvalid)
}

type logReader struct {
	c      *model.Container
	file   *os.File
	reader *bufio.Reader
	// partial collects a line conmon split into P records; partialTime and
	// partialStream are those of its first record.
	partial       strings.Builder
	partialTime   time.Time
	partialStream string
}

func (e *Engine) streamLogs(ctx context.Context, ctrs []*model.Container, follow bool,
	fn func(LogEntry) error) error {
	readers := make([]*logReader, 0, len(ctrs))
	defer func() {
		for _, r := range readers {
			if r.file != nil {
				r.file.Close()
			}
		}
	}()
	for _, c := range ctrs {
		readers = append(readers, &logReader{c: c})
	}
	if err := e.drainLogs(readers, fn); err != nil || !follow {
		if err == nil {
			err = flushPartial(readers, fn)
		}
		return err
	}
	ticker := time.NewTicker(logPollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		running := e.anyRunning(ctrs)
		if err := e.drainLogs(readers, fn); err != nil {
			return err
		}
		if !running {
			return flushPartial(readers, fn)
		}
	}
}

// flushPartial sends output that ended without a newline: conmon records
// it as a partial line that no full line completes.
func flushPartial(readers []*logReader, fn func(LogEntry) error) error {
	for _, r := range readers {
		if r.partial.Len() == 0 {
			continue
		}
		entry := LogEntry{Time: r.partialTime, Stream: r.partialStream, Container: r.c.Name,
			Line: r.partial.String()}
		r.partial.Reset()
		if err := fn(entry); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) anyRunning(ctrs []*model.Container) bool {
	for _, c := range ctrs {
		if cur, err := e.getContainer(c.ID); err == nil && hasProcess(cur) {
			return true
		}
	}
	return false
}

// drainLogs reads what is new in every file and sends it ordered by time.
func (e *Engine) drainLogs(readers []*logReader, fn func(LogEntry) error) error {
	var batch []LogEntry
	for _, r := range readers {
		if r.file == nil {
			f, err := os.Open(e.logPath(r.c))
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("logs of container %s: %w", r.c.Name, err)
			}
			r.file, r.reader = f, bufio.NewReader(f)
		}
		entries, err := r.readAvailable()
		if err != nil {
			return fmt.Errorf("logs of container %s: %w", r.c.Name, err)
		}
		batch = append(batch, entries...)
	}
	sort.SliceStable(batch, func(i, j int) bool { return batch[i].Time.Before(batch[j].Time) })
	for _, entry := range batch {
		if err := fn(entry); err != nil {
			return err
		}
	}
	return nil
}

// readAvailable parses complete records in the k8s-file format conmon
// writes: "TIME STREAM F|P CONTENT". A record cut off at the end of the file
// is left for the next read.
func (r *logReader) readAvailable() ([]LogEntry, error) {
	var out []LogEntry
	for {
		line, err := r.reader.ReadString('\n')
		if errors.Is(err, io.EOF) {
			if line != "" {
				// Unread the incomplete record by seeking back.
				if _, err := r.file.Seek(-int64(len(line)), io.SeekCurrent); err != nil {
					return out, err
				}
				r.reader.Reset(r.file)
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
		if entry, ok := r.parse(strings.TrimSuffix(line, "\n")); ok {
			out = append(out, entry)
		}
	}
}

func (r *logReader) parse(record string) (LogEntry, bool) {
	parts := strings.SplitN(record, " ", 4)
	if len(parts) < 3 {
		return LogEntry{}, false
	}
	content := ""
	if len(parts) == 4 {
		content = parts[3]
	}
	if parts[2] == "P" {
		if r.partial.Len() == 0 {
			r.partialTime, _ = time.Parse(time.RFC3339Nano, parts[0])
			r.partialStream = parts[1]
		}
		r.partial.WriteString(content)
		return LogEntry{}, false
	}
	if r.partial.Len() > 0 {
		content = r.partial.String() + content
		r.partial.Reset()
	}
	t, _ := time.Parse(time.RFC3339Nano, parts[0])
	return LogEntry{Time: t, Stream: parts[1], Container: r.c.Name, Line: content}, true
}

func signalName(n int) string {
	if name := unix.SignalName(syscall.Signal(n)); name != "" {
		return name
	}
	return fmt.Sprint(n)
}
