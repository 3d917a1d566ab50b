// Package hooks runs podplug's Wasm plugins at the lifecycle's hook points.
// It keeps the registry of installed plugins (their manifests and modules,
// enabled or not), calls them in a stable order (priority, then name),
// merges the changes pre-start plugins ask for and rejects conflicts,
// applies each plugin's failure policy and mode, queues post-stop calls in
// the store so each exit reaches each plugin once, and gathers inspect
// enrichments in parallel.
package hooks
