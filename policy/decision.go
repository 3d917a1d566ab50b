package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// Reason codes the engine gives itself, when the policies did not produce a
// usable decision. Each of them denies.
const (
	// CodeUndefined: data.podplug.allow (or visible) is undefined, for
	// example because no loaded file defines it.
	CodeUndefined = "policy_undefined"
	// CodeTypeError: allow is not a boolean, or deny is not a set of objects
	// with a string code and message.
	CodeTypeError = "policy_type_error"
	// CodeError: evaluation failed, for example on conflicting rule values or
	// a built-in error such as a division by zero, or was cancelled.
	CodeError = "policy_error"
	// CodeTimeout: evaluation ran longer than Options.Timeout.
	CodeTimeout = "policy_timeout"
	// CodeNotAllowed: allow is false and no policy gave a deny reason.
	CodeNotAllowed = "not_allowed"
)

// CodeTenantIsolation is the code the shipped tenant_isolation.rego gives
// when the target belongs to another tenant. See Decision.Hidden.
const CodeTenantIsolation = "tenant_isolation"

// Reason is one entry of data.podplug.deny, or one of the engine's own codes.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Decision is the outcome of Decide.
type Decision struct {
	// Allowed is true only when allow is true and deny is empty.
	Allowed bool
	// Reasons explain a denial, sorted by code and message. An allowed
	// decision has none.
	Reasons []Reason
	// Duration is the time Decide took, evaluation and logging included.
	Duration time.Duration
}

// Hidden reports whether the decision denies because the target belongs to
// another tenant. The caller must then return the same not-found error as for
// a target that does not exist, because the reason code alone would reveal
// to the client that the object exists.
func (d Decision) Hidden() bool {
	for _, r := range d.Reasons {
		if r.Code == CodeTenantIsolation {
			return true
		}
	}
	return false
}

// Err returns nil for an allowed decision and a *DeniedError otherwise.
func (d Decision) Err(operation string) error {
	if d.Allowed {
		return nil
	}
	return &DeniedError{Operation: operation, Reasons: d.Reasons}
}

// ErrDenied matches every *DeniedError with errors.Is.
var ErrDenied = errors.New("denied by policy")

// DeniedError is a denial as an error. Its message lists every reason.
type DeniedError struct {
	Operation string
	Reasons   []Reason
}

func (e *DeniedError) Error() string {
	parts := make([]string, len(e.Reasons))
	for i, r := range e.Reasons {
		parts[i] = r.Code + ": " + r.Message
	}
	return fmt.Sprintf("%s: %v: %s", e.Operation, ErrDenied, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrDenied) true.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// Decide evaluates data.podplug.allow and data.podplug.deny for input. It
// returns no error because every failure denies: an undefined or mistyped
// result, an evaluation error and a timeout each give a reason saying which.
// Decide writes one line to the decision log when Options.DecisionLog is set.
func (e *Engine) Decide(ctx context.Context, input Input) Decision {
	start := time.Now()
	set := e.current.Load()
	value := input.value(true)

	d := e.evalDecision(ctx, set, value)
	d.Duration = time.Since(start)
	if e.opts.DecisionLog != nil {
		e.logDecision(start, &input, value, d)
	}
	return d
}

func (e *Engine) evalDecision(ctx context.Context, set *policySet, value ast.Value) Decision {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()

	start := time.Now()
	rs, err := evaluate(ctx, set.decision, value)
	if err != nil {
		return Decision{Reasons: []Reason{failureReason(ctx, time.Since(start), err)}}
	}
	if len(rs) != 1 {
		return Decision{Reasons: []Reason{{CodeUndefined, "the decision query returned no result"}}}
	}

	allowed, reasons := readAllow(rs[0].Bindings["allow"])
	reasons = append(reasons, readDeny(rs[0].Bindings["deny"])...)
	if !allowed && len(reasons) == 0 {
		reasons = append(reasons, Reason{CodeNotAllowed, "allow is false and no policy gave a reason"})
	}
	sort.Slice(reasons, func(i, j int) bool {
		if reasons[i].Code != reasons[j].Code {
			return reasons[i].Code < reasons[j].Code
		}
		return reasons[i].Message < reasons[j].Message
	})
	return Decision{Allowed: allowed && len(reasons) == 0, Reasons: reasons}
}

// evaluate runs query on input until ctx is done. It stops the evaluation
// through context.AfterFunc, where rego would start a goroutine per call to
// watch ctx, and skips rego's per-call metrics, which nothing reads.
func evaluate(ctx context.Context, query rego.PreparedEvalQuery,
	input ast.Value) (rego.ResultSet, error) {
	cancel := topdown.NewCancel()
	stop := context.AfterFunc(ctx, cancel.Cancel)
	defer stop()

	return query.Eval(ctx,
		rego.EvalParsedInput(input),
		rego.EvalExternalCancel(cancel),
		rego.EvalMetrics(metrics.NoOp()))
}

// readAllow reads the allow binding, an array of zero or one value.
func readAllow(binding any) (bool, []Reason) {
	values, _ := binding.([]any)
	if len(values) == 0 {
		return false, []Reason{{CodeUndefined,
			"data.podplug.allow is undefined; no loaded policy defines it (the shipped base.rego does)"}}
	}
	allowed, ok := values[0].(bool)
	if !ok {
		return false, []Reason{{CodeTypeError,
			fmt.Sprintf("data.podplug.allow is %s, want a boolean", describe(values[0]))}}
	}
	return allowed, nil
}

// readDeny reads the deny binding. An undefined deny means that no loaded
// policy defines deny rules, which denies nothing.
func readDeny(binding any) []Reason {
	values, _ := binding.([]any)
	if len(values) == 0 {
		return nil
	}
	entries, ok := values[0].([]any)
	if !ok {
		return []Reason{{CodeTypeError,
			fmt.Sprintf("data.podplug.deny is %s, want a set of objects", describe(values[0]))}}
	}

	reasons := make([]Reason, 0, len(entries))
	for _, entry := range entries {
		reasons = append(reasons, readReason(entry))
	}
	return reasons
}

func readReason(entry any) Reason {
	object, ok := entry.(map[string]any)
	if !ok {
		return typeErrorEntry(entry)
	}
	code, codeOK := object["code"].(string)
	message, messageOK := object["message"].(string)
	if !codeOK || !messageOK || code == "" {
		return typeErrorEntry(entry)
	}
	return Reason{Code: code, Message: message}
}

func typeErrorEntry(entry any) Reason {
	return Reason{CodeTypeError, fmt.Sprintf(
		"data.podplug.deny contains %s, want an object with a non-empty string code and a string message",
		describe(entry))}
}

// describe returns a short JSON rendering of v for messages, cut at 120
// bytes so that a large wrong value does not flood the reason.
func describe(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%T", v)
	}
	const limit = 120
	if len(b) > limit {
		return string(b[:limit]) + "..."
	}
	return string(b)
}

