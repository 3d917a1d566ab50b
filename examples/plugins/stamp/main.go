// Command stamp is a podplug pre-start plugin that sets the environment
// variables and labels of its config on every container:
//
//	config:
//	  env:    {TEAM: blue}
//	  labels: {stamped-by: stamp}
//
// It validates the config at install, rejecting keys other than env and
// labels, values that are not strings and invalid variable names.
package main

import (
	"errors"
	"strings"

	"github.com/podplug/podplug/sdk"
	"github.com/podplug/podplug/sdk/prestart"
	"github.com/podplug/podplug/sdk/validateconfig"
)

func init() {
	validateconfig.Handle(validate)
	prestart.Handle(stamp)
}

// main never runs: the module is a WASI reactor.
func main() {}

// stampConfig is the decoded config.
type stampConfig struct {
	env    map[string]string
	labels map[string]string
}

func parseConfig(cfg sdk.Config) (stampConfig, error) {
	for _, key := range cfg.Keys() {
		if key != "env" && key != "labels" {
			return stampConfig{}, errors.New("config key " + key + " is unknown: use env and labels")
		}
	}
	env, err := cfg.StringMap("env")
	if err != nil {
		return stampConfig{}, err
	}
	labels, err := cfg.StringMap("labels")
	if err != nil {
		return stampConfig{}, err
	}
	for name := range env {
		if name == "" || strings.ContainsAny(name, "=\x00") {
			return stampConfig{}, errors.New("config env name " + name +
				" is invalid: use a name without '=' or NUL")
		}
	}
	return stampConfig{env: env, labels: labels}, nil
}

func validate(cfg sdk.Config) error {
	_, err := parseConfig(cfg)
	return err
}

func stamp(in *sdk.PreStart) sdk.PreStartResult {
	cfg, err := parseConfig(in.Plugin.Config)
	if err != nil {
		return sdk.Error(err)
	}
	result := sdk.Allow()
	for name, value := range cfg.env {
		result = result.SetEnv(name, value)
	}
	for key, value := range cfg.labels {
		result = result.SetLabel(key, value)
	}
	return result
}
