package policy

import "errors"

// ErrInvalidPolicy is returned by Load, Reload and Test when a policy file
// does not parse or compile, or a data file does not decode. The wrapping
// error names the file and line.
var ErrInvalidPolicy = errors.New("invalid policy")

// ErrNoPolicies is returned by Load and Reload when the policy directory or
// bundle holds no .rego file outside tests. An empty set would deny every
// operation, which is more likely a wrong path than an intent.
var ErrNoPolicies = errors.New("no policies")
