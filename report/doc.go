// Package report renders what the analysis decided: the JSON report (its
// schema lives only here, documented in docs/schema.md), JSON Lines, the
// text report for a person and ladder diagrams. It holds no state between
// calls, decodes nothing and decides nothing.
package report
