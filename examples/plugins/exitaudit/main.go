// Command exitaudit is a podplug plugin with two hooks. Its post-stop
// auditor logs each container exit and counts exits per container in the
// plugin's key-value store. Its inspect enricher shows those counts for a
// container or for every container of a pod.
//
// Keys: "exits/<pod>/<container>" holds a container's count in decimal,
// and "containers/<pod>" the names of the pod's containers with a count,
// one per line, because the inspect input of a pod does not list its
// containers and the store cannot list keys.
package main

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/podplug/podplug/sdk"
	"github.com/podplug/podplug/sdk/inspect"
	"github.com/podplug/podplug/sdk/poststop"
)

func init() {
	poststop.Handle(recordExit)
	inspect.Handle(showExits)
}

// main never runs: the module is a WASI reactor.
func main() {}

func exitKey(pod, container string) string { return "exits/" + pod + "/" + container }

func indexKey(pod string) string { return "containers/" + pod }

// recordExit adds one to the container's count. The read and the write
// are not atomic, which is safe because the daemon calls post-stop once
// per exit and a container cannot exit twice at the same time.
func recordExit(in *sdk.PostStop) error {
	pod, container := in.Pod.Name, in.Container.Name
	key := exitKey(pod, container)
	count, err := readCount(key)
	if err != nil {
		return err
	}
	count++
	if err := sdk.KVSet(key, strconv.AppendInt(nil, count, 10)); err != nil {
		return wrap("store exit count "+key, err)
	}
	if err := addToIndex(pod, container); err != nil {
		return err
	}
	sdk.Log(sdk.LevelInfo, "container "+pod+"/"+container+" exited with code "+
		strconv.Itoa(in.ExitCode)+", signal "+strconv.Itoa(in.Signal)+
		", oom_killed "+strconv.FormatBool(in.OOMKilled)+" after "+
		strconv.FormatInt(in.RunTimeMS, 10)+" ms; exits so far: "+strconv.FormatInt(count, 10))
	return nil
}

// readCount returns the count stored under key, 0 when it is absent.
func readCount(key string) (int64, error) {
	value, ok, err := sdk.KVGet(key)
	if err != nil {
		return 0, wrap("read exit count "+key, err)
	}
	if !ok {
		return 0, nil
	}
	count, err := strconv.ParseInt(string(value), 10, 64)
	if err != nil {
		return 0, errors.New("exit count " + key + " is " + strconv.Quote(string(value)) +
			", not a number: delete the key")
	}
	return count, nil
}

func readIndex(pod string) ([]string, error) {
	value, _, err := sdk.KVGet(indexKey(pod))
	if err != nil {
		return nil, wrap("read container index of pod "+pod, err)
	}
	if len(value) == 0 {
		return nil, nil
	}
	return strings.Split(string(value), "\n"), nil
}

func addToIndex(pod, container string) error {
	names, err := readIndex(pod)
	if err != nil || slices.Contains(names, container) {
		return err
	}
	names = append(names, container)
	if err := sdk.KVSet(indexKey(pod), []byte(strings.Join(names, "\n"))); err != nil {
		return wrap("store container index of pod "+pod, err)
	}
	return nil
}

// showExits returns {"exits": N} for a container, and for a pod
// {"exits": {"<container>": N, ...}, "total": N}.
func showExits(in *sdk.Inspect) (any, error) {
	if in.Kind == sdk.KindContainer && in.Container != nil {
		count, err := readCount(exitKey(in.Pod.Name, in.Container.Name))
		if err != nil {
			return nil, err
		}
		return map[string]any{"exits": count}, nil
	}

	names, err := readIndex(in.Pod.Name)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int64, len(names))
	var total int64
	for _, name := range names {
		count, err := readCount(exitKey(in.Pod.Name, name))
		if err != nil {
			return nil, err
		}
		counts[name] = count
		total += count
	}
	return map[string]any{"exits": counts, "total": total}, nil
}

// wrappedError adds what the plugin was doing to a key-value error. The
// plugin does without fmt.Errorf, which made this module about 700 KB
// bigger with Go 1.26.
type wrappedError struct {
	context string
	err     error
}

func wrap(context string, err error) error { return &wrappedError{context: context, err: err} }

func (e *wrappedError) Error() string { return e.context + ": " + e.err.Error() }

func (e *wrappedError) Unwrap() error { return e.err }
