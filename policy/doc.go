// Package policy decides whether an operation may run, by evaluating Open
// Policy Agent (Rego v1) policies embedded in the daemon.
//
// Policies live in a directory or bundle tarball and define rules in package
// podplug: allow, a boolean, and deny, a set of {"code", "message"} objects.
// An operation is allowed only when allow is true and deny is empty. Anything
// else denies with a reason, and so do an undefined or mistyped result, an
// evaluation error and a timeout. A third rule, visible, decides per item which
// objects a listing shows. docs/policy.md describes the input document and
// the shipped policies in examples/policies.
//
// Load compiles the policies and prepares the queries once; Decide and
// Visible evaluate them, and Reload swaps in a new set atomically. Test runs
// the policies' own Rego unit tests.
package policy
