// The benchmarks of the suite written in plain Go. Sizes, algorithms and
// expected answers follow bench/suite/README.md; keep them in step with the
// Boost.Fiber peer (bench/peers/boost_fiber/benchmarks.cc).
package main

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func sizeFor(quick bool, full, small int64) int64 {
	if quick {
		return small
	}
	return full
}

func msSince(t0 time.Time) float64 {
	return float64(time.Since(t0).Nanoseconds()) / 1e6
}

func check(good bool, value float64, unit, what string, got, want int64) result {
	if !good {
		return result{err: fmt.Sprintf("%s: got %d, want %d", what, got, want)}
	}
	return result{value: value, unit: unit}
}

// rssBytes is the resident set size of this process, from /proc/self/statm.
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		panic(err)
	}
	var total, resident int64
	fmt.Sscan(string(b), &total, &resident)
	return resident * int64(os.Getpagesize())
}

// ---------------------------------------------------------------- skynet
// Every node with size > 1 spawns 10 children and sums what they send back on
// a fresh unbuffered channel; a leaf sends its own number.
func skynet(out chan<- int64, num, size int64) {
	if size == 1 {
		out <- num
		return
	}
	rc := make(chan int64)
	sub := size / 10
	for i := int64(0); i < 10; i++ {
		go skynet(rc, num+i*sub, sub)
	}
	var sum int64
	for i := 0; i < 10; i++ {
		sum += <-rc
	}
	out <- sum
}

func benchSkynet(quick bool) result {
	leaves := sizeFor(quick, 1000000, 10000)
	want := leaves * (leaves - 1) / 2
	t0 := time.Now()
	c := make(chan int64)
	go skynet(c, 0, leaves)
	got := <-c
	return check(got == want, msSince(t0), "ms", "skynet sum", got, want)
}

// ---------------------------------------------------------------- spawn
// Spawn N empty goroutines, joined through a WaitGroup.
func benchSpawn(quick bool) result {
	n := sizeFor(quick, 1000000, 10000)
	var ran atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func() {
			ran.Add(1)
			wg.Done()
		}()
	}
	wg.Wait()
	return check(ran.Load() == n, msSince(t0), "ms", "goroutines run", ran.Load(), n)
}

// ---------------------------------------------------------------- pingpong
// The main goroutine sends i on ping; the peer answers i+1 on pong.
func benchPingpong(quick bool) result {
	n := sizeFor(quick, 1000000, 10000)
	want := n * (n + 1) / 2
	ping, pong := make(chan int64), make(chan int64)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(1)
	go func() {
		for i := int64(0); i < n; i++ {
			pong <- (<-ping) + 1
		}
		wg.Done()
	}()
	var sum int64
	for i := int64(0); i < n; i++ {
		ping <- i
		sum += <-pong
	}
	wg.Wait()
	return check(sum == want, msSince(t0), "ms", "pingpong sum", sum, want)
}

// ---------------------------------------------------------------- spsc
// One producer sends 0..N-1 into a channel of capacity 1024; the main
// goroutine receives exactly N values, then joins the producer.
func benchSPSC(quick bool) result {
	n := sizeFor(quick, 10000000, 100000)
	want := n * (n - 1) / 2
	ch := make(chan int64, 1024)
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(1)
	go func() {
		for i := int64(0); i < n; i++ {
			ch <- i
		}
		wg.Done()
	}()
	var sum int64
	for i := int64(0); i < n; i++ {
		sum += <-ch
	}
	wg.Wait()
	return check(sum == want, msSince(t0), "ms", "spsc sum", sum, want)
}

// ---------------------------------------------------------------- mpmc
// 4 producers send disjoint ranges covering 0..N-1; 4 consumers receive N/4
// values each and add their partial sums.
func benchMPMC(quick bool) result {
	const side = 4
	n := sizeFor(quick, 10000000, 100000)
	per := n / side
	want := n * (n - 1) / 2
	ch := make(chan int64, 1024)
	var total atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(2 * side)
	for p := int64(0); p < side; p++ {
		go func(p int64) {
			for i := p * per; i < (p+1)*per; i++ {
				ch <- i
			}
			wg.Done()
		}(p)
	}
	for c := 0; c < side; c++ {
		go func() {
			var sum int64
			for i := int64(0); i < per; i++ {
				sum += <-ch
			}
			total.Add(sum)
			wg.Done()
		}()
	}
	wg.Wait()
	return check(total.Load() == want, msSince(t0), "ms", "mpmc sum", total.Load(), want)
}

