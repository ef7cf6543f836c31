package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// A command is one subcommand of durable.
type command struct {
	name    string
	args    string // the synopsis after the name
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // an error, or an execution that did not succeed
	exitUsage = 2
)

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// errNotSucceeded makes durable exit with status 1 without printing more:
// the command already said how the execution ended.
var errNotSucceeded = errors.New("the execution did not succeed")

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			if c := commands[args[1]]; c != nil {
				_ = c.run(ctx, []string{"-h"}, stdout, stdout)
				return exitOK
			}
		}
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c := commands[args[0]]
	if c == nil {
		fmt.Fprintf(stderr, "durable: unknown command %q\n\n", args[0])
		usage(stderr)
		return exitUsage
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "durable %s: %s\nusage: durable %s %s\nRun 'durable help %s' for the flags.\n", c.name, ue.msg, c.name, c.args, c.name)
		return exitUsage
	case errors.Is(err, errNotSucceeded):
		return exitError
	default:
		// The packages' errors start with "durable:" too.
		fmt.Fprintf(stderr, "durable %s: %s\n", c.name, strings.TrimPrefix(err.Error(), "durable: "))
		return exitError
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `durable runs AWS Lambda durable functions on a local durable execution service.

Usage:

	durable <command> [arguments]

Commands:

`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "\t%-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Start a service with 'durable serve --function NAME=PATH', then drive it from
another terminal with the other commands. Run 'durable help <command>' for the
flags of a command.
`)
}

// newFlagSet returns the flag set of c, which prints its usage to w.
func newFlagSet(c *command, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("durable "+c.name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: durable %s %s\n\n%s\n", c.name, c.args, c.summary)
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseArgs parses flags that may come before, between or after the
// positional arguments (durable start greet --input '{}'), which the flag
// package alone stops at, and returns the positional arguments. Everything
// after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// exactArgs parses args and checks that n positional arguments came.
func exactArgs(fs *flag.FlagSet, args []string, names ...string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != len(names) {
		if len(pos) < len(names) {
			return nil, usagef("missing %s", names[len(pos)])
		}
		return nil, usagef("unexpected argument %q", pos[len(names)])
	}
	return pos, nil
}

// listFlag is a repeatable flag; each value may also hold a comma-separated
// list when split is set.
type listFlag struct {
	values []string
	split  bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

func (l *listFlag) Set(v string) error {
	if !l.split {
		l.values = append(l.values, v)
		return nil
	}
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			l.values = append(l.values, s)
		}
	}
	return nil
}

// payloadArg reads a payload given on the command line: the text itself,
// @FILE for the contents of a file, or @- for standard input.
func payloadArg(v string) ([]byte, error) {
	name, ok := strings.CutPrefix(v, "@")
	if !ok {
		return []byte(v), nil
	}
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}