// failureReason turns an evaluation error into a reason. ctx is the context
// the evaluation ran under, so its state distinguishes a timeout from other
// errors.
func failureReason(ctx context.Context, elapsed time.Duration, err error) Reason {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return Reason{CodeTimeout, fmt.Sprintf("policy evaluation timed out after %v",
			elapsed.Round(time.Millisecond))}
	case ctx.Err() != nil:
		return Reason{CodeError, "policy evaluation cancelled: " + ctx.Err().Error()}
	default:
		return Reason{CodeError, "policy evaluation failed: " + err.Error()}
	}
}

// ErrEvaluation is wrapped by the error Visible returns when an item could
// not be evaluated; that item is hidden.
var ErrEvaluation = errors.New("policy evaluation failed")

// Visible reports, for each of targets, whether the subject of input may see
// it in a listing. It evaluates data.podplug.visible once per target, with
// input.target set to that target; input.Target itself is ignored. Each
// evaluation gets its own Options.Timeout. A target whose result is not
// true is hidden, and so is one whose evaluation fails; the error then names
// the first failure. Visible writes one line per call to the decision log.
func (e *Engine) Visible(ctx context.Context, input Input, targets []Target) ([]bool, error) {
	start := time.Now()
	set := e.current.Load()
	base := input.items(false)

	visible := make([]bool, len(targets))
	var firstErr error
	for i := range targets {
		items := append(base[:len(base):len(base)], item("target", targets[i].term()))
		ok, reason := e.evalVisible(ctx, set, ast.NewObject(items...))
		visible[i] = ok
		if reason != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s: decide visibility of %s %q: %w: %s: %s", input.Operation,
				targets[i].Kind, targets[i].Name, ErrEvaluation, reason.Code, reason.Message)
		}
		if ctx.Err() != nil {
			break
		}
	}

	if e.opts.DecisionLog != nil {
		e.logListing(start, &input, visible)
	}
	return visible, firstErr
}

// evalVisible returns whether visible is true, and a reason when the result
// could not be read.
func (e *Engine) evalVisible(ctx context.Context, set *policySet, value ast.Value) (bool, *Reason) {
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()

	start := time.Now()
	rs, err := evaluate(ctx, set.visible, value)
	if err != nil {
		reason := failureReason(ctx, time.Since(start), err)
		return false, &reason
	}
	if len(rs) != 1 {
		return false, &Reason{CodeUndefined, "the visible query returned no result"}
	}

	values, _ := rs[0].Bindings["visible"].([]any)
	if len(values) == 0 {
		return false, &Reason{CodeUndefined,
			"data.podplug.visible is undefined; no loaded policy defines it (the shipped base.rego does)"}
	}
	ok, isBool := values[0].(bool)
	if !isBool {
		return false, &Reason{CodeTypeError,
			fmt.Sprintf("data.podplug.visible is %s, want a boolean", describe(values[0]))}
	}
	return ok, nil
}