// ---------------------------------------------------------------- select2
// Two senders on two unbuffered channels, sending 0..N/2-1 and N/2..N-1; the
// main goroutine selects over both for N receives, then joins the senders.
func benchSelect2(quick bool) result {
	n := sizeFor(quick, 1000000, 10000)
	half := n / 2
	want := n * (n - 1) / 2
	a, b := make(chan int64), make(chan int64)
	var wg sync.WaitGroup
	send := func(ch chan<- int64, from, to int64) {
		for i := from; i < to; i++ {
			ch <- i
		}
		wg.Done()
	}
	t0 := time.Now()
	wg.Add(2)
	go send(a, 0, half)
	go send(b, half, n)
	var sum int64
	for i := int64(0); i < n; i++ {
		select {
		case v := <-a:
			sum += v
		case v := <-b:
			sum += v
		}
	}
	wg.Wait()
	return check(sum == want, msSince(t0), "ms", "select2 sum", sum, want)
}

// ---------------------------------------------------------------- mutex
// G goroutines each take the mutex K times to increment one shared counter.
func benchMutex(quick bool) result {
	g := sizeFor(quick, 1000, 100)
	k := sizeFor(quick, 1000, 100)
	var mu sync.Mutex
	var counter int64
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(int(g))
	for i := int64(0); i < g; i++ {
		go func() {
			for j := int64(0); j < k; j++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	ms := msSince(t0)
	mu.Lock()
	defer mu.Unlock()
	return check(counter == g*k, ms, "ms", "counter", counter, g*k)
}

// ---------------------------------------------------------------- yield
// G goroutines yield K times each (a crowded run queue, unlike switch).
func benchYield(quick bool) result {
	g := sizeFor(quick, 100, 10)
	k := sizeFor(quick, 10000, 1000)
	var yields atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(int(g))
	for i := int64(0); i < g; i++ {
		go func() {
			var mine int64
			for j := int64(0); j < k; j++ {
				runtime.Gosched()
				mine++
			}
			yields.Add(mine)
			wg.Done()
		}()
	}
	wg.Wait()
	return check(yields.Load() == g*k, msSince(t0), "ms", "yields", yields.Load(), g*k)
}

// ---------------------------------------------------------------- timers
// G goroutines each sleep 1 ms ten times; wall time of the whole lot.
func benchTimers(quick bool) result {
	g := sizeFor(quick, 100000, 1000)
	const sleeps = 10
	var slept atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(int(g))
	for i := int64(0); i < g; i++ {
		go func() {
			for j := 0; j < sleeps; j++ {
				time.Sleep(time.Millisecond)
				slept.Add(1)
			}
			wg.Done()
		}()
	}
	wg.Wait()
	ms := msSince(t0)
	if ms < sleeps {
		return result{err: "timers finished in under 10 ms: sleeps too short"}
	}
	return check(slept.Load() == g*sleeps, ms, "ms", "sleeps", slept.Load(), g*sleeps)
}

// ---------------------------------------------------------------- mem100k / mem1m
// Park N goroutines on a receive from one unbuffered channel, take the RSS
// growth while all of them are parked, then close the channel to release them.
func park(n int64) result {
	release := make(chan int)
	var released atomic.Int64
	var started, finished sync.WaitGroup
	before := rssBytes()
	started.Add(int(n))
	finished.Add(int(n))
	for i := int64(0); i < n; i++ {
		go func() {
			started.Done()
			if _, ok := <-release; !ok {
				released.Add(1)
			}
			finished.Done()
		}()
	}
	started.Wait()
	// Let the last starters reach the receive before measuring.
	for i := 0; i < 10; i++ {
		runtime.Gosched()
	}
	after := rssBytes()
	close(release)
	finished.Wait()
	per := float64(after-before) / float64(n)
	return check(released.Load() == n, per, "bytes/goroutine", "released", released.Load(), n)
}

func benchMem100k(quick bool) result { return park(sizeFor(quick, 100000, 1000)) }
func benchMem1m(quick bool) result   { return park(sizeFor(quick, 1000000, 10000)) }

// ---------------------------------------------------------------- switch
// Two goroutines yield to each other; ns per yield over all yields.
func benchSwitch(quick bool) result {
	per := sizeFor(quick, 500000, 5000)
	var yields atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(2)
	for f := 0; f < 2; f++ {
		go func() {
			for j := int64(0); j < per; j++ {
				runtime.Gosched()
			}
			yields.Add(per)
			wg.Done()
		}()
	}
	wg.Wait()
	ns := float64(time.Since(t0).Nanoseconds()) / float64(2*per)
	return check(yields.Load() == 2*per, ns, "ns/switch", "yields", yields.Load(), 2*per)
}
