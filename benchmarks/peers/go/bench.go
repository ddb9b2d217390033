// bench.go: the Go peer of benchmarks/peers (see README.md there for the
// workload definitions). Goroutines are the processes and channels their
// mailboxes; standard library only, Go 1.19.
//
//	build: GO111MODULE=off go build -o OUT/go_bench bench.go
//	run:   GOMAXPROCS=T go_bench w1|w2|w3|w4|w5|w8|w10|micro
//
// Each workload prints `RESULT <metric> <value> <unit>` lines that time the
// workload only. A wrong result (a bad skynet sum, a lost message) is reported
// on stderr with exit status 1; an unknown workload gives the usage and
// exit status 2. W5_N and W10_N in the environment set W5's call count and
// W10's worker count. `micro` is
// meant to be run with GOMAXPROCS=1, as the README's micro-operations are
// measured on one thread.
//
// Mailboxes: an actor's send never waits for its receiver (Erlang's `!` is
// asynchronous), so every process's mailbox is a buffered channel. Go
// channels are bounded, so each one is sized for the most messages that can
// be waiting in it in that workload: a skynet node's 10 replies, the one
// token of ping-pong and the ring, all 100,000 exit notifications of W4. The
// one exception is W8's consumer, where 10,000,000 messages could pile up:
// there the mailbox is a fixed buffer and producers block while it is full,
// which is the back-pressure idiomatic Go relies on instead of an unbounded
// queue.
//
// Go has no links, monitors or registry, so W6, W7, W9 and the link,
// monitor and lookup micro-operations are not implemented.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// report prints one figure in the common format.
func report(metric string, value float64, unit string) {
	fmt.Printf("RESULT %s %.1f %s\n", metric, value, unit)
}

// fail reports a wrong result and exits non-zero.
func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go_bench: "+format+"\n", args...)
	os.Exit(1)
}

// nsPer is the elapsed time since t in nanoseconds, divided by n.
func nsPer(t time.Time, n int64) float64 {
	return float64(time.Since(t).Nanoseconds()) / float64(n)
}

// perSecond is n divided by the elapsed time since t in seconds.
func perSecond(t time.Time, n int64) float64 {
	return float64(n) / time.Since(t).Seconds()
}

// envOr reads a positive count from the environment, or returns dflt.
func envOr(name string, dflt int64) int64 {
	if v, ok := os.LookupEnv(name); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			fail("%s=%q is not a positive count", name, v)
		}
		return n
	}
	return dflt
}

// ---- W1 skynet: a 10-ary tree of goroutines, depth 6, 1,000,000 leaves.
// Each leaf sends its ordinal to its parent; each inner node sums its
// children's replies and sends the sum up.

func skynet(parent chan<- int64, num, size, div int64) {
	if size == 1 {
		parent <- num
		return
	}
	mailbox := make(chan int64, div) // room for every child's reply
	sub := size / div
	for i := int64(0); i < div; i++ {
		go skynet(mailbox, num+i*sub, sub, div)
	}
	var sum int64
	for i := int64(0); i < div; i++ {
		sum += <-mailbox
	}
	parent <- sum
}

func w1() {
	const leaves = 1000000
	mailbox := make(chan int64, 1)
	t := time.Now()
	go skynet(mailbox, 0, leaves, 10)
	sum := <-mailbox
	elapsed := time.Since(t)
	if want := int64(leaves) * (leaves - 1) / 2; sum != want {
		fail("w1: bad skynet sum %d, want %d", sum, want)
	}
	report("w1_ms", float64(elapsed.Nanoseconds())/1e6, "ms")
	report("w1_sum", float64(sum), "")
}

// ---- W2 ping-pong: two goroutines exchange an integer, 1,000,000 round trips.

func pong(mailbox <-chan int64, ping chan<- int64) {
	for v := range mailbox { // ends when the mailbox is closed
		ping <- v
	}
}

