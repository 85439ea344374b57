// goro_bench_go: the Go peer of the goro benchmark suite.
//
//	goro_bench_go <benchmark> [--quick]
//	goro_bench_go --version | --list
//
// Procs come from GOMAXPROCS. Prints exactly one JSON line on stdout (see
// bench/suite/README.md) and exits 0 iff the benchmark computed the right answer.
package main

import (
	"fmt"
	"os"
	"runtime"
)

type result struct {
	value float64 // the timed section, in unit
	unit  string
	err   string // non-empty: wrong answer
}

type benchmark struct {
	name string
	fn   func(quick bool) result
}

var benchmarks = []benchmark{
	{"skynet", benchSkynet},
	{"spawn", benchSpawn},
	{"pingpong", benchPingpong},
	{"spsc", benchSPSC},
	{"mpmc", benchMPMC},
	{"select2", benchSelect2},
	{"mutex", benchMutex},
	{"yield", benchYield},
	{"timers", benchTimers},
	{"mem100k", benchMem100k},
	{"mem1m", benchMem1m},
	{"switch", benchSwitch},
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: goro_bench_go <benchmark> [--quick]\n       goro_bench_go --version | --list")
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	name := os.Args[1]
	switch name {
	case "--version":
		fmt.Println(runtime.Version())
		return
	case "--list":
		for _, b := range benchmarks {
			fmt.Println(b.name)
		}
		return
	}
	quick := false
	for _, a := range os.Args[2:] {
		if a == "--quick" {
			quick = true
		} else {
			fmt.Fprintln(os.Stderr, "unknown argument:", a)
			usage()
		}
	}
	for _, b := range benchmarks {
		if b.name != name {
			continue
		}
		r := b.fn(quick)
		ok := r.err == ""
		fmt.Printf("{\"benchmark\": %q, \"impl\": \"go\", \"procs\": %d, \"value\": %.3f, \"unit\": %q, \"ok\": %t, \"policy\": null}\n",
			name, runtime.GOMAXPROCS(0), r.value, r.unit, ok)
		if !ok {
			fmt.Fprintf(os.Stderr, "%s: WRONG ANSWER: %s\n", name, r.err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintln(os.Stderr, "unknown benchmark:", name)
	usage()
}
