package policy

import (
	"encoding/json"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// decisionEntry is one line of the decision log for Decide.
type decisionEntry struct {
	Time       time.Time    `json:"time"`
	Operation  string       `json:"operation"`
	Subject    Subject      `json:"subject"`
	Target     *targetEntry `json:"target,omitempty"`
	Allowed    bool         `json:"allowed"`
	Reasons    []Reason     `json:"reasons,omitempty"`
	DurationNS int64        `json:"duration_ns"`
	Input      any          `json:"input,omitempty"`
}

// listingEntry is one line of the decision log for Visible.
type listingEntry struct {
	Time       time.Time `json:"time"`
	Operation  string    `json:"operation"`
	Subject    Subject   `json:"subject"`
	Items      int       `json:"items"`
	Visible    int       `json:"visible"`
	DurationNS int64     `json:"duration_ns"`
}

type targetEntry struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

func (e *Engine) logDecision(start time.Time, input *Input, value ast.Value, d Decision) {
	entry := decisionEntry{
		Time:       start.UTC(),
		Operation:  input.Operation,
		Subject:    input.Subject,
		Allowed:    d.Allowed,
		Reasons:    d.Reasons,
		DurationNS: d.Duration.Nanoseconds(),
	}
	if input.Target != nil {
		entry.Target = &targetEntry{Kind: input.Target.Kind, Name: input.Target.Name}
	}
	if e.opts.LogInput {
		// Converting the value the policies saw, rather than input, logs
		// exactly what they decided on.
		document, err := ast.JSON(value)
		if err == nil {
			entry.Input = withoutEnv(document)
		}
	}
	e.writeEntry(entry)
}

func (e *Engine) logListing(start time.Time, input *Input, visible []bool) {
	shown := 0
	for _, v := range visible {
		if v {
			shown++
		}
	}
	e.writeEntry(listingEntry{
		Time:       start.UTC(),
		Operation:  input.Operation,
		Subject:    input.Subject,
		Items:      len(visible),
		Visible:    shown,
		DurationNS: time.Since(start).Nanoseconds(),
	})
}

// writeEntry writes entry as one line. A failed write is logged on the 1st,
// 2nd, 4th, 8th... failure, so a broken writer cannot flood the daemon log.
func (e *Engine) writeEntry(entry any) {
	line, err := json.Marshal(entry)
	if err != nil {
		e.logger.Error("encode decision log entry failed", "err", err)
		return
	}
	line = append(line, '\n')

	e.logMu.Lock()
	_, err = e.opts.DecisionLog.Write(line)
	e.logMu.Unlock()

	if err != nil {
		n := e.logFailures.Add(1)
		if n&(n-1) == 0 {
			e.logger.Error("write decision log failed", "err", err, "failures", n)
		}
	}
}

// withoutEnv returns v with every object field named "env" removed, at any
// depth, so environment values (which often carry secrets) never reach the
// log. It changes v in place.
//
// NOTE: a policy that copies an environment value into a deny message still
// gets it logged, in the reasons. The shipped policies do not.
func withoutEnv(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "env")
		for k, child := range v {
			v[k] = withoutEnv(child)
		}
	case []any:
		for i, child := range v {
			v[i] = withoutEnv(child)
		}
	}
	return v
}
