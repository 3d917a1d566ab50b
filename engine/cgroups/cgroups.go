// Package cgroups creates the cgroup parent of a pod and applies the pod's
// CPU and memory limits there; runc places each container's cgroup below
// it, so the limits cover the pod as a whole. It handles cgroup v1 (also in
// hybrid mode, which runc treats as v1) and the v2 unified hierarchy.
package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Root is the mount point of the cgroup hierarchies.
const Root = "/sys/fs/cgroup"

// cfsPeriod is the CFS period used to express a CPU limit, in microseconds.
const cfsPeriod = 100000

// Limits of a pod; zero values mean no limit.
type Limits struct {
	CPUs        float64
	MemoryBytes int64
}

// IsV2 reports whether the host uses the cgroup v2 unified hierarchy only.
func IsV2() bool {
	var st unix.Statfs_t
	if err := unix.Statfs(Root, &st); err != nil {
		return false
	}
	return st.Type == unix.CGROUP2_SUPER_MAGIC
}

// Version returns "v2" on a unified host and "v1" otherwise.
func Version() string {
	if IsV2() {
		return "v2"
	}
	return "v1"
}

// Create makes the cgroup at path (relative to each hierarchy's root, such
// as /podplug/POD) and writes limits into it.
func Create(path string, limits Limits) error {
	if IsV2() {
		return createV2(path, limits)
	}
	return createV1(path, limits)
}

func createV1(path string, limits Limits) error {
	for _, ctrl := range []string{"memory", "cpu", "pids"} {
		dir := filepath.Join(Root, ctrl, path)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
	}
	if limits.MemoryBytes > 0 {
		file := filepath.Join(Root, "memory", path, "memory.limit_in_bytes")
		if err := write(file, strconv.FormatInt(limits.MemoryBytes, 10)); err != nil {
			return err
		}
	}
	if limits.CPUs > 0 {
		dir := filepath.Join(Root, "cpu", path)
		if err := write(filepath.Join(dir, "cpu.cfs_period_us"), strconv.Itoa(cfsPeriod)); err != nil {
			return err
		}
		quota := strconv.Itoa(int(limits.CPUs * cfsPeriod))
		if err := write(filepath.Join(dir, "cpu.cfs_quota_us"), quota); err != nil {
			return err
		}
	}
	return nil
}

// createV2 enables the cpu and memory controllers along the path and writes
// the limits. Limitation: this path has not run on this project's test
// hosts, which use cgroup v1; it follows the kernel's cgroup-v2 documentation.
func createV2(path string, limits Limits) error {
	dir := filepath.Join(Root, path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	for p := filepath.Dir(dir); len(p) >= len(Root); p = filepath.Dir(p) {
		_ = write(filepath.Join(p, "cgroup.subtree_control"), "+cpu +memory +pids")
		if p == Root {
			break
		}
	}
	if limits.MemoryBytes > 0 {
		if err := write(filepath.Join(dir, "memory.max"), strconv.FormatInt(limits.MemoryBytes,
			10)); err != nil {
			return err
		}
	}
	if limits.CPUs > 0 {
		value := fmt.Sprintf("%d %d", int(limits.CPUs*cfsPeriod), cfsPeriod)
		if err := write(filepath.Join(dir, "cpu.max"), value); err != nil {
			return err
		}
	}
	return nil
}

// Remove deletes the cgroup at path in every hierarchy. Child cgroups must
// be gone already; a path that does not exist is not an error.
func Remove(path string) error {
	dirs := []string{filepath.Join(Root, path)}
	if !IsV2() {
		entries, err := os.ReadDir(Root)
		if err != nil {
			return fmt.Errorf("remove cgroup %s: %w", path, err)
		}
		dirs = dirs[:0]
		for _, e := range entries {
			dirs = append(dirs, filepath.Join(Root, e.Name(), path))
		}
	}
	var errs []error
	for _, dir := range dirs {
		if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) &&
			!errors.Is(err, unix.ENOTDIR) {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", dir, err))
		}
	}
	return errors.Join(errs...)
}

func write(file, value string) error {
	if err := os.WriteFile(file, []byte(value), 0o644); err != nil {
		return fmt.Errorf("set cgroup limit %s=%s: %w", file, value, err)
	}
	return nil
}

// freezeWait bounds how long Freeze waits for the kernel to finish
// freezing a cgroup's tasks.
const freezeWait = 5 * time.Second

// Freeze freezes (or thaws) every process in the cgroup at path, as runc
// pause and resume do, by writing the freezer directly: cgroup v1's
// freezer.state or v2's cgroup.freeze. It waits until the kernel reports
// the new state.
func Freeze(path string, frozen bool) error {
	if IsV2() {
		value := "0"
		if frozen {
			value = "1"
		}
		return write(filepath.Join(Root, path, "cgroup.freeze"), value)
	}
	state := "THAWED"
	if frozen {
		state = "FROZEN"
	}
	file := filepath.Join(Root, "freezer", path, "freezer.state")
	deadline := time.Now().Add(freezeWait)
	for {
		if err := write(file, state); err != nil {
			return err
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read %s: %w", file, err)
		}
		if strings.TrimSpace(string(data)) == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: still %s after %s", path,
				strings.TrimSpace(string(data)), freezeWait)
		}
		time.Sleep(time.Millisecond)
	}
}
