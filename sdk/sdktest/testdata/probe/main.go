// Command probe is a test plugin that exercises the SDK's glue through the
// real runtime. Its pre-start behaviour depends on the container name:
//
//	panic    panics in the handler
//	zero     returns the zero PreStartResult, which has no status
//	kv       stores, reads back and deletes a 5000-byte value
//	changes  returns one change of every kind
//	echo     returns the decoded input in env variables
//
// Any other name is allowed without changes. Inspect returns the plugin's
// config and the input's kind.
package main

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/podplug/podplug/sdk"
	"github.com/podplug/podplug/sdk/inspect"
	"github.com/podplug/podplug/sdk/prestart"
)

func init() {
	prestart.Handle(preStart)
	inspect.Handle(func(in *sdk.Inspect) (any, error) {
		return map[string]any{"config": in.Plugin.Config, "kind": in.Kind}, nil
	})
}

func main() {}

func preStart(in *sdk.PreStart) sdk.PreStartResult {
	switch in.Container.Name {
	case "panic":
		panic("probe panics on request")
	case "zero":
		return sdk.PreStartResult{}
	case "kv":
		return kvRoundTrip()
	case "changes":
		return sdk.Allow().
			SetEnv("A", "1").
			SetLabel("l", "v").
			SetAnnotation("example.com/a", "b").
			AddMount(sdk.Mount{Type: "tmpfs", Destination: "/scratch"}).
			SetRlimit("RLIMIT_NOFILE", 4096, 4096).
			SetResources(sdk.Resources{MemoryLimit: 64 << 20, CPUShares: 512, PidsLimit: 100})
	case "echo":
		path, _ := in.Container.Getenv("PATH")
		return sdk.Allow().
			SetEnv("POD", in.Pod.Name).
			SetEnv("IMAGE", in.Container.Image).
			SetEnv("PATH_SEEN", path).
			SetEnv("CONTAINERS", strconv.Itoa(len(in.Containers))).
			SetEnv("MOUNT0", in.Container.Mounts[0].Destination).
			SetEnv("NOFILE", strconv.FormatUint(in.Container.Rlimits[0].Soft, 10)).
			SetEnv("COMMAND", strings.Join(in.Container.Command, " "))
	}
	return sdk.Allow()
}

func kvRoundTrip() sdk.PreStartResult {
	value := bytes.Repeat([]byte("0123456789"), 500)
	if err := sdk.KVSet("big", value); err != nil {
		return sdk.Error(err)
	}
	got, ok, err := sdk.KVGet("big")
	if err != nil {
		return sdk.Error(err)
	}
	if !ok || !bytes.Equal(got, value) {
		return sdk.Error(errors.New("kv round trip returned " + strconv.Itoa(len(got)) + " bytes"))
	}
	if err := sdk.KVDelete("big"); err != nil {
		return sdk.Error(err)
	}
	if _, ok, _ := sdk.KVGet("big"); ok {
		return sdk.Error(errors.New("kv key still present after delete"))
	}
	sdk.Log(sdk.LevelWarn, "kv round trip of "+strconv.Itoa(len(value))+" bytes")
	return sdk.Allow().SetEnv("KV", strconv.Itoa(len(got)))
}
