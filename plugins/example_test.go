package plugins_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"

	"github.com/podplug/podplug/plugins"
)

// Example loads a plugin pinned by its manifest and calls its pre-start
// hook. The echo test module returns its input as the result, so the input
// here is the result: a denial.
func Example() {
	ctx := context.Background()
	r, err := plugins.NewRuntime(ctx, plugins.Config{})
	if err != nil {
		panic(err)
	}
	defer r.Close(ctx)

	wasm, err := os.ReadFile("testdata/echo.wasm")
	if err != nil {
		panic(err)
	}
	m, err := plugins.ParseManifest(fmt.Appendf(nil, `
name: echo
version: 1.0.0
sha256: %x
hooks: [pre-start]
timeout: 100ms
`, sha256.Sum256(wasm)))
	if err != nil {
		panic(err)
	}
	p, err := r.Load(ctx, wasm, m)
	if err != nil {
		panic(err)
	}

	_, err = p.Call(ctx, plugins.HookPreStart, []byte(`{"status":"deny","message":"no"}`))
	fmt.Println(plugins.FailureTypeOf(err))
	fmt.Println(err)
	// Output:
	// denied
	// plugin echo: pre-start: denied: no
}
