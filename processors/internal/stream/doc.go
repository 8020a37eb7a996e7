// Package stream holds the event-time machinery every detector shares: a
// watermark that tolerates late events, sliding windows of hits, and a
// bounded map of per-entity state that forgets idle keys.
//
// Nothing here imports a transport; detectors are fed decoded events and
// return findings, so they are tested with synthetic series alone. State
// types have exported fields and no pointers between entries, so a detector
// can checkpoint itself as JSON and restore after a restart.
package stream
