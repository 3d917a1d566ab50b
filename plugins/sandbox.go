package plugins

import (
	crand "crypto/rand"
	"io"
	"math/rand/v2"

	"github.com/tetratelabs/wazero"
)

// sandboxConfig returns the module configuration of m's instances: no
// preopened directory, no environment, no arguments, stdin at EOF, stdout
// and stderr discarded. Without the clock grant, the clocks are wazero's
// fake ones: they start at 2022-01-01T00:00:00Z and advance 1 ms per
// reading. Sleeping returns at once in both cases, because a real sleep
// would block past the call's deadline. Without the random grant,
// instanceConfig gives each instance a fixed-seed source.
func sandboxConfig(m *Manifest) wazero.ModuleConfig {
	c := wazero.NewModuleConfig().
		WithName(""). // anonymous, so the module can be instantiated many times
		WithStartFunctions().
		WithStdout(io.Discard).
		WithStderr(io.Discard)
	if m.Granted("clock") {
		c = c.WithSysWalltime().WithSysNanotime()
	}
	if m.Granted("random") {
		c = c.WithRandSource(crand.Reader)
	}
	return c
}

// fixedSeed seeds the random source of plugins without the random grant.
var fixedSeed = [32]byte{'p', 'o', 'd', 'p', 'l', 'u', 'g'}

// instanceConfig returns the configuration of one new instance.
func (p *Plugin) instanceConfig() wazero.ModuleConfig {
	if p.manifest.Granted("random") {
		return p.modConfig
	}
	return p.modConfig.WithRandSource(rand.NewChaCha8(fixedSeed))
}
