// Command durable-bench runs the workloads of package bench on the embedded
// local service and prints one JSON line per workload variant.
//
//	go run ./bench/cmd/durable-bench                  # every variant, 5 runs after 1 warm-up
//	go run ./bench/cmd/durable-bench -only 'w1|w4' -runs 9
//	go run ./bench/cmd/durable-bench -list
//
// Each variant runs in a fresh child process (the command re-executes
// itself), so peak_rss_mb is the variant's own; -isolate=false runs them all
// in this process instead.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"

	"github.com/durablectx/durable/bench"
)

func main() {
	bench.ChildMain()
	runs := flag.Int("runs", 5, "timed runs per variant (the median is reported)")
	warmup := flag.Int("warmup", 1, "untimed warm-up runs per variant")
	only := flag.String("only", "", "run only the variants whose label matches this regular expression")
	isolate := flag.Bool("isolate", true, "run each variant in a fresh child process (clean peak RSS)")
	list := flag.Bool("list", false, "list the variants and exit")
	flag.Parse()

	var re *regexp.Regexp
	if *only != "" {
		var err error
		if re, err = regexp.Compile(*only); err != nil {
			fmt.Fprintln(os.Stderr, "durable-bench: -only:", err)
			os.Exit(2)
		}
	}
	failed := false
	for _, v := range bench.Variants {
		if re != nil && !re.MatchString(v.Label) {
			continue
		}
		if *list {
			fmt.Printf("%-24s %s: %s\n", v.Label, v.Workload.Name, v.Workload.Description)
			continue
		}
		var r *bench.Result
		var err error
		if *isolate {
			r, err = bench.RunIsolated(context.Background(), v.Label, *runs, *warmup)
		} else {
			r, err = bench.Run(context.Background(), v, *runs, *warmup)
		}
		if err != nil {
			failed = true
			fmt.Fprintln(os.Stderr, "durable-bench:", err)
		}
		if r != nil {
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
		}
	}
	if failed {
		os.Exit(1)
	}
}
