package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Estimates of what the scale scenario needs per container. podplug runs
// each container's process under a conmon of its own, so a running
// container takes two processes. The memory per container is an estimate
// of conmon's and busybox sleep's resident memory, with room to spare.
// The daemon's open files did not grow with the pod count in a 500-pod
// run, so one descriptor per container is an upper bound kept for safety.
const (
	processesPerContainer = 2
	memoryPerContainer    = 4 << 20
	spareProcesses        = 1000 // room for the daemon, CLI commands and everything else
	spareOpenFiles        = 1024
)

// checkScaleCapacity returns an error naming the first limit of this
// machine that cannot take pods of infra + scaleContainers containers, all
// running. It checks the kernel's pid and thread maximums, this process's
// RLIMIT_NPROC and RLIMIT_NOFILE (the daemon inherits both), the pids
// cgroup limits above this process and the available memory.
func checkScaleCapacity(pods int) error {
	containers := pods * (1 + scaleContainers)
	processes := containers*processesPerContainer + spareProcesses
	threadsNow, err := countThreads()
	if err != nil {
		return err
	}
	procsNow, err := countProcesses()
	if err != nil {
		return err
	}

	checks := []func() error{
		func() error { return checkKernelMax("/proc/sys/kernel/pid_max", procsNow+processes) },
		func() error { return checkKernelMax("/proc/sys/kernel/threads-max", threadsNow+processes) },
		func() error { return checkRlimit("RLIMIT_NPROC", unix.RLIMIT_NPROC, threadsNow+processes) },
		func() error {
			return checkRlimit("RLIMIT_NOFILE", unix.RLIMIT_NOFILE, containers+spareOpenFiles)
		},
		func() error { return checkPidsCgroups(processes) },
		func() error { return checkMemory(containers) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return fmt.Errorf("machine cannot run %d pods (%d containers): %w", pods, containers, err)
		}
	}
	return nil
}

// checkKernelMax returns an error when the integer in a /proc/sys file is
// below need.
func checkKernelMax(path string, need int) error {
	value, err := strconv.Atoi(readTrimmed(path))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if value < need {
		return fmt.Errorf("%s is %d, need at least %d: raise it or lower -scale-pods",
			path, value, need)
	}
	return nil
}

func checkRlimit(name string, resource, need int) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(resource, &lim); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if lim.Cur != unix.RLIM_INFINITY && lim.Cur < uint64(need) {
		return fmt.Errorf("soft %s is %d, need at least %d: raise it (ulimit) or lower -scale-pods",
			name, lim.Cur, need)
	}
	return nil
}

// checkPidsCgroups returns an error when the pids controller limits this
// process's cgroup, or one above it, to fewer than need more tasks.
func checkPidsCgroups(need int) error {
	for _, dir := range pidsCgroupDirs() {
		for ; strings.HasPrefix(dir, "/sys/fs/cgroup"); dir = filepath.Dir(dir) {
			limit, err := strconv.Atoi(readTrimmed(filepath.Join(dir, "pids.max")))
			if err != nil {
				continue // "max", or no pids controller at this level
			}
			current, _ := strconv.Atoi(readTrimmed(filepath.Join(dir, "pids.current")))
			if limit-current < need {
				return fmt.Errorf("%s/pids.max is %d with %d in use, need %d more: "+
					"raise it or lower -scale-pods", dir, limit, current, need)
			}
		}
	}
	return nil
}

// pidsCgroupDirs returns the cgroup directories of this process that may
// contain a pids.max: the pids controller's on cgroup v1, the unified one
// on cgroup v2.
func pidsCgroupDirs() []string {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 {
			continue
		}
		switch {
		case fields[1] == "" && fields[0] == "0":
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", fields[2]))
		case strings.Contains(","+fields[1]+",", ",pids,"):
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup/pids", fields[2]))
		}
	}
	return dirs
}

func checkMemory(containers int) error {
	var kib int64
	value := procField("/proc/meminfo", "MemAvailable")
	if _, err := fmt.Sscanf(value, "%d kB", &kib); err != nil {
		return fmt.Errorf("read MemAvailable from /proc/meminfo: got %q", value)
	}
	need := int64(containers) * memoryPerContainer
	if kib<<10 < need {
		return fmt.Errorf("%.1f GiB of memory available, need an estimated %.1f GiB: "+
			"lower -scale-pods", float64(kib)/(1<<20), float64(need)/(1<<30))
	}
	return nil
}

// countThreads returns the number of threads on the machine, the second
// half of the fourth field of /proc/loadavg ("running/total").
func countThreads() (int, error) {
	fields := strings.Fields(readTrimmed("/proc/loadavg"))
	if len(fields) >= 4 {
		if _, total, ok := strings.Cut(fields[3], "/"); ok {
			if n, err := strconv.Atoi(total); err == nil {
				return n, nil
			}
		}
	}
	return 0, fmt.Errorf("read thread count from /proc/loadavg: got %q", strings.Join(fields, " "))
}

func countProcesses() (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("count processes: %w", err)
	}
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			n++
		}
	}
	return n, nil
}