func w2() {
	const n = 1000000
	pingBox := make(chan int64, 1)
	pongBox := make(chan int64, 1)
	go pong(pongBox, pingBox)
	t := time.Now()
	for i := int64(0); i < n; i++ {
		pongBox <- i
		if v := <-pingBox; v != i {
			fail("w2: sent %d, got %d back", i, v)
		}
	}
	report("w2_ns_per_rt", nsPer(t, n), "ns")
	close(pongBox)
}

// ---- W3 ring: 10,000 goroutines in a ring, one token passed 1,000,000 hops.
// The token is the number of hops still to go; the node that receives 0
// tells the main goroutine. Set-up is making the mailboxes and spawning the
// nodes, each wired to its successor's mailbox. The nodes are left blocked
// when the workload ends; the program's exit ends them.

func ringNode(mailbox <-chan int64, next chan<- int64, done chan<- struct{}) {
	for k := range mailbox {
		if k == 0 {
			done <- struct{}{}
		} else {
			next <- k - 1
		}
	}
}

func w3() {
	const procs, hops = 10000, 1000000
	done := make(chan struct{}, 1)
	t0 := time.Now()
	ring := make([]chan int64, procs)
	for i := range ring {
		ring[i] = make(chan int64, 1) // one token in flight
	}
	for i := range ring {
		go ringNode(ring[i], ring[(i+1)%procs], done)
	}
	setup := time.Since(t0)
	t := time.Now()
	ring[0] <- hops
	<-done
	report("w3_setup_ms", float64(setup.Nanoseconds())/1e6, "ms")
	report("w3_ns_per_hop", nsPer(t, hops), "ns")
}

// ---- W4 spawn: 100,000 goroutines that end at once. Go has no monitors, so
// each goroutine's end posts a notification (its ordinal, as a down message
// names the process) to the parent, which waits for all of them.

func w4() {
	const n = 100000
	notify := make(chan int, n) // every goroutine can end without waiting
	t := time.Now()
	for i := 0; i < n; i++ {
		go func(id int) {
			defer func() { notify <- id }() // posted when the goroutine ends
		}(i)
	}
	sum := 0
	for i := 0; i < n; i++ {
		sum += <-notify
	}
	elapsed := float64(time.Since(t).Nanoseconds()) / n
	if want := n * (n - 1) / 2; sum != want {
		fail("w4: notifications sum to %d, want %d", sum, want)
	}
	report("w4_ns_per_spawn", elapsed, "ns")
}

// ---- W5 call: synchronous request/reply with a server that answers x with
// x + 1. Each call makes a fresh reply channel, as GenServer.call makes a
// fresh reference, so a reply can only ever reach the call it answers; its
// buffer of one lets the server answer without waiting for the caller.

type callRequest struct {
	x     int64
	reply chan<- int64
}

func server(mailbox <-chan callRequest) {
	for req := range mailbox { // ends when the mailbox is closed
		req.reply <- req.x + 1
	}
}

func call(srv chan<- callRequest, x int64) int64 {
	reply := make(chan int64, 1)
	srv <- callRequest{x, reply}
	return <-reply
}

// calls makes n calls in a row and returns the nanoseconds per call. The
// server is started before and stopped after the timed part.
func calls(n int64, workload string) float64 {
	srv := make(chan callRequest, 1) // one caller, one request in flight
	go server(srv)
	defer close(srv)
	t := time.Now()
	for k := n; k > 0; k-- {
		if r := call(srv, k); r != k+1 {
			fail("%s: call(%d) answered %d, want %d", workload, k, r, k+1)
		}
	}
	return nsPer(t, n)
}

func w5() {
	report("w5_ns_per_call", calls(envOr("W5_N", 1000000), "w5"), "ns")
}

// ---- W8 fan-in: 1,000 producers each send 10,000 integers to one consumer,
// which counts 10,000,000 of them.

const fanInMailbox = 1024 // bounded: producers block while it is full

func consumer(mailbox <-chan int64, total int64, done chan<- int64) {
	var sum int64
	for k := int64(0); k < total; k++ {
		sum += <-mailbox
	}
	done <- sum
}

func producer(c chan<- int64, per int64) {
	for i := int64(0); i < per; i++ {
		c <- i
	}
}

