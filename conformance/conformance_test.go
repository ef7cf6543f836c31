package conformance_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/durablectx/durable/conformance"
)

var (
	suites = flag.String("conformance.suites", "all", "comma-separated suites to run")
	ids    = flag.String("conformance.ids", "", "comma-separated requirement IDs to run")
	mode   = flag.String("conformance.time", "virtual", "time mode of the service: virtual or real")
	out    = flag.String("conformance.out", "", "directory for the run artifacts (histories, logs, spans)")
)

// summary collects the results of TestConformance for TestMain's line.
var summary []conformance.Result

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if summary != nil {
		fmt.Println(conformance.Summarize(summary))
	}
	os.Exit(code)
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// TestConformance runs every requirement under testdata on the local service,
// one subtest per requirement ID.
func TestConformance(t *testing.T) {
	reqs, setup, err := conformance.Load("testdata/core", "testdata/otel")
	if err != nil {
		t.Fatal(err)
	}
	reg := conformance.Handlers()
	if *suites != "" || *ids != "" {
		reqs = conformance.Select(reqs, split(*suites), split(*ids))
		reg = reg.For(reqs)
	}
	for _, res := range setup {
		t.Run(res.ID, func(t *testing.T) { conformance.ReportT(t, res) })
	}
	d := conformance.NewDriver(reg, conformance.Options{
		Time:      conformance.TimeMode(*mode),
		OutputDir: *out,
		// The service is in process: poll it often in real time.
		PollInterval: 50 * time.Millisecond,
	})
	results := d.Test(t, reqs)
	summary = append(setup, results...)
	if *out != "" {
		f, err := os.Create(filepath.Join(*out, "report.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := conformance.WriteJSON(f, summary); err != nil {
			t.Error(err)
		}
	}
}
