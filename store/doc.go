// Package store keeps podplug's state in an embedded badger database: pods,
// containers and images as JSON records with their indexes, the append-only
// event log, and a key-value space for each plugin.
//
// Only one process can open a database directory, so the daemon owns it and
// everything else goes through the daemon. All reads and writes happen in
// transactions: Store.View for a consistent read-only snapshot and
// Store.Update for a serializable read-write transaction, which is on disk
// when Update returns. Update runs its function again when the commit
// conflicts with a concurrent transaction.
//
// Pod and container names are unique per tenant, and the Lookup methods find
// a record by name, full ID or unique ID prefix within one tenant. Pod and
// container names are separate namespaces. Image names are global, and a
// name given to a new image moves from the image that had it.
//
// Events get a Seq number at commit. Seq numbers increase over the life of
// the database, also across restarts, and the log becomes visible in Seq
// order, so a reader can follow it with Store.Events from the last Seq it
// saw.
package store
