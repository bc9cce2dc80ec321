//go:build !unix

package main

// checkOpenFiles has no limit to read off Unix.
func checkOpenFiles(conns int) error { return nil }
