//go:build wasip1

// Command goguest is a plugin written in Go against the plugin ABI without
// the SDK. The plugins tests build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared
//
// pre-start stamps the container with env and label changes. post-stop
// allocates 64 MiB, past the default memory limit of 32 MiB. inspect never
// returns. validate_config denies a config with "reject": true.
package main

import (
	"encoding/json"
	"strconv"
	"unsafe"
)

var (
	input  []byte // the buffer podplug_buffer hands to the host
	output []byte // the last result, kept alive until the next call
	hog    [][]byte
)

func main() {}

//go:wasmexport podplug_abi_version
func abiVersion() int32 { return 1 }

//go:wasmexport podplug_buffer
func buffer(size int32) int32 {
	if cap(input) < int(size) || cap(input) == 0 {
		input = make([]byte, max(int(size), 1024))
	}
	input = input[:cap(input)]
	return int32(uintptr(unsafe.Pointer(&input[0])))
}

func result(v any) int64 {
	output, _ = json.Marshal(v)
	return int64(uintptr(unsafe.Pointer(&output[0])))<<32 | int64(len(output))
}

type container struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type hookInput struct {
	Plugin struct {
		Name   string         `json:"name"`
		Config map[string]any `json:"config"`
	} `json:"plugin"`
	Container  container   `json:"container"`
	Containers []container `json:"containers"`
}

func decode(n int32) (hookInput, bool) {
	var in hookInput
	err := json.Unmarshal(input[:n], &in)
	return in, err == nil
}

//go:wasmexport podplug_pre_start
func preStart(n int32) int64 {
	in, ok := decode(n)
	if !ok {
		return result(map[string]string{"status": "error", "message": "input is not JSON"})
	}
	return result(map[string]any{
		"status": "ok",
		"changes": map[string]any{
			"env":    map[string]string{"STAMPED_BY": in.Plugin.Name},
			"labels": map[string]string{"stamp.pod-size": strconv.Itoa(len(in.Containers))},
		},
	})
}

//go:wasmexport podplug_post_stop
func postStop(n int32) int64 {
	for range 64 {
		hog = append(hog, make([]byte, 1<<20))
	}
	return result(map[string]string{"status": "ok"})
}

//go:wasmexport podplug_inspect
func inspect(n int32) int64 {
	for {
	}
}

//go:wasmexport podplug_validate_config
func validateConfig(n int32) int64 {
	in, ok := decode(n)
	if !ok {
		return result(map[string]string{"status": "error", "message": "input is not JSON"})
	}
	if in.Plugin.Config["reject"] == true {
		return result(map[string]string{"status": "deny", "message": "config has reject set"})
	}
	return result(map[string]string{"status": "ok"})
}
