// Command imagegate is a podplug pre-start plugin that denies a container
// whose image does not start with one of the prefixes in its config:
//
//	config:
//	  allow: ["localhost/", "registry.example/team/"]
package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/podplug/podplug/sdk"
	"github.com/podplug/podplug/sdk/prestart"
	"github.com/podplug/podplug/sdk/validateconfig"
)

func init() {
	validateconfig.Handle(validate)
	prestart.Handle(gate)
}

// main never runs: the module is a WASI reactor.
func main() {}

func allowedPrefixes(cfg sdk.Config) ([]string, error) {
	prefixes, err := cfg.StringSlice("allow")
	if err != nil {
		return nil, err
	}
	if len(prefixes) == 0 {
		return nil, errors.New("config key allow is missing or empty: list the allowed image prefixes")
	}
	for i, p := range prefixes {
		if p == "" {
			return nil, errors.New("config allow[" + strconv.Itoa(i) +
				"] is empty, which would allow every image: remove it")
		}
	}
	return prefixes, nil
}

func validate(cfg sdk.Config) error {
	_, err := allowedPrefixes(cfg)
	return err
}

func gate(in *sdk.PreStart) sdk.PreStartResult {
	prefixes, err := allowedPrefixes(in.Plugin.Config)
	if err != nil {
		return sdk.Error(err)
	}
	image := in.Container.Image
	for _, p := range prefixes {
		if strings.HasPrefix(image, p) {
			return sdk.Allow()
		}
	}
	return sdk.Deny("image " + strconv.Quote(image) + " of container " + in.Pod.Name + "/" +
		in.Container.Name + " is not allowed: use an image starting with " + quoteAll(prefixes))
}

// quoteAll formats prefixes as a comma-separated list of quoted strings.
func quoteAll(prefixes []string) string {
	quoted := make([]string, len(prefixes))
	for i, p := range prefixes {
		quoted[i] = strconv.Quote(p)
	}
	return strings.Join(quoted, ", ")
}
