package engine

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"go.podman.io/common/pkg/signal"

	"github.com/podplug/podplug/engine/model"
)

const (
	sigTERM = syscall.SIGTERM
	sigKILL = syscall.SIGKILL
)

// ParseSignal accepts a signal name with or without SIG (TERM, SIGTERM,
// sigterm) or a number, and rejects anything else.
func ParseSignal(s string) (syscall.Signal, error) {
	if strings.TrimSpace(s) == "" {
		return 0, invalidf("signal is empty: give a name such as SIGTERM or a number")
	}
	// podman's parser strips a leading dash; kill -s takes none.
	if strings.HasPrefix(s, "-") {
		return 0, invalidf("signal %q: use a name such as SIGTERM or KILL, or a number from 1 to 64", s)
	}
	sig, err := signal.ParseSignalNameOrNumber(s)
	if err != nil || sig <= 0 || sig > 64 {
		return 0, invalidf("signal %q: use a name such as SIGTERM or KILL, or a number from 1 to 64", s)
	}
	return sig, nil
}

// parseSize reads sizes such as 512, 100k, 64m, 1g or 1.5GiB into bytes.
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "ib"), "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	bytes := v * float64(mult)
	if err != nil || math.IsNaN(v) || bytes < 1 || bytes >= math.MaxInt64 {
		return 0, fmt.Errorf("not a size: use a positive number with an optional unit k, m or " +
			"g, such as 512m")
	}
	return int64(bytes), nil
}

// parseRestart reads no, always, on-failure or on-failure:N.
func parseRestart(s string) (model.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	switch name {
	case "", model.RestartNo:
		if hasCount {
			break
		}
		return model.RestartPolicy{Name: model.RestartNo}, nil
	case model.RestartAlways:
		if hasCount {
			break
		}
		return model.RestartPolicy{Name: model.RestartAlways}, nil
	case model.RestartOnFailure:
		p := model.RestartPolicy{Name: model.RestartOnFailure}
		if !hasCount {
			return p, nil
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			break
		}
		p.MaxRetries = n
		return p, nil
	}
	return model.RestartPolicy{}, invalidf("restart policy %q: use no, always, on-failure or on-failure:N", s)
}

// parseVolume reads HOST:CTR[:ro|rw]. HOST is an absolute path or the name
// of a volume kept under the engine's root.
func parseVolume(spec string) (model.Mount, error) {
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return model.Mount{}, invalidf("volume %q: use HOST:CONTAINER[:ro]", spec)
	}
	m := model.Mount{Type: model.MountBind, Source: parts[0], Destination: parts[1]}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return model.Mount{}, invalidf("volume %q: option %q: use ro or rw", spec, parts[2])
		}
	}
	if !filepath.IsAbs(m.Destination) {
		return model.Mount{}, invalidf("volume %q: container path %q must be absolute", spec, m.Destination)
	}
	if !filepath.IsAbs(m.Source) && !validName(m.Source) {
		return model.Mount{}, invalidf("volume %q: %q is neither an absolute path nor a volume name",
			spec, m.Source)
	}
	m.Destination = filepath.Clean(m.Destination)
	return m, nil
}

// ParseSize reads a size such as 512m into bytes.
func ParseSize(s string) (int64, error) { return parseSize(s) }

// ParseVolume reads HOST:CTR[:ro|rw]; HOST is an absolute path or a volume
// name.
func ParseVolume(spec string) (model.Mount, error) { return parseVolume(spec) }
