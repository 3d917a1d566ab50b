package plugins

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// result is the part of a hook result the host checks.
type result struct {
	Status  string                     `json:"status"`
	Message string                     `json:"message"`
	Changes map[string]json.RawMessage `json:"changes"`
}

// checkResult checks that out is a JSON object with a valid status, and that
// a pre-start result changes only the kinds the manifest allows. It returns
// a denied or error Failure carrying the plugin's message for those statuses.
func (p *Plugin) checkResult(hook string, out []byte) *Failure {
	var res result
	if err := json.Unmarshal(out, &res); err != nil {
		return p.failure(hook, FailureBadOutput, err, "result is not a valid JSON object: "+
			err.Error())
	}
	switch res.Status {
	case "ok":
		return p.checkChanges(hook, res.Changes)
	case "deny":
		return p.failure(hook, FailureDenied, nil, res.Message)
	case "error":
		return p.failure(hook, FailureError, nil, res.Message)
	case "":
		return p.failure(hook, FailureBadOutput, nil,
			"result has no status: use ok, deny or error")
	default:
		return p.failure(hook, FailureBadOutput, nil, fmt.Sprintf(
			"result status %q is invalid: use ok, deny or error", res.Status))
	}
}

func (p *Plugin) checkChanges(hook string, changes map[string]json.RawMessage) *Failure {
	var kinds []string
	for kind, value := range changes {
		if string(value) != "null" {
			kinds = append(kinds, kind)
		}
	}
	if len(kinds) == 0 {
		return nil
	}
	slices.Sort(kinds)
	if hook != HookPreStart {
		return p.failure(hook, FailureBadOutput, nil, fmt.Sprintf(
			"result changes %s, but only pre-start may change a container",
			strings.Join(kinds, ", ")))
	}
	for _, kind := range kinds {
		if !slices.Contains(changeKinds, kind) {
			return p.failure(hook, FailureBadOutput, nil, fmt.Sprintf(
				"result changes %q, which is not a kind of change: use %s",
				kind, strings.Join(changeKinds, ", ")))
		}
		if !slices.Contains(p.manifest.AllowedChanges, kind) {
			return p.failure(hook, FailureBadOutput, nil, fmt.Sprintf(
				"result changes %s, which the manifest's allowedChanges [%s] do not list",
				kind, strings.Join(p.manifest.AllowedChanges, ", ")))
		}
	}
	return nil
}
