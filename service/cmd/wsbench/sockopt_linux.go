package main

import "syscall"

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT from linux/in.h (not in
// package syscall).
const ipBindAddressNoPort = 24

// bindAddressNoPort lets a socket bound to a source address (-source-ips)
// choose its port at connect(), per destination, instead of at bind(), where
// every port must be free for every destination: without it each source
// address runs out of ports far sooner, and TIME_WAIT ports are not reused.
func bindAddressNoPort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