func w8() {
	const prods, per = 1000, 10000
	done := make(chan int64, 1)
	t := time.Now()
	c := make(chan int64, fanInMailbox)
	go consumer(c, prods*per, done)
	for p := 0; p < prods; p++ {
		go producer(c, per)
	}
	sum := <-done
	rate := perSecond(t, prods*per)
	if want := int64(prods) * per * (per - 1) / 2; sum != want {
		fail("w8: received values sum to %d, want %d", sum, want)
	}
	report("w8_msgs_per_s", rate, "msg/s")
}

// ---- W10 unbalanced: the main goroutine spawns N workers (W10_N, default
// 10,000) with a plain `go`. Worker i starts with x = i and does 10 slices
// of 1,000 Park-Miller steps, calling runtime.Gosched() between slices, then
// sends x to main, which sums the N values and checks the sum.

const w10Slices, w10Steps = 10, 1000

// w10Expected is the sum main must get, computed the same way as the
// workers: hard-coded for the default N, computed (untimed) for any other.
func w10Expected(n int64) int64 {
	if n == 10000 {
		return 10736709305125
	}
	var sum int64
	for i := int64(1); i <= n; i++ {
		x := i
		for k := 0; k < w10Slices*w10Steps; k++ {
			x = x * 48271 % 2147483647
		}
		sum += x
	}
	return sum
}

func w10Worker(x int64, results chan<- int64) {
	for s := 0; s < w10Slices; s++ {
		if s > 0 {
			runtime.Gosched()
		}
		for k := 0; k < w10Steps; k++ {
			x = x * 48271 % 2147483647
		}
	}
	results <- x
}

func w10() {
	n := envOr("W10_N", 10000)
	want := w10Expected(n)
	results := make(chan int64, n) // every worker can report without waiting
	t := time.Now()
	for i := int64(1); i <= n; i++ {
		go w10Worker(i, results)
	}
	var sum int64
	for i := int64(0); i < n; i++ {
		sum += <-results
	}
	elapsed := time.Since(t)
	if sum != want {
		fail("w10: bad sum %d, want %d", sum, want)
	}
	report("w10_ms", float64(elapsed.Nanoseconds())/1e6, "ms")
}

// ---- micro: the cost of one operation, on one thread (GOMAXPROCS=1).

func micro() {
	// m_send_ns, m_receive_ns: 1,000,000 integers into a buffered channel that
	// holds them all (nothing receives meanwhile), then out again one by one.
	const msgs = 1000000
	box := make(chan int64, msgs)
	t := time.Now()
	for i := int64(0); i < msgs; i++ {
		box <- i
	}
	report("m_send_ns", nsPer(t, msgs), "ns")
	var sum int64
	t = time.Now()
	for i := 0; i < msgs; i++ {
		sum += <-box
	}
	report("m_receive_ns", nsPer(t, msgs), "ns")
	if want := int64(msgs) * (msgs - 1) / 2; sum != want {
		fail("micro: received values sum to %d, want %d", sum, want)
	}

	// m_call_ns: 100,000 calls to an idle server, as W5. It runs before
	// m_spawn_ns: Go never frees a goroutine's descriptor, and each garbage
	// collection walks them all, so after 100,000 spawns the collections that
	// the calls' reply channels trigger cost more.
	report("m_call_ns", calls(100000, "micro"), "ns")

	// m_spawn_ns: 100,000 goroutines whose body returns at once, timed until
	// every one has ended (a wait group).
	const spawns = 100000
	var wg sync.WaitGroup
	t = time.Now()
	wg.Add(spawns)
	for i := 0; i < spawns; i++ {
		go wg.Done()
	}
	wg.Wait()
	report("m_spawn_ns", nsPer(t, spawns), "ns")
}

func main() {
	workloads := map[string]func(){
		"w1": w1, "w2": w2, "w3": w3, "w4": w4, "w5": w5, "w8": w8, "w10": w10, "micro": micro,
	}
	if len(os.Args) != 2 || workloads[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: GOMAXPROCS=T go_bench w1|w2|w3|w4|w5|w8|w10|micro")
		os.Exit(2)
	}
	workloads[os.Args[1]]()
}
