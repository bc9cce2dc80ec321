//go:build !linux

package main

import "syscall"

// bindAddressNoPort does nothing off Linux, where the option does not exist;
// each source address then has as many connections as free ports.
func bindAddressNoPort(network, address string, c syscall.RawConn) error { return nil }
