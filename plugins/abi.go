package plugins

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// ABIVersion is the plugin ABI version this host implements (sdk/ABI.md).
const ABIVersion = 1

// Export and import names of the ABI.
const (
	exportMemory     = "memory"
	exportABIVersion = "podplug_abi_version"
	exportBuffer     = "podplug_buffer"
	hostModule       = "podplug"
	wasiModule       = "wasi_snapshot_preview1"
)

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// mismatchFunc returns an abi_mismatch Failure with a formatted message.
type mismatchFunc func(format string, args ...any) error

// hookExport returns the export name of a hook: pre-start is podplug_pre_start.
func hookExport(hook string) string {
	return "podplug_" + strings.ReplaceAll(hook, "-", "_")
}

// checkModule checks the compiled module against ABI version 1 and the
// manifest before any instance exists. Every import must be a host function
// with the host's signature. The module must export memory,
// podplug_abi_version and podplug_buffer with the ABI's signatures, and
// every hook in m.Hooks. It returns the exported hooks by name.
func (p *Plugin) checkModule(m *Manifest, cm wazero.CompiledModule) (map[string]string, error) {
	mismatch := func(format string, args ...any) error {
		return &Failure{Plugin: m.Name, Hook: "load", Type: FailureABIMismatch,
			Message: fmt.Sprintf(format, args...)}
	}
	if err := p.checkImports(cm, mismatch); err != nil {
		return nil, err
	}
	if err := checkMemory(m, cm, mismatch); err != nil {
		return nil, err
	}

	funcs := cm.ExportedFunctions()
	required := []struct {
		name            string
		params, results []api.ValueType
	}{
		{exportABIVersion, nil, []api.ValueType{i32}},
		{exportBuffer, []api.ValueType{i32}, []api.ValueType{i32}},
	}
	for _, r := range required {
		def, ok := funcs[r.name]
		if !ok {
			return nil, mismatch("module does not export %s", r.name)
		}
		if err := checkSignature(def, r.params, r.results, mismatch); err != nil {
			return nil, err
		}
	}
	return exportedHooks(m, funcs, mismatch)
}

func exportedHooks(m *Manifest, funcs map[string]api.FunctionDefinition,
	mismatch mismatchFunc) (map[string]string, error) {
	exports := map[string]string{}
	for _, hook := range append(slices.Clone(hookNames), HookValidateConfig) {
		def, ok := funcs[hookExport(hook)]
		if !ok {
			continue
		}
		params, results := []api.ValueType{i32}, []api.ValueType{i64}
		if err := checkSignature(def, params, results, mismatch); err != nil {
			return nil, err
		}
		exports[hook] = hookExport(hook)
	}
	for _, hook := range m.Hooks {
		if _, ok := exports[hook]; !ok {
			return nil, fmt.Errorf("plugin %s: %w: the manifest lists %s but the module "+
				"does not export %s", m.Name, ErrHookNotExported, hook, hookExport(hook))
		}
	}
	return exports, nil
}

// checkImports checks every import against the functions of the host
// modules instantiated in the plugin's runtime, so a module that would not
// link fails with abi_mismatch naming the import.
func (p *Plugin) checkImports(cm wazero.CompiledModule, mismatch mismatchFunc) error {
	if len(cm.ImportedMemories()) > 0 {
		return mismatch("module imports a memory; it must define and export its own")
	}
	for _, def := range cm.ImportedFunctions() {
		module, name, _ := def.Import()
		host := p.wr.Module(module)
		if module != hostModule && module != wasiModule || host == nil {
			return mismatch("module imports %s.%s; only %s and %s are provided",
				module, name, hostModule, wasiModule)
		}
		provided, ok := host.ExportedFunctionDefinitions()[name]
		if !ok {
			return mismatch("module imports %s.%s, which the host does not provide", module, name)
		}
		if !slices.Equal(def.ParamTypes(), provided.ParamTypes()) ||
			!slices.Equal(def.ResultTypes(), provided.ResultTypes()) {
			return mismatch("import %s.%s has type %s, want %s", module, name,
				signature(def.ParamTypes(), def.ResultTypes()),
				signature(provided.ParamTypes(), provided.ResultTypes()))
		}
	}
	return nil
}

func checkMemory(m *Manifest, cm wazero.CompiledModule, mismatch mismatchFunc) error {
	mem, ok := cm.ExportedMemories()[exportMemory]
	if !ok {
		return mismatch("module does not export its memory as %q", exportMemory)
	}
	if mem.Min() > m.MemoryLimitPages {
		msg := fmt.Sprintf("module needs %d memory pages at start, over memoryLimitPages %d",
			mem.Min(), m.MemoryLimitPages)
		return &Failure{Plugin: m.Name, Hook: "load", Type: FailureOutOfMemory, Message: msg}
	}
	return nil
}

func checkSignature(def api.FunctionDefinition, params, results []api.ValueType,
	mismatch mismatchFunc) error {
	if slices.Equal(def.ParamTypes(), params) && slices.Equal(def.ResultTypes(), results) {
		return nil
	}
	name := def.ExportNames()[0]
	return mismatch("export %s has type %s, want %s", name,
		signature(def.ParamTypes(), def.ResultTypes()), signature(params, results))
}

// signature formats a function type as (i32, i32) -> i64.
func signature(params, results []api.ValueType) string {
	names := func(types []api.ValueType) string {
		s := make([]string, len(types))
		for i, t := range types {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return names(params) + " -> " + names(results)
}
