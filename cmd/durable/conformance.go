package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/durablectx/durable/conformance"
)

func init() {
	register(&command{
		name:    "conformance",
		args:    "--requirements DIR [--suite S,...] [--id ID,...] [--json FILE]",
		summary: "Run AWS's conformance requirements against this SDK's handlers on the local service.",
		run:     runConformance,
	})
}

func runConformance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := commands["conformance"]
	fs := newFlagSet(c, stderr)
	var roots, suites, ids listFlag
	roots.split, suites.split, ids.split = true, true, true
	fs.Var(&roots, "requirements", "`DIR` of requirements laid out as DIR/<suite>/<id>.yaml, e.g. conformance/testdata/core (repeatable)")
	fs.Var(&suites, "suite", "run only these `SUITE`s (comma-separated or repeated)")
	fs.Var(&ids, "id", "run only these requirement `ID`s (comma-separated or repeated)")
	jsonFile := fs.String("json", "", "write the report as JSON to `FILE`")
	failOn := fs.String("fail-on", string(conformance.FailOnFailed), "which statuses fail the run: failed or failed-uncovered")
	if _, err := exactArgs(fs, args); err != nil {
		return err
	}
	if len(roots.values) == 0 {
		return usagef("--requirements is required")
	}
	policy, err := conformance.ParseFailOn(*failOn)
	if err != nil {
		return usagef("%v", err)
	}
	reqs, setup, err := conformance.Load(roots.values...)
	if err != nil {
		return err
	}
	reqs = conformance.Select(reqs, suites.values, ids.values)
	var results []conformance.Result
	for _, r := range setup {
		if selected(r, suites.values, ids.values) {
			results = append(results, r)
		}
	}
	report := func(r conformance.Result) {
		fmt.Fprintf(stdout, "%-16s %-28s %s\n", r.Status, strings.TrimPrefix(r.Suite+"/"+r.ID, "/"), r.Reason)
		for _, e := range r.Errors {
			fmt.Fprintf(stdout, "    %s\n", e)
		}
	}
	for _, r := range results {
		report(r)
	}
	reg := conformance.Handlers()
	driver := conformance.NewDriver(reg, conformance.Options{FailOn: policy})
	known := map[string]bool{}
	for _, req := range reqs {
		if err := ctx.Err(); err != nil {
			return err
		}
		known[req.ID] = true
		r := driver.RunRequirement(ctx, req)
		report(r)
		results = append(results, r)
	}
	if len(suites.values) == 0 && len(ids.values) == 0 {
		// Every requirement was loaded: a handler without one is a finding.
		for _, id := range reg.IDs() {
			if !known[id] {
				r := conformance.NotFound(id)
				report(r)
				results = append(results, r)
			}
		}
	}
	sum := conformance.Summarize(results)
	fmt.Fprintln(stdout, sum)
	if *jsonFile != "" {
		f, err := os.Create(*jsonFile)
		if err != nil {
			return err
		}
		if err := conformance.WriteJSON(f, results); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if sum.Blocking(policy) {
		return errNotSucceeded
	}
	return nil
}

// selected applies the --suite and --id filters to a setup failure, which
// Select does not see.
func selected(r conformance.Result, suites, ids []string) bool {
	in := func(v string, list []string) bool {
		if len(list) == 0 {
			return true
		}
		for _, s := range list {
			if strings.EqualFold(s, "all") || s == v {
				return true
			}
		}
		return false
	}
	return in(r.Suite, suites) && in(r.ID, ids)
}
