// Package workflows holds hookd's deterministic Temporal workflow code: the Delivery
// workflow that drives one notification (webhook × event) through its attempts, and the
// names of its signals, query and search attributes. Workflow code never touches the
// network, the database, the clock or randomness; it asks activities for that.
package workflows
