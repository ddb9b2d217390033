// echo.go: the Go peer of W11 (see ../../README.md): a line echo server on
// 127.0.0.1, one goroutine per connection, standard library only.
//
//	build: GO111MODULE=off go build -o OUT/go_echo echo.go
//	run:   GOMAXPROCS=T go_echo PORT
//
// As otp's echo_server does, it greets each connection with one line; then
// every line it reads (up to and including its '\n') is written back. A line
// longer than the reader's 4 KiB buffer, or any error, closes the
// connection. It serves until it is killed.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
)

var greeting = []byte("welcome; every line is echoed back\n")

func serve(c net.Conn) {
	defer c.Close()
	if _, err := c.Write(greeting); err != nil {
		return
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadSlice('\n') // valid until the next read: written back first
		if err != nil {
			return
		}
		if _, err := c.Write(line); err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: GOMAXPROCS=T go_echo PORT")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_echo:", err)
		os.Exit(1)
	}
	fmt.Printf("go_echo: listening on %s\n", ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "go_echo: accept:", err)
			continue
		}
		go serve(c)
	}
}
